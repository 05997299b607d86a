import pytest
from django.db import connection

from smartgov.accounts import selectors, services
from smartgov.accounts.models import DepartmentKey
from smartgov.audit.models import AuditEntry
from smartgov.core.permissions import Role
from tests import factories as f

pytestmark = pytest.mark.django_db


def test_department_key_is_made_once_encrypted_and_verifiable_after_rotation():
    dept = f.department()
    key_id, private = services.signing_key_for(dept)
    assert services.signing_key_for(dept)[0] == key_id
    assert AuditEntry.objects.filter(action="accounts.department_key.create").count() == 1
    with connection.cursor() as cur:
        cur.execute("SELECT private_pem FROM accounts_departmentkey WHERE key_id = %s", [key_id])
        assert "PRIVATE KEY" not in cur.fetchone()[0]
    sig = private.sign(b"licence")
    new = services.rotate_department_key(actor=f.user(Role.SYSADMIN), department=dept)
    assert new.key_id != key_id and DepartmentKey.objects.filter(department=dept, active=True).count() == 1
    assert selectors.public_key(key_id).verify(sig, b"licence")  # the retired key still verifies
    assert selectors.key_department(new.key_id) == dept
    assert selectors.public_key("no-such-key") is None
