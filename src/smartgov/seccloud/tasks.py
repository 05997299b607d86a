"""Periodic jobs of 安全云: sign a tree head every minute, import the audit trail, expire old days."""

from django.tasks import task

from smartgov.core.permissions import system_actor
from smartgov.core.tasks import register_periodic, schedule_next

from . import services


@task
def sign_seccloud_tree_head():
    schedule_next(sign_seccloud_tree_head, 60)
    return services.sign_tree_head(actor=system_actor("seccloud.sth"))


@task
def import_platform_audit():
    schedule_next(import_platform_audit, 30)
    return services.import_audit_trail(actor=system_actor("seccloud.audit_import"))


@task
def expire_seccloud_events():
    schedule_next(expire_seccloud_events, 3600)
    return services.expire_events(actor=system_actor("seccloud.retention"))


register_periodic(sign_seccloud_tree_head, 60)
register_periodic(import_platform_audit, 30)
register_periodic(expire_seccloud_events, 3600)
