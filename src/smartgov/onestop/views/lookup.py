"""办件查询: anyone with the case number and the applicant's second factor sees where a case stands."""

from django.shortcuts import render
from django.utils.translation import gettext as _

from .. import selectors


def progress_lookup(request):
    number = (request.POST.get("number") or "").strip()[:40]
    result, error = None, ""
    if request.method == "POST":
        result = selectors.public_progress(number, request.POST.get("last_six", ""))
        if result is None:
            error = _("没有找到与办件编号和查询码（或证件号码后六位）相符的办件（多次输错将暂停查询15分钟）。")
    return render(request, "onestop/progress_lookup.html", {"number": number, "result": result, "error": error},
                  status=404 if error else 200)
