from ninja import Query, Router, Schema
from ninja.pagination import paginate

from smartgov.core.pagination import PageNumber
from smartgov.core.permissions import require

from . import selectors, services
from .schemas import AuditEntryOut, VerifyOut

router = Router(tags=["审计 audit"])


class EntryFilter(Schema):
    action: str = ""
    actor: str = ""
    target_type: str = ""
    target_id: str = ""


@router.get("/entries", response=list[AuditEntryOut], summary="审计记录（仅审计管理员）")
@paginate(PageNumber)
def list_entries(request, filters: Query[EntryFilter]):
    require(request.auth, "audit.view_entry")
    return selectors.list_entries(**filters.dict())


@router.post("/verify", response=VerifyOut, summary="校验审计链与签名检查点")
def verify(request):
    return services.verify_and_keep(actor=request.auth, workers=1)  # never fork inside a web worker
