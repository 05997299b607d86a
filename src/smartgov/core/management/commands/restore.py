"""``smartgov restore``: restore a ``smartgov backup`` archive into an empty installation."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from smartgov.core.backup import BackupError, parse_key, restore_backup


class Command(BaseCommand):
    help = "从备份恢复到空数据库 / restore a backup into an empty database"

    def add_arguments(self, parser):
        parser.add_argument("archive", help="备份文件 / the archive")
        parser.add_argument("--key-file", required=True, help="备份密钥文件 / file holding the backup key")

    def handle(self, *args, archive, key_file, **options):
        try:
            key = parse_key(Path(key_file).read_text())
        except OSError as exc:
            raise CommandError(f"无法读取密钥文件 / cannot read the key file: {exc}") from exc
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        if not Path(archive).is_file():
            raise CommandError(f"找不到备份文件 / no such archive: {archive}")
        try:
            with tqdm(total=0, unit="B", unit_scale=True, desc="校验与解密 verify", disable=None) as bar:
                def progress(done, total):
                    bar.total = total
                    bar.n = done
                    bar.refresh()

                manifest = restore_backup(Path(archive), key, progress=progress)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"恢复完成 / restored（{manifest['created_at']} 的备份）。请运行 smartgov audit verify 校验审计链。")
