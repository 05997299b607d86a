"""Demo register records: every citizen account's person (linked to the account) and two enterprises.
Safe to run twice."""

from smartgov.accounts.demo import _id_number
from smartgov.accounts.models import Department, User
from smartgov.core.permissions import Role, system_actor
from smartgov.core.validators import org_code_check_char, uscc_check_char

from .models import Enterprise
from .services import link_account, register_enterprise, register_person

ACTOR = system_actor("identity.demo")


def load_demo(*, stdout) -> None:
    police = Department.objects.filter(code="SFC-GAJ").first()
    regulator = Department.objects.filter(code="SFC-SJJ").first()
    persons = enterprises = 0
    for user in User.objects.filter(role=Role.CITIZEN, person__isnull=True):
        person = register_person(actor=ACTOR, name=user.name, id_number=user.id_number, phone=user.phone,
                                 department=police, address="示范市东城区东华路1号", region_code="330102")
        link_account(person=person, user=user)
        persons += 1
    legal_rep = _id_number("33010619850704321")
    for name, org in (("示范市东华科技有限公司", "MA2D0001"), ("示范市西湖食品有限公司", "MA2D0002")):
        body = "91330100" + org + org_code_check_char(org)
        uscc = body + uscc_check_char(body)
        if not Enterprise.objects.filter(uscc=uscc).exists():
            register_enterprise(actor=ACTOR, name=name, uscc=uscc, legal_representative_id_number=legal_rep,
                                region_code="330102", address="示范市东城区科创路8号", department=regulator)
            enterprises += 1
    stdout.write(f"人口库/法人库：新登记 {persons} 名市民、{enterprises} 家企业。")
