from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView

from .api import api
from .metrics import metrics_view

admin.site.site_header = "SmartGov 后台管理"
admin.site.site_title = "SmartGov"
admin.site.index_title = "后台数据管理"

urlpatterns = [
    # Staff sign in once, with the second factor, through our login; the admin's own form is bypassed.
    path("admin/login/", RedirectView.as_view(pattern_name="accounts:login", query_string=True)),
    # …and passwords change through the audited service, not the admin's own form.
    path("admin/password_change/", RedirectView.as_view(pattern_name="accounts:password")),
    path("admin/", admin.site.urls),
    # browsers ask for /favicon.ico whatever the page says: the platform's seal icon
    path("favicon.ico", RedirectView.as_view(url=static("img/favicon.svg"), permanent=True)),
    path("api/", api.urls),
    path("metrics", metrics_view),  # Prometheus; monitoring network or credential only
    path("accounts/", include("smartgov.accounts.urls")),
    path("audit/", include("smartgov.audit.urls")),
    path("identity/", include("smartgov.identity.urls")),
    path("eid/", include("smartgov.eid.urls")),
    path("licences/", include("smartgov.licences.urls")),
    path("verify/", include("smartgov.licences.verify_urls")),
    path("workflow/", include("smartgov.workflow.urls")),
    path("onestop/", include("smartgov.onestop.urls")),
    path("exchange/", include("smartgov.exchange.urls")),
    path("trace/", include("smartgov.trace.urls")),
    path("grain/", include("smartgov.grain.urls")),
    path("park/", include("smartgov.park.urls")),
    path("hall/", include("smartgov.hall.urls")),
    path("seccloud/", include("smartgov.seccloud.urls")),
    path("smart/", include("smartgov.smart.urls")),
    path("overview/", include("smartgov.overview.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("smartgov.portal.urls")),
]

handler403 = "smartgov.portal.views.handler403"
handler404 = "smartgov.portal.views.handler404"
