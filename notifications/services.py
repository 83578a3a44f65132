"""Mail that tells people about content: an author about a new comment, followers about a
post that became public. Both are written to the outbox inside the caller's transaction
(a rolled-back write sends nothing) and sent by the task worker.

A new post's followers go out in batches, never as one task: the write stores one small
``notifications.fan_out`` message; its handler (``notifications.handlers``) reads the next
``BATCH_SIZE`` followers by id and stores a ``notifications.new_post`` message for them
plus the next fan-out, and each of those renders and sends its batch over one connection.
An author with 10,000 followers is 50 fan-outs and 50 batches, each a few queries.

Every notification carries a one-click unsubscribe link (RFC 8058) with a signed token:
the user's id and which notification, so it needs no login and turns off only that one.
"""

from dataclasses import dataclass

from django.core import signing
from django.db import transaction
from django.urls import reverse

from accounts.models import Follow, User
from notifications import mail
from outbox import services as outbox
from posts.models import Comment, Post

FAN_OUT_TOPIC = "notifications.fan_out"
NEW_POST_TOPIC = "notifications.new_post"
# Mails per outbox message: one SMTP session each, a few seconds of work.
BATCH_SIZE = 200
# The longest comment quoted whole in a mail; longer ones are cut with an ellipsis.
QUOTE_MAX_LENGTH = 2000

# Which notification a token turns off -> the user's field that says whether it is on.
KINDS = {"comments": "notify_comments", "followed_posts": "notify_followed_posts"}
_UNSUBSCRIBE_SALT = "notifications.unsubscribe"


class BadUnsubscribeToken(Exception):
    """The token is not one this site signed, or its account is gone."""


@dataclass(frozen=True)
class Unsubscribed:
    user: User
    kind: str
    field: str


def unsubscribe_token(*, user: User, kind: str) -> str:
    """A token that turns ``kind`` off for ``user``. It never expires: an old mail's link
    must keep working, and all it can do is stop mail."""
    if kind not in KINDS:
        raise ValueError(kind)
    return signing.Signer(salt=_UNSUBSCRIBE_SALT).sign_object({"u": user.pk, "k": kind})


def read_unsubscribe_token(*, token: str) -> Unsubscribed:
    """Whose and which notification ``token`` names; ``BadUnsubscribeToken`` otherwise."""
    try:
        data = signing.Signer(salt=_UNSUBSCRIBE_SALT).unsign_object(token)
    except (signing.BadSignature, ValueError, TypeError) as exc:
        raise BadUnsubscribeToken() from exc
    kind = data.get("k") if isinstance(data, dict) else None
    user_id = data.get("u") if isinstance(data, dict) else None
    if kind not in KINDS or not isinstance(user_id, int):
        raise BadUnsubscribeToken()
    user = User.objects.filter(pk=user_id).first()
    if user is None:
        raise BadUnsubscribeToken()
    return Unsubscribed(user=user, kind=kind, field=KINDS[kind])


def unsubscribe(*, token: str) -> Unsubscribed:
    """Turn off the notification ``token`` names; idempotent."""
    target = read_unsubscribe_token(token=token)
    User.objects.filter(pk=target.user.pk).update(**{target.field: False})
    setattr(target.user, target.field, False)
    return target


def unsubscribe_headers(*, user: User, kind: str) -> tuple[str, dict[str, str]]:
    """The unsubscribe link and the headers that let mail clients offer it (RFC 2369,
    RFC 8058's one-click POST)."""
    url = mail.absolute_url(reverse("web:unsubscribe", args=[unsubscribe_token(user=user, kind=kind)]))
    return url, {"List-Unsubscribe": f"<{url}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}


def quote(text: str) -> str:
    text = text.strip()
    return text if len(text) <= QUOTE_MAX_LENGTH else text[: QUOTE_MAX_LENGTH - 1].rstrip() + "…"


def comment_added(*, comment: Comment) -> None:
    """Tell the post's author about ``comment`` (unless they opted out, or wrote it)."""
    post = comment.post
    if comment.author_id == post.author_id:
        return
    recipient = (
        User.objects.filter(pk=post.author_id, is_active=True, notify_comments=True)
        .exclude(email="")
        .only("pk", "email", "username", "display_name")
        .first()
    )
    if recipient is None:
        return
    unsubscribe_url, headers = unsubscribe_headers(user=recipient, kind="comments")
    mail.send(
        template="comment_added",
        to=[recipient.email],
        headers=headers,
        context={
            "recipient": recipient.public_name,
            "commenter": comment.author.public_name,
            "post_title": post.title,
            "comment_url": mail.absolute_url(f"{post.get_absolute_url()}#comment-{comment.pk}"),
            "comment": quote(comment.body),
            "unsubscribe_url": unsubscribe_url,
            "settings_url": mail.absolute_url(reverse("web:settings")),
        },
    )


def post_published(*, post: Post) -> None:
    """Tell the author's followers that ``post`` became public (those who opted out aside),
    in batches."""
    if Follow.objects.filter(followed_id=post.author_id).exists():
        outbox.enqueue(topic=FAN_OUT_TOPIC, payload={"post_id": post.pk, "after": 0})


def next_followers(*, post: Post, after: int) -> list[int]:
    """The ids of the next ``BATCH_SIZE`` followers of the post's author, past ``after``,
    who want to hear about new posts and have an address; one query on the follow index."""
    return list(
        User.objects.filter(
            following_set__followed_id=post.author_id,
            pk__gt=after,
            is_active=True,
            notify_followed_posts=True,
        )
        .exclude(email="")
        .order_by("pk")
        .values_list("pk", flat=True)[:BATCH_SIZE]
    )


def fan_out(*, post: Post, after: int) -> list[int]:
    """Store the batch of followers past ``after`` and, when it is full, the fan-out that
    continues past it: together, so that a repeat of this step repeats both or neither."""
    ids = next_followers(post=post, after=after)
    if ids:
        with transaction.atomic():
            outbox.enqueue(topic=NEW_POST_TOPIC, payload={"post_id": post.pk, "user_ids": ids})
            if len(ids) == BATCH_SIZE:
                outbox.enqueue(topic=FAN_OUT_TOPIC, payload={"post_id": post.pk, "after": ids[-1]})
    return ids


def new_post_mail(*, post: Post, recipient: User) -> dict:
    unsubscribe_url, headers = unsubscribe_headers(user=recipient, kind="followed_posts")
    return mail.render(
        template="post_published",
        to=[recipient.email],
        headers=headers,
        context={
            "recipient": recipient.public_name,
            "author": post.author.public_name,
            "post_title": post.title,
            "post_excerpt": post.excerpt,
            "post_url": mail.absolute_url(post.get_absolute_url()),
            "unsubscribe_url": unsubscribe_url,
            "settings_url": mail.absolute_url(reverse("web:settings")),
        },
    )
