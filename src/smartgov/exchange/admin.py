from django.contrib import admin

from .models import Agreement, Batch, Delivery, Event, Message, Resource, Subscription


class ReadOnly(admin.ModelAdmin):
    """The exchange is changed through its services (audited); the admin only looks."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Resource)
class ResourceAdmin(ReadOnly):
    list_display = ("code", "name", "department", "share_type", "current_version", "active")
    search_fields = ("code", "name")


@admin.register(Agreement)
class AgreementAdmin(ReadOnly):
    list_display = ("resource", "consumer", "status", "valid_until", "rate_limit")
    list_filter = ("status",)


@admin.register(Message)
class MessageAdmin(ReadOnly):
    list_display = ("message_id", "at", "resource", "consumer", "provider", "outcome", "reason", "batch")
    list_filter = ("outcome",)
    exclude = ("content",)


@admin.register(Batch)
class BatchAdmin(ReadOnly):
    list_display = ("id", "size", "signed_at", "root")


@admin.register(Subscription)
class SubscriptionAdmin(ReadOnly):
    list_display = ("resource", "consumer", "url", "handler", "active")
    exclude = ("secret",)


@admin.register(Event)
class EventAdmin(ReadOnly):
    list_display = ("id", "event_id", "resource", "event_type", "subject", "created_at")


@admin.register(Delivery)
class DeliveryAdmin(ReadOnly):
    list_display = ("event", "subscription", "status", "attempts", "next_attempt_at", "last_error")
    list_filter = ("status",)
