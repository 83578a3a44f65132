"""Mail through the outbox: rendered when the write happens, sent by the task worker.

``send`` renders a message from ``templates/email/<name>_subject.txt``, ``<name>.txt`` and
``<name>.html`` and stores it as an ``email`` outbox message inside the caller's
transaction: a write that rolls back sends nothing, and no request waits for a mail
server. The worker sends it with Django's mail API; a mail server that is down or refuses
for now raises, and the outbox tries again later with backoff, so mail is delayed, not
lost. Delivery is at least once: a repeat carries the same ``Message-ID`` (made from the
outbox message's uuid), which lets mail systems and clients drop it.
"""

import logging
import smtplib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.template.loader import render_to_string

from outbox import services as outbox
from outbox.models import Message
from outbox.registry import GiveUp, handler

logger = logging.getLogger(__name__)

EMAIL_TOPIC = "email"


def absolute_url(path: str) -> str:
    """``path`` on the site's public origin (``MAIL_SITE_URL``): mail needs whole links."""
    return f"{settings.MAIL_SITE_URL.rstrip('/')}{path}"


def mail_domain() -> str:
    return urlsplit(settings.MAIL_SITE_URL).hostname or "localhost"


def render(
    *, template: str, to: Sequence[str], context: Mapping[str, Any], headers: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """The message as the outbox stores it: ``{to, subject, text, html, headers}``.

    Text parts are rendered without HTML escaping (their templates turn it off), HTML
    parts with it, so user content (a comment, a title) is shown, never run."""
    context = {
        "site_name": settings.SITE_NAME,
        "site_url": absolute_url("/"),
        **context,
    }
    subject = render_to_string(f"email/{template}_subject.txt", context)
    return {
        "to": list(to),
        # One line, whatever the template or a title put in it: a newline in a header
        # would be refused (or worse, start a header of its own).
        "subject": " ".join(subject.split()),
        "text": render_to_string(f"email/{template}.txt", context),
        "html": render_to_string(f"email/{template}.html", context),
        "headers": dict(headers or {}),
    }


def send(
    *,
    template: str,
    to: Iterable[str],
    context: Mapping[str, Any],
    headers: Mapping[str, str] | None = None,
) -> Message:
    """Render the mail now and have the worker send it after the current transaction
    commits. ``to`` may be empty: the message is then stored and "sent" to nobody, which
    is how a password reset for an unknown address does the same work as for a known one."""
    payload = render(template=template, to=list(to), context=context, headers=headers)
    return outbox.enqueue(topic=EMAIL_TOPIC, payload=payload)


def build(payload: Mapping[str, Any], *, message_id: str, connection: Any = None) -> EmailMultiAlternatives:
    """A Django mail from a rendered payload, with a ``Message-ID`` that stays the same
    when it is sent again."""
    headers = {
        # RFC 3834: written by a machine, so out-of-office replies stay away.
        "Auto-Submitted": "auto-generated",
        **payload.get("headers", {}),
        "Message-ID": f"<{message_id}@{mail_domain()}>",
    }
    mail = EmailMultiAlternatives(
        subject=payload["subject"],
        body=payload["text"],
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=payload["to"],
        headers=headers,
        connection=connection,
    )
    mail.attach_alternative(payload["html"], "text/html")
    return mail


def refused_for_good(exc: Exception) -> bool:
    """Whether the server refused every recipient permanently (a 5xx: no such mailbox):
    trying again would only be refused again."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return bool(exc.recipients) and all(code >= 500 for code, _ in exc.recipients.values())
    return False


@handler(EMAIL_TOPIC)
def send_email(message: Message) -> None:
    """Send one rendered mail. Any failure but a permanent refusal is retried with backoff."""
    payload = message.payload
    if not payload.get("to"):
        return
    try:
        build(payload, message_id=str(message.uuid)).send()
    except Exception as exc:
        if refused_for_good(exc):
            raise GiveUp(f"recipient refused: {exc}") from exc
        raise


def open_connection() -> Any:
    """One connection for a batch of mails (one SMTP session, not one per mail)."""
    return get_connection(fail_silently=False)
