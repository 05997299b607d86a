"""The environment of a child process the platform starts: a benchmark's server or workers, pg_dump and
pg_restore, the cluster check's instances, a browsing run's demo server.

Besides ``config/settings.py`` this is the one module that reads ``os.environ``, and only to pass it on:
a child inherits what the parent was started with (PATH, locale, PYTHONPATH, the key files, every
``SMARTGOV_*`` variable the child reads through its own settings) — settings hold what *this* process
was configured with, not everything a child needs — with a few variables replaced or left out.
"""

import os
from collections.abc import Iterable


def child_env(overrides: dict[str, str] | None = None, *, drop: Iterable[str] = (),
              drop_prefixes: tuple[str, ...] = ()) -> dict[str, str]:
    """This process's environment without ``drop`` (names) and ``drop_prefixes``, then ``overrides``."""
    dropped = set(drop)
    env = {k: v for k, v in os.environ.items()
           if k not in dropped and not (drop_prefixes and k.startswith(drop_prefixes))}
    env.update(overrides or {})
    return env
