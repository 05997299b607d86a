"""Move imports out of function bodies to the top of their module (issue 11, point 7).

    .venv/bin/python scripts/hoist_imports.py            # rewrite src/smartgov, then verify
    .venv/bin/python scripts/hoist_imports.py --check    # only list what would move or stay

For every module under src/smartgov (migrations excluded) each import statement inside a function is
moved to the module's import block (``ruff check --select I --fix`` then sorts and merges it), unless
its first line carries ``# noqa: PLC0415 — <reason>``. A few stay where they are and get that marker
from the rules below, without trying:

- inside ``AppConfig.ready()`` — where Django registers an app's hooks, once the registry is ready;
- inside ``try: … except ImportError`` — an optional dependency the function copes without;
- a package from ``[project.optional-dependencies]`` — not installed in production;
- a library in ``HEAVY`` — slow to import and used by one command or on a rare path;
- a name the module (or the function) already binds to something else.

Then the tool checks the result: ``smartgov check`` runs, and every module imports in a process of its
own after ``django.setup()`` (forked from one that has loaded the third-party libraries, so a run takes
seconds, not minutes; no ``smartgov`` module is loaded before the fork). When a module fails to import,
the traceback names the moved import that started it: that import goes back into its function with
``# noqa: PLC0415 — cycle: <module> <-> <imported>`` (a circular import) or ``— deferred: <reason>``
(the app registry is not ready yet), and the check runs again until everything imports.

Running it again changes nothing: marked imports stay, moved ones are already at the top.
"""

from __future__ import annotations

import argparse
import ast
import json
import re
import subprocess
import sys
import tomllib
import traceback
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src"
PACKAGE = SRC / "smartgov"
PYTHON = sys.executable
RUFF = str(Path(PYTHON).with_name("ruff"))
MARKER = re.compile(r"#\s*noqa:[^#]*\bPLC0415\b")

# Libraries that take long to import (-X importtime, cumulative, on the 2-core CI machine) and that no
# module loaded at startup imports anyway: they stay deferred to the one place that needs them.
HEAVY = {
    "rapidocr_onnxruntime": "heavy (ONNX runtime, ~220 ms), loaded on the first OCR call",
    "bm25s": "heavy (~150 ms), loaded when the guide index is built",
    "jieba": "heavy (~45 ms and a dictionary load), loaded when the guide index is built",
    "gunicorn": "heavy, only for smartgov serve",
    "uvicorn": "heavy, only for smartgov hall live",
}


@dataclass
class Inner:
    """One import statement inside a function."""

    path: Path
    node: ast.Import | ast.ImportFrom
    keep: str = ""  # the marker's reason when it stays where it is

    @property
    def key(self) -> tuple[str, int]:
        return (str(self.path.relative_to(ROOT)), self.node.lineno)

    @property
    def target(self) -> str:
        """The imported module, absolute (``smartgov.trace.models``) or as written (``json``)."""
        return absolute(self.path, self.node)

    @property
    def what(self) -> str:
        """What it imports, for a marker: ``trace.models``, or ``seccloud.permissions, seccloud.tasks``."""
        if isinstance(self.node, ast.ImportFrom) and not self.node.module:
            return ", ".join(short(f"{self.target}.{alias.name}") for alias in self.node.names)
        return short(self.target)


@dataclass
class Module:
    path: Path
    text: str
    tree: ast.Module = field(init=False)

    def __post_init__(self):
        self.tree = ast.parse(self.text)



def dotted(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "migrations" not in p.parts)


def absolute(path: Path, node: ast.Import | ast.ImportFrom) -> str:
    if isinstance(node, ast.Import):
        return node.names[0].name
    if not node.level:
        return node.module or ""
    package = list(path.relative_to(SRC).with_suffix("").parts)[: -node.level]
    return ".".join(package + ([node.module] if node.module else []))


def short(module: str) -> str:
    return module.removeprefix("smartgov.")


