"""factory_boy factories for webhooks. ``WebhookFactory`` subscribes to every event."""

import uuid

import factory
from factory.django import DjangoModelFactory

from webhooks.models import EVENTS, Delivery, Webhook


class WebhookFactory(DjangoModelFactory):
    class Meta:
        model = Webhook

    target_url = factory.Sequence(lambda n: f"https://hooks.example.com/{n}")
    events = factory.LazyFunction(lambda: list(EVENTS))
    is_active = True


class DeliveryFactory(DjangoModelFactory):
    class Meta:
        model = Delivery

    webhook = factory.SubFactory(WebhookFactory)
    event = "post.added"
    message_uuid = factory.LazyFunction(uuid.uuid4)
    attempt = 1
    status_code = 200
    duration_ms = 12
