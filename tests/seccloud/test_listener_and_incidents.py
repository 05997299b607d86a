"""A brute-force burst sent over UDP (and TCP) syslog raises an alert and an incident; the analyst
assigns, notes and closes it; notifications go through the platform's senders."""

import asyncio
import socket
import time
from datetime import UTC, datetime

import pytest

from smartgov.core.errors import InvalidInput
from smartgov.core.permissions import Role
from smartgov.seccloud import services
from smartgov.seccloud.listener import Collector, serve
from smartgov.seccloud.models import Alert, Event, Incident, Quarantine
from tests import factories

from .factories import load_pack, syslog_source


def _free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def _listen_and_send(send_fn, expect: int):
    """Run the listener, send with ``send_fn(port)`` until ``expect`` lines arrived, then flush them
    on this thread (inside the test's transaction) exactly as the listener's worker thread does."""
    port = _free_port()

    async def scenario():
        stop = asyncio.Event()
        ready = asyncio.Event()
        task = asyncio.create_task(serve("127.0.0.1", port, stop=stop, ready=ready.set,
                                         collector=collector))
        await ready.wait()
        await asyncio.to_thread(send_fn, port)
        for _ in range(100):
            await asyncio.sleep(0.1)
            if collector.count >= expect:
                break
        stop.set()
        return await task

    collector = Collector(defer=True)
    asyncio.run(scenario())
    collector.flush()
    return collector


def _burst(n, ip="203.0.113.9"):
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return [f"<38>1 {now} web1 sshd 77 - - Failed password for root from {ip} port 4711 ssh2" for _ in range(n)]


@pytest.mark.django_db
def test_udp_brute_force_raises_an_alert_and_an_incident(settings, django_capture_on_commit_callbacks):
    settings.SMARTGOV_NOTIFY_SENDERS = ["tests.seccloud.test_listener_and_incidents.capture_sender"]
    SENT.clear()
    load_pack()
    analyst = factories.user(Role.SECADMIN)
    syslog_source("127.0.0.1")

    def send(port):
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        for line in [*_burst(12), "not syslog"]:
            udp.sendto(line.encode(), ("127.0.0.1", port))
        udp.close()
        tcp = socket.create_connection(("127.0.0.1", port))
        tcp.sendall(b"".join(f"{len(x.encode())} {x}".encode() for x in _burst(2, "198.51.100.1")))
        tcp.close()

    with django_capture_on_commit_callbacks(execute=True):
        _listen_and_send(send, 15)
    assert Event.objects.count() == 14
    assert Quarantine.objects.get().reason == "no_pri"
    alert = Alert.objects.get(rule__title__startswith="SSH暴力破解")
    assert alert.group_key == "src_ip=203.0.113.9" and alert.severity == "high"
    incident = alert.incident
    assert incident.status == Incident.Status.OPEN
    assert SENT and SENT[0][0] == analyst.pk and "安全事件" in SENT[0][1]

    services.assign_incident(actor=analyst, incident=incident, assignee=analyst)
    services.add_incident_note(actor=analyst, incident=incident, text="已封禁来源地址")
    with pytest.raises(InvalidInput):
        services.set_incident_status(actor=analyst, incident=incident, status="closed")
    services.set_incident_status(actor=analyst, incident=incident, status="closed", note="误报排除，已加固")
    incident.refresh_from_db()
    assert incident.status == "closed" and incident.closed_at is not None
    assert [e.kind for e in incident.timeline.all()] == ["created", "alert", "assigned", "note", "status"]


@pytest.mark.django_db
def test_unknown_sender_is_quarantined():
    def send(port):
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        udp.sendto(_burst(1)[0].encode(), ("127.0.0.1", port))
        udp.close()

    _listen_and_send(send, 1)
    q = Quarantine.objects.get()
    assert q.reason == "unknown_source" and q.peer == "127.0.0.1" and "Failed password" in q.raw
    assert Event.objects.count() == 0


