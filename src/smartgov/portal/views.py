from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from smartgov.accounts.selectors import departments_for
from smartgov.core.permissions import has_perm

from .services_catalog import PLATFORM_SERVICES


def home(request):
    return render(request, "portal/home.html", {"services": PLATFORM_SERVICES})


@login_required
def workbench(request):
    user = request.user
    if not user.is_staff_role:
        return render(request, "portal/citizen.html", {})
    depts = departments_for(user).select_related("parent")[:50]
    links = [s for s in PLATFORM_SERVICES if s[4]
             and (s[0] != "security" or has_perm(user, "audit.view_entry"))]
    from smartgov.onestop.selectors import case_queue, sla_colour

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
