"""What post and comment writes tell the outside world: webhook events (Ghost's names)
and the mail notifications. One function per event, called by ``posts.services`` inside
the write's transaction, so that a write that rolls back tells nobody anything.

**Once per post.** A post's becoming public is recorded in ``Post.announced_at`` by a
conditional update (``... SET announced_at = now WHERE id = ... AND announced_at IS NULL
AND <public>``); only the caller whose update changed the row emits ``post.published``
and tells the followers. So a publish racing the beat, two beats, or a retried task never
announce a post twice. Withdrawing it (back to draft, or rescheduled into the future)
clears the mark the same way, emitting ``post.unpublished`` once, and a post published
again is announced again. ``announced_at`` is written only here (``Post.save`` leaves it
alone), so a save from an instance read before an announcement cannot undo it.

Bulk paths (``seed_blog``, ``recount``, comment moderation) emit nothing; deleting an
account tells of each of its posts (``posts_deleted``).
"""

import logging
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from notifications import services as notifications
from posts.models import Comment, Post
from posts.querysets import is_public
from webhooks import services as webhooks

logger = logging.getLogger(__name__)

# Fields of a post's representation that are not worth an event on their own.
_NOT_AN_EDIT = {"updated_at"}


# --- Representations ------------------------------------------------------------------


def post_data(post: Post) -> dict[str, Any]:
    """The post as the API's detail shows it, without the viewer's ``liked``, with
    absolute URLs on ``SITE_URL`` (when set)."""
    from posts.serializers import PostDetailSerializer

    data = dict(PostDetailSerializer(post).data)
    data.pop("liked", None)
    if hasattr(post, "tag_list"):
        # A selector's ``tag_list`` may predate the write: from the database instead.
        data["tags"] = list(post.tags.order_by("slug").values_list("slug", flat=True))
    url = data.get("url")
    if settings.SITE_URL and isinstance(url, str) and url.startswith("/"):
        data["url"] = f"{settings.SITE_URL}{url}"
    return data


def comment_data(comment: Comment) -> dict[str, Any]:
    from posts.serializers import CommentSerializer

    return dict(CommentSerializer(comment).data)


def snapshot(*, post: Post, from_database: bool = False) -> dict[str, Any] | None:
    """The post's representation before an edit, for ``post.published.edited``'s
    ``previous``; None when no one could be told of the edit (the post is not announced,
    or no webhook listens). ``from_database`` when ``post`` already holds the new values
    (the admin's form has applied them)."""
    if post.pk is None or not webhooks.is_subscribed("post.published.edited"):
        return None
    if from_database:
        post = Post.objects.select_related("author", "category", "cover_image").filter(pk=post.pk).first()
        if post is None:
            return None
    if post.announced_at is None:
        return None
    return post_data(post)


# --- Events -----------------------------------------------------------------------------


def post_created(*, post: Post) -> None:
    """``post.added`` (whatever its status), then ``post.published`` if it is public."""
    webhooks.emit(event="post.added", data=lambda: post_data(post))
    announce(post=post)


def post_saved(*, post: Post, before: dict[str, Any] | None) -> None:
    """After an edit of an existing post (the API's, Conduit's or the admin's): announce
    it if it became public, withdraw it if it stopped being public, else tell of the edit
    if it is public and something shown changed (``before``: its ``snapshot``)."""
    now = timezone.now()
    if post.status == Post.Status.PUBLISHED and post.published_at is not None and post.published_at <= now:
        if announce(post=post, now=now):
            return  # post.published carries the new state
        if before is None:
            return
        after = post_data(post)
        previous = {key: value for key, value in before.items() if key in after and after[key] != value}
        if set(previous) - _NOT_AN_EDIT:
            webhooks.emit(event="post.published.edited", data=after, previous=previous)
    else:
        withdraw(post=post)


