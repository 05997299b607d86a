from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from .api import api

admin.site.site_header = "SmartGov 后台管理"
admin.site.site_title = "SmartGov"
admin.site.index_title = "后台数据管理"

urlpatterns = [
    # Staff sign in once, with the second factor, through our login; the admin's own form is bypassed.
    path("admin/login/", RedirectView.as_view(pattern_name="accounts:login", query_string=True)),
    # …and passwords change through the audited service, not the admin's own form.
    path("admin/password_change/", RedirectView.as_view(pattern_name="accounts:password")),
    path("admin/", admin.site.urls),
    path("api/", api.urls),
    path("accounts/", include("smartgov.accounts.urls")),
    path("audit/", include("smartgov.audit.urls")),
    path("identity/", include("smartgov.identity.urls")),
    path("eid/", include("smartgov.eid.urls")),
    path("licences/", include("smartgov.licences.urls")),
    path("verify/", include("smartgov.licences.verify_urls")),
    path("workflow/", include("smartgov.workflow.urls")),
    path("onestop/", include("smartgov.onestop.urls")),
    path("trace/", include("smartgov.trace.urls")),
    path("grain/", include("smartgov.grain.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("smartgov.portal.urls")),
]

handler403 = "smartgov.portal.views.handler403"
handler404 = "smartgov.portal.views.handler404"