def bindings(path: Path, node: ast.Import | ast.ImportFrom) -> dict[str, str]:
    """Name bound by the import -> what it is bound to."""
    out = {}
    for alias in node.names:
        if isinstance(node, ast.Import):
            name = alias.asname or alias.name.split(".")[0]
            out[name] = alias.name if alias.asname else name
        else:
            out[alias.asname or alias.name] = f"{absolute(path, node)}:{alias.name}"
    return out


def optional_packages() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = (re.split(r"[<>=\[ ;]", spec)[0] for group in project["optional-dependencies"].values() for spec in group)
    return {name.lower().replace("-", "_") for name in names}


def module_bindings(module: Module) -> dict[str, str]:
    """Names the module binds at its top level (imports, defs, classes, assignments)."""
    out: dict[str, str] = {}
    for node in _top_level(module.tree.body):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            out.update(bindings(module.path, node))
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            out[node.name] = f"def {node.name}"
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign, ast.For, ast.With)):
            for sub in ast.walk(node):
                if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Store):
                    out[sub.id] = f"assigned {sub.id}"
    return out


def _top_level(body):
    """Module-level statements, looking into module-level if/try blocks."""
    for node in body:
        yield node
        if isinstance(node, (ast.If, ast.Try)):
            for block in (node.body, node.orelse, getattr(node, "finalbody", [])):
                yield from _top_level(block)
            for handler in getattr(node, "handlers", []):
                yield from _top_level(handler.body)


def local_bindings(function: ast.AST) -> set[str]:
    """Names a function binds other than by importing (parameters, assignments, loops, with … as)."""
    names = set()
    for sub in ast.walk(function):
        if isinstance(sub, ast.Name) and isinstance(sub.ctx, (ast.Store, ast.Del)):
            names.add(sub.id)
        elif isinstance(sub, ast.arg):
            names.add(sub.arg)
    return names


def guarded_by_import_error(ancestors: list[ast.AST], node: ast.AST) -> bool:
    for parent, child in zip(ancestors, [*ancestors[1:], node], strict=True):
        if isinstance(parent, ast.Try) and child in parent.body:
            for handler in parent.handlers:
                caught = handler.type
                names = caught.elts if isinstance(caught, ast.Tuple) else [caught]
                if any(isinstance(n, ast.Name) and n.id in ("ImportError", "ModuleNotFoundError") for n in names):
                    return True
    return False


def inner_imports(module: Module, optional: set[str]) -> list[Inner]:
    """The imports inside functions that carry no marker yet, each with the reason to keep it, if any."""
    lines = module.text.splitlines()
    top = module_bindings(module)
    found: list[Inner] = []

    def visit(node, ancestors, function):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.Import, ast.ImportFrom)) and function is not None:
                if MARKER.search(lines[child.lineno - 1]):
                    continue
                if any(isinstance(a, ast.If) and "TYPE_CHECKING" in ast.unparse(a.test) for a in ancestors):
                    continue
                inner = Inner(module.path, child)
                package = inner.target.split(".")[0]
                own = bindings(module.path, child)
                clash = sorted(n for n, what in own.items() if n in top and top[n] != what)
                if function.name == "ready" and module.path.name == "apps.py":
                    inner.keep = "deferred: AppConfig.ready() runs once the app registry is ready"
                elif guarded_by_import_error(ancestors, child):
                    inner.keep = "deferred: optional, the function copes without it (except ImportError)"
                elif package in optional:
                    inner.keep = f"deferred: {package} is an optional dependency (dev), only for this command"
                elif package in HEAVY:
                    inner.keep = f"deferred: {HEAVY[package]}"
                elif clash:
                    inner.keep = f"deferred: the module binds {', '.join(clash)} to something else"
                elif set(own) & local_bindings(function):
                    inner.keep = f"deferred: the function rebinds {', '.join(sorted(set(own) & local_bindings(function)))}"
                found.append(inner)
            inside = child if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)) else function
            visit(child, [*ancestors, child], inside)

    visit(module.tree, [], None)
    # two functions binding one name to different things: the later ones stay
    seen: dict[str, str] = {}
    for inner in found:
        if inner.keep:
            continue
        own = bindings(module.path, inner.node)
        clash = sorted(n for n, what in own.items() if seen.get(n, what) != what)
        if clash:
            inner.keep = f"deferred: another function imports {', '.join(clash)} from elsewhere"
        else:
            seen.update(own)
    return found


