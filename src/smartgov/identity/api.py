"""The register's JSON API (人口与法人库). Lists and details are masked; clear values only through
``reveal`` (audited). Bad input writes nothing."""

from ninja import File, Form, Router, Status
from ninja.files import UploadedFile
from ninja.pagination import paginate

from smartgov.core.errors import InvalidInput, patch_changes
from smartgov.core.pagination import PageNumber

from . import selectors, services
from .schemas import (
    EnterpriseIn,
    EnterpriseOut,
    EnterprisePatch,
    ImportOut,
    LookupIn,
    PersonalDataOut,
    PersonIn,
    PersonOut,
    PersonPatch,
)

router = Router(tags=["人口与法人库 identity"])


@router.get("/persons", response=list[PersonOut], summary="自然人列表（本部门范围，脱敏）")
@paginate(PageNumber)
def list_persons(request, name: str = ""):
    return selectors.persons_for(request.auth, name=name)


@router.post("/persons", response={201: PersonOut}, summary="登记自然人")
def register_person(request, payload: PersonIn):
    person = services.register_person(actor=request.auth, **payload.dict())
    return Status(201, person)


@router.post("/persons/lookup", response=PersonOut, summary="按公民身份号码查询（留审计记录）")
def lookup_person(request, payload: LookupIn):
    return services.find_person_by_id_number(actor=request.auth, id_number=payload.id_number)


@router.get("/persons/{person_id}", response=PersonOut, summary="自然人详情（脱敏）")
def get_person(request, person_id: int):
    return selectors.get_person_for(request.auth, person_id)


@router.patch("/persons/{person_id}", response=PersonOut, summary="更正自然人信息")
def update_person(request, person_id: int, payload: PersonPatch):
    person = selectors.get_person_for(request.auth, person_id)
    return services.update_person(actor=request.auth, person=person, changes=patch_changes(payload, nullable={"phone"}))


@router.post("/persons/{person_id}/reveal", response=PersonalDataOut, summary="查看完整身份证号和手机号（留审计记录）")
def reveal_person(request, person_id: int):
    person = selectors.get_person_for(request.auth, person_id)
    return services.reveal_person(actor=request.auth, person=person)


@router.get("/enterprises", response=list[EnterpriseOut], summary="法人列表（按名称或统一社会信用代码）")
@paginate(PageNumber)
def list_enterprises(request, q: str = ""):
    return selectors.enterprises_for(request.auth, q=q)


@router.post("/enterprises", response={201: EnterpriseOut}, summary="登记法人")
def register_enterprise(request, payload: EnterpriseIn):
    enterprise = services.register_enterprise(actor=request.auth, **payload.dict())
    return Status(201, enterprise)


@router.get("/enterprises/{enterprise_id}", response=EnterpriseOut, summary="法人详情")
def get_enterprise(request, enterprise_id: int):
    return selectors.get_enterprise_for(request.auth, enterprise_id)


@router.patch("/enterprises/{enterprise_id}", response=EnterpriseOut, summary="变更法人信息或状态（存续/注销/吊销）")
def update_enterprise(request, enterprise_id: int, payload: EnterprisePatch):
    enterprise = selectors.get_enterprise_for(request.auth, enterprise_id)
    return services.update_enterprise(actor=request.auth, enterprise=enterprise,
                                      changes=patch_changes(payload, nullable={"established_on",
                                                                               "legal_representative_id_number"}))


def _import(request, kind, file, valid_only):
    if file is None:
        raise InvalidInput("请上传 .xlsx 或 .csv 文件", code="file_required")
    run = getattr(services, f"import_{kind}")(actor=request.auth, data=file.read(), file_name=file.name or "upload",
                                              valid_only=valid_only)
    return run


@router.post("/import/persons", response=ImportOut,
             summary="批量导入自然人（有错误时默认全部不导入；valid_only=true 只导入有效行）")
def import_persons(request, file: File[UploadedFile] = None, valid_only: Form[bool] = False):
    return _import(request, "persons", file, valid_only)


@router.post("/import/enterprises", response=ImportOut, summary="批量导入法人")
def import_enterprises(request, file: File[UploadedFile] = None, valid_only: Form[bool] = False):
    return _import(request, "enterprises", file, valid_only)
