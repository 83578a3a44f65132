"""The staff-only webhooks API: register, list, change, delete, read the delivery log, ping."""

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import APIException
from rest_framework.permissions import IsAdminUser, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer

from webhooks import services
from webhooks.models import Delivery, Webhook
from webhooks.serializers import (
    DeliverySerializer,
    PingSerializer,
    WebhookCreatedSerializer,
    WebhookSerializer,
)

NOT_STAFF = OpenApiResponse(description="Not staff: everything under /api/v1/webhooks/ is staff-only.")


class WebhookInactiveError(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The webhook is inactive: activate it first (PATCH is_active=true)."
    default_code = "inactive"


@extend_schema_view(
    list=extend_schema(
        summary="Webhooks",
        description="Every webhook, newest first. Staff only.",
        responses={200: WebhookSerializer(many=True), 403: NOT_STAFF},
    ),
    create=extend_schema(
        summary="Register a webhook",
        request=WebhookSerializer,
        responses={201: WebhookCreatedSerializer},
        description="The answer holds the signing `secret`, which is never shown again.",
    ),
    retrieve=extend_schema(summary="A webhook", responses={200: WebhookSerializer, 403: NOT_STAFF}),
    partial_update=extend_schema(
        summary="Change a webhook", description="A new `target_url` is checked again."
    ),
    destroy=extend_schema(
        summary="Delete a webhook", description="With its delivery log; waiting deliveries are dropped."
    ),
)
class WebhookViewSet(viewsets.ModelViewSet):
    """Webhooks: endpoints told when content changes (see docs/webhooks.md). Staff only:
    others get 403, anonymous callers 401."""

    serializer_class = WebhookSerializer
    permission_classes = [IsAuthenticated, IsAdminUser]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self) -> QuerySet:
        return Webhook.objects.select_related("created_by").order_by("-created_at", "-id")

    def create(self, request: Request, *args, **kwargs) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        webhook = serializer.save()
        return Response(WebhookCreatedSerializer(webhook).data, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance: Webhook) -> None:
        services.delete_webhook(webhook=instance)

    def get_serializer_class(self) -> type[BaseSerializer]:
        if self.action == "deliveries":
            return DeliverySerializer
        if self.action == "ping":
            return PingSerializer
        return super().get_serializer_class()

    @extend_schema(
        summary="A webhook's delivery log",
        description="One row per attempt, newest first, paginated.",
        responses={200: DeliverySerializer(many=True), 403: NOT_STAFF},
    )
    @action(detail=True, methods=["get"])
    def deliveries(self, request: Request, pk: str | None = None) -> Response:
        webhook = self.get_object()
        rows = Delivery.objects.filter(webhook=webhook).order_by("-created_at", "-id")
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(DeliverySerializer(page, many=True).data)

    @extend_schema(
        summary="Send a ping",
        description="Sends the webhook a `ping` event, whatever events it subscribes to. "
        "409 when the webhook is inactive.",
        request=None,
        responses={
            202: PingSerializer,
            409: OpenApiResponse(description="The webhook is inactive."),
        },
    )
    @action(detail=True, methods=["post"])
    def ping(self, request: Request, pk: str | None = None) -> Response:
        webhook = self.get_object()
        try:
            message = services.ping(webhook=webhook)
        except services.WebhookInactive as exc:
            raise WebhookInactiveError() from exc
        data = {"event": "ping", "message_id": f"msg_{message.uuid.hex}"}
        return Response(PingSerializer(data).data, status=status.HTTP_202_ACCEPTED)
