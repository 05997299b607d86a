"""``smartgov cluster up|down|status|check``: the platform as a cluster on one machine, with the engines an
operator runs (issue 19, point 5) — real processes with their own ports and data under ``var/cluster/``:

    HAProxy ──► app server 1 ─┐            ┌─► PgBouncer (transaction mode) ─► PostgreSQL primary
            └─► app server 2 ─┼─ writes ───┘                                     │ streaming replication
                              └─ safe reads ──────────────────────────────────► PostgreSQL replica
    worker (job queue) ─► PgBouncer        ingest workers ×2 ◄─ Mosquitto (MQTT 5 shared subscription)

``down`` stops exactly what ``up`` started (the process ids are kept in ``var/cluster/pids.json``).
Nothing here replaces what the engines do: replication is PostgreSQL's, pooling PgBouncer's, load
balancing and health checks HAProxy's."""

import glob
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from .processes import child_env

DB_NAME = "smartgov"


@dataclass(frozen=True)
class Ports:
    base: int

    @property
    def primary(self) -> int:
        return self.base

    @property
    def replica(self) -> int:
        return self.base + 1

    @property
    def pgbouncer(self) -> int:
        return self.base + 2

    @property
    def mqtt(self) -> int:
        return self.base + 3

    def app(self, i: int) -> int:  # each app server also serves its live pages (SSE) on the next port
        return self.base + 10 + 2 * i

    @property
    def haproxy(self) -> int:
        return self.base + 20


class ClusterError(RuntimeError):
    """A step could not be done; the sentence says which and why."""


def root() -> Path:
    return Path(settings.VAR_DIR) / "cluster"


def pg_bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=lambda p: int(p.split("/")[4]))
    if found:
        return found[-1]
    path = shutil.which(name)
    if path is None:
        raise ClusterError(f"找不到 PostgreSQL 程序 {name}（apt-get install postgresql） / {name} not found")
    return path


def need(binary: str, package: str) -> str:
    path = shutil.which(binary) or (f"/usr/sbin/{binary}" if Path(f"/usr/sbin/{binary}").exists() else None)
    if path is None:
        raise ClusterError(f"找不到 {binary}（apt-get install {package}） / {binary} not found")
    return path


