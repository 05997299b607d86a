"""Each depot's gateway (粮情测控系统) has its own broker account: issued through the API and the CLI,
kept on the shared IoT layer, written into Mosquitto's password and ACL files by ``smartgov iot passwd``,
and a real Mosquitto lets it publish its own depot's scans and nothing else."""

import os
import shutil
import threading
import time
import uuid

import paho.mqtt.client as paho
import pytest
from django.core.management import CommandError, call_command
from paho.mqtt.enums import CallbackAPIVersion

from smartgov.audit.models import AuditEntry
from smartgov.core.permissions import Role, system_actor
from smartgov.grain import services
from smartgov.grain.mqtt import scan_topic
from smartgov.iot import credentials
from smartgov.iot.models import Device
from tests import factories
from tests.grain import factories as gf
from tests.iot.test_mqtt import _connects, broker_from_passwd

pytestmark = pytest.mark.django_db


def _admin(bureau):
    return factories.staff_client(factories.user(Role.DEPT_ADMIN, department=bureau))


def test_bureau_admin_issues_a_gateway_secret_and_a_second_call_rotates_it():
    bureau = gf.bureau()
    depot = gf.depot(bureau, code="K7")
    client = _admin(bureau)
    resp = client.post(f"/api/grain/depots/{depot.pk}/gateway")
    assert resp.status_code == 201, resp.content
    first = resp.json()
    assert first["username"] == "grain-K7" and first["topic"] == "smartgov/grain/K7/+/scan"
    device = Device.objects.get(code="grain-K7")
    assert (device.app, device.kind, device.tags, device.department_id) == ("grain", "grain_gateway", {"depot": "K7"},
                                                                            depot.department_id)
    assert credentials.check_secret(first["secret"], device.secret_hash)
    assert first["secret"] not in device.secret_hash

    second = client.post(f"/api/grain/depots/{depot.pk}/gateway").json()
    device.refresh_from_db()
    assert second["secret"] != first["secret"] and Device.objects.filter(app="grain").count() == 1
    assert credentials.check_secret(second["secret"], device.secret_hash)
    assert not credentials.check_secret(first["secret"], device.secret_hash)
    actions = list(AuditEntry.objects.filter(target_type="iot.device", target_id=str(device.pk)).order_by("seq").values_list("action", flat=True))
    assert actions == ["iot.device.provision", "iot.device.rotate_secret"]


def test_another_bureau_or_depot_staff_cannot_issue_it_and_a_foreign_depot_looks_missing():
    depot = gf.depot(gf.bureau(), code="K8")
    stranger = _admin(gf.bureau())
    foreign = stranger.post(f"/api/grain/depots/{depot.pk}/gateway")
    missing = stranger.post("/api/grain/depots/999999/gateway")
    assert foreign.status_code == missing.status_code == 404
    assert foreign.json() == missing.json()
    staff = factories.staff_client(gf.officer(depot))
    assert staff.post(f"/api/grain/depots/{depot.pk}/gateway").status_code == 403
    assert not Device.objects.exists()


def test_a_depot_code_that_cannot_be_a_topic_level_is_refused_and_nothing_is_written():
    bureau = gf.bureau()
    depot = gf.depot(bureau, code="K/1#")
    client = _admin(bureau)
    before = AuditEntry.objects.count()
    resp = client.post(f"/api/grain/depots/{depot.pk}/gateway")
    assert resp.status_code == 422 and resp.json()["code"] == "depot_code_not_topic_safe"
    assert not Device.objects.exists() and AuditEntry.objects.count() == before


def test_cli_issues_the_secret_and_refuses_an_unknown_depot(capsys):
    gf.depot(code="K9")
    call_command("grain", "gateway", "K9")
    out = capsys.readouterr().out
    secret = next(line.split(": ", 1)[1] for line in out.splitlines() if line.startswith("密码"))
    assert "grain-K9" in out and "smartgov/grain/K9/+/scan" in out
    assert credentials.check_secret(secret, Device.objects.get(code="grain-K9").secret_hash)
    with pytest.raises(CommandError, match="没有库点"):
        call_command("grain", "gateway", "NOPE")


def test_acl_gives_each_gateway_its_own_depot_topic_and_workers_read_grain_and_telemetry(tmp_path):
    a, b = gf.depot(code="KA"), gf.depot(code="KB")
    for depot in (a, b):
        services.issue_gateway_secret(actor=system_actor("test"), depot=depot)
    call_command("iot", "passwd", "--password-file", str(tmp_path / "pw"), "--acl-file", str(tmp_path / "acl"),
                 "--worker", "ingest:w0rker")
    acl = (tmp_path / "acl").read_text()
    assert "user grain-KA\ntopic write smartgov/grain/KA/+/scan\n" in acl
    assert "user grain-KB\ntopic write smartgov/grain/KB/+/scan\n" in acl
    assert "user ingest\ntopic read smartgov/iot/+/telemetry\ntopic read smartgov/grain/+/+/scan\n" in acl
    users = [line.split(":", 1)[0] for line in (tmp_path / "pw").read_text().splitlines()]
    assert users == ["ingest", "grain-KA", "grain-KB"]


def _received_by_worker(port, publishes) -> list[str]:
    """Publish as each (user, password, topic) with QoS 1, and return the topics the ingest account got."""
    got, ready = [], threading.Event()
    sub = paho.Client(callback_api_version=CallbackAPIVersion.VERSION2, client_id=uuid.uuid4().hex,
                      protocol=paho.MQTTv5)
    sub.username_pw_set("ingest", "w0rker")
    sub.on_subscribe = lambda *a: ready.set()
    sub.on_message = lambda c, u, msg: got.append(msg.topic)
    sub.connect("127.0.0.1", port)
    sub.subscribe("smartgov/grain/+/+/scan", qos=1)
    sub.loop_start()
    try:
        assert ready.wait(5)
        for user, password, topic in publishes:
            pub = paho.Client(callback_api_version=CallbackAPIVersion.VERSION2, client_id=uuid.uuid4().hex,
                              protocol=paho.MQTTv5)
            pub.username_pw_set(user, password)
            pub.connect("127.0.0.1", port)
            pub.loop_start()
            pub.publish(topic, b"{}", qos=1).wait_for_publish(5)
            pub.disconnect()
            pub.loop_stop()
        time.sleep(0.5)
    finally:
        sub.disconnect()
        sub.loop_stop()
    return got


@pytest.mark.skipif(not shutil.which("mosquitto") and os.environ.get("CI") != "true", reason="no mosquitto binary")
def test_a_real_mosquitto_lets_a_gateway_publish_its_own_depot_only(tmp_path):
    a, b = gf.depot(code="KA"), gf.depot(code="KB")
    _, secret_a = services.issue_gateway_secret(actor=system_actor("test"), depot=a)
    services.issue_gateway_secret(actor=system_actor("test"), depot=b)
    with broker_from_passwd(tmp_path) as port:
        assert _connects(port, "grain-KA", secret_a) and not _connects(port, "grain-KA", "wrong")
        own, other = scan_topic("smartgov", "KA", "P1"), scan_topic("smartgov", "KB", "P1")
        got = _received_by_worker(port, [("grain-KA", secret_a, other), ("grain-KA", secret_a, own)])
        assert got == [own]
