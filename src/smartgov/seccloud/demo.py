"""Demo data for 航天智慧安全云 (``smartgov demo`` calls ``load_demo``; safe to run twice): the rule pack,
the platform's own source with the audit trail imported, a syslog source (127.0.0.1, so
``logger -n 127.0.0.1 -P 5514`` on this machine reaches it) and an HTTP source of the city bureau,
a day of web, SSH and sudo lines with a scanner and a brute-force burst (alerts and incidents), a
signed tree head, a data key and a self-check."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

from smartgov.accounts.models import Department
from smartgov.core.permissions import system_actor

from . import ingest, kms, selfcheck, services
from .models import Source


def _lines(now: datetime) -> list[str]:
    out = []
    for i in range(600):
        at = (now - timedelta(minutes=600 - i)).strftime("%Y-%m-%dT%H:%M:%SZ")
        ip = f"10.20.{i % 7}.{i % 200 + 1}"
        if i % 3 == 0:
            out.append(f'<14>1 {at} web1 nginx - - - {ip} - - [-] "GET /onestop/items/{i} HTTP/1.1" 200 5120 "-" "Mozilla/5.0"')
        elif i % 3 == 1:
            out.append(f"<38>1 {at} app2 sshd {i} - - Accepted publickey for deploy from {ip} port 50022 ssh2")
        else:
            out.append(f"<86>1 {at} app2 sudo - - - ops : TTY=pts/0 ; PWD=/home/ops ; USER=root ; COMMAND=/usr/bin/systemctl status nginx")
    at = (now - timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    for path in (".env", ".git/config", "phpmyadmin/", "wp-login.php", "etc/passwd"):
        out.append(f'<14>1 {at} web1 nginx - - - 203.0.113.77 - - [-] "GET /{path} HTTP/1.1" 404 0 "-" "sqlmap/1.8"')
    for k in range(12):
        t = (now - timedelta(minutes=20) + timedelta(seconds=k * 3)).strftime("%Y-%m-%dT%H:%M:%SZ")
        out.append(f"<38>1 {t} bastion sshd 9 - - Failed password for root from 198.51.100.23 port 4711 ssh2")
    out.append("this line is not syslog and goes to quarantine")
    return out


def load_demo(*, stdout) -> None:
    actor = system_actor("demo")
    bureau = Department.objects.filter(code="SFC-ZWJ").first()
    if bureau is None:
        stdout.write("安全云演示数据跳过：没有示范市政务服务和数据管理局（SFC-ZWJ）")
        return
    if Source.objects.filter(department=bureau, name="示范主机").exists():
        stdout.write("安全云演示数据已存在")
        return
    text = (Path(__file__).parent / "rules" / "pack.yml").read_text()
    rules = services.upload_rules(actor=actor, yaml_text=text, builtin=True)
    ingest.reset_pack()
    syslog = Source.objects.filter(address="127.0.0.1").first()
    if syslog is None:
        syslog, _ = services.register_source(actor=actor, department=bureau, name="示范主机", kind="syslog",
                                             address="127.0.0.1")
    services.register_source(actor=actor, department=bureau, name="示范应用网关", kind="http")
    imported = services.import_audit_trail(actor=actor)
    out = ingest.ingest(actor=actor, source=syslog, lines=_lines(datetime.now(UTC)), kind="syslog", transport="demo")
    services.sign_tree_head(actor=actor)
    kms.create_data_key(actor=actor, department=bureau)
    selfcheck.run_self_check(actor=actor)
    stdout.write(f"安全云：{len(rules)} 条规则，审计日志 {imported} 条，演示日志 {out['stored']} 条，"
                 f"隔离 {out['quarantined']} 条，告警 {out['alerts']} 条")
