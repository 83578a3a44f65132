"""Reads of the outbox for operators (the metrics' task-queue figures)."""

from datetime import datetime
from typing import NamedTuple

from django.db.models import Count, Min

from outbox.models import Message


class Backlog(NamedTuple):
    # Messages neither delivered nor given up: waiting for their task, or for a retry.
    pending: int
    # When the earliest of them was (or will be) due; None when there are none.
    oldest_due_at: datetime | None


def backlog() -> Backlog:
    """The undelivered messages: one query, answered from the partial index of pending
    messages (``outbox_pending_due``) however many delivered ones the table holds."""
    totals = Message.objects.filter(delivered_at__isnull=True, failed_at__isnull=True).aggregate(
        pending=Count("*"), oldest_due_at=Min("available_at")
    )
    return Backlog(pending=totals["pending"], oldest_due_at=totals["oldest_due_at"])
