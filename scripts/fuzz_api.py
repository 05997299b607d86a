"""A bounded schemathesis run over the whole API, against a real server on a scratch database:
anonymously and with each kind of credential (a session of every role, a trace capture key, a partner
key). Fails on any server error (5xx) — `.ci/run` runs it. Usage: python scripts/fuzz_api.py [--examples N]

Everything runs on 127.0.0.1 on a free port; the scratch directory is removed afterwards."""

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent

CREDENTIALS = r'''
import json, secrets
from django.contrib.sessions.backends.db import SessionStore
from smartgov.accounts import services as accounts
from smartgov.accounts.models import Level
from smartgov.accounts.views import VERIFIED
from smartgov.core.permissions import Role, system_actor
FUZZ = system_actor("fuzz.setup")
from smartgov.eid.services import register_partner
from smartgov.trace import services as trace

dept = accounts.create_department(actor=FUZZ, name="模糊测试局", code="FUZZ", level=Level.CITY)
out = {}
for role in Role:
    user = accounts.create_user(actor=FUZZ, username=f"fuzz_{role}", password=secrets.token_urlsafe(16), role=role,
                                department=dept if role in ("officer", "dept_admin", "supervisor") else None)
    s = SessionStore()
    s["_auth_user_id"], s["_auth_user_backend"] = str(user.pk), "smartgov.accounts.backends.LockoutModelBackend"
    s["_auth_user_hash"] = user.get_session_auth_hash()
    s[VERIFIED] = user.is_staff_role
    s.create()
    out[f"session:{role}"] = {"Cookie": f"sessionid={s.session_key}; csrftoken={'c' * 32}", "X-CSRFToken": "c" * 32}
    if role == "supervisor":
        supervisor = user
org = trace.create_organisation(actor=supervisor, name="模糊测试生产企业", kind="manufacturer", department=dept,
                                location_uri="urn:epc:id:sgln:6900000.00001.0", party_uri="urn:epc:id:pgln:6900000.00001")
out["trace-key"] = {"X-Trace-Key": trace.issue_capture_key(actor=supervisor, organisation=org)[1]}
out["partner-key"] = {"X-Partner-Key": register_partner(actor=FUZZ, code="FUZZ", name="模糊测试应用")[1]}
print("CREDENTIALS" + json.dumps(out))
'''


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--examples", type=int, default=int(os.environ.get("SMARTGOV_FUZZ_EXAMPLES", "2")))
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="smartgov-fuzz-"))
    env = {**os.environ, "SMARTGOV_VAR_DIR": str(scratch), "DATABASE_URL": f"sqlite:///{scratch}/fuzz.sqlite3",
           "SMARTGOV_LOGIN_MAX_FAILURES": "1000000"}
    env.pop("SECRET_KEY", None)
    smartgov = [str(BIN / "smartgov")]
    server = None
    try:
        subprocess.run([*smartgov, "setup", "--no-static"], env=env, check=True, stdout=subprocess.DEVNULL)
        subprocess.run([*smartgov, "migrate", "-v0"], env=env, check=True)
        made = subprocess.run([*smartgov, "shell", "-c", CREDENTIALS], env=env, check=True, stdout=subprocess.PIPE,
                              text=True).stdout
        creds = json.loads(made.split("CREDENTIALS", 1)[1])
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        log = open(scratch / "server.log", "w")
        server = subprocess.Popen([*smartgov, "serve", "--bind", f"127.0.0.1:{port}", "--workers", "2"], env=env,
                                  stdout=log, stderr=subprocess.STDOUT)
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{base}/api/health", timeout=1)  # noqa: S310
                break
            except OSError:
                time.sleep(0.2)
        runs = {"anonymous": {}, **creds}
        failed = []
        for name, headers in runs.items():
            cmd = [str(BIN / "st"), "run", f"{base}/api/openapi.json", "--checks", "not_a_server_error",
                   "--max-examples", str(args.examples), "--seed", "1", "--no-color", "--request-timeout", "30",
                   "--suppress-health-check", "all", "--workers", "2"]
            for key, value in headers.items():
                cmd += ["-H", f"{key}: {value}"]
            print(f"== schemathesis: {name} ==", flush=True)
            started = time.monotonic()
            rc = subprocess.run(cmd, env=env).returncode
            print(f"== {name}: exit {rc} in {time.monotonic() - started:.0f} s ==", flush=True)
            if rc != 0:
                failed.append(name)
        if failed:
            print(f"server errors (or schemathesis failures) with: {', '.join(failed)}; server log: "
                  f"{scratch / 'server.log'}", file=sys.stderr)
            args.keep = True
            return 1
        return 0
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        if not args.keep:
            shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
