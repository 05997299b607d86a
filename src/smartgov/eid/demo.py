"""Demo EIDs: every citizen with a register record gets one from the demo EID authority (示范市公安局).
Safe to run twice."""

from smartgov.accounts.models import Department
from smartgov.core.permissions import Role, system_actor
from smartgov.identity.models import Person

from .models import CredentialStatus
from .services import issue_eid


def load_demo(*, stdout) -> None:
    issuer = Department.objects.get(code="SFC-GAJ")
    made = 0
    for person in Person.objects.filter(user__role=Role.CITIZEN).exclude(
            eid_credentials__status=CredentialStatus.VALID):
        issue_eid(actor=system_actor("eid.demo"), person=person, issuer=issuer)
        made += 1
    stdout.write(f"EID：新签发 {made} 个。")
