"""``smartgov backup``: database, keys and uploaded files in one SM4-encrypted archive (core/backup.py)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from smartgov.core.backup import BackupError, create_backup, new_key, parse_key


class Command(BaseCommand):
    help = "备份数据库、密钥与上传文件（SM4加密） / back up database, keys and media (SM4-encrypted)"

    def add_arguments(self, parser):
        parser.add_argument("--out", help="备份文件路径 / archive to write")
        parser.add_argument("--key-file", help="备份密钥文件（32位十六进制，SM4） / file holding the backup key (32 hex)")
        parser.add_argument("--new-key", action="store_true", help="生成一把新的备份密钥并打印 / print a new key")

    def handle(self, *args, out=None, key_file=None, **options):
        if options.get("new_key"):
            self.stdout.write(new_key())
            return
        if not out or not key_file:
            raise CommandError("需要 --out 与 --key-file（先用 --new-key 生成密钥并妥善保管） / --out and --key-file are required")
        try:
            key = parse_key(Path(key_file).read_text())
        except OSError as exc:
            raise CommandError(f"无法读取密钥文件 / cannot read the key file: {exc}") from exc
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        try:
            with tqdm(total=0, unit="B", unit_scale=True, desc="备份 backup", disable=None) as bar:
                def progress(done, total):
                    bar.total = total
                    bar.n = done
                    bar.refresh()

                manifest = create_backup(Path(out), key, progress=progress)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        note = "；环境变量中的密钥未包含，请另行保管" if manifest["keys_from_environment_not_included"] else ""
        self.stdout.write(f"备份完成 / written: {out}（数据库 {manifest['database']}，密钥 {len(manifest['keys'])} 个，"
                          f"文件 {manifest['media_files']} 个{note}）")
