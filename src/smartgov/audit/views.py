from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone

from smartgov.core.labels import action_label, role_label
from smartgov.core.permissions import require

from . import selectors, services
from .exports import entries_to_xlsx
from .filters import AuditFilterForm
from .models import Checkpoint


@login_required
def entries(request):
    """The audit administrator's view of the trail: filter, page, export, integrity status."""
    require(request.user, "audit.view_entry")
    form = AuditFilterForm(request.GET or None)
    page = Paginator(form.queryset(), 50).get_page(request.GET.get("page"))
    for entry in page.object_list:
        entry.action_label = action_label(entry.action)
        entry.role_label = role_label(entry.actor_role)
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "audit/entries.html", {
        "form": form, "page": page, "query": query.urlencode(),
        "total": selectors.entry_count(),
        "last_checkpoint": Checkpoint.objects.first(),
    })


@login_required
def export(request):
    require(request.user, "audit.export_entry")
    form = AuditFilterForm(request.GET or None)
    data = entries_to_xlsx(form.queryset())
    services.record(actor=request.user, action="audit.export", target=("audit.auditentry", "*"),
                    changes={"filters": {k: v for k, v in request.GET.items() if v}})
    name = f"audit-{timezone.localdate():%Y%m%d}.xlsx"
    resp = HttpResponse(data, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    resp["Content-Disposition"] = f'attachment; filename="{name}"'
    return resp
