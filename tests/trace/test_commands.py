import io

import pytest
from django.core.management import CommandError, call_command

from smartgov.core.permissions import Role
from smartgov.trace.models import Alert, CodeState, Event, Recall
from tests import factories


def test_simulate_captures_a_chain_with_an_excursion_and_a_recall(regulator_dept):
    regulator = factories.user(Role.SUPERVISOR, department=regulator_dept)
    out = io.StringIO()
    call_command("trace", "simulate", "--doses", "300", "--department", regulator_dept.code,
                 "--recall-by", regulator.username, "--no-progress", stdout=out)
    assert "模拟完成" in out.getvalue()
    assert CodeState.objects.filter(batch_id__isnull=False).count() == 300
    assert Alert.objects.filter(kind="consecutive").exists() and Recall.objects.count() == 1


def test_simulate_with_an_unknown_department_fails_with_a_sentence(db):
    with pytest.raises(CommandError) as exc:
        call_command("trace", "simulate", "--doses", "10", "--department", "NOPE")
    assert "没有编码为 NOPE 的部门" in str(exc.value)


def test_capture_of_a_bad_file_exits_non_zero_and_stores_nothing(tmp_path, chain):
    bad = tmp_path / "bad.jsonld"
    bad.write_bytes(b'{"type": "EPCISDocument", "epcisBody": {"eventList": [{"type": "ObjectEvent"}]}}')
    with pytest.raises(CommandError) as exc:
        call_command("trace", "capture", str(bad), "--organisation", str(chain["maker"].pk))
    assert exc.value.returncode == 2 and "未保存" in str(exc.value)
    assert Event.objects.count() == 0
