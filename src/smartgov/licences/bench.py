"""Benchmark: licence verification (SM2 signature check + register look-up) through verify_payload."""

import itertools
import time

from django.db import transaction

from smartgov.accounts import services as accounts
from smartgov.accounts.models import Level
from smartgov.accounts.selectors import public_key
from smartgov.core.fields import blind_lookup
from smartgov.core.permissions import Role, system_actor
from smartgov.core.validators import id_number_check_char, org_code_check_char, uscc_check_char
from smartgov.identity.models import Person

from . import payload, selectors, services

_seq = itertools.count(1)


def _setup(count: int):
    stamp = f"{int(time.time()) % 10**6:06d}{next(_seq):02d}"
    body8 = stamp[-8:]
    body = "11330100" + body8 + org_code_check_char(body8)
    with transaction.atomic():
        dept = accounts.create_department(actor=system_actor("licences.bench"), name=f"证照基准测试局{stamp}", code=f"BENCH-LIC-{stamp}",
                                          level=Level.CITY, uscc=body + uscc_check_char(body))
        officer = accounts.create_user(actor=system_actor("licences.bench"), username=f"bench_lic_{stamp}", password=None,
                                       role=Role.OFFICER, department=dept)
        licence_type = services.create_licence_type(
            actor=system_actor("licences.bench"), name="基准测试许可证", code=f"BL{stamp}", department=dept, holder_kind="person",
            validity_years=5, field_template=[{"key": "scope", "label": "许可范围", "required": True}])
    licences = []
    for i in range(count):
        first17 = f"330106199001{(i % 28) + 1:02d}{i % 1000:03d}"
        person = Person(name=f"测试{i}", id_number=first17 + id_number_check_char(first17))
        person.full_clean(exclude=["id_number_bidx", "phone_bidx"])
        existing = Person.objects.filter(**blind_lookup(Person, "id_number", person.id_number)).first()
        if existing is None:
            person.save()
        licences.append(services.issue_licence(actor=officer, licence_type=licence_type,
                                               holder_person=existing or person, data={"scope": f"范围{i}"}))
    return licences


def measure_licence_verify(*, n: int = 2000) -> dict:
    """``licence_verify_per_s``: full verify_payload calls (decode, SM2 verify, key and register look-up)
    beside ``sm2_verify_per_s``: the bare signature checks on the same payloads."""
    licences = _setup(min(50, max(1, n)))
    payloads = [selectors.payload_for(lic) for lic in licences]
    start = time.perf_counter()
    for i in range(n):
        outcome = selectors.verify_payload(payloads[i % len(payloads)])
        if not outcome.ok:
            raise RuntimeError(f"bench licence failed to verify: {outcome.reason_code}")
    elapsed = time.perf_counter() - start
    key = public_key(licences[0].key_id)
    decoded = [payload.decode(p) for p in payloads]
    start = time.perf_counter()
    for i in range(n):
        content, _claims, signature, _key_id = decoded[i % len(decoded)]
        key.verify(signature, content)
    raw = time.perf_counter() - start
    return {"licence_verify_per_s": round(n / elapsed, 1), "sm2_verify_per_s": round(n / raw, 1), "n": n}


def bench_licences(*, size: int = 2000, progress=None) -> dict:
    """``smartgov bench licences``: licence verification alone (also part of ``bench identity``)."""
    return measure_licence_verify(n=size)


BENCHMARKS = {"licences": bench_licences}
