"""访客通行码: the token a visitor's QR pass carries. Signed (HMAC-SHA256 with the installation's secret
key and a salt of its own, ``django.core.signing``), so a pass cannot be made up or altered: a gate learns
the visit from the token alone and the window from the database. Pure: no reads, no writes."""

from django.core import signing

SALT = "smartgov.park.visit-pass"


def pass_token(visit_id: int) -> str:
    return signing.dumps({"visit": visit_id}, salt=SALT, compress=False)


def visit_id_of(token: str) -> int | None:
    """The visit a token names, or None for anything forged, altered or malformed."""
    try:
        data = signing.loads((token or "").strip(), salt=SALT)
    except (signing.BadSignature, ValueError, TypeError):
        return None
    visit = data.get("visit") if isinstance(data, dict) else None
    return visit if isinstance(visit, int) and not isinstance(visit, bool) else None