def mark(line: str, reason: str) -> str:
    """Add ``# noqa: PLC0415 — reason`` to an import's first line (merging an existing noqa)."""
    code, hash_, comment = line.partition("  #")
    comment = comment.strip()
    if comment.startswith("noqa:"):
        codes, _, rest = comment.removeprefix("noqa:").strip().partition(" ")
        return f"{code}  # noqa: {codes.strip()}, PLC0415 — {reason}" + (f" {rest}" if rest else "")
    if re.match(r"(deferred|lazy|late|cycle|circular)\b", comment, re.I):  # a reason already: the marker's now
        hash_ = ""
    return f"{code}  # noqa: PLC0415 — {reason}" + (f"  # {comment}" if hash_ else "")


def rewrite(module: Module, inners: list[Inner], kept: dict[tuple[str, int], str]) -> str:
    """The module's text with the movable imports at the top and the others marked."""
    lines = module.text.splitlines(keepends=True)
    moving = [i for i in inners if not (i.keep or kept.get(i.key))]
    for inner in inners:
        reason = inner.keep or kept.get(inner.key)
        if reason:
            n = inner.node.lineno - 1
            lines[n] = mark(lines[n].rstrip("\n"), reason) + "\n"
    if not moving:
        return "".join(lines)

    existing = {ast.unparse(n) for n in _top_level(module.tree.body) if isinstance(n, (ast.Import, ast.ImportFrom))}
    hoisted: list[str] = []
    drop: set[int] = set()
    for inner in moving:
        first, last = inner.node.lineno - 1, inner.node.end_lineno - 1
        if ast.unparse(inner.node) not in existing:
            existing.add(ast.unparse(inner.node))
            hoisted.append(dedent("".join(lines[first : last + 1])))
        drop.update(range(first, last + 1))
    for inner in moving:  # a block left with nothing in it gets a `pass`
        block = _block_of(module.tree, inner.node)
        if block[0] is inner.node and all(s.lineno - 1 in drop for s in block):
            line = lines[inner.node.lineno - 1]
            lines[inner.node.lineno - 1] = line[: len(line) - len(line.lstrip())] + "pass\n"
            drop.discard(inner.node.lineno - 1)

    docstrings = {  # the last line of each function's docstring
        f.body[0].end_lineno - 1
        for f in ast.walk(module.tree)
        if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef)) and ast.get_docstring(f, clean=False) is not None
    }
    kept_lines, last = [], -1
    for n, line in enumerate(lines):
        if n in drop:
            continue
        # no blank line left where an import was: at the start of a block, under a docstring or a comment,
        # or after another blank line
        if not line.strip() and n - 1 in drop and kept_lines:
            previous = kept_lines[-1].strip()
            if not previous or previous.endswith(":") or previous.startswith("#") or last in docstrings:
                continue
        kept_lines.append(line)
        last = n

    at = _end_of_import_block(module)
    kept_lines[at:at] = hoisted
    return "".join(kept_lines)


def dedent(statement: str) -> str:
    indent = len(statement) - len(statement.lstrip())
    return "".join(line[indent:] if line[:indent].isspace() else line.lstrip() for line in statement.splitlines(True))


