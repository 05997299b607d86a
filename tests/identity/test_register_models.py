import datetime

import pytest
from django.core.exceptions import ValidationError

from smartgov.identity.models import Person
from tests import factories as f


def test_sex_and_birth_date_come_from_the_id_number():
    p = Person(name="王五", id_number=f.id_number("19880214", seq=123))
    p.full_clean(exclude=["id_number_bidx", "phone_bidx"])
    assert p.sex == "M" and p.birth_date == datetime.date(1988, 2, 14)


def test_disagreeing_birth_date_is_refused():
    p = Person(name="王五", id_number=f.id_number("19880214", seq=124), birth_date=datetime.date(1988, 2, 15))
    with pytest.raises(ValidationError) as exc:
        p.full_clean(exclude=["id_number_bidx", "phone_bidx"])
    assert "birth_date" in exc.value.message_dict
