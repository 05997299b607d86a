"""Seccloud test data through the services."""

from smartgov.core.permissions import Role, system_actor
from smartgov.seccloud import ingest, services
from tests import factories

ADMIN = system_actor("tests.seccloud")


def secadmin():
    return factories.user(Role.SECADMIN)


def http_source(department=None, name="应用日志"):
    department = department or factories.department()
    return services.register_source(actor=ADMIN, department=department, name=name, kind="http")


def syslog_source(address="127.0.0.1", department=None, name="主机日志"):
    department = department or factories.department()
    source, _ = services.register_source(actor=ADMIN, department=department, name=name, kind="syslog",
                                         address=address)
    return source


def load_pack():
    from pathlib import Path

    import smartgov.seccloud as pkg

    text = (Path(pkg.__file__).parent / "rules" / "pack.yml").read_text()
    saved = services.upload_rules(actor=ADMIN, yaml_text=text, builtin=True)
    ingest.reset_pack()
    return saved


def send(source, lines, kind="syslog"):
    return ingest.ingest(actor=ADMIN, source=source, lines=lines, kind=kind, transport="test")