def _block_of(tree: ast.AST, node: ast.AST) -> list[ast.stmt]:
    for parent in ast.walk(tree):
        for name in ("body", "orelse", "finalbody"):
            block = getattr(parent, name, None)
            if isinstance(block, list) and node in block:
                return block
        for handler in getattr(parent, "handlers", []):
            if node in handler.body:
                return handler.body
    raise AssertionError("statement outside any block")


def _end_of_import_block(module: Module) -> int:
    """The line index just after the module's first run of imports (or after its docstring)."""
    body = module.tree.body
    at = 0
    i = 0
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        at, i = body[0].end_lineno, 1
    while i < len(body) and isinstance(body[i], (ast.Import, ast.ImportFrom)):
        at = body[i].end_lineno
        i += 1
    return at


# ---------------------------------------------------------------------------------------------- checking


PROBE = r"""
import importlib, json, os, sys, traceback
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "smartgov.config.settings")
import django
from django.conf import settings
from django.utils.functional import empty
# load the third-party libraries once, so each forked child only imports smartgov's own modules
for name in json.loads(sys.argv[1]):
    try:
        importlib.import_module(name)
    except Exception:
        pass
# ... and nothing of smartgov, not even its settings: each child starts from there
for name in [m for m in sys.modules if m == "smartgov" or m.startswith("smartgov.")]:
    del sys.modules[name]
settings._wrapped = empty
names = json.loads(sys.argv[2])
results, running = {}, {}
def start(name):
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        out = {"ok": True}
        try:
            django.setup()
            if name:
                importlib.import_module(name)
        except BaseException as exc:
            frames = [(f.filename, f.lineno) for f in traceback.extract_tb(exc.__traceback__)]
            out = {"ok": False, "type": type(exc).__name__, "message": str(exc), "frames": frames}
        os.write(w, json.dumps(out).encode())
        os._exit(0)
    os.close(w)
    running[pid] = (name, r)
def finish():
    pid, _ = os.wait()
    name, r = running.pop(pid)
    data = b""
    while chunk := os.read(r, 65536):
        data += chunk
    os.close(r)
    results[name] = json.loads(data or b'{"ok": false, "type": "crash", "message": "", "frames": []}')
for name in names:
    while len(running) >= (os.cpu_count() or 2):
        finish()
    start(name)
while running:
    finish()
print(json.dumps(results))
"""


def third_party_modules() -> list[str]:
    """What a full import of smartgov loads from outside it (to load before forking)."""
    script = (
        "import importlib, json, os, sys\n"
        "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'smartgov.config.settings')\n"
        "import django; django.setup()\n"
        "for n in json.loads(sys.argv[1]):\n"
        "    try: importlib.import_module(n)\n"
        "    except Exception: pass\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules} - {'smartgov', 'django', '__main__'})))\n"
    )
    out = subprocess.run([PYTHON, "-c", script, json.dumps(module_names())], capture_output=True, text=True, cwd=ROOT)
    return json.loads(out.stdout.splitlines()[-1]) if out.returncode == 0 else []


def module_names() -> list[str]:
    return [dotted(p) for p in modules()]


def probe(names: list[str], preload: list[str]) -> dict[str, dict]:
    out = subprocess.run(
        [PYTHON, "-c", PROBE, json.dumps(preload), json.dumps(names)], capture_output=True, text=True, cwd=ROOT
    )
    if out.returncode:
        sys.exit(f"the import check itself failed:\n{out.stderr}")
    return json.loads(out.stdout.splitlines()[-1])


def not_ready(failure: dict) -> bool:
    return failure["type"] == "AppRegistryNotReady" or "aren't loaded yet" in failure["message"]


