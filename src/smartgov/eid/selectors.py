"""Reads of the EID app that other apps need (the portal's home and its one inbox, the city overview)."""

import datetime
import re

from django.conf import settings
from django.db.models import Count, Q

from smartgov.core.indicators import check_scope, daily_counts, day_starts, indicator, series_of

from .models import CredentialStatus, EidCredential, OutboxMessage, VerificationRecord


def messages_for(user):
    """The EID authority's messages to the signed-in person (one-time codes, notices), newest first."""
    person = getattr(user, "person", None) if getattr(user, "is_authenticated", False) else None
    if person is None:
        return OutboxMessage.objects.none()
    return OutboxMessage.objects.filter(person=person).order_by("-created_at")


def eid_summary(user) -> dict | None:
    """The person's valid EID for the home page: number and validity, or None."""
    person = getattr(user, "person", None) if getattr(user, "is_authenticated", False) else None
    if person is None:
        return None
    cred = EidCredential.objects.filter(person=person, status=CredentialStatus.VALID).first()
    return {"eid": cred.eid, "valid_until": cred.valid_until} if cred else {"eid": "", "valid_until": None}


def demo_code_for(person, *, since: float) -> str:
    """Demo mode only (settings.DEMO_MODE): the one-time code just sent to the person, read back from
    their inbox so the sign-in page can show it. The caller checks the setting."""
    if not getattr(settings, "DEMO_MODE", False):
        return ""
    after = datetime.datetime.fromtimestamp(since - 1, tz=datetime.UTC)
    message = OutboxMessage.objects.filter(person=person, created_at__gte=after).order_by("-created_at").first()
    found = re.search(r"\b(\d{6})\b", message.body) if message else None
    return found.group(1) if found else ""


def indicators(*, actor, department) -> list[dict]:
    """网络身份 figures of ``department`` and below (two queries): EIDs issued per day and valid now (by the
    issuing authorities of the scope), and identity verifications per day with today's failures (asked by the
    relying applications of the scope's departments)."""
    check_scope(actor, department)
    bounds = day_starts()
    e = EidCredential.objects.filter(issuer__path__startswith=department.path).aggregate(
        **daily_counts("created_at", "eid", bounds), valid=Count("id", filter=Q(status=CredentialStatus.VALID)))
    v = VerificationRecord.objects.filter(partner__department__path__startswith=department.path,
                                          at__gte=bounds[0]).aggregate(
        **daily_counts("at", "ver", bounds), failed=Count("id", filter=Q(result=False, at__gte=bounds[-2])))
    common = {"app": "eid", "department": department}
    return [
        indicator(key="issued_today", name="今日签发EID", name_en="EIDs issued today", unit="个",
                  **series_of(e, "eid", bounds), **common),
        indicator(key="valid", name="有效EID", name_en="Valid EIDs", unit="个", value=e["valid"], **common),
        indicator(key="verifications_today", name="今日身份核验", name_en="Identity verifications today", unit="次",
                  **series_of(v, "ver", bounds), **common),
        indicator(key="failed_verifications_today", name="今日核验未通过", name_en="Failed verifications today",
                  unit="次", value=v["failed"], **common),
    ]
