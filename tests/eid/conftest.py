import re

import pytest

from smartgov.accounts.models import Level
from smartgov.identity.models import Person
from tests import factories as f

SENT: list[tuple[int, str, str]] = []


def capture(person, subject, body):
    """A one-time-code sender for tests: remembers what would have been sent."""
    SENT.append((person.pk, subject, body))


def last_code(person) -> str:
    body = next(b for pk, _s, b in reversed(SENT) if pk == person.pk)
    return re.search(r"\d{6}", body).group(0)


@pytest.fixture(autouse=True)
def otp_capture(settings):
    settings.OTP_SENDER = "tests.eid.conftest.capture"
    SENT.clear()
    return SENT


@pytest.fixture
def issuer(settings):
    dept = f.department("公安局", level=Level.CITY)
    settings.EID_ISSUER = dept.code
    return dept


def make_person(name="张三", birth="19900101", phone="13800001111") -> Person:
    p = Person(name=name, id_number=f.id_number(birth), phone=phone)
    p.full_clean(exclude=["id_number_bidx", "phone_bidx", "user"])
    p.save()
    return p


@pytest.fixture
def rng():
    import numpy as np

    return np.random.default_rng(11)
