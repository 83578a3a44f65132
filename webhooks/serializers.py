"""Webhooks and their delivery log as staff see them through the API."""

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from config import fields as api_fields
from webhooks import services
from webhooks.models import EVENTS, TARGET_URL_MAX_LENGTH, Delivery, Webhook

EVENTS_HELP = "Event names: " + ", ".join(f"`{name}`" for name in EVENTS) + "."


@extend_schema_field({"type": "string", "enum": list(EVENTS)}, component_name="WebhookEvent")
class EventNameField(api_fields.CharField):
    """An event's name. Unknown ones are refused all at once (``services.clean_events``)."""


@extend_schema_field({"type": "string", "format": "uri"})
class TargetUrlField(api_fields.CharField):
    """An ``http`` or ``https`` URL (``webhooks.targets`` decides)."""


class WebhookSerializer(serializers.ModelSerializer):
    """A webhook. ``target_url`` must be http(s) and, in production, resolve to public
    addresses only; ``secret`` is never shown again after creation."""

    target_url = TargetUrlField(
        max_length=TARGET_URL_MAX_LENGTH,
        help_text="Where events are POSTed: an `http` or `https` URL without credentials. "
        "Unless `DJANGO_WEBHOOK_ALLOW_PRIVATE=true`, its host must resolve to public addresses "
        "only (checked now and at every delivery).",
    )
    events = serializers.ListField(
        child=EventNameField(max_length=50),
        allow_empty=False,
        max_length=50,
        help_text=EVENTS_HELP,
    )
    is_active = api_fields.BooleanField(
        required=False,
        default=True,
        help_text="Inactive webhooks are sent nothing; a `410 Gone` answer deactivates one.",
    )
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = Webhook
        fields = ["id", "target_url", "events", "is_active", "created_by", "created_at"]
        read_only_fields = ["id", "created_by", "created_at"]

    def validate_target_url(self, value: str) -> str:
        try:
            services.check_target(value)
        except services.UnsafeTarget as exc:
            raise serializers.ValidationError(str(exc)) from exc
        return value

    def validate_events(self, value: list[str]) -> list[str]:
        try:
            return services.clean_events(value)
        except services.UnknownEvents as exc:
            raise serializers.ValidationError(str(exc)) from exc

    def create(self, validated_data: dict[str, Any]) -> Webhook:
        return services.create_webhook(created_by=self.context["request"].user, **validated_data)

    def update(self, instance: Webhook, validated_data: dict[str, Any]) -> Webhook:
        return services.update_webhook(webhook=instance, **validated_data)


class WebhookCreatedSerializer(WebhookSerializer):
    """The answer to a registration: the webhook with its signing secret, shown this once."""

    secret = serializers.CharField(
        read_only=True,
        help_text="`whsec_` + base64: the Standard Webhooks signing key. Shown only in this answer.",
    )

    class Meta(WebhookSerializer.Meta):
        fields = [*WebhookSerializer.Meta.fields, "secret"]
        read_only_fields = [*WebhookSerializer.Meta.read_only_fields, "secret"]


class DeliverySerializer(serializers.ModelSerializer):
    """One attempt to deliver one event."""

    message_id = serializers.CharField(
        read_only=True, help_text="The `webhook-id` header sent: the same on every attempt of one event."
    )
    status_code = serializers.IntegerField(
        read_only=True, allow_null=True, help_text="The receiver's status, or null when none came."
    )
    duration_ms = serializers.IntegerField(read_only=True, help_text="Milliseconds the attempt took.")
    error = serializers.CharField(read_only=True, help_text="Why the attempt failed; empty on success.")
    response_body = serializers.CharField(read_only=True, help_text="The answer's first 1 KB at most.")

    class Meta:
        model = Delivery
        fields = [
            "id",
            "event",
            "attempt",
            "status_code",
            "duration_ms",
            "error",
            "created_at",
            "message_id",
            "response_body",
        ]
        read_only_fields = fields


class PingSerializer(serializers.Serializer):
    event = serializers.CharField(help_text="`ping`.")
    message_id = serializers.CharField(help_text="The `webhook-id` the ping is sent with.")
