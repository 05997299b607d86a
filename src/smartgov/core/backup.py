"""``smartgov backup`` / ``smartgov restore`` (issue 19, point 7): the database, the keys and the uploaded
files in one archive, encrypted with SM4-GCM under a key the operator holds (never stored beside it).

Archive layout — a header line, then the tar stream in sealed chunks (the STREAM construction of Hoang,
Reyhanitabar, Rogaway and Vizár, as age and Tink use it, over SM4-GCM):

    b"SMARTGOV-BACKUP 1\\n" + header JSON + b"\\n"
    repeated: length (4 bytes, big endian) || sm4_gcm_encrypt(key, chunk, aad = SHA-256(header) || index (8) || last (1))

Every chunk is authenticated with its position and whether it is the last, so a chunk changed, dropped,
reordered or cut off at the end is refused. ``restore`` checks the whole archive before it writes
anything, and only into an empty database.

The tar holds ``manifest.json``, the database (``database.pgdump`` from ``pg_dump -Fc``, or
``database.sqlite3`` from SQLite's online backup API), ``keys/`` (the SM2 signing key, the field
encryption master keys and the development secret when they are files) and ``media/``."""

import hashlib
import io
import json
import os
import shutil
import sqlite3
import struct
import subprocess
import tarfile
import tempfile
from pathlib import Path

import dj_database_url
from django.conf import settings
from django.db import connection
from django.utils import timezone

from .crypto.sm4 import KEY_SIZE, SM4DecryptionError, sm4_gcm_decrypt, sm4_gcm_encrypt
from .processes import child_env

MAGIC = b"SMARTGOV-BACKUP 1\n"
CHUNK = 4 * 1024 * 1024


class BackupError(RuntimeError):
    """A sentence for the operator: what could not be done, and why."""


def parse_key(text: str) -> bytes:
    """The operator's backup key: 32 hexadecimal characters (an SM4 key, 128 bits)."""
    try:
        key = bytes.fromhex(text.strip())
    except ValueError:
        key = b""
    if len(key) != KEY_SIZE:
        raise BackupError("备份密钥应为32位十六进制字符（SM4，128位） / the backup key must be 32 hex characters")
    return key


def new_key() -> str:
    return os.urandom(KEY_SIZE).hex()


def _aad(header_digest: bytes, index: int, last: bool) -> bytes:
    return header_digest + struct.pack(">Q", index) + (b"\x01" if last else b"\x00")


def _key_files() -> dict[str, Path]:
    """The key material this installation keeps in files (name in the archive → path)."""
    keys_dir = Path(settings.VAR_DIR) / "keys"
    files = {f"keys/{p.name}": p for p in sorted(keys_dir.glob("*")) if p.is_file()} if keys_dir.exists() else {}
    if Path(settings.SIGNING_KEY_FILE).is_file():
        files.setdefault(f"keys/{Path(settings.SIGNING_KEY_FILE).name}", Path(settings.SIGNING_KEY_FILE))
    for path in (settings.MASTER_KEYS_FILE, settings.BLIND_INDEX_KEY_FILE):
        if path and Path(path).is_file():
            files.setdefault(f"keys/{Path(path).name}", Path(path))
    return files


def _pg_target() -> dict:
    """Where pg_dump/pg_restore connect: ``DATABASE_DIRECT_URL`` when given, else the database itself —
    but never through a transaction-mode pooler, where their session settings (search_path, …) would
    be left on server connections that other clients then get."""
    if settings.DATABASE_DIRECT_URL:
        return dj_database_url.parse(settings.DATABASE_DIRECT_URL)
    if settings.DB_TRANSACTION_POOLER:
        raise BackupError("数据库经由事务级连接池（PgBouncer）连接，pg_dump/pg_restore 需要直连主库：请设置 "
                          "DATABASE_DIRECT_URL / connected through a transaction pooler: set DATABASE_DIRECT_URL")
    return settings.DATABASES["default"]


