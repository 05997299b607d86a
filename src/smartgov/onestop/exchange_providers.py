"""What one-stop offers the data-sharing exchange (found by ``exchange.providers.discover``): case
results (办件结果) by case number. The exchange never imports one-stop; one-stop names its adapter here."""

from smartgov.exchange.providers import Adapter
from smartgov.onestop.models import Application


def _iso(value):
    return value.isoformat() if value else None



def _case_record(app) -> dict:
    return {"number": app.number, "item": app.item.name, "department": app.department.name,
            "applicant": app.applicant_name, "state": app.get_state_display(),
            "decided_at": _iso(app.decided_at), "result_licence": app.result_licence.identifier
            if app.result_licence_id else ""}


def _case(params):
    app = Application.objects.select_related("item", "department", "result_licence").filter(
        number=params["number"].strip()).first()
    return _case_record(app) if app else None


def _case_sample(n):
    return [_case_record(a) for a in
            Application.objects.select_related("item", "department", "result_licence").order_by("-pk")[:n]]


def _case_updated():
    return Application.objects.order_by("-state_since").values_list("state_since", flat=True).first()


ADAPTERS = [Adapter("onestop.case", "一网通办：办件结果", _case, _case_sample, _case_updated)]
