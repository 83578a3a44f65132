"""Admin for webhooks (through ``webhooks.services``, so the SSRF guard and the event
names are checked as in the API) and their delivery log (read-only)."""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from webhooks import services
from webhooks.models import EVENTS, Delivery, Webhook


class WebhookForm(forms.ModelForm):
    events = forms.MultipleChoiceField(
        choices=[(name, name) for name in EVENTS], widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = Webhook
        fields = ["target_url", "events", "is_active"]

    def clean_target_url(self) -> str:
        url = self.cleaned_data["target_url"]
        if self.instance.pk is not None and "target_url" not in self.changed_data:
            return url  # as the API's PATCH: only a new target is checked again
        try:
            services.check_target(url)
        except services.UnsafeTarget as exc:
            raise forms.ValidationError(str(exc)) from exc
        return url


@admin.register(Webhook)
class WebhookAdmin(admin.ModelAdmin):
    """The secret is shown once, when the webhook is added, as the API shows it."""

    form = WebhookForm
    list_display = ("target_url", "event_list", "is_active", "created_by", "created_at", "log")
    list_filter = ("is_active",)
    list_select_related = ("created_by",)
    search_fields = ("target_url",)
    readonly_fields = ("created_by", "created_at", "log")
    actions = ("ping",)

    @admin.display(description="events")
    def event_list(self, webhook: Webhook) -> str:
        return ", ".join(webhook.events)

    @admin.display(description="deliveries")
    def log(self, webhook: Webhook) -> str:
        if webhook.pk is None:
            return "-"
        url = reverse("admin:webhooks_delivery_changelist") + f"?webhook__id__exact={webhook.pk}"
        return format_html('<a href="{}">delivery log</a>', url)

    def save_model(self, request: HttpRequest, obj: Webhook, form: forms.ModelForm, change: bool) -> None:
        data: dict[str, Any] = form.cleaned_data
        if change:
            services.update_webhook(
                webhook=obj,
                target_url=data["target_url"] if "target_url" in form.changed_data else None,
                events=data["events"],
                is_active=data["is_active"],
            )
            return
        created = services.create_webhook(
            target_url=data["target_url"],
            events=data["events"],
            is_active=data["is_active"],
            created_by=request.user,
        )
        obj.pk, obj.secret, obj.created_at = created.pk, created.secret, created.created_at
        self.message_user(
            request,
            f"Signing secret (shown only now; receivers verify deliveries with it): {created.secret}",
            messages.WARNING,
        )

    def delete_model(self, request: HttpRequest, obj: Webhook) -> None:
        services.delete_webhook(webhook=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        for webhook in queryset:
            services.delete_webhook(webhook=webhook)

    @admin.action(description="Send a ping to the selected webhooks", permissions=["change"])
    def ping(self, request: HttpRequest, queryset: QuerySet) -> None:
        sent = 0
        for webhook in queryset:
            try:
                services.ping(webhook=webhook)
                sent += 1
            except services.WebhookInactive:
                self.message_user(request, f"{webhook} is inactive: not pinged.", messages.WARNING)
        self.message_user(request, f"{sent} ping(s) sent.", messages.SUCCESS)


class OutcomeFilter(admin.SimpleListFilter):
    title = "outcome"
    parameter_name = "outcome"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [("success", "2xx"), ("failure", "failed")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        success = {"status_code__gte": 200, "status_code__lt": 300}
        if self.value() == "success":
            return queryset.filter(**success)
        if self.value() == "failure":
            return queryset.exclude(**success)
        return queryset


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    """The delivery log: one row per attempt, read-only."""

    list_display = ("created_at", "webhook", "event", "attempt", "status_code", "duration_ms", "error")
    list_filter = ("webhook", OutcomeFilter, "status_code", "event")
    list_select_related = ("webhook",)
    search_fields = ("error",)
    date_hierarchy = "created_at"
    show_full_result_count = False
    fields = (
        "webhook",
        "event",
        "message_id",
        "attempt",
        "status_code",
        "duration_ms",
        "error",
        "response_body",
        "created_at",
    )
    readonly_fields = fields

    @admin.display(description="webhook-id")
    def message_id(self, delivery: Delivery) -> str:
        return delivery.message_id

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Delivery | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Delivery | None = None) -> bool:
        return False
