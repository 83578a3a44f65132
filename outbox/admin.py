from django.contrib import admin

from outbox.models import Message


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    """Read-only: what the worker has done and has still to do."""

    list_display = ["topic", "state", "attempts", "created_at", "available_at", "last_error"]
    list_filter = [
        "topic",
        ("delivered_at", admin.EmptyFieldListFilter),
        ("failed_at", admin.EmptyFieldListFilter),
    ]
    search_fields = ["=uuid", "topic"]
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in Message._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
