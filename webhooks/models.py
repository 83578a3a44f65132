"""Webhooks: endpoints that staff register to be told when content changes, and the log
of every attempt to tell them (``Delivery``).

What is sent, and when, is ``webhooks.services``' business; the events themselves are
emitted by the writes that cause them (``posts.events``).
"""

import base64
import secrets

from django.conf import settings
from django.db import models

# Ghost's names. ``ping`` is sent on request (``POST .../ping/``), whatever a webhook
# subscribes to.
EVENTS = (
    "post.added",
    "post.published",
    "post.published.edited",
    "post.unpublished",
    "post.deleted",
    "comment.added",
    "ping",
)
SECRET_PREFIX = "whsec_"  # noqa: S105  (a prefix, not a secret)
SECRET_BYTES = 32
TARGET_URL_MAX_LENGTH = 2000
RESPONSE_BODY_MAX_BYTES = 1024


def new_secret() -> str:
    """A Standard Webhooks secret: ``whsec_`` and the base64 of random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


class Webhook(models.Model):
    target_url = models.CharField(max_length=TARGET_URL_MAX_LENGTH)
    # Event names (``EVENTS``). A list in a JSONField: the same on SQLite and PostgreSQL,
    # and a site has few webhooks, so subscribers are picked in Python.
    events = models.JSONField(default=list)
    # The signing key. Stored as is (signing needs it); the API shows it once, on creation.
    secret = models.CharField(max_length=100, default=new_secret, editable=False)
    is_active = models.BooleanField(
        default=True, help_text="Inactive webhooks are sent nothing; a 410 Gone answer deactivates one."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.target_url


class Delivery(models.Model):
    """One attempt to deliver one event to one webhook."""

    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries")
    event = models.CharField(max_length=50)
    # The outbox message's uuid: ``webhook-id`` is ``msg_`` and its hex, the same on retries.
    message_uuid = models.UUIDField()
    attempt = models.PositiveIntegerField()
    # None when no answer came (refused, timed out, unsafe target).
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    error = models.CharField(max_length=500, blank=True)
    # At most RESPONSE_BODY_MAX_BYTES of the answer, decoded leniently.
    response_body = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "deliveries"
        indexes = [
            # A webhook's log, newest first (the API's list and the admin's filter).
            models.Index(fields=["webhook", "-created_at", "-id"], name="webhooks_delivery_log_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.event} #{self.attempt} to {self.webhook_id}"

    @property
    def message_id(self) -> str:
        return f"msg_{self.message_uuid.hex}"

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300