def _as_postgres(cmd: list[str]) -> list[str]:
    """PostgreSQL and PgBouncer refuse to run as root: run them as the postgres system user then."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *cmd]
    return cmd


def _chown_postgres(path: Path) -> None:
    if os.geteuid() == 0:
        shutil.chown(path, "postgres", "postgres")


def _wait_port(port: int, *, timeout: float = 120, what: str = "", proc=None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise ClusterError(f"{what} 已退出 / exited")
        with socket.socket() as s:
            s.settimeout(0.5)
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise ClusterError(f"{what or port} 在 {timeout:.0f} 秒内没有启动 / did not start on port {port}")


def _free(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


class Cluster:
    def __init__(self, base_port: int = 25400, *, app_servers: int = 2, ingest_workers: int = 2, out=None):
        self.ports = Ports(base_port)
        self.app_servers, self.ingest_workers = app_servers, ingest_workers
        self.dir = root()
        self.out = out or sys.stdout
        self.pids_file = self.dir / "pids.json"
        self.started = time.monotonic()

    # --- bookkeeping ------------------------------------------------------------------------------------

    def say(self, text: str) -> None:
        self.out.write(text + "\n")
        self.out.flush()

    def _pids(self) -> dict:
        return json.loads(self.pids_file.read_text()) if self.pids_file.exists() else {}

    def _keep(self, name: str, pid: int, **extra) -> None:
        pids = self._pids()
        pids[name] = {"pid": pid, **extra}
        self.pids_file.write_text(json.dumps(pids, indent=1))

    def _spawn(self, name: str, cmd: list[str], *, env: dict | None = None, port: int | None = None) -> None:
        log = open(self.dir / "logs" / f"{name}.log", "ab")
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True,
                                cwd=self.dir)
        self._keep(name, proc.pid, port=port, cmd=cmd[:6])
        if port is not None:
            try:
                _wait_port(port, what=name, proc=proc)
            except ClusterError:
                if proc.poll() is not None:
                    raise ClusterError(f"{name} 启动失败，见 {log.name} / {name} exited, see its log") from None
                raise
        t = time.monotonic() - self.started
        self.say(f"  {name} pid {proc.pid}{f' :{port}' if port else ''} ({t:.1f} s)")

    # --- the parts --------------------------------------------------------------------------------------

    def urls(self) -> dict[str, str]:
        p = self.ports
        return {"primary": f"postgresql://postgres@127.0.0.1:{p.primary}/{DB_NAME}",
                "pooled": f"postgresql://postgres@127.0.0.1:{p.pgbouncer}/{DB_NAME}",
                "replica": f"postgresql://postgres@127.0.0.1:{p.replica}/{DB_NAME}",
                "mqtt": f"mqtt://127.0.0.1:{p.mqtt}", "haproxy": f"http://127.0.0.1:{p.haproxy}"}

    def app_env(self) -> dict:
        u = self.urls()
        return child_env(dict(DATABASE_URL=u["pooled"], DATABASE_REPLICA_URLS=u["replica"],
                              SMARTGOV_DB_TRANSACTION_POOLER="true", DATABASE_DIRECT_URL=u["primary"],
                              SMARTGOV_MQTT_URL=u["mqtt"], SMARTGOV_VAR_DIR=str(settings.VAR_DIR)),
                         drop_prefixes=("DATABASE_", "SMARTGOV_MQTT"))

    def _postgres_conf(self, data: Path, port: int) -> list[str]:
        return [pg_bin("postgres"), "-D", str(data), "-p", str(port), "-c", "listen_addresses=127.0.0.1",
                "-c", f"unix_socket_directories={self.dir / 'run'}", "-c", "wal_level=replica",
                "-c", "max_wal_senders=8", "-c", "hot_standby=on", "-c", "max_connections=200",
                "-c", "fsync=on", "-c", "shared_buffers=128MB"]

    def _start_primary(self) -> None:
        data = self.dir / "pg" / "primary"
        if not (data / "PG_VERSION").exists():
            data.mkdir(parents=True, exist_ok=True)
            _chown_postgres(data)
            self.say("初始化主库 / initdb primary")
            subprocess.run(_as_postgres([pg_bin("initdb"), "-D", str(data), "-U", "postgres", "-A", "trust",
                                         "-E", "UTF8", "--no-sync", "--locale=C.UTF-8"]),
                           check=True, capture_output=True)
            with open(data / "pg_hba.conf", "a") as hba:
                hba.write("host all all 127.0.0.1/32 trust\nhost replication all 127.0.0.1/32 trust\n")
        self._spawn("postgres-primary", _as_postgres(self._postgres_conf(data, self.ports.primary)),
                    port=self.ports.primary)
        self._wait_ready(self.ports.primary)
        exists = subprocess.run([pg_bin("psql"), "-h", "127.0.0.1", "-p", str(self.ports.primary), "-U", "postgres",
                                 "-Atc", f"SELECT 1 FROM pg_database WHERE datname = '{DB_NAME}'"],  # noqa: S608
                                capture_output=True, text=True, check=True).stdout.strip()
        if not exists:
            subprocess.run([pg_bin("createdb"), "-h", "127.0.0.1", "-p", str(self.ports.primary), "-U", "postgres",
                            DB_NAME], check=True)

    def _wait_ready(self, port: int, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if subprocess.run([pg_bin("pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(port)]).returncode == 0:
                return
            time.sleep(0.3)
        raise ClusterError(f"PostgreSQL（端口 {port}）没有就绪 / not ready")

    def _start_replica(self) -> None:
        data = self.dir / "pg" / "replica"
        if not (data / "PG_VERSION").exists():
            data.mkdir(parents=True, exist_ok=True)
            data.chmod(0o700)  # PostgreSQL refuses a data directory others can read
            _chown_postgres(data)
            self.say("从主库复制备库（pg_basebackup） / base backup for the streaming replica")
            subprocess.run(_as_postgres([pg_bin("pg_basebackup"), "-h", "127.0.0.1", "-p", str(self.ports.primary),
                                         "-U", "postgres", "-D", str(data), "-R", "-X", "stream", "--no-sync",
                                         "--checkpoint=fast"]),
                           check=True, capture_output=True)
        self._spawn("postgres-replica", _as_postgres(self._postgres_conf(data, self.ports.replica)),
                    port=self.ports.replica)
        self._wait_ready(self.ports.replica)

    def _start_pgbouncer(self) -> None:
        p = self.ports
        ini = self.dir / "pgbouncer.ini"
        users = self.dir / "pgbouncer-users.txt"
        users.write_text('"postgres" ""\n')
        ini.write_text(f"""[databases]
{DB_NAME} = host=127.0.0.1 port={p.primary} dbname={DB_NAME}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {p.pgbouncer}
unix_socket_dir =
auth_type = trust
auth_file = {users}
pool_mode = transaction
max_client_conn = 1000
default_pool_size = 40
ignore_startup_parameters = extra_float_digits,options
""")
        for path in (ini, users):
            _chown_postgres(path)
        self._spawn("pgbouncer", _as_postgres([need("pgbouncer", "pgbouncer"), str(ini)]), port=p.pgbouncer)

    def _start_mosquitto(self) -> None:
        conf = self.dir / "mosquitto.conf"
        conf.write_text(f"listener {self.ports.mqtt} 127.0.0.1\nallow_anonymous true\npersistence false\n")
        self._spawn("mosquitto", [need("mosquitto", "mosquitto"), "-c", str(conf)], port=self.ports.mqtt)

    def _smartgov(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "smartgov", *args]

    def _migrate(self, *, demo: bool) -> None:
        env = {**self.app_env(), "DATABASE_URL": self.urls()["primary"], "SMARTGOV_DB_TRANSACTION_POOLER": "false"}
        env.pop("DATABASE_REPLICA_URLS", None)
        self.say("迁移数据库 / migrate")
        subprocess.run(self._smartgov("setup"), env=env, check=True, stdout=subprocess.DEVNULL)
        if demo:
            self.say("载入演示数据 / demo data")
            subprocess.run(self._smartgov("demo"), env=env, check=True, stdout=subprocess.DEVNULL)

    def _start_apps(self) -> None:
        env = self.app_env()
        for i in range(self.app_servers):
            port = self.ports.app(i)
            self._spawn(f"app{i + 1}", self._smartgov("serve", "--bind", f"127.0.0.1:{port}", "--workers", "2",
                                                    "--threads", "4", "--live-bind", f"127.0.0.1:{port + 1}"),
                        env=env, port=port)
        self._spawn("worker", self._smartgov("worker"), env=env)
        for i in range(self.ingest_workers):
            self._spawn(f"ingest{i + 1}", self._smartgov("grain", "ingest"), env=env)

    def _start_haproxy(self) -> None:
        servers = "\n".join(f"    server app{i + 1} 127.0.0.1:{self.ports.app(i)} check inter 2s fall 2 rise 2"
                            for i in range(self.app_servers))
        cfg = self.dir / "haproxy.cfg"
        cfg.write_text(f"""global
    maxconn 4000