def _dump_database(dest: Path) -> str:
    if connection.vendor == "postgresql":
        url = _pg_target()
        env = child_env({"PGPASSWORD": url.get("PASSWORD") or ""})
        out = dest / "database.pgdump"
        cmd = [shutil.which("pg_dump") or "pg_dump", "-Fc", "--no-owner", "--no-privileges", "-f", str(out),
               "-h", url.get("HOST") or "127.0.0.1", "-p", str(url.get("PORT") or 5432),
               "-U", url.get("USER") or "postgres", url["NAME"]]
        result = subprocess.run(cmd, env=env, capture_output=True, text=True)
        if result.returncode != 0:
            raise BackupError(f"pg_dump 失败 / failed: {result.stderr.strip()[:500]}")
        return out.name
    out = dest / "database.sqlite3"
    connection.ensure_connection()
    target = sqlite3.connect(out)
    try:
        connection.connection.backup(target)  # SQLite's online backup: a consistent copy while others write
    finally:
        target.close()
    return out.name


def create_backup(out_path: Path, key: bytes, *, progress=None) -> dict:
    """Write the encrypted archive to ``out_path``; returns the manifest."""
    out_path = Path(out_path)
    with tempfile.TemporaryDirectory(prefix="smartgov-backup-") as tmp:
        tmp = Path(tmp)
        database = _dump_database(tmp)
        keys = _key_files()
        media_root = Path(settings.MEDIA_ROOT)
        media = sorted(p for p in media_root.rglob("*") if p.is_file()) if media_root.exists() else []
        manifest = {"format": 1, "created_at": timezone.now().isoformat(), "vendor": connection.vendor,
                    "database": database, "keys": sorted(keys), "media_files": len(media),
                    # keys given inline in the environment are not in the archive: the operator keeps them
                    "keys_from_environment_not_included": settings.MASTER_KEYS_INLINE,
                    "media_bytes": sum(p.stat().st_size for p in media)}
        tar_path = tmp / "backup.tar"
        with tarfile.open(tar_path, "w") as tar:
            data = json.dumps(manifest, ensure_ascii=False, indent=1).encode()
            info = tarfile.TarInfo("manifest.json")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
            tar.add(tmp / database, arcname=database)
            for name, path in keys.items():
                tar.add(path, arcname=name)
            for path in media:
                tar.add(path, arcname=f"media/{path.relative_to(media_root).as_posix()}")
        _seal_file(tar_path, out_path, key, manifest, progress=progress)
    return manifest


def _seal_file(src: Path, dest: Path, key: bytes, manifest: dict, *, progress=None) -> None:
    header = json.dumps({"created_at": manifest["created_at"], "vendor": manifest["vendor"],
                         "chunk": CHUNK, "cipher": "SM4-GCM", "stream": "STREAM"}).encode()
    digest = hashlib.sha256(header).digest()
    size = src.stat().st_size
    partial = dest.with_name(dest.name + ".partial")
    with open(src, "rb") as fin, open(partial, "wb") as fout:
        fout.write(MAGIC + header + b"\n")
        index, done = 0, 0
        chunk = fin.read(CHUNK)
        while True:
            following = fin.read(CHUNK) if len(chunk) == CHUNK else b""
            last = not following
            blob = sm4_gcm_encrypt(key, chunk, aad=_aad(digest, index, last))
            fout.write(struct.pack(">I", len(blob)) + blob)
            done += len(chunk)
            if progress:
                progress(done, size)
            if last:
                break
            chunk, index = following, index + 1
        fout.flush()
        os.fsync(fout.fileno())
    os.replace(partial, dest)  # never a half-written archive under the real name


