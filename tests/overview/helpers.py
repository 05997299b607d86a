"""Alerts of other apps made through their real services, for the overview tests."""

import datetime
import itertools

from django.utils import timezone

from smartgov.core.permissions import system_actor
from smartgov.trace import services as trace_services

_seq = itertools.count(1)


def cold_chain_excursion(department):
    """A vaccination site of ``department`` whose fridge ran at 11 °C for 2.5 hours (instant + consecutive alerts)."""
    n = next(_seq)
    site = trace_services.create_organisation(
        actor=system_actor("test"), name=f"第{n}预防接种门诊", kind="site", department=department,
        location_uri=f"urn:epc:id:sgln:6909999.{n:05d}.0", party_uri=f"urn:epc:id:pgln:6909999.{n:05d}")
    fridge = trace_services.register_logger(actor=system_actor("test"), organisation=site, kind="storage", name=f"{site.name} 冷库",
                                            device_id=f"urn:epc:id:giai:6909999.F{n}",
                                            location_uri=site.location_uri)
    now = timezone.now()
    rows = [{"time": now - datetime.timedelta(minutes=30 * (10 - k)), "celsius": 11.0 if 2 <= k <= 7 else 5.0,
             "latitude": None, "longitude": None} for k in range(10)]
    trace_services.record_readings(actor=system_actor("test"), logger=fridge, rows=rows, source="test")
    return site
