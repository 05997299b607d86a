"""``smartgov biometrics rebuild|checkpoint [--modality M]`` — rebuild the 1:N index from the database,
or catch it up and save it to disk."""

import orjson
from django.core.management.base import BaseCommand

from smartgov.biometrics import index
from smartgov.biometrics.modalities import MODALITIES


class Command(BaseCommand):
    help = "生物特征索引 / biometric index: rebuild from the database, or checkpoint to disk"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        for name, text in [("rebuild", "从数据库重建索引并保存 / rebuild from the database and save"),
                           ("checkpoint", "追平数据库并保存 / catch up with the database and save")]:
            p = sub.add_parser(name, help=text)
            p.add_argument("--modality", choices=sorted(MODALITIES), help="one modality (default: all)")

    def handle(self, *args, action, modality=None, **options):
        run = index.rebuild_index if action == "rebuild" else index.checkpoint_index
        for code in [modality] if modality else list(MODALITIES):
            self.stdout.write(orjson.dumps(run(code)).decode())
