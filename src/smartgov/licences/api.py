"""Electronic licences API: verify (public), the officer's list, issue, revoke, cancel, PDF, the
holder's wallet and the departments' sharing interface."""

from django.http import HttpResponse
from ninja import Router, Status
from ninja.pagination import paginate

from smartgov.core.errors import NotFound
from smartgov.core.pagination import PageNumber
from smartgov.core.permissions import require

from . import selectors, services
from .models import LicenceType
from .pdf import render_licence_pdf
from .schemas import IssueIn, LicenceOut, ReasonIn, ShareIn, VerifiedLicence, VerifyIn, VerifyOut

router = Router(tags=["电子证照 licences"])


def _type(code: str) -> LicenceType:
    licence_type = LicenceType.objects.select_related("department").filter(code=code.strip().upper()).first()
    if licence_type is None:
        raise NotFound("没有这个证照类型", code="type_not_found")
    return licence_type


@router.post("/verify", response=VerifyOut, auth=None, summary="核验证照二维码（公开）")
def verify(request, body: VerifyIn):
    outcome = selectors.verify_payload(body.payload)
    licence = None
    if outcome.claims is not None:
        c = outcome.claims
        licence = VerifiedLicence(identifier=c.get("id", ""), type_name=c.get("type_name", ""),
                                  holder_name=c.get("holder", {}).get("name", ""),
                                  holder_id=c.get("holder", {}).get("id", ""), issuer=c.get("issuer_name", ""),
                                  issued_on=c.get("issued_on", ""), valid_from=c.get("valid_from", ""),
                                  valid_until=c.get("valid_until"), data=c.get("data", {}))
    return VerifyOut(ok=outcome.ok, code=outcome.reason_code, message=outcome.reason_message_zh, licence=licence)


@router.get("/licences", response=list[LicenceOut], summary="本部门签发的证照")
@paginate(PageNumber)
def list_licences(request, type_code: str = "", status: str = ""):
    qs = selectors.licences_for(request.auth)
    if type_code:
        qs = qs.filter(licence_type__code=type_code.strip().upper())
    if status:
        qs = qs.filter(status=status)
    return qs


@router.post("/licences", response={201: LicenceOut}, summary="签发证照")
def issue(request, body: IssueIn):
    licence_type = _type(body.type_code)
    # the permission before the register look-up, so nobody probes who is in the register
    require(request.auth, "licences.issue", department=licence_type.department, include_descendants=False)
    holder = selectors.find_holder(kind=body.holder.kind, code=body.holder.code)
    licence = services.issue_licence(
        actor=request.auth, licence_type=licence_type,
        holder_person=holder if body.holder.kind == "person" else None,
        holder_enterprise=holder if body.holder.kind == "enterprise" else None,
        data=body.data, valid_from=body.valid_from, trust_level=body.trust_level)
    return Status(201, licence)


@router.get("/licences/{licence_id}", response=LicenceOut, summary="证照详情")
def get_licence(request, licence_id: int):
    return selectors.get_licence_for(request.auth, licence_id)


@router.post("/licences/{licence_id}/revoke", response=LicenceOut, summary="吊销证照")
def revoke(request, licence_id: int, body: ReasonIn):
    licence = selectors.get_licence_for(request.auth, licence_id)
    return services.revoke_licence(actor=request.auth, licence=licence, reason=body.reason)


@router.post("/licences/{licence_id}/cancel", response=LicenceOut, summary="注销证照")
def cancel(request, licence_id: int, body: ReasonIn):
    licence = selectors.get_licence_for(request.auth, licence_id)
    return services.cancel_licence(actor=request.auth, licence=licence, reason=body.reason)


@router.get("/licences/{licence_id}/pdf", summary="证照版式文件（PDF）")
def licence_pdf(request, licence_id: int):
    licence = selectors.get_licence_for(request.auth, licence_id)
    resp = HttpResponse(render_licence_pdf(licence), content_type="application/pdf")
    resp["Content-Disposition"] = f'attachment; filename="licence-{licence.pk}.pdf"'
    return resp


@router.get("/wallet", response=list[LicenceOut], summary="我的证照（持证人）")
def wallet(request):
    return list(selectors.wallet_for(request.auth))


@router.post("/share", response=list[LicenceOut], summary="部门共享调用：持证主体的有效证照（留痕）")
def share(request, body: ShareIn):
    require(request.auth, "licences.share")
    licence_type = _type(body.type_code)
    holder = selectors.find_holder(kind=body.holder.kind, code=body.holder.code)
    return services.share_licences(
        actor=request.auth, licence_type=licence_type,
        holder_person=holder if body.holder.kind == "person" else None,
        holder_enterprise=holder if body.holder.kind == "enterprise" else None,
        purpose=body.purpose, legal_basis=body.legal_basis, consent_reference=body.consent_reference)