def announce(*, post: Post, now: datetime | None = None) -> bool:
    """Record that ``post`` became public and, if this call is the one that recorded it,
    emit ``post.published`` and tell the author's followers. True when it did."""
    now = now or timezone.now()
    won = (
        Post.objects.filter(is_public(at=now), pk=post.pk, announced_at__isnull=True).update(announced_at=now)
        == 1
    )
    if not won:
        return False
    post.announced_at = now
    webhooks.emit(event="post.published", data=lambda: post_data(post))
    notifications.post_published(post=post)
    return True


def withdraw(*, post: Post) -> bool:
    """Record that an announced ``post`` is no longer public and, if this call recorded
    it, emit ``post.unpublished``. True when it did."""
    won = Post.objects.filter(pk=post.pk, announced_at__isnull=False).update(announced_at=None) == 1
    if not won:
        return False
    post.announced_at = None
    webhooks.emit(event="post.unpublished", data=lambda: post_data(post))
    return True


def announced_ids(posts: Iterable[Post] | Any) -> list[int]:
    """The ids of those of ``posts`` (a queryset) that are announced: read before a bulk
    change that may make the queryset match nothing afterwards."""
    return list(posts.filter(announced_at__isnull=False).order_by().values_list("pk", flat=True))


def unannounced_ids(posts: Any) -> list[int]:
    return list(posts.filter(announced_at__isnull=True).order_by().values_list("pk", flat=True))


def _posts(ids: Iterable[int]) -> Iterable[Post]:
    posts = Post.objects.filter(pk__in=list(ids)).select_related("author", "category", "cover_image")
    return posts.order_by("pk")


def announce_each(*, ids: Iterable[int]) -> int:
    """``announce`` those of the posts that are public now (a bulk publish)."""
    now = timezone.now()
    return sum(announce(post=post, now=now) for post in _posts(ids))


def withdraw_each(*, ids: Iterable[int]) -> int:
    """``withdraw`` those of the posts that are not public any more (a bulk unpublish)."""
    now = timezone.now()
    return sum(
        withdraw(post=post)
        for post in _posts(ids)
        if not (post.status == Post.Status.PUBLISHED and post.published_at and post.published_at <= now)
    )


def post_deleted(*, post: Post) -> None:
    """``post.deleted``, with the post as it was; call it before deleting."""
    webhooks.emit(event="post.deleted", data=lambda: post_data(post))


def posts_deleted(*, posts: Any) -> int:
    """``post.deleted`` for each of ``posts`` (a queryset), as it was: their author's
    account is being deleted, and receivers that copied them must learn they are gone
    as they would of one deleted alone. Call it before deleting; nothing is read when
    no webhook listens. Returns how many posts were told of."""
    if not webhooks.is_subscribed("post.deleted"):
        return 0
    gone = posts.select_related("author", "category", "cover_image").prefetch_related("tags")
    told = 0
    for post in gone.defer("search_vector").order_by("pk").iterator(chunk_size=500):
        post_deleted(post=post)
        told += 1
    return told


def comment_added(*, comment: Comment) -> None:
    webhooks.emit(event="comment.added", data=lambda: comment_data(comment))
    notifications.comment_added(comment=comment)


# --- The beat ---------------------------------------------------------------------------

ANNOUNCE_BATCH = 500


def announce_due(*, limit: int = ANNOUNCE_BATCH) -> int:
    """Announce the posts that have become public since and are not announced yet
    (scheduled posts whose time came), each in a transaction of its own. Returns how
    many this call announced; a post another caller announced first is skipped."""
    now = timezone.now()
    due = list(
        Post.objects.filter(is_public(at=now), announced_at__isnull=True)
        .order_by("published_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    announced = 0
    for pk in due:
        try:
            with transaction.atomic():
                post = _posts([pk])
                announced += sum(announce(post=each, now=now) for each in post)
        except Exception:
            # One post that fails (a database hiccup) must not stop the others; the next
            # beat tries it again, since it is still unannounced.
            logger.exception("could not announce post %s", pk)
    return announced
