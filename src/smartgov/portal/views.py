from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from smartgov.accounts.selectors import departments_for
from smartgov.core.permissions import has_perm
from smartgov.eid.selectors import eid_summary, messages_for
from smartgov.eid.services import mark_messages_read
from smartgov.licences.selectors import wallet_for
from smartgov.onestop import notify
from smartgov.onestop.selectors import applicant_home_cases, case_queue, notifications_for, sla_colour
from smartgov.park.selectors import resident_enterprises_for

from .services_catalog import PLATFORM_SERVICES


def home(request):
    return render(request, "portal/home.html", {"services": visible_services(request.user)})


def visible_services(user) -> list[tuple]:
    """The portal's service cards, each linked only when the viewer may open it (a link that answers
    403 is not shown as a link)."""
    out = []
    for key, title, desc, audience, url in PLATFORM_SERVICES:
        out.append((key, title, desc, audience, url, url is not None and _may_open(user, key)))
    return out


_CARD_PERMISSION = {"security": "audit.view_entry", "trace": "trace.view", "grain": "grain.view"}


def _may_open(user, key: str) -> bool:
    if key == "onestop":
        return True
    if not user.is_authenticated:
        return key == "identity"  # the EID sign-in and registration are for everyone
    if key == "identity":
        return not user.is_staff_role  # 我的EID: a citizen's own page
    perm = _CARD_PERMISSION.get(key)
    return perm is not None and has_perm(user, perm)


# Pages behind a sign-in that are for staff; every other one is a citizen's or enterprise's.
_STAFF_PREFIXES = ("/workbench/", "/audit/", "/identity/", "/workflow/", "/onestop/work/", "/onestop/dashboard/",
                   "/onestop/rectifications/", "/onestop/counter/", "/trace/", "/grain/", "/admin/", "/accounts/")


def signin(request):
    """LOGIN_URL: citizens and enterprises sign in with their ID number or EID (/eid/login/), staff with
    their account and second factor (/accounts/login/) — chosen by the page they were going to."""
    nxt = request.GET.get("next", "")
    if not url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()}):
        nxt = ""
    staff = nxt.startswith(_STAFF_PREFIXES) and not nxt.startswith("/licences/wallet/")
    if nxt.startswith("/licences/") and not nxt.startswith("/licences/wallet/"):
        staff = True
    target = reverse("accounts:login" if staff else "eid:login")
    return redirect(f"{target}?{urlencode({'next': nxt}, safe='/')}" if nxt else target)


@login_required
def citizen_home(request):
    """我的: a citizen's own home — cases with their next step, licences, the inbox, the EID, and the park
    enterprises they represent (企业服务 on 我的园区)."""
    user = request.user
    if user.is_staff_role:
        return redirect("portal:workbench")

    cases = applicant_home_cases(user, limit=8)
    return render(request, "portal/citizen.html", {
        "cases": cases, "open_count": sum(1 for c in cases if c.next_kind == "act"),
        "licences": list(wallet_for(user).order_by("-issued_on")[:6]),
        "inbox": inbox_messages(user)[:5], "unread": unread_count(user),
        "eid": eid_summary(user), "in_register": hasattr(user, "person"),
        "park_enterprises": resident_enterprises_for(user),  # 我的园区: the enterprise's services
    })


def inbox_messages(user) -> list[dict]:
    """Every message to the user, newest first, in one list: case notices (onestop) and the EID
    authority's messages (one-time codes, credential notices)."""
    rows = [{"kind": "case", "id": n.pk, "title": n.title, "body": n.body, "at": n.created_at,
             "read": n.read_at is not None, "case": n.application.number if n.application_id else ""}
            for n in notifications_for(user)[:300]]
    rows += [{"kind": "eid", "id": m.pk, "title": m.subject, "body": m.body, "at": m.created_at,
              "read": m.read_at is not None, "case": ""} for m in messages_for(user)[:300]]
    rows.sort(key=lambda r: r["at"], reverse=True)
    return rows


def unread_count(user) -> int:
    return notifications_for(user).filter(read_at=None).count() + messages_for(user).filter(read_at=None).count()


@login_required
def inbox(request):
    """消息: the one inbox — progress and supplement notices, results, one-time codes; newest first."""
    user = request.user
    if request.method == "POST":
        picked = request.POST.getlist("id")  # "case:12" / "eid:7"; none: everything
        case_ids = [int(v[5:]) for v in picked if v.startswith("case:") and v[5:].isdigit()]
        eid_ids = [int(v[4:]) for v in picked if v.startswith("eid:") and v[4:].isdigit()]
        notify.mark_read(user=user, ids=case_ids if picked else None)
        person = getattr(user, "person", None)
        if person is not None:
            mark_messages_read(person=person, ids=eid_ids if picked else None)
        return redirect("portal:inbox")
    page = Paginator(inbox_messages(user), 30).get_page(request.GET.get("page"))
    return render(request, "portal/inbox.html", {"page": page, "unread": unread_count(user)})


@login_required
def workbench(request):
    user = request.user
    if not user.is_staff_role:
        return redirect("portal:mine")
    depts = departments_for(user).select_related("parent")[:50]
    links = [s for s in visible_services(user) if s[5]]

    queue = list(case_queue(user)[:10]) if has_perm(user, "onestop.view_case") else []
    for case in queue:
        case.sla = sla_colour(case)
    return render(request, "portal/workbench.html", {
        "queue": queue, "queue_total": case_queue(user).count() if queue else 0,
        "can_monitor": has_perm(user, "workflow.monitor"),
        "departments": depts,
        "links": links,
        "can_admin": has_perm(user, "accounts.manage_user") or has_perm(user, "accounts.manage_department"),
        "can_licences": has_perm(user, "licences.view_licence"),
    })


_ERRORS = {
    403: (gettext_noop("没有权限"), gettext_noop("您没有访问此页面的权限。如需开通，请联系本部门管理员。")),
    404: (gettext_noop("页面不存在"), gettext_noop("您访问的页面不存在，或者不属于您所在部门的可见范围。")),
}


def _error(request, status):
    heading, explanation = _ERRORS[status]
    return render(request, "error.html", {"status": status, "heading": _(heading),
                                          "explanation": _(explanation)}, status=status)


def handler403(request, exception=None):
    return _error(request, 403)


def handler404(request, exception=None):
    return _error(request, 404)
