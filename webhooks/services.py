"""Webhooks: registering them, emitting events to them, and delivering one message.

``emit`` runs inside the transaction of the write that causes the event: it renders the
request body once and stores it in one outbox message per active webhook subscribed to
the event, so every attempt sends the same bytes, and a write that rolls back sends
nothing. The worker carries each message out with ``deliver`` (registered as the outbox
handler of ``TOPIC`` in ``webhooks.handlers``): at least once, signed as Standard
Webhooks specify, with ``webhook-id`` stable across retries so receivers can drop
duplicates.
"""

import json
import logging
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.utils import timezone
from standardwebhooks.webhooks import Webhook as Signer

from accounts.models import User
from outbox import services as outbox
from outbox.models import Message
from outbox.registry import GiveUp, Retry
from webhooks import sender, targets
from webhooks.models import EVENTS, Delivery, Webhook

logger = logging.getLogger(__name__)

TOPIC = "webhook.deliver"
ERROR_MAX_LENGTH = 500


class UnknownEvents(Exception):
    def __init__(self, names: Iterable[str]) -> None:
        self.names = sorted(set(names))
        super().__init__(f"Unknown event(s): {', '.join(self.names)}. Known events: {', '.join(EVENTS)}.")


class WebhookInactive(Exception):
    """A ping was asked of a webhook that is not active (it would be sent nothing)."""


UnsafeTarget = targets.UnsafeTarget


# --- Registering -------------------------------------------------------------------------


def clean_events(names: Iterable[str]) -> list[str]:
    """The event names, checked, without duplicates, in ``EVENTS``' order."""
    wanted = set(names)
    unknown = wanted - set(EVENTS)
    if unknown:
        raise UnknownEvents(unknown)
    return [name for name in EVENTS if name in wanted]


def check_target(url: str) -> None:
    """``UnsafeTarget`` unless ``url`` may be a target (see ``webhooks.targets``)."""
    targets.check(url)


@transaction.atomic
def create_webhook(
    *, target_url: str, events: Iterable[str], created_by: User | None, is_active: bool = True
) -> Webhook:
    check_target(target_url)
    return Webhook.objects.create(
        target_url=target_url, events=clean_events(events), is_active=is_active, created_by=created_by
    )


@transaction.atomic
def update_webhook(
    *,
    webhook: Webhook,
    target_url: str | None = None,
    events: Iterable[str] | None = None,
    is_active: bool | None = None,
) -> Webhook:
    """Change what is given. A new target is checked like a new webhook's. Messages
    already waiting go to the target as it is when they are delivered."""
    if target_url is not None:
        check_target(target_url)
        webhook.target_url = target_url
    if events is not None:
        webhook.events = clean_events(events)
    if is_active is not None:
        webhook.is_active = is_active
    webhook.save()
    return webhook


@transaction.atomic
def delete_webhook(*, webhook: Webhook) -> None:
    """Delete the webhook and its delivery log; messages still waiting give up quietly."""
    webhook.delete()


@transaction.atomic
def ping(*, webhook: Webhook) -> Message:
    """Send the webhook a ``ping`` (whatever events it subscribes to)."""
    if not webhook.is_active:
        raise WebhookInactive()
    data = {"id": webhook.pk, "target_url": webhook.target_url, "events": webhook.events}
    return _enqueue(webhooks=[webhook], event="ping", body=render(event="ping", data=data))[0]


# --- Emitting ----------------------------------------------------------------------------


def subscribers(event: str) -> list[Webhook]:
    """The active webhooks subscribed to ``event`` (one query; few rows)."""
    active = Webhook.objects.filter(is_active=True).only("id", "events")
    return [webhook for webhook in active if event in webhook.events]


def is_subscribed(event: str) -> bool:
    return bool(subscribers(event))


def render(*, event: str, data: dict[str, Any]) -> str:
    """The request body: ``{"event", "created_at", "data"}`` as compact JSON (ASCII, so
    that its bytes and its text are the same thing for every receiver's verifier)."""
    document = {"event": event, "created_at": _now_iso(), "data": data}
    return json.dumps(document, cls=DjangoJSONEncoder, separators=(",", ":"))


