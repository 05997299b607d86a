"""``smartgov bench <name> --json``: run one benchmark and print one JSON object.

Each app offers benchmarks in ``<app>/bench.py`` as ``BENCHMARKS = {"name": run}``, where
``run(*, progress, **options) -> dict`` and the options are the ``INT_OPTIONS`` given on the command
line (``--size``, ``--cases``, ``--clients``, ``--doses``, ``--workers`` …). Benchmarks write to the configured database: run them
against a scratch database, not production.
"""

import importlib
import sys
from contextlib import contextmanager
from pathlib import Path

import orjson
from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from tqdm import tqdm


def discover() -> dict:
    found = {}
    for config in apps.get_app_configs():
        if not config.name.startswith("smartgov."):
            continue
        try:
            module = importlib.import_module(f"{config.name}.bench")
        except ModuleNotFoundError as exc:
            if exc.name != f"{config.name}.bench":
                raise
            continue
        found.update(getattr(module, "BENCHMARKS", {}))  # some bench modules only hold measuring helpers
    return found


@contextmanager
def scratch_database(*, enabled: bool):
    """A fresh, migrated database beside the configured one (SQLite: a file under var/, so the figures
    are the on-disk WAL ones, not in-memory), dropped afterwards; benchmarks never touch real data."""
    if not enabled:
        yield
        return
    if connection.vendor == "sqlite":
        path = Path(settings.VAR_DIR) / "bench.sqlite3"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        connection.settings_dict.setdefault("TEST", {})["NAME"] = str(path)
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        yield
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


# Integer options a benchmark may take; each one given is passed to it as a keyword argument.
INT_OPTIONS = {
    "size": "rows/items to use (benchmark's default)",
    "templates": "biometric templates to enrol (identity benchmark; default 1,000,000)",
    "cases": "cases in the database (onestop benchmark; default 1,000,000)",
    "clients": "concurrent HTTP clients (onestop benchmark; default 50)",
    "doses": "doses in the simulated chain (trace benchmark; default 1,000,000)",
    "workers": "ingest worker processes (grain benchmark)",
}


class Command(BaseCommand):
    help = "运行基准测试 / run a benchmark: smartgov bench <name> [--size N] [--json]"

    def add_arguments(self, parser):
        parser.add_argument("name", nargs="?")
        for option, help_text in INT_OPTIONS.items():
            parser.add_argument(f"--{option}", type=int, default=None, help=help_text)
        parser.add_argument("--json", action="store_true", help="print one JSON object")
        parser.add_argument("--in-place", action="store_true",
                            help="use the configured database itself instead of a fresh scratch database")

    def handle(self, *args, name, json, in_place, **options):
        benches = discover()
        if not name or name not in benches:
            raise CommandError(f"未知的基准测试 {name!r}；可用：{', '.join(sorted(benches))}", returncode=2)
        show = not json and sys.stderr.isatty()
        with scratch_database(enabled=not in_place), \
                tqdm(unit="条", desc=f"bench {name}", disable=not show, file=sys.stderr) as bar:
            kwargs = {"progress": bar.update}
            kwargs.update({k: options[k] for k in INT_OPTIONS if options.get(k) is not None})
            result = benches[name](**kwargs)
        result = {"benchmark": name, "database": connection.vendor, **result}
        if json:
            self.stdout.write(orjson.dumps(result).decode())
        else:
            for k, v in result.items():
                self.stdout.write(f"{k:>24}: {v}")
