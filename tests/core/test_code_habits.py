"""The habits of docs/adding-an-app.md that a machine can check, read from the source itself.

Each test names the rule it enforces; a failure lists the offending file and line so the fix is obvious.
"""

import re
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "smartgov"

# Files another change is moving onto the shared IoT layer (issue 11 point 1, helper ``park``): they
# still pass ``actor=None`` to grain's ingest service and build a stand-in department for
# ``covers_department``; that service keeps one line turning None into the MQTT system actor meanwhile.
# Drop each entry once the move lands — the tests below then hold for them too.



def _sources():
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC).as_posix()
        if "/migrations/" in rel:
            continue
        yield rel, path.read_text(encoding="utf-8")
    for path in sorted((SRC.parents[1] / "scripts").glob("*.py")):  # the CI's scripts call services too
        yield f"../../scripts/{path.name}", path.read_text(encoding="utf-8")


def _hits(pattern: str, *, skip: frozenset | set = frozenset()):
    rx = re.compile(pattern)
    found = []
    for rel, text in _sources():
        if rel in skip:
            continue
        for n, line in enumerate(text.splitlines(), 1):
            if rx.search(line):
                found.append(f"{rel}:{n}: {line.strip()}")
    return found


def test_no_permission_bypass_flags():
    """Who acts is explicit: a service gets a user, an organisation's key or ``system_actor("<job>")`` —
    never ``actor=None`` or ``checked=True`` to skip ``require()``, never a stand-in department class."""
    assert _hits(r"\bactor\s*=\s*None\b|\bactor is None\b|\bactor is not None\b") == []
    assert _hits(r"\bchecked\s*=\s*True\b|\bchecked: bool\b") == []
    assert _hits(r"class _Dept\b") == []


def test_the_bypass_check_can_fail(tmp_path):
    """The patterns above do find what they are meant to find."""
    assert re.search(r"\bactor\s*=\s*None\b", "record(actor=None, action='x')")
    assert re.search(r"\bactor is not None\b", "    if actor is not None:")
    assert re.search(r"\bchecked\s*=\s*True\b", "capture_events(actor=a, events=e, checked=True)")


# Who may touch os.environ besides config/settings.py, and why.
ENVIRON_ALLOWED = {
    # bootstrap: name the settings module before Django (and so settings.py) is loaded
    "__main__.py", "config/asgi.py", "config/wsgi.py",
    # a child process inherits this one's environment (PATH, PYTHONPATH, key files, SMARTGOV_*), with a
    # few variables replaced — the one place that builds it
    "core/processes.py",
    # gunicorn's workers are children too: prometheus_client reads PROMETHEUS_MULTIPROC_DIR in each
    "core/management/commands/serve.py",
    # the CI fuzzing script runs outside Django: it starts a server as a child with its own environment
    "../../scripts/fuzz_api.py",
    # the import check of scripts/hoist_imports.py names the settings module in the processes it starts
    "../../scripts/hoist_imports.py",
    # the field-encryption master keys are read (NAME and NAME_FILE, validated) by the key ring itself,
    # so key material never becomes a Django setting; `setup` hands it the development key file
    "core/crypto/keys.py", "core/management/commands/setup.py",
}


def test_configuration_only_in_settings():
    """Apps read django.conf.settings, never the environment, so every variable also works as NAME_FILE."""
    assert _hits(r"\bos\.environ\b|\bos\.getenv\b|\bgetenv\(", skip=ENVIRON_ALLOWED | {"config/settings.py"}) == []


def test_the_environ_allowlist_is_current():
    """Every allowed file still needs its exception (else remove it from ENVIRON_ALLOWED)."""
    for rel in ENVIRON_ALLOWED:
        assert "os.environ" in (SRC / rel).read_text(encoding="utf-8"), rel


def test_selectors_never_import_services():
    """Reads never write: a selector module imports no services module (its own app's or another's)."""
    rx = re.compile(r"^\s*(from\s+\S*services\S*\s+import|from\s+\S+\s+import\s+[^#\n]*\bservices\b|import\s+\S*services)",
                    re.M)
    found = [rel for rel, text in _sources()
             if (rel.endswith("/selectors.py") or "/selectors/" in rel) and rx.search(text)]
    assert found == []
    assert rx.search("    from .services import is_issued") and rx.search("from smartgov.trace import codes, services")


def test_selectors_never_record_audit_entries():
    """Recording who looked at personal data is a ``reveal_…`` service the view calls, not a read."""
    found = [rel for rel, text in _sources()
             if (rel.endswith("/selectors.py") or "/selectors/" in rel) and re.search(r"\brecord\(", text)]
    assert found == []


DOC = SRC.parents[1] / "docs" / "adding-an-app.md"
NOT_APPS = {"core", "portal", "config"}


def _checklist():
    """(every app's files, files of an app with an API, {app: files it is excused from}) from item 1."""
    text = DOC.read_text(encoding="utf-8")
    item = text[text.index("\n1. "):text.index("\n2. ")]
    every = re.findall(r"`([\w/<>.]+)`", re.search(r"Every app has:(.*?)\.\s", item, re.S).group(1))
    with_api = re.findall(r"`([\w/<>.]+)`", re.search(r"with an API also has:(.*?)\.\s", item, re.S).group(1))
    excused: dict[str, set[str]] = {}
    for app, files in re.findall(r"- `(\w+)` has no ((?:`[\w.]+`(?:, )?)+)", item):
        excused.setdefault(app, set()).update(re.findall(r"`([\w.]+)`", files))
    return every, with_api, excused


def _apps():
    return sorted(p.parent.name for p in SRC.glob("*/apps.py") if p.parent.name not in NOT_APPS)


def test_the_checklist_is_read():
    every, with_api, excused = _checklist()
    assert {"selectors.py", "demo.py", "bench.py", "services.py"} <= set(every)
    assert with_api == ["schemas.py"]
    assert excused == {"audit": {"demo.py"}, "workflow": {"demo.py"}, "iot": {"demo.py", "bench.py"}}
    assert len(_apps()) >= 15


def test_every_app_has_the_same_shape():
    """docs/adding-an-app.md item 1, for every app: the files it names exist (a module or a package)."""
    every, with_api, excused = _checklist()
    missing = []
    for app in _apps():
        base = SRC / app
        wanted = list(every) + (with_api if (base / "api.py").exists() else [])
        for name in wanted:
            if name in excused.get(app, set()):
                continue
            if not ((base / name).exists() or (base / name.removesuffix(".py")).is_dir()):
                missing.append(f"{app}/{name}")
    assert missing == []


def test_every_bench_registers_its_own_benchmark():
    """Each app's bench.py has a BENCHMARKS table (the portal and other apps do not register for it)."""
    missing = [app for app in _apps() if (SRC / app / "bench.py").exists()
               and not re.search(r"^BENCHMARKS\s*=\s*\{", (SRC / app / "bench.py").read_text(encoding="utf-8"), re.M)]
    assert missing == []


def test_no_excuse_is_stale():
    """An exception in the checklist for a file the app now has must be removed from the doc."""
    _, _, excused = _checklist()
    stale = [f"{app}/{name}" for app, names in excused.items() for name in names if (SRC / app / name).exists()]
    assert stale == []
