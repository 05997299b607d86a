"""The ``smartgov`` command: ``smartgov <command> [options]`` runs a management command.

``smartgov serve``, ``smartgov demo``, ``smartgov worker``, ``smartgov audit verify``,
``smartgov crypto selftest|keygen|sign|verify``, ``smartgov bench <name> --json``, and every Django
command (``smartgov migrate``, ``smartgov shell`` …).
"""

import os
import sys

from django.core.management import execute_from_command_line


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "smartgov.config.settings")

    argv = list(sys.argv if argv is None else argv)
    argv[0] = "smartgov"
    execute_from_command_line(argv)


if __name__ == "__main__":
    main()
