"""The register's pages for officers (人口库/法人库): lists with search, details (masked, reveal is
audited), registration forms, import with an error report, masked exports. Views validate and call
services; every write goes through ``services``."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from smartgov.core.errors import Conflict, InvalidInput, NotFound
from smartgov.core.masking import mask_id_number, mask_phone
from smartgov.core.permissions import has_perm, require
from smartgov.core.validators import parse_id_number

from . import exports, selectors, services
from .forms import EnterpriseForm, EnterpriseStatusForm, ImportForm, PersonForm, apply_domain_error
from .models import EnterpriseStatus

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _page(request, queryset):
    return Paginator(queryset, 50).get_page(request.GET.get("page"))


def _perms(user) -> dict:
    return {"can_manage": has_perm(user, "identity.manage_register"),
            "can_import": has_perm(user, "identity.import_register"),
            "can_export": has_perm(user, "identity.export_register"),
            "can_reveal": has_perm(user, "identity.view_personal_data")}


# --------------------------------------------------------------------------- persons


@login_required
def persons(request):
    """Search by part of a name, or by an exact ID number (found through the blind index; audited)."""
    q = request.GET.get("q", "").strip()
    by_id = False
    if q:
        try:
            parse_id_number(q)
            by_id = True
        except ValidationError:
            pass
    if by_id:
        try:
            found = [services.find_person_by_id_number(actor=request.user, id_number=q)]
        except NotFound:
            found = []
        page = Paginator(found, 50).get_page(1)
    else:
        page = _page(request, selectors.persons_for(request.user, name=q))
    rows = [(p, mask_id_number(p.id_number), mask_phone(p.phone) if p.phone else "") for p in page.object_list]
    return render(request, "identity/persons.html", {"page": page, "rows": rows, "q": q, "by_id": by_id,
                                                     "tab": "persons", **_perms(request.user)})


@login_required
def person_new(request):
    require(request.user, "identity.manage_register")
    form = PersonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            person = services.register_person(actor=request.user, **form.cleaned_data)
        except (InvalidInput, Conflict) as exc:
            apply_domain_error(form, exc)
        else:
            return redirect("identity:person_detail", pk=person.pk)
    return render(request, "identity/form.html", {"form": form, "title": _("登记自然人"), "tab": "persons",
                                                  "back": "identity:persons"})


def _person_page(request, person, revealed=None):
    return render(request, "identity/person_detail.html", {
        "person": person, "id_number": mask_id_number(person.id_number),
        "phone": mask_phone(person.phone) if person.phone else "", "revealed": revealed,
        "represents": person.represents.select_related("department").order_by("name")[:50],
        "tab": "persons", **_perms(request.user)})


@login_required
def person_detail(request, pk):
    return _person_page(request, selectors.get_person_for(request.user, pk))


@login_required
@require_POST
def person_reveal(request, pk):
    """Clear values are shown in this response only (no redirect, nothing cached); the reveal is audited."""
    person = selectors.get_person_for(request.user, pk)
    revealed = services.reveal_person(actor=request.user, person=person)
    response = _person_page(request, person, revealed)
    response["Cache-Control"] = "no-store"
    return response


# --------------------------------------------------------------------------- enterprises


@login_required
def enterprises(request):
    q = request.GET.get("q", "").strip()
    page = _page(request, selectors.enterprises_for(request.user, q=q))
    return render(request, "identity/enterprises.html", {"page": page, "q": q, "tab": "enterprises",
                                                         **_perms(request.user)})


@login_required
def enterprise_new(request):
    require(request.user, "identity.manage_register")
    form = EnterpriseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            enterprise = services.register_enterprise(actor=request.user, **form.cleaned_data)
        except (InvalidInput, Conflict) as exc:
            apply_domain_error(form, exc)
        else:
            return redirect("identity:enterprise_detail", pk=enterprise.pk)
    return render(request, "identity/form.html", {"form": form, "title": _("登记法人"), "tab": "enterprises",
                                                  "back": "identity:enterprises"})


def _enterprise_page(request, enterprise, status_form=None, status=200):
    status_form = status_form or EnterpriseStatusForm(initial={"status": enterprise.status})
    allowed = services.STATUS_CHANGES.get(enterprise.status, set())
    status_form.fields["status"].choices = [(v, lbl) for v, lbl in EnterpriseStatus.choices if v in allowed]
    rep = enterprise.legal_representative
    return render(request, "identity/enterprise_detail.html", {
        "enterprise": enterprise, "status_form": status_form if allowed else None,
        "rep_id_number": mask_id_number(rep.id_number) if rep else "", "tab": "enterprises",
        **_perms(request.user)}, status=status)


@login_required
def enterprise_detail(request, pk):
    return _enterprise_page(request, selectors.get_enterprise_for(request.user, pk))


@login_required
@require_POST
def enterprise_status(request, pk):
    enterprise = selectors.get_enterprise_for(request.user, pk)
    form = EnterpriseStatusForm(request.POST)
    if form.is_valid():
        try:
            services.update_enterprise(actor=request.user, enterprise=enterprise,
                                       changes={"status": form.cleaned_data["status"]})
        except InvalidInput as exc:
            form.add_error(None, exc.message)
        else:
            return redirect("identity:enterprise_detail", pk=pk)
    return _enterprise_page(request, enterprise, form, status=422)


# --------------------------------------------------------------------------- import, export


@login_required
def import_file(request):
    require(request.user, "identity.import_register")
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        importer = services.import_persons if form.cleaned_data["kind"] == "persons" else services.import_enterprises
        try:
            run = importer(actor=request.user, data=upload.read(), file_name=upload.name,
                           valid_only=form.cleaned_data["mode"] == "valid")
        except InvalidInput as exc:  # the file as a whole (type, encoding, missing columns)
            form.add_error("file", exc.message)
        else:
            return redirect("identity:import_result", pk=run.pk)
    recent = selectors.import_runs_for(request.user)[:10]
    return render(request, "identity/import.html", {"form": form, "recent": recent, "tab": "import",
                                                    **_perms(request.user)})


@login_required
def import_result(request, pk):
    run = selectors.get_import_run_for(request.user, pk)
    return render(request, "identity/import_result.html", {
        "run": run, "errors": run.errors[:200], "more": max(len(run.errors) - 200, 0), "tab": "import",
        **_perms(request.user)})


@login_required
def import_report(request, pk):
    run = selectors.get_import_run_for(request.user, pk)
    resp = HttpResponse(exports.error_report_xlsx(run), content_type=XLSX)
    resp["Content-Disposition"] = f'attachment; filename="import-{run.pk}-errors.xlsx"'
    return resp


@login_required
def import_template(request, kind):
    require(request.user, "identity.import_register")
    if kind not in ("persons", "enterprises"):
        raise Http404
    resp = HttpResponse(exports.template_xlsx(kind), content_type=XLSX)
    resp["Content-Disposition"] = f'attachment; filename="identity-{kind}-template.xlsx"'
    return resp


@login_required
def export(request, kind, fmt):
    """Masked export of what the user may see (always masked; see exports.py); audited."""
    require(request.user, "identity.export_register")
    if fmt not in ("xlsx", "csv"):
        raise Http404
    if kind == "persons":
        qs = selectors.persons_for(request.user, name=request.GET.get("q", ""))
        headers, rows = exports.PERSON_HEADERS, exports.person_rows(qs)
    else:
        qs = selectors.enterprises_for(request.user, q=request.GET.get("q", ""))
        headers, rows = exports.ENTERPRISE_HEADERS, exports.enterprise_rows(qs)
    rows = list(rows)
    data = (exports.to_xlsx(headers, rows, title="人口" if kind == "persons" else "法人") if fmt == "xlsx"
            else exports.to_csv(headers, rows))
    services.record_export(actor=request.user, kind=kind, fmt=fmt, count=len(rows))
    resp = HttpResponse(data, content_type=XLSX if fmt == "xlsx" else "text/csv; charset=utf-8")
    resp["Content-Disposition"] = f'attachment; filename="{kind}-{timezone.localdate():%Y%m%d}.{fmt}"'
    return resp
