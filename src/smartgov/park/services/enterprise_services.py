"""企业服务 (报修、政策申报、投诉): the park operator files them as one-stop catalogue items of its department
(``publish_service_items``), and a resident enterprise raises one (``raise_service``) — an ordinary one-stop
application in the enterprise's name, so the deadline, the officers' queue, notices, notifications and
好差评 are the one-stop service's. The park's own checks (resident enterprise, leased unit) run inside
``onestop.services.apply`` through the validator the park registers (``service_items.validate_application``),
so an application made on the one-stop pages is checked the same way."""

from django.db import transaction

from smartgov.core.errors import Conflict, InvalidInput
from smartgov.core.permissions import require
from smartgov.onestop import selectors as onestop_selectors
from smartgov.onestop import services as onestop

from ..models import Enterprise, Park
from ..service_items import SERVICES


@transaction.atomic
def publish_service_items(*, actor, park: Park) -> list:
    """开通企业服务: the operator's department gets the three items it does not have yet (safe to run again);
    returns the department's park service items. The operator's department needs its USCC (实施编码)."""
    require(actor, "park.manage", department=park.department)
    out = []
    for code, item_type, name, content in SERVICES.values():
        item = onestop_selectors.department_item(park.department, code)
        if item is None:
            item = onestop.create_item(actor=actor, department=park.department, basic_code=code, name=name,
                                       item_type=item_type, content=content)
        out.append(item)
    return out


def raise_service(*, actor, enterprise: Enterprise, kind: str, form: dict, materials: dict | None = None):
    """An enterprise's 报修/政策申报/投诉: the one-stop application to the park operator's item, in the name
    of the register's enterprise with this USCC (the actor must be its legal representative). The park's
    code is filled in; the rest of ``form`` is the item's fields. Nothing is written if anything is wrong."""
    if kind not in SERVICES:
        raise InvalidInput("服务类型应为报修、政策申报或投诉", code="invalid_service_kind",
                           detail={"kinds": list(SERVICES)})
    park = enterprise.park
    item = onestop_selectors.department_item(park.department, SERVICES[kind][0])
    if item is None or not item.active:
        raise Conflict("园区尚未开通该项企业服务", code="service_not_offered")
    values = {k: v for k, v in (form or {}).items() if isinstance(k, str)}
    values["park"] = park.code
    return onestop.apply(actor=actor, item=item, answers={}, form_data=values, materials=materials or {},
                         enterprise_uscc=enterprise.uscc)
