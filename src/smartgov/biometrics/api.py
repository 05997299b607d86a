from django.shortcuts import get_object_or_404
from ninja import Router, Status

from smartgov.core.permissions import require
from smartgov.identity.models import Person

from . import services
from .modalities import spec
from .models import BiometricTemplate
from .schemas import IdentifyIn, IdentifyOut, TemplateIn, TemplateOut, decode_vector

router = Router(tags=["生物特征 biometrics"])


@router.post("/templates", response={201: TemplateOut}, summary="采集入库（含 1:N 查重）")
def enrol_template(request, payload: TemplateIn):
    require(request.auth, "biometrics.enrol")  # before any look-up: no probing which persons exist
    vector = decode_vector(payload.vector)
    person = get_object_or_404(Person, pk=payload.person_id)
    template = services.enrol_template(actor=request.auth, person=person, modality=payload.modality,
                                       vector=vector, quality=payload.quality, dedupe=payload.dedupe,
                                       override_reason=payload.override_reason)
    return Status(201, template)


@router.post("/identify", response=IdentifyOut, summary="1:N 比对")
def identify(request, payload: IdentifyIn):
    candidates = services.identify(actor=request.auth, modality=payload.modality,
                                   vector=decode_vector(payload.vector), threshold=payload.threshold,
                                   limit=payload.limit)
    threshold = spec(payload.modality).identify_threshold if payload.threshold is None else payload.threshold
    return {"modality": payload.modality, "threshold": threshold,
            "candidates": [c._asdict() for c in candidates]}


@router.delete("/templates/{template_id}", response={204: None}, summary="删除模板")
def delete_template(request, template_id: int):
    require(request.auth, "biometrics.delete")
    template = get_object_or_404(BiometricTemplate, pk=template_id, deleted_at__isnull=True)
    services.delete_template(actor=request.auth, template=template)
    return Status(204, None)
