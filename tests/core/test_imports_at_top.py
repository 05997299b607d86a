"""Imports sit at the top of the module (issue 11 point 7; docs/adding-an-app.md).

ruff's PLC0415 (import-outside-top-level) is on for ``src/``; an import that has to stay inside its
function carries ``# noqa: PLC0415 — cycle: <a> <-> <b>`` or ``— deferred: <reason>``.
``scripts/hoist_imports.py`` moves the others up and marks the ones that cannot move.
"""

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src" / "smartgov"
RUFF = Path(sys.executable).with_name("ruff")
NOQA = re.compile(r"#\s*noqa:[^#\n]*\bPLC0415\b(.*)")
REASON = re.compile(r"^\s+— (cycle: \S.* <-> \S.*|deferred: \S.*)")


def _ruff_inner_imports(*paths) -> list[str]:
    out = subprocess.run(
        [RUFF, "check", "--select", "PLC0415", "--output-format", "concise", "--no-cache", *map(str, paths)],
        capture_output=True, text=True, cwd=ROOT,
    )
    assert out.returncode in (0, 1), out.stderr
    return [line for line in out.stdout.splitlines() if "PLC0415" in line]


def test_no_import_inside_a_function_without_a_reason():
    assert _ruff_inner_imports("src") == []


def test_the_check_can_fail(tmp_path):
    module = tmp_path / "late.py"
    module.write_text("def f():\n    import json\n\n    return json.dumps({})\n")
    assert len(_ruff_inner_imports(module)) == 1
    module.write_text("def f():\n    import json  # noqa: PLC0415 — deferred: a test\n\n    return json.dumps({})\n")
    assert _ruff_inner_imports(module) == []


def test_every_marker_says_why():
    """``— cycle: a <-> b`` (a real circular import) or ``— deferred: why`` (registry, heavy, optional)."""
    missing = []
    for path in sorted(SRC.rglob("*.py")):
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            marker = NOQA.search(line)
            if marker and not REASON.match(marker.group(1)):
                missing.append(f"{path.relative_to(SRC)}:{n}: {line.strip()}")
    assert missing == []
    assert REASON.match(NOQA.search("import x  # noqa: F401, PLC0415 — cycle: trace.tasks <-> subscriptions").group(1))
    assert not REASON.match(NOQA.search("import x  # noqa: PLC0415").group(1))
