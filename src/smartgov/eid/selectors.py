"""Reads of the EID app that other apps need (the portal's home and its one inbox)."""

from .models import CredentialStatus, EidCredential, OutboxMessage


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
    import datetime
    import re

    from django.conf import settings

    if not getattr(settings, "DEMO_MODE", False):
        return ""
    after = datetime.datetime.fromtimestamp(since - 1, tz=datetime.UTC)
    message = OutboxMessage.objects.filter(person=person, created_at__gte=after).order_by("-created_at").first()
    found = re.search(r"\b(\d{6})\b", message.body) if message else None
    return found.group(1) if found else ""
