"""Writing to the outbox and carrying its messages out.

Guarantee: **at least once**. A message is written in the transaction of the write that
causes it, so it exists exactly when that write committed. After commit a task is
published to carry it out; if that publication is lost (the process died after commit,
the broker was down), the sweep publishes it again once it is ``OUTBOX_SWEEP_AFTER_SECONDS``
overdue. A worker claims a message for a lease before running its handler, so two
deliveries of one task do not run it side by side; a worker that dies mid-handler lets
the lease lapse and the message be claimed again, which is where a repeat can happen.
"""

import logging
import time
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from outbox.models import Message
from outbox.registry import GiveUp, Retry, handler_for

logger = logging.getLogger(__name__)

# How long a worker holds a message it is carrying out (a batch of mail, a webhook with
# its 10 s timeout, fit well inside it).
LEASE = timedelta(minutes=5)
# The default backoff: OUTBOX_RETRY_FIRST_SECONDS (30 s), doubling, at most an hour apart,
# for about two days.
MAX_DELAY_SECONDS = 3600.0
MAX_ATTEMPTS = 60
ERROR_MAX_LENGTH = 1000


def enqueue(*, topic: str, payload: dict[str, Any], delay: float = 0.0) -> Message:
    """Store a message for ``topic``'s handler and have it carried out after the current
    transaction commits (at once outside one). Call it inside the transaction of the write
    that causes it: if that rolls back, the message never existed."""
    message = Message.objects.create(
        topic=topic, payload=payload, available_at=timezone.now() + timedelta(seconds=delay)
    )
    transaction.on_commit(lambda: publish(message_id=message.pk, delay=delay))
    return message


# After the broker failed to answer, this process leaves publishing to the sweep for a
# while: a broker that drops packets costs a connection timeout, and no request should
# pay it more than once in that while.
BROKER_PAUSE_SECONDS = 5.0
_broker_down_until = 0.0


def publish(*, message_id: int, delay: float = 0.0) -> bool:
    """Ask the worker to carry the message out; False when the broker cannot be reached
    (the sweep publishes it later). Never raises: a caller's request must not fail or wait
    because the broker is down."""
    global _broker_down_until
    from outbox.tasks import deliver

    if settings.CELERY_TASK_ALWAYS_EAGER:
        # No broker (zero set-up): run it here and now; a failure waits for the sweep.
        try:
            deliver.apply(args=(message_id,))
        except Exception:
            logger.exception("outbox: message %s failed in-process", message_id)
            return False
        return True
    if time.monotonic() < _broker_down_until:
        return False
    try:
        deliver.apply_async(args=(message_id,), countdown=delay or None, retry=False)
    except Exception:
        _broker_down_until = time.monotonic() + BROKER_PAUSE_SECONDS
        logger.warning("outbox: could not publish message %s; the sweep will", message_id, exc_info=True)
        return False
    return True


def _claim(message_id: int) -> Message | None:
    """Take the message for a lease if it is pending, due and nobody else holds it."""
    now = timezone.now()
    claimed = (
        Message.objects.filter(
            pk=message_id, delivered_at__isnull=True, failed_at__isnull=True, available_at__lte=now
        )
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .update(claimed_until=now + LEASE)
    )
    return Message.objects.filter(pk=message_id).first() if claimed else None


def backoff(attempts: int) -> float:
    """Seconds before attempt ``attempts + 1`` by default."""
    return min(settings.OUTBOX_RETRY_FIRST_SECONDS * 2 ** max(attempts - 1, 0), MAX_DELAY_SECONDS)


def deliver(*, message_id: int) -> str:
    """Carry one message out (the task's body). Returns what became of it: "delivered",
    "retry", "failed", or "skipped" (already done, not due, or held by another worker)."""
    message = _claim(message_id)
    if message is None:
        return "skipped"
    run = handler_for(message.topic)
    attempts = message.attempts + 1
    now = timezone.now()
    pending = Message.objects.filter(pk=message.pk)
    try:
        if run is None:
            raise GiveUp(f"no handler for topic {message.topic!r}")
        run(message)
    except GiveUp as exc:
        pending.update(
            attempts=attempts, failed_at=now, claimed_until=None, last_error=str(exc)[:ERROR_MAX_LENGTH]
        )
        logger.warning("outbox: gave up %s: %s", message, exc)
        return "failed"
    except Exception as exc:
        delay = exc.delay if isinstance(exc, Retry) and exc.delay is not None else backoff(attempts)
        error = str(exc) or type(exc).__name__
        if attempts >= MAX_ATTEMPTS:
            pending.update(
                attempts=attempts, failed_at=now, claimed_until=None, last_error=error[:ERROR_MAX_LENGTH]
            )
            logger.error("outbox: gave up %s after %d attempts: %s", message, attempts, error)
            return "failed"
        pending.update(
            attempts=attempts,
            available_at=now + timedelta(seconds=delay),
            claimed_until=None,
            last_error=error[:ERROR_MAX_LENGTH],
        )
        logger.info("outbox: %s failed (attempt %d), again in %.0f s: %s", message, attempts, delay, error)
        if not settings.CELERY_TASK_ALWAYS_EAGER:
            publish(message_id=message.pk, delay=delay)
        return "retry"
    pending.update(attempts=attempts, delivered_at=timezone.now(), claimed_until=None, last_error="")
    return "delivered"


def sweep(*, limit: int = 1000) -> int:
    """Publish again the pending messages that are overdue (their task was lost) and that
    no worker holds. Returns how many were published."""
    now = timezone.now()
    overdue = now - timedelta(seconds=settings.OUTBOX_SWEEP_AFTER_SECONDS)
    ids = list(
        Message.objects.filter(delivered_at__isnull=True, failed_at__isnull=True, available_at__lte=overdue)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .order_by("available_at")
        .values_list("pk", flat=True)[:limit]
    )
    published = sum(publish(message_id=pk) for pk in ids)
    if ids:
        logger.info("outbox sweep: %d overdue, %d published", len(ids), published)
    return published
