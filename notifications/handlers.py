"""The worker's side of the follower notifications (see ``notifications.services``).

A fan-out message picks the next batch of followers; a batch message renders and sends
their mails over one connection, re-checking each follower's choice (someone may have
unsubscribed since the fan-out). Mail about a post that is no longer public (unpublished,
deleted, or moved back to a later date) is not sent.
"""

import logging

from django.db.models import QuerySet

from accounts.models import User
from notifications import mail, services
from outbox import services as outbox
from outbox.models import Message
from outbox.registry import handler
from posts.models import Post

logger = logging.getLogger(__name__)

# A batch that stopped part-way continues, for the followers not yet mailed, after this.
CONTINUE_AFTER_SECONDS = 60.0


def _public_post(post_id: object) -> Post | None:
    if not isinstance(post_id, int):
        return None
    return Post.objects.public().select_related("author").filter(pk=post_id).first()


@handler(services.FAN_OUT_TOPIC)
def fan_out(message: Message) -> None:
    post = _public_post(message.payload.get("post_id"))
    if post is None:
        return
    services.fan_out(post=post, after=int(message.payload.get("after", 0)))


def _recipients(user_ids: list[int]) -> QuerySet[User]:
    return (
        User.objects.filter(pk__in=user_ids, is_active=True, notify_followed_posts=True)
        .exclude(email="")
        .only("pk", "email", "username", "display_name")
        .order_by("pk")
    )


@handler(services.NEW_POST_TOPIC)
def send_new_post_batch(message: Message) -> None:
    """Mail one batch of followers about a new post.

    If the mail server fails part-way, the followers already mailed are not mailed again:
    the rest go into a new message, tried again a minute later. If it fails on the first
    mail, the batch is retried whole with the outbox's backoff (nothing was sent)."""
    post = _public_post(message.payload.get("post_id"))
    user_ids = [pk for pk in message.payload.get("user_ids", []) if isinstance(pk, int)]
    if post is None or not user_ids:
        return
    recipients = list(_recipients(user_ids))
    connection = mail.open_connection()
    sent = 0
    try:
        connection.open()
        for index, recipient in enumerate(recipients):
            payload = services.new_post_mail(post=post, recipient=recipient)
            try:
                mail.build(payload, message_id=f"{message.uuid}.{recipient.pk}", connection=connection).send()
            except Exception as exc:
                if mail.refused_for_good(exc):
                    logger.warning("notifications: %s refused for good: %s", recipient.email, exc)
                    continue
                if index == 0:
                    raise
                rest = [each.pk for each in recipients[index:]]
                outbox.enqueue(
                    topic=services.NEW_POST_TOPIC,
                    payload={"post_id": post.pk, "user_ids": rest},
                    delay=CONTINUE_AFTER_SECONDS,
                )
                logger.info(
                    "notifications: batch %s stopped after %d mails (%s); %d to go later",
                    message.uuid,
                    sent,
                    exc,
                    len(rest),
                )
                return
            sent += 1
    finally:
        connection.close()
