"""Pages: public verification, the holder's wallet, and the officer's list, issue and detail pages.
Views validate and call one service; permissions through require()."""

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from smartgov.core.errors import DomainError
from smartgov.core.permissions import has_perm, require

from . import selectors, services
from .forms import IssueForm, ReasonForm, VerifyForm
from .models import HolderKind, LicenceStatus
from .pdf import render_licence_pdf


def verify(request):
    """验证证照: paste a QR payload, or arrive from a scanned code at /verify/?p=…"""
    text = request.POST.get("p") if request.method == "POST" else request.GET.get("p")
    if text and text.strip().startswith("SGE1."):  # an EID QR pasted here: the EID check page answers it

        return redirect(f"/eid/check/?{urlencode({'p': text.strip()})}")
    form = VerifyForm({"p": text} if text else None)
    outcome, fields = None, []
    if text is not None and form.is_valid():
        outcome = selectors.verify_payload(form.cleaned_data["p"])
        if outcome.claims and isinstance(outcome.claims.get("data"), dict):
            template = outcome.licence.licence_type.field_template if outcome.licence else []
            labels = {f["key"]: f["label"] for f in template}
            fields = [(labels.get(k, k), v) for k, v in outcome.claims["data"].items()]
    return render(request, "licences/verify.html", {"form": form, "outcome": outcome, "fields": fields})


@login_required
def wallet(request):
    licences = [(lic, selectors.qr_svg(lic, scale=2)) for lic in selectors.wallet_for(request.user)]
    return render(request, "licences/wallet.html", {"licences": licences,
                                                     "in_register": hasattr(request.user, "person")})


@login_required
def licence_list(request):
    qs = selectors.licences_for(request.user).order_by("-issued_on", "-pk")
    status = request.GET.get("status", "")
    if status in LicenceStatus.values:
        qs = qs.filter(status=status)
    q = request.GET.get("q", "").strip()
    if q:
        qs = qs.filter(identifier__icontains=q) | qs.filter(holder_name__icontains=q)
    return render(request, "licences/list.html", {
        "licences": qs[:200], "statuses": LicenceStatus.choices, "status": status, "q": q,
        "types": selectors.types_for_issuer(request.user), "can_issue": has_perm(request.user, "licences.issue"),
    })


@login_required
def issue(request):
    require(request.user, "licences.issue")
    types = selectors.types_for_issuer(request.user)
    licence_type = None
    if request.GET.get("type") or request.POST.get("type"):
        licence_type = get_object_or_404(types, pk=request.POST.get("type") or request.GET.get("type"))
    form = None
    if licence_type is not None:
        form = IssueForm(request.POST or None, licence_type=licence_type)
        if request.method == "POST" and form.is_valid():
            kind = licence_type.holder_kind
            try:
                holder = selectors.find_holder(kind=kind, code=form.cleaned_data["holder_code"])
                licence = services.issue_licence(
                    actor=request.user, licence_type=licence_type,
                    holder_person=holder if kind == HolderKind.PERSON else None,
                    holder_enterprise=holder if kind == HolderKind.ENTERPRISE else None,
                    data=form.licence_data(), valid_from=form.cleaned_data["valid_from"],
                    trust_level=form.cleaned_data["trust_level"])
            except DomainError as exc:
                form.add_error(None, exc.message)
                for key, message in (exc.detail or {}).items() if isinstance(exc.detail, dict) else []:
                    field = f"f_{key}"
                    if field in form.fields:
                        form.add_error(field, message)
            else:
                messages.success(request, _("证照已签发：%(id)s") % {"id": licence.identifier})
                return redirect("licences:detail", licence.pk)
    return render(request, "licences/issue.html", {"types": types, "licence_type": licence_type, "form": form})


@login_required
def detail(request, licence_id: int):
    licence = selectors.get_licence_for(request.user, licence_id)
    can_end = (has_perm(request.user, "licences.revoke") and licence.department_id == request.user.department_id
               and licence.status not in (LicenceStatus.REVOKED, LicenceStatus.CANCELLED))
    labels = {f["key"]: f["label"] for f in licence.licence_type.field_template}
    return render(request, "licences/detail.html", {
        "licence": licence, "qr": selectors.qr_svg(licence, scale=3), "payload": selectors.payload_for(licence),
        "fields": [(labels.get(k, k), v) for k, v in licence.data.items()],
        "reason_form": ReasonForm() if can_end else None,
    })


@login_required
@require_POST
def end(request, licence_id: int):
    licence = selectors.get_licence_for(request.user, licence_id)
    form = ReasonForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请选择操作并填写原因"))
        return redirect("licences:detail", licence.pk)
    action = services.revoke_licence if form.cleaned_data["action"] == "revoke" else services.cancel_licence
    action(actor=request.user, licence=licence, reason=form.cleaned_data["reason"])
    messages.success(request, _("证照状态已更新"))
    return redirect("licences:detail", licence.pk)


@login_required
def pdf(request, licence_id: int):
    licence = selectors.get_licence_for(request.user, licence_id)
    resp = HttpResponse(render_licence_pdf(licence), content_type="application/pdf")
    resp["Content-Disposition"] = f'attachment; filename="licence-{licence.pk}.pdf"'
    return resp
