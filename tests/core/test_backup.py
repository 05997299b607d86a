"""``smartgov backup`` / ``restore``: a real installation (its own database and key files) is backed up,
restored into an empty database under a new var directory, and its audit trail verifies there; a
wrong key, a changed byte or a cut-off archive is refused and restores nothing. Runs the real commands
in subprocesses, on SQLite or on PostgreSQL like the rest of the suite."""

import os
import secrets
import sqlite3
import subprocess
import sys
from pathlib import Path

import dj_database_url
import psycopg
import pytest
from django.conf import settings
from django.db import connection
from django.test import override_settings

from smartgov.core.backup import CHUNK, MAGIC, BackupError, _pg_target, open_backup, parse_key


def _run(env, *args, stdin=None):
    return subprocess.run([sys.executable, "-m", "smartgov", *args], env=env, input=stdin, capture_output=True,
                          text=True, timeout=600)


@pytest.fixture
def databases(tmp_path):
    """Two empty databases of the suite's kind: (url of the source, url of the restore target)."""
    if connection.vendor != "postgresql":
        yield f"sqlite:///{tmp_path / 'source.sqlite3'}", f"sqlite:///{tmp_path / 'restored.sqlite3'}"
        return
    # behind a transaction pooler (the CI's PgBouncer run) pg_dump/pg_restore go to the server itself
    cfg = dj_database_url.parse(settings.DATABASE_DIRECT_URL) if settings.DATABASE_DIRECT_URL else connection.settings_dict
    base = f"postgresql://{cfg['USER'] or 'postgres'}@{cfg['HOST'] or '127.0.0.1'}:{cfg['PORT'] or 5432}"
    names = [f"sg_backup_{secrets.token_hex(4)}" for _ in range(2)]
    with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
        for name in names:
            admin.execute(f'CREATE DATABASE "{name}"')
    yield f"{base}/{names[0]}", f"{base}/{names[1]}"
    with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
        for name in names:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _env(var: Path, url: str) -> dict:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("DATABASE_", "SMARTGOV_MASTER", "SMARTGOV_BLIND", "SECRET_KEY", "SMARTGOV_SIGNING"))}
    env.update(SMARTGOV_VAR_DIR=str(var), DATABASE_URL=url, DJANGO_SETTINGS_MODULE="smartgov.config.settings",
               SMARTGOV_DB_TRANSACTION_POOLER="false")
    return env


def test_backup_restores_into_an_empty_database_and_the_audit_trail_verifies(tmp_path, databases):
    source_url, target_url = databases
    source = _env(tmp_path / "var-a", source_url)
    assert _run(source, "setup").returncode == 0
    made = _run(source, "accounts", "create-user", "--username", "backup_probe", "--role", "sysadmin",
                "--name", "备份探针", stdin="a-Long-password-2026\n")
    assert made.returncode == 0, made.stderr
    media = tmp_path / "var-a" / "media" / "onestop"
    media.mkdir(parents=True)
    (media / "scan.pdf").write_bytes(b"%PDF-1.4 backed up")
    key_file = tmp_path / "backup.key"
    key_file.write_text(_run(source, "backup", "--new-key").stdout.strip())
    archive = tmp_path / "smartgov.backup"
    done = _run(source, "backup", "--out", str(archive), "--key-file", str(key_file))
    assert done.returncode == 0, done.stderr
    assert archive.read_bytes().startswith(MAGIC) and b"backup_probe" not in archive.read_bytes()

    target = _env(tmp_path / "var-b", target_url)
    restored = _run(target, "restore", str(archive), "--key-file", str(key_file))
    assert restored.returncode == 0, restored.stderr
    verify = _run(target, "audit", "verify")
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert (tmp_path / "var-b" / "media" / "onestop" / "scan.pdf").read_bytes() == b"%PDF-1.4 backed up"
    for name in ("platform-sm2.pem", "master-keys"):
        assert (tmp_path / "var-b" / "keys" / name).read_bytes() == (tmp_path / "var-a" / "keys" / name).read_bytes()
    probe = "SELECT name FROM accounts_user WHERE username = 'backup_probe'"
    if target_url.startswith("sqlite"):
        with sqlite3.connect(target_url.removeprefix("sqlite:///")) as db:
            assert db.execute(probe).fetchone() == ("备份探针",)
    else:
        with psycopg.connect(target_url) as db:
            assert db.execute(probe).fetchone() == ("备份探针",)

    # into a database that is not empty: refused, and it says why
    again = _run(target, "restore", str(archive), "--key-file", str(key_file))
    assert again.returncode != 0 and "不是空的" in again.stderr


def _sealed(tmp_path, body: bytes, key: bytes) -> Path:
    from smartgov.core.backup import _seal_file

    src = tmp_path / "plain.tar"
    src.write_bytes(body)
    out = tmp_path / "sealed.backup"
    _seal_file(src, out, key, {"created_at": "2026-12-05T00:00:00Z", "vendor": "sqlite"})
    return out


@pytest.mark.parametrize("damage", ["wrong_key", "flipped_byte", "last_chunk_dropped", "chunks_swapped", "tail"])
def test_a_damaged_archive_or_wrong_key_is_refused(tmp_path, damage):
    key = bytes.fromhex("0123456789abcdeffedcba9876543210")
    body = os.urandom(2 * CHUNK + 1000)  # three chunks
    archive = _sealed(tmp_path, body, key)
    assert open_backup(archive, key, tmp_path / "ok.tar") and (tmp_path / "ok.tar").read_bytes() == body
    data = bytearray(archive.read_bytes())
    header_end = data.index(b"\n", len(MAGIC)) + 1
    first = header_end + 4 + CHUNK + 28
    if damage == "wrong_key":
        key = bytes(16)
    elif damage == "flipped_byte":
        data[header_end + 100] ^= 1
    elif damage == "last_chunk_dropped":
        data = data[:header_end + 2 * (4 + CHUNK + 28)]
    elif damage == "chunks_swapped":
        data = data[:header_end] + data[first:2 * first - header_end] + data[header_end:first] + data[2 * first - header_end:]
    else:
        data += b"x"
    archive.write_bytes(bytes(data))
    with pytest.raises(BackupError):
        open_backup(archive, key, tmp_path / "out.tar")


def test_the_key_must_be_an_sm4_key():
    assert len(parse_key("00" * 16)) == 16
    for bad in ("", "zz" * 16, "00" * 15, "00" * 32):
        with pytest.raises(BackupError):
            parse_key(bad)


def test_behind_a_transaction_pooler_the_dump_needs_the_direct_url():
    with override_settings(DB_TRANSACTION_POOLER=True, DATABASE_DIRECT_URL=""):
        with pytest.raises(BackupError, match="DATABASE_DIRECT_URL"):
            _pg_target()
    with override_settings(DB_TRANSACTION_POOLER=True, DATABASE_DIRECT_URL="postgresql://u:p@10.0.0.5:5433/gov"):
        target = _pg_target()
        assert (target["HOST"], target["PORT"], target["NAME"]) == ("10.0.0.5", 5433, "gov")
