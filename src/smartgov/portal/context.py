from importlib.metadata import PackageNotFoundError, version

from smartgov.core.permissions import has_perm

try:
    _VERSION = version("smartgov")
except PackageNotFoundError:  # running from a source tree without install
    _VERSION = "dev"


def platform(request):
    user = getattr(request, "user", None)
    return {"platform_version": _VERSION, "perms_audit": has_perm(user, "audit.view_entry")}
