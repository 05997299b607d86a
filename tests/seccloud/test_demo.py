import io

import pytest

from smartgov.accounts.services import create_department
from smartgov.core.permissions import system_actor
from smartgov.seccloud import demo
from smartgov.seccloud.models import Alert, Event, Incident, Quarantine, SelfCheck, TreeHead


@pytest.mark.django_db
def test_demo_loads_once_with_alerts_incidents_and_a_signed_head():
    create_department(actor=system_actor("tests"), name="示范市政务服务和数据管理局", code="SFC-ZWJ", level="city")
    out = io.StringIO()
    demo.load_demo(stdout=out)
    assert Event.objects.count() >= 617 and Quarantine.objects.count() == 1
    titles = set(Alert.objects.values_list("rule__title", flat=True))
    assert any(t.startswith("SSH暴力破解") for t in titles) and "扫描器User-Agent：sqlmap" in titles
    assert Incident.objects.exists() and TreeHead.objects.exists() and SelfCheck.objects.exists()
    count = Event.objects.count()
    demo.load_demo(stdout=out)
    assert Event.objects.count() == count and "已存在" in out.getvalue()