@pytest.mark.django_db
def test_only_security_admins_handle_incidents_and_departments_see_their_own():
    from smartgov.core.errors import Forbidden

    from .factories import ADMIN, http_source, send

    load_pack()
    dept_a, dept_b = factories.department(), factories.department()
    src_a, _ = http_source(dept_a)
    send(src_a, ['{"action": "accounts.user.set_role", "user": "x"}'], kind="json")
    incident = Incident.objects.get()
    officer = factories.user(Role.DEPT_ADMIN, department=dept_b)
    with pytest.raises(Forbidden):
        services.set_incident_status(actor=officer, incident=incident, status="closed", note="x")
    client = factories.staff_client(officer)
    assert client.get(f"/seccloud/incidents/{incident.pk}/").status_code == 404
    assert client.get("/api/seccloud/incidents").json()["count"] == 0
    own = factories.user(Role.DEPT_ADMIN, department=dept_a)
    assert factories.staff_client(own).get("/api/seccloud/incidents").json()["count"] == 1
    assert ADMIN  # the system actor made the data


SENT = []


def capture_sender(user, title, body):
    SENT.append((user.pk, title, body))


@pytest.mark.django_db
def test_a_batch_groups_its_alerts_into_incidents_and_later_alerts_join_the_open_one(
        settings, django_capture_on_commit_callbacks):
    from .factories import http_source, send

    settings.SMARTGOV_NOTIFY_SENDERS = ["tests.seccloud.test_listener_and_incidents.capture_sender"]
    SENT.clear()
    load_pack()
    factories.user(Role.SECADMIN)
    source, _ = http_source()
    lines = ['{"action": "accounts.user.set_role", "user": "a"}', '{"action": "accounts.user.set_role", "user": "b"}',
             '{"action": "accounts.user.set_role", "user": "a"}']
    with django_capture_on_commit_callbacks(execute=True):
        send(source, lines, kind="json")
    assert Alert.objects.count() == 2  # one per rule and subject in a batch
    from smartgov.seccloud.models import Rule

    assert Rule.objects.get(title="角色或权限变更").hits == 3 and Rule.objects.filter(hits__gt=0).count() == 1
    incidents = {i.group_key.split("|")[1]: i for i in Incident.objects.all()}
    assert set(incidents) == {"a", "b"} and len(SENT) == 2
    assert all(a.incident_id == incidents[a.group_key].pk for a in Alert.objects.all())
    assert [e.kind for e in incidents["a"].timeline.all()] == ["created", "alert"]
    with django_capture_on_commit_callbacks(execute=True):
        send(source, lines[:1], kind="json")
    assert Incident.objects.count() == 2 and len(SENT) == 2  # joined the open incident, no new notice
    assert [e.kind for e in incidents["a"].timeline.all()] == ["created", "alert", "alert"]
    assert incidents["a"].alerts.count() == 2
    assert Rule.objects.get(title="角色或权限变更").hits == 4


def test_listener_processes_share_one_bound_socket_and_every_line_reaches_one_of_them():
    """What ``serve_processes`` relies on: serve() on sockets bound once; each datagram and each TCP
    connection goes to exactly one of the listeners (here two event loops in two threads)."""
    import threading

    from smartgov.seccloud.listener import bind_sockets

    port = _free_port()
    sockets = bind_sockets("127.0.0.1", port)
    collectors = [Collector(defer=True), Collector(defer=True)]
    stops, loops, ready = [], [], threading.Barrier(3)

    def run(c):
        async def main():
            stop = asyncio.Event()
            stops.append(stop)
            loops.append(asyncio.get_running_loop())
            await serve("127.0.0.1", port, stop=stop, ready=ready.wait, collector=c,
                        sockets=tuple(s.dup() for s in sockets))  # a forked process's own descriptors
        asyncio.run(main())

    threads = [threading.Thread(target=run, args=(c,)) for c in collectors]
    for t in threads:
        t.start()
    ready.wait()
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for line in _burst(300):
        udp.sendto(line.encode(), ("127.0.0.1", port))
    udp.close()
    for _ in range(3):
        tcp = socket.create_connection(("127.0.0.1", port))
        tcp.sendall("".join(f"{x}\n" for x in _burst(10)).encode())
        tcp.close()
    for _ in range(100):
        if sum(c.count for c in collectors) >= 330:
            break
        time.sleep(0.05)
    for loop, stop in zip(loops, stops, strict=True):
        loop.call_soon_threadsafe(stop.set)
    for t in threads:
        t.join(10)
    for s in sockets:
        s.close()
    assert sum(c.count for c in collectors) == 330
    assert all("Failed password" in line for c in collectors for lines in c.pending.values() for line in lines)