def open_backup(path: Path, key: bytes, dest_tar: Path, *, progress=None) -> dict:
    """Check and decrypt the whole archive into ``dest_tar``; returns its header. Raises BackupError if
    any chunk is changed, missing, reordered, or the archive is cut short."""
    path = Path(path)
    size = path.stat().st_size
    with open(path, "rb") as fin, open(dest_tar, "wb") as fout:
        if fin.read(len(MAGIC)) != MAGIC:
            raise BackupError("不是 SmartGov 备份文件 / not a SmartGov backup")
        header = fin.readline().rstrip(b"\n")
        digest = hashlib.sha256(header).digest()
        index, last = 0, False
        while not last:
            raw_len = fin.read(4)
            if len(raw_len) < 4:
                raise BackupError("备份文件不完整（被截断） / the backup is truncated")
            (length,) = struct.unpack(">I", raw_len)
            blob = fin.read(length)
            if len(blob) < length:
                raise BackupError("备份文件不完整（被截断） / the backup is truncated")
            for last in (False, True):
                try:
                    fout.write(sm4_gcm_decrypt(key, blob, aad=_aad(digest, index, last)))
                    break
                except SM4DecryptionError:
                    continue
            else:
                raise BackupError("备份文件无法解密：密钥不对，或文件被改动 / wrong key or the backup was altered")
            index += 1
            if progress:
                progress(fin.tell(), size)
        if fin.read(1):
            raise BackupError("备份文件末尾有多余数据 / data after the last chunk")
    return json.loads(header)


def _database_is_empty() -> bool:
    return "django_migrations" not in connection.introspection.table_names()


def restore_backup(path: Path, key: bytes, *, progress=None) -> dict:
    """Restore database, keys and media from an archive into this (empty) installation."""
    with tempfile.TemporaryDirectory(prefix="smartgov-restore-") as tmp:
        tmp = Path(tmp)
        open_backup(path, key, tmp / "backup.tar", progress=progress)
        with tarfile.open(tmp / "backup.tar") as tar:
            tar.extractall(tmp / "x", filter="data")  # no absolute paths, links out or devices
        root = tmp / "x"
        manifest = json.loads((root / "manifest.json").read_text())
        if manifest["vendor"] != connection.vendor:
            raise BackupError(f"备份来自 {manifest['vendor']}，当前数据库是 {connection.vendor} / "
                              "restore into the same kind of database")
        if not _database_is_empty():
            raise BackupError("目标数据库不是空的：只恢复到新建的空数据库 / the target database is not empty")
        keys_dir = Path(settings.VAR_DIR) / "keys"
        clashes = [n for n in manifest["keys"]
                   if (keys_dir / Path(n).name).exists()
                   and (keys_dir / Path(n).name).read_bytes() != (root / n).read_bytes()]
        if clashes:
            raise BackupError(f"目标安装已有不同的密钥文件 {clashes}：请在新的 SMARTGOV_VAR_DIR 下恢复 / "
                              "different key files already exist")
        _restore_database(root / manifest["database"])
        keys_dir.mkdir(parents=True, exist_ok=True)
        for name in manifest["keys"]:
            target = keys_dir / Path(name).name
            shutil.copyfile(root / name, target)
            target.chmod(0o600)
        media_src, media_root = root / "media", Path(settings.MEDIA_ROOT)
        if media_src.exists():
            shutil.copytree(media_src, media_root, dirs_exist_ok=True)
        return manifest


def _restore_database(dump: Path) -> None:
    if connection.vendor == "postgresql":
        cfg = _pg_target()
        env = child_env({"PGPASSWORD": cfg.get("PASSWORD") or ""})
        cmd = [shutil.which("pg_restore") or "pg_restore", "--no-owner", "--no-privileges", "--exit-on-error",
               "-h", cfg.get("HOST") or "127.0.0.1", "-p", str(cfg.get("PORT") or 5432),
               "-U", cfg.get("USER") or "postgres", "-d", cfg["NAME"], str(dump)]
        connection.close()
        result = subprocess.run(cmd, env=env, capture_output=True, text=True)
        if result.returncode != 0:
            raise BackupError(f"pg_restore 失败 / failed: {result.stderr.strip()[:500]}")
        return
    connection.ensure_connection()
    source = sqlite3.connect(dump)
    try:
        source.backup(connection.connection)
    finally:
        source.close()
