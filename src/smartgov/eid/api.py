"""Two routers: ``router`` (/api/eid/: public checks, the citizen's own data) and ``partner_router``
(/api/idauth/: the verification service for registered relying applications, API-key auth)."""

from datetime import date

from django.utils import timezone
from ninja import Router, Schema, Status
from ninja.security import APIKeyHeader
from pydantic import Field

from smartgov.accounts.models import DepartmentKey
from smartgov.core.errors import InvalidInput, NotFound
from smartgov.identity.models import Person

from . import services
from .models import CredentialStatus, EidCredential, VirtualId
from .schemas import MyEidOut, OtpIn, OtpOut, OutcomeOut, PayloadIn, RevocationListOut, VerifyIn, VerifyOut, VidOut

router = Router(tags=["EID eid"])


class PartnerKey(APIKeyHeader):
    """Relying applications send their key in ``X-Partner-Key``."""

    param_name = "X-Partner-Key"

    def authenticate(self, request, key):
        return services.authenticate_partner(key)


partner_router = Router(tags=["身份认证服务 idauth"], auth=PartnerKey())


@router.post("/verify-payload", response=OutcomeOut, auth=None, summary="核验EID二维码（任何人）")
def verify_payload(request, body: PayloadIn):
    return services.verify_eid_payload(body.payload)


@router.get("/revocations", response=RevocationListOut, auth=None, summary="离线核验所需的公钥与吊销列表")
def revocations(request):
    issuer_keys = DepartmentKey.objects.filter(department__in=EidCredential.objects.values("issuer"))
    return {
        "generated_at": timezone.now(),
        "keys": {k.key_id: k.public_pem for k in issuer_keys},
        "revoked": list(EidCredential.objects.exclude(status=CredentialStatus.VALID)
                        .filter(valid_until__gte=timezone.localdate()).values_list("eid", flat=True)),
    }


class RevokeIn(Schema):
    reason: str = Field(min_length=1, max_length=200)


class CredentialOut(Schema):
    eid: str
    status: str
    valid_from: date
    valid_until: date
    revoke_reason: str


@router.post("/persons/{person_id}/credentials", response={201: CredentialOut}, summary="签发/换发EID（签发机关工作人员）")
def issue_credential(request, person_id: int):
    person = Person.objects.filter(pk=person_id).first()  # the EID authority serves the whole register
    if person is None:
        raise NotFound()
    return Status(201, services.issue_eid(actor=request.auth, person=person, issuer=services.issuer_department()))


@router.post("/credentials/{eid}/revoke", response=CredentialOut, summary="吊销EID（签发机关工作人员）")
def revoke_credential(request, eid: str, body: RevokeIn):
    cred = EidCredential.objects.select_related("issuer").filter(eid=eid.upper()).first()
    if cred is None:
        raise NotFound()
    return services.revoke_eid(actor=request.auth, credential=cred, reason=body.reason)


@router.get("/me", response=MyEidOut, summary="我的EID")
def my_eid(request):
    person = services.person_for_user(request.auth)
    cred = EidCredential.objects.filter(person=person, status=CredentialStatus.VALID).first()
    return {"eid": cred.eid if cred else None, "valid_until": cred.valid_until if cred else None,
            "payload": services.qr_payload(cred) if cred else None}


@router.get("/me/vids", response=list[VidOut], summary="我的VID")
def my_vids(request):
    person = services.person_for_user(request.auth)
    return list(VirtualId.objects.filter(person=person).order_by("-created_at")[:100])


@router.post("/me/vids", response={201: VidOut}, summary="生成VID")
def create_vid(request, hours: int = 24):
    return Status(201, services.create_vid(person=services.person_for_user(request.auth), hours=hours))


@router.delete("/me/vids/{vid}", response=VidOut, summary="撤销VID")
def revoke_vid(request, vid: str):
    person = services.person_for_user(request.auth)
    found = VirtualId.objects.filter(vid=vid, person=person).first()
    if found is None:
        raise NotFound()
    return services.revoke_vid(person=person, vid=found)


@partner_router.post("/otp", response=OtpOut, summary="发送一次性验证码")
def send_otp(request, body: OtpIn):
    person = services.resolve_person(body.id_type, body.id_value)
    if person is None:  # same answer whether or not the person exists: no enumeration through this call
        return {"transaction_id": "0" * 32, "sent": False}
    txn = services.send_one_time_code(person=person, purpose=body.purpose, partner=request.auth)
    return {"transaction_id": txn, "sent": True}


@partner_router.post("/verify", response=VerifyOut, summary="身份核验（人口信息 / 验证码 / 生物特征）")
def verify(request, body: VerifyIn):
    if body.biometric is not None and not body.biometric.vector:
        raise InvalidInput("生物特征向量为空", code="empty_vector")
    result = services.verify_person(partner=request.auth, request=services.VerifyRequest(
        id_type=body.id_type, id_value=body.id_value, purpose=body.purpose,
        name=body.demographics.name if body.demographics else None,
        birth_date=body.demographics.birth_date if body.demographics else None,
        otp_transaction_id=body.otp.transaction_id if body.otp else None,
        otp_code=body.otp.code if body.otp else None,
        biometric_modality=body.biometric.modality if body.biometric else None,
        biometric_vector=body.biometric.vector if body.biometric else None,
        kyc_attributes=body.kyc_attributes))
    return result
