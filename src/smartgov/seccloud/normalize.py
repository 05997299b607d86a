"""From a parsed line to the normalised event schema: time, host, app, severity, user, source IP,
action, outcome, message, raw (+ ``extra``). Decoders for common Linux and web-server messages pick
user, address and action out of free text, as Wazuh's decoders do."""

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import orjson
from django.conf import settings

from .syslog import SyslogError

FIELDS = ("host", "app", "user", "src_ip", "action", "outcome", "message")
_SD_NAMES = {"user": "user", "usr": "user", "src_ip": "src_ip", "srcip": "src_ip", "src": "src_ip",
             "action": "action", "outcome": "outcome", "result": "outcome"}

_SSH_FAIL = re.compile(r"Failed (?:password|publickey) for (?:invalid user )?(\S+) from (\S+) port")
_SSH_OK = re.compile(r"Accepted (?:password|publickey|keyboard-interactive/pam) for (\S+) from (\S+) port")
_SSH_INVALID = re.compile(r"Invalid user (\S*) from (\S+)")
_SUDO = re.compile(r"\s*(\S+) : .*?USER=(\S+) ; COMMAND=(.*)$")
# NCSA combined log format (nginx, Apache httpd)
_ACCESS = re.compile(r'(\S+) \S+ (\S+) \[[^\]]+\] "(\S+) (\S+)(?: [^"]*)?" (\d{3}) (?:\d+|-)(?: "[^"]*" "([^"]*)")?')


def decode_message(ev: dict) -> None:
    """Fill user/src_ip/action/outcome from well-known message shapes (in place)."""
    msg = ev.get("message", "")
    app = ev.get("app", "")
    if app.startswith("sshd"):
        if m := _SSH_FAIL.search(msg):
            ev.update(user=m.group(1), src_ip=m.group(2), action="ssh.login", outcome="failure")
        elif m := _SSH_OK.search(msg):
            ev.update(user=m.group(1), src_ip=m.group(2), action="ssh.login", outcome="success")
        elif m := _SSH_INVALID.search(msg):
            ev.update(user=m.group(1), src_ip=m.group(2), action="ssh.login", outcome="failure")
    elif app == "sudo":
        if m := _SUDO.match(msg):
            ev.update(user=m.group(1), action="sudo", outcome="success")
            ev["extra"].update(run_as=m.group(2), command=m.group(3))
    elif m := _ACCESS.match(msg):
        status = int(m.group(5))
        ev.update(src_ip=m.group(1), action="http.request", outcome="success" if status < 400 else "failure")
        if m.group(2) != "-":
            ev["user"] = m.group(2)
        ev["extra"].update(method=m.group(3), path=m.group(4), status=status, user_agent=m.group(6) or "")


def from_syslog(parsed: dict, raw: str) -> dict:
    ev = {"at": parsed["at"], "host": parsed["host"], "app": parsed["app"], "severity": parsed["severity"],
          "user": "", "src_ip": "", "action": "", "outcome": "", "message": parsed["message"], "raw": raw,
          "extra": {"facility": parsed["facility"], "format": parsed["format"]}}
    if parsed["msgid"]:
        ev["extra"]["msgid"] = parsed["msgid"]
    for params in parsed["sd"].values():
        for k, v in params.items():
            name = _SD_NAMES.get(k)
            if name:
                ev[name] = v
            else:
                ev["extra"][k] = v
    if not ev["action"]:
        decode_message(ev)
    return ev


def from_json_line(line: str, *, now: datetime) -> dict:
    """One JSON object per line; the schema's fields by name, everything else kept in ``extra``."""
    try:
        obj = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        raise SyslogError("bad_json", str(exc)[:120]) from exc
    if not isinstance(obj, dict):
        raise SyslogError("bad_json", "each line must be a JSON object")
    at = now
    t = obj.pop("time", None) or obj.pop("at", None) or obj.pop("@timestamp", None)
    if t is not None:
        try:
            at = (datetime.fromtimestamp(float(t), UTC) if isinstance(t, int | float)
                  else datetime.fromisoformat(str(t).replace("Z", "+00:00")))
        except (ValueError, OverflowError, OSError) as exc:
            raise SyslogError("bad_timestamp", str(t)[:40]) from exc
        if at.tzinfo is None:
            raise SyslogError("bad_timestamp", "time needs a UTC offset")
    sev = obj.pop("severity", 6)
    if not isinstance(sev, int) or not 0 <= sev <= 7:
        raise SyslogError("bad_severity", str(sev)[:20])
    ev = {"at": at.astimezone(UTC), "severity": sev, "raw": line, "extra": {}}
    for f in FIELDS:
        v = obj.pop(f, "")
        ev[f] = v if isinstance(v, str) else str(v)
    ev["extra"] = obj
    if not ev["action"] and ev["message"]:
        decode_message(ev)
    return ev


def _local_zone():
    return ZoneInfo(settings.TIME_ZONE)


def flat(ev: dict) -> dict:
    """What rules see: the schema's fields and the extra fields side by side."""
    out = dict(ev["extra"])
    for k in ("host", "app", "severity", "user", "src_ip", "action", "outcome", "message", "raw"):
        out[k] = ev[k]
    local = ev["at"].astimezone(_local_zone())
    out["hour"], out["weekday"] = local.hour, local.isoweekday()  # for off-hours rules (local time)
    return out
