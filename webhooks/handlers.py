"""The outbox handler that delivers webhook messages (imported by ``WebhooksConfig.ready``)."""

from outbox.models import Message
from outbox.registry import handler
from webhooks import services


@handler(services.TOPIC)
def deliver(message: Message) -> None:
    services.deliver(message)
