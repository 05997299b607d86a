"""``smartgov reencrypt``: re-encrypt personal data still under an older master key version.

Rotation is lazy — a row is re-encrypted whenever it is saved — so this only sweeps up rows that
have not been written since the newest key version was added. Safe to run again; run it before
retiring an old version from ``SMARTGOV_MASTER_KEYS``.
"""

import sys

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import connection, transaction
from tqdm import tqdm

from smartgov.audit.services import record
from smartgov.core.crypto import keys
from smartgov.core.fields import EncryptedField
from smartgov.core.permissions import system_actor


class Command(BaseCommand):
    help = "用当前主密钥版本重新加密旧版本密文 / re-encrypt data still under an older key version"

    def add_arguments(self, parser):
        parser.add_argument("--batch", type=int, default=500, help="rows per transaction")

    def handle(self, *args, batch, **options):
        total = 0
        for model in apps.get_models():
            fields = [f for f in model._meta.concrete_fields if isinstance(f, EncryptedField)]
            if fields:
                total += self._sweep(model, fields, batch)
        self.stdout.write(self.style.SUCCESS(f"已重新加密 {total} 行 / re-encrypted {total} rows "
                                             f"(current key version {keys.get_keyring().current_version})"))

    def _sweep(self, model, fields, batch) -> int:
        table, pk = model._meta.db_table, model._meta.pk.column
        cols = ", ".join(f.column for f in fields)
        with connection.cursor() as cur:  # raw tokens: the ORM would hand back decrypted values
            cur.execute(f"SELECT {pk}, {cols} FROM {table} ORDER BY {pk}")  # noqa: S608 (model metadata)
            stale = [row[0] for row in cur.fetchall()
                     if any(token and keys.needs_reencrypt(token) for token in row[1:])]
        label = f"{model._meta.app_label}.{model._meta.model_name}"
        with tqdm(total=len(stale), unit="行", desc=label, disable=not stale or not sys.stderr.isatty(),
                  file=sys.stderr) as bar:
            for i in range(0, len(stale), batch):
                ids = stale[i:i + batch]
                with transaction.atomic():
                    for obj in model._default_manager.filter(pk__in=ids):
                        obj.save(update_fields=[f.name for f in fields])
                    record(actor=system_actor("reencrypt.command"), action="core.reencrypt", target=(label, f"{ids[0]}..{ids[-1]}"),
                           changes={"rows": len(ids), "fields": [f.name for f in fields]})
                bar.update(len(ids))
        return len(stale)
