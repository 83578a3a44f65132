"""Reads of accounts that more than one face shows: the public profile, and everything
an account owns (its export).

The API's profile and the author page call :func:`public_profile`; how it is read fast
(SQL compiled once per process for anonymous readers on PostgreSQL) stays here.
``GET /api/v1/auth/me/export/`` (which the settings page links to) calls
:func:`account_export`.
"""

import functools
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db import connection
from django.db.models import Count, Exists, F, OuterRef, Prefetch, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import Follow, User
from config.prepared import PreparedQuery

# Stand-ins the anonymous profile's query is compiled with (see config.prepared).
_USERNAME_PLACEHOLDER = "\x00username"
_NOW_PLACEHOLDER = datetime(1, 1, 1, 0, 0, 4, 567891, tzinfo=UTC)


def public_profile(*, username: str, viewer: Any) -> User | None:
    """The active user ``username`` (any case) as anyone may see them, or None: with
    their avatar, ``post_count`` (public posts), ``follower_count``, ``following_count``
    and ``following`` (whether ``viewer`` follows them)."""
    now = timezone.now()
    if (viewer is None or not viewer.is_authenticated) and connection.vendor == "postgresql":
        rows = _anonymous_profile_query().fetch(username=username.lower(), now=now)
    else:
        rows = list(_profiles(username, now, viewer)[:1])
    return rows[0] if rows else None


def _count_of(queryset: QuerySet, field: str) -> Coalesce:
    """The number of ``queryset``'s rows whose ``field`` is the outer row, as a subquery."""
    counted = queryset.filter(**{field: OuterRef("pk")}).order_by().values(field)
    return Coalesce(Subquery(counted.annotate(n=Count("*")).values("n")), 0)


def _profiles(username: str, now: datetime, viewer: Any) -> QuerySet:
    from posts.models import Post  # posts depends on accounts, not the reverse

    users = User.objects.filter(is_active=True).with_username(username).select_related("avatar").order_by()
    users = users.annotate(
        post_count=_count_of(Post.objects.public(at=now), "author"),
        follower_count=_count_of(Follow.objects.all(), "followed"),
        following_count=_count_of(Follow.objects.all(), "follower"),
    )
    if viewer is not None and viewer.is_authenticated:
        return users.annotate(
            following=Exists(Follow.objects.filter(follower=viewer, followed=OuterRef("pk")))
        )
    return users.annotate(following=Value(False))


@functools.cache
def _anonymous_profile_query() -> PreparedQuery:
    profiles = _profiles(_USERNAME_PLACEHOLDER, _NOW_PLACEHOLDER, None)
    return PreparedQuery(profiles[:1], username=_USERNAME_PLACEHOLDER, now=_NOW_PLACEHOLDER)


@dataclass(frozen=True)
class AccountExport:
    """Everything an account owns, each list oldest first. ``comments`` and ``likes``
    carry ``post_slug``: the post's slug, or None when the owner may no longer see the
    post (its author made it a draft again)."""

    exported_at: datetime
    profile: User
    posts: list[Any]
    comments: list[Any]
    likes: list[Any]
    follows: dict[str, list[dict[str, Any]]]
    uploads: list[Any]


def account_export(*, user: User) -> AccountExport:
    """What ``user`` owns, in a fixed number of queries however much it is (eight): the
    private profile with its notification choices, their posts of every status with
    bodies, tags, category and cover, their comments (hidden ones too) and likes, whom
    they follow and who follows them (active accounts), and their uploads.

    Read whole, not paged: one person's writing is bounded by what one person writes
    (README, "API decisions"), and a single document is what a person moving out wants."""
    from images.models import Image
    from posts.models import Comment, Like, Post, Tag

    def visible_slug() -> Subquery:
        # What the owner may still see of the post they commented on or liked: its slug,
        # or None once its author withdrew it (no title or slug of a draft leaks).
        visible = Post.objects.visible_to(user).filter(pk=OuterRef("post_id"))
        return Subquery(visible.values("slug")[:1])

    def people(follows: QuerySet, side: str) -> list[dict[str, Any]]:
        rows = follows.filter(**{f"{side}__is_active": True}).order_by("created_at", "pk")
        names = {"username": F(f"{side}__username"), "display_name": F(f"{side}__display_name")}
        return list(rows.values("created_at", **names))

    posts = (
        Post.objects.filter(author_id=user.pk)
        .select_related("author", "category", "cover_image")
        .prefetch_related(Prefetch("tags", queryset=Tag.objects.order_by("slug"), to_attr="tag_list"))
        .defer("search_vector", "author__password")
        .order_by("created_at", "pk")
    )
    comments = Comment.objects.filter(author_id=user.pk).annotate(post_slug=visible_slug())
    likes = Like.objects.filter(user_id=user.pk).annotate(post_slug=visible_slug())
    return AccountExport(
        exported_at=timezone.now(),
        profile=User.objects.select_related("avatar").get(pk=user.pk),
        posts=list(posts),
        comments=list(comments.order_by("created_at", "pk")),
        likes=list(likes.order_by("created_at", "pk")),
        follows={
            "following": people(Follow.objects.filter(follower_id=user.pk), "followed"),
            "followers": people(Follow.objects.filter(followed_id=user.pk), "follower"),
        },
        uploads=list(Image.objects.filter(owner_id=user.pk).order_by("created_at", "pk")),
    )


def owned_counts(*, user: User) -> dict[str, int]:
    """How many posts (every status), comments, likes and uploads ``user`` has, and how
    many follows either way (``following``, ``followers``): what deleting the account
    takes with it. One query."""
    from images.models import Image
    from posts.models import Comment, Like, Post

    counted = {
        "posts": _count_of(Post.objects.all(), "author"),
        "comments": _count_of(Comment.objects.all(), "author"),
        "likes": _count_of(Like.objects.all(), "user"),
        "uploads": _count_of(Image.objects.all(), "owner"),
        "following": _count_of(Follow.objects.all(), "follower"),
        "followers": _count_of(Follow.objects.all(), "followed"),
    }
    # Named apart from the model's relations (``posts``, ``comments``...), then back.
    row = (
        User.objects.filter(pk=user.pk)
        .values(**{f"n_{name}": count for name, count in counted.items()})
        .get()
    )
    return {name: row[f"n_{name}"] for name in counted}
