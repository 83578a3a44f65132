"""The transactional outbox: work that a write causes (a mail, a webhook delivery),
stored in the same transaction as the write and carried out by the task worker after it.

A row is the promise; the Celery task is only the nudge. A rolled-back write leaves no
row, so nothing is sent; a task that was never published, or lost with its broker, is
published again by the periodic sweep. See outbox/services.py for the guarantees.
"""

import uuid

from django.db import models
from django.db.models import Q
from django.utils import timezone


class Message(models.Model):
    # Stable across every attempt: webhooks send it as ``webhook-id`` so that receivers
    # can drop the duplicates that at-least-once delivery allows.
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # Names the handler that carries it out (outbox.registry), e.g. "email", "webhook".
    topic = models.CharField(max_length=100)
    payload = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)
    # When the next attempt is due (later after each failure: the backoff).
    available_at = models.DateTimeField(default=timezone.now)
    attempts = models.PositiveIntegerField(default=0)
    # A worker holds the message until then; another may take it over afterwards.
    claimed_until = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # The sweep's question: what is pending and due. Only pending rows are indexed.
            models.Index(
                fields=["available_at"],
                name="outbox_pending_due",
                condition=Q(delivered_at__isnull=True, failed_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.topic} {self.uuid}"

    @property
    def state(self) -> str:
        if self.delivered_at:
            return "delivered"
        if self.failed_at:
            return "failed"
        return "pending"