def culprit(failure: dict, moved: dict[Path, list[Inner]]) -> tuple[Inner, ...] | None:
    """The moved imports whose statement at the top of a module started this failure.

    In a circular import, the innermost moved import on the traceback closes the circle; when the app
    registry is not ready, the outermost one (usually in an apps.py) is what loaded models too early.
    """
    found = []
    for filename, lineno in reversed(failure["frames"]):
        path = Path(filename)
        if path not in moved:
            continue
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, (ast.Import, ast.ImportFrom)) and node.lineno <= lineno <= node.end_lineno:
                target = absolute(path, node)
                hits = tuple(i for i in moved[path] if i.target == target)
                if hits:
                    found.append(hits)
    if not found:
        return None
    return found[-1] if not_ready(failure) else found[0]


def reason(failure: dict, inner: Inner) -> str:
    message = failure["message"]
    if not_ready(failure):
        return f"deferred: {inner.what} loads models, importable only once the app registry is ready"
    if "partially initialized" in message or "circular import" in message:
        return f"cycle: {short(dotted(inner.path))} <-> {inner.what}"
    return f"deferred: importing it at load fails ({failure['type']}: {message[:60]})"


def apply(sources: dict[Path, str], optional: set[str], kept: dict) -> dict[Path, list[Inner]]:
    """Rewrite every module from its original text; return the imports moved, by file."""
    moved: dict[Path, list[Inner]] = {}
    changed = []
    for path, text in sources.items():
        module = Module(path, text)
        inners = inner_imports(module, optional)
        new = rewrite(module, inners, kept)
        if new != path.read_text():
            path.write_text(new)
        if new != text:
            changed.append(path)
        moving = [i for i in inners if not (i.keep or kept.get(i.key))]
        if moving:
            moved[path] = moving
    if changed:
        subprocess.run([RUFF, "check", "--quiet", "--select", "I", "--fix", *map(str, changed)], cwd=ROOT, check=False)
    return moved


def smartgov_check() -> None:
    out = subprocess.run([PYTHON, "-m", "smartgov", "check"], capture_output=True, text=True, cwd=ROOT)
    if out.returncode:
        sys.exit(f"`smartgov check` fails after hoisting:\n{out.stdout}{out.stderr}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="list what would move or stay; change nothing")
    args = parser.parse_args()

    optional = optional_packages()
    sources = {p: p.read_text() for p in modules()}
    if args.check:
        for path, text in sources.items():
            for inner in inner_imports(Module(path, text), optional):
                where = f"{inner.key[0]}:{inner.key[1]}"
                print(f"{where}: {'keep — ' + inner.keep if inner.keep else 'move'}: {ast.unparse(inner.node)}")
        return

    kept: dict[tuple[str, int], str] = {}
    preload = third_party_modules()  # while the tree is as it was, so everything imports
    moved = apply(sources, optional, kept)
    if not moved and all(p.read_text() == t for p, t in sources.items()):
        print("nothing to move")
        return
    for names in ([""], module_names()):  # django.setup() alone first: while it fails, every module does
        moved = settle(names, preload, sources, optional, kept, moved)
    smartgov_check()
    total = sum(len(v) for v in moved.values())
    print(f"moved {total} imports in {len(moved)} modules; kept {len(kept)} more after the import check")


def settle(names, preload, sources, optional, kept, moved):
    """Probe the modules; keep the imports that break one; again until all import."""
    while True:
        failures = {n: r for n, r in probe(names, preload).items() if not r["ok"]}
        if not failures:
            return moved
        new = 0
        for name, failure in sorted(failures.items()):
            hits = culprit(failure, moved)
            if hits is None:
                sys.exit(f"{name or 'django.setup()'} fails to import and no moved import explains it:\n{json.dumps(failure, indent=1)}")
            for inner in hits:
                if inner.key not in kept:
                    kept[inner.key] = reason(failure, inner)
                    print(f"keeping {inner.key[0]}:{inner.key[1]} — {kept[inner.key]}")
                    new += 1
        if not new:
            sys.exit("failures remain that keeping imports does not fix:\n" + json.dumps(failures, indent=1))
        moved = apply(sources, optional, kept)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        traceback.print_exc()
        sys.exit(130)