defaults
    mode http
    timeout connect 5s
    timeout client 60s
    timeout server 60s

frontend smartgov
    bind 127.0.0.1:{self.ports.haproxy}
    # the request id every log line and audit entry carries starts here (core/logs.py)
    unique-id-format %{{+X}}o%Ts%rt%pid
    http-request set-header X-Request-ID %[unique-id] unless {{ req.hdr(X-Request-ID) -m found }}
    default_backend apps

backend apps
    balance roundrobin
    option httpchk GET /api/health
    http-check expect status 200
    http-response set-header X-SmartGov-Server %s
{servers}
""")
        self._spawn("haproxy", [need("haproxy", "haproxy"), "-f", str(cfg), "-db"], port=self.ports.haproxy)

    # --- commands ---------------------------------------------------------------------------------------

    def up(self, *, demo: bool = True) -> dict:
        if self._pids():
            raise ClusterError("集群已在运行（smartgov cluster down 先停止） / already up")
        p = self.ports
        busy = [port for port in (p.primary, p.replica, p.pgbouncer, p.mqtt, p.haproxy,
                                  *[p.app(i) for i in range(self.app_servers)]) if not _free(port)]
        if busy:
            raise ClusterError(f"端口已被占用：{busy}（--base-port 换一组） / ports in use")
        for sub in ("logs", "run", "pg"):
            (self.dir / sub).mkdir(parents=True, exist_ok=True)
        _chown_postgres(self.dir / "run")
        _chown_postgres(self.dir / "logs")
        steps = [("PostgreSQL 主库 primary", self._start_primary),
                 ("PostgreSQL 备库 streaming replica", self._start_replica),
                 ("PgBouncer", self._start_pgbouncer), ("Mosquitto", self._start_mosquitto),
                 ("数据库迁移 migrations", lambda: self._migrate(demo=demo)),
                 ("应用服务器、后台任务、接入进程 app servers, worker, ingest", self._start_apps),
                 ("HAProxy", self._start_haproxy)]
        try:
            for n, (label, step) in enumerate(steps, 1):
                self.say(f"[{n}/{len(steps)}] {label}")
                step()
        except (ClusterError, subprocess.CalledProcessError, OSError):
            self.down()
            raise
        self.say(f"集群已启动 / cluster up: {self.urls()['haproxy']}")
        return self.status()

    def down(self, *, purge: bool = False) -> list[str]:
        stopped = []
        for name, info in reversed(list(self._pids().items())):
            pid = info["pid"]
            try:
                os.killpg(pid, signal.SIGTERM if not name.startswith("postgres") else signal.SIGINT)
            except ProcessLookupError:
                continue
            except PermissionError:
                os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                try:
                    os.killpg(pid, 0)
                except ProcessLookupError:
                    break
                time.sleep(0.1)
            else:
                os.killpg(pid, signal.SIGKILL)
            stopped.append(name)
        if self.pids_file.exists():
            self.pids_file.unlink()
        if purge and self.dir.exists():
            shutil.rmtree(self.dir)
        return stopped

    def status(self) -> dict:
        out = {}
        for name, info in self._pids().items():
            try:
                os.killpg(info["pid"], 0)
                alive = True
            except ProcessLookupError:
                alive = False
            port = info.get("port")
            out[name] = {"pid": info["pid"], "alive": alive, "port": port,
                         "listening": None if port is None else not _free(port)}
        return out