def emit(
    *,
    event: str,
    data: dict[str, Any] | Callable[[], dict[str, Any]],
    previous: dict[str, Any] | None = None,
) -> int:
    """Tell every active webhook subscribed to ``event``, after the current transaction
    commits. ``data`` may be a function that renders it: it is called only when someone
    listens. ``previous`` (``post.published.edited``) goes into ``data``. Returns how many
    messages were written."""
    if event not in EVENTS:
        raise UnknownEvents([event])
    listeners = subscribers(event)
    if not listeners:
        return 0
    rendered = dict(data() if callable(data) else data)
    if previous is not None:
        rendered["previous"] = previous
    return len(_enqueue(webhooks=listeners, event=event, body=render(event=event, data=rendered)))


def _enqueue(*, webhooks: Iterable[Webhook], event: str, body: str) -> list[Message]:
    return [
        outbox.enqueue(topic=TOPIC, payload={"webhook": webhook.pk, "event": event, "body": body})
        for webhook in webhooks
    ]


def _now_iso() -> str:
    return timezone.now().astimezone(UTC).isoformat().replace("+00:00", "Z")


# --- Delivering --------------------------------------------------------------------------


def retry_delays() -> list[float]:
    return list(settings.WEBHOOK_RETRY_DELAYS)


def signed_headers(*, secret: str, message_id: str, body: str, at: datetime) -> dict[str, str]:
    signature = Signer(secret).sign(message_id, at, body)
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": signature,
    }


def deliver(message: Message) -> None:
    """Carry out one message of ``TOPIC`` (the outbox handler): one attempt, logged as a
    ``Delivery``. Returns on a 2xx answer; otherwise ``Retry`` after the attempt's delay
    from ``WEBHOOK_RETRY_DELAYS`` or, after the last, ``GiveUp``. A 410 Gone deactivates
    the webhook and gives up; an unsafe target gives up; a webhook that was deleted or
    deactivated since gives up quietly (nothing logged)."""
    payload = message.payload
    webhook = Webhook.objects.filter(pk=payload.get("webhook"), is_active=True).first()
    if webhook is None:
        raise GiveUp("the webhook was deleted or deactivated")
    attempt = message.attempts + 1
    message_id = f"msg_{message.uuid.hex}"
    body = payload["body"]
    started = timezone.now()
    record = Delivery(webhook=webhook, event=payload["event"], message_uuid=message.uuid, attempt=attempt)

    try:
        target = targets.target_for_delivery(webhook.target_url)
    except targets.UnsafeTarget as exc:
        _save(record, error=f"refused: {exc}")
        raise GiveUp(f"unsafe target: {exc}") from exc

    headers = signed_headers(secret=webhook.secret, message_id=message_id, body=body, at=started)
    answer = sender.post(target=target, body=body.encode(), headers=headers, timeout=settings.WEBHOOK_TIMEOUT)
    record.status_code, record.duration_ms, record.response_body = (
        answer.status_code,
        answer.duration_ms,
        answer.body,
    )
    status = answer.status_code
    if status is not None and 200 <= status < 300:
        _save(record, error="")
        return
    if status == 410:
        Webhook.objects.filter(pk=webhook.pk).update(is_active=False)
        _save(record, error="410 Gone: the webhook was deactivated")
        raise GiveUp("410 Gone: webhook deactivated")

    if status is None:
        reason = answer.error
    elif 300 <= status < 400:
        reason = f"HTTP {status}: redirects are not followed"
    else:
        reason = f"HTTP {status}"
    delays = retry_delays()
    if attempt > len(delays):
        _save(record, error=f"{reason}; gave up after {attempt} attempts")
        raise GiveUp(f"{reason}; gave up after {attempt} attempts")
    _save(record, error=reason)
    raise Retry(reason, delay=delays[attempt - 1])


def _save(record: Delivery, *, error: str) -> None:
    record.error = error[:ERROR_MAX_LENGTH]
    try:
        record.save()
    except IntegrityError as exc:  # the webhook was deleted during the attempt
        raise GiveUp("the webhook was deleted") from exc
