"""Reads of accounts that more than one face shows: the public profile.

The API's profile and the author page call :func:`public_profile`; how it is read fast
(SQL compiled once per process for anonymous readers on PostgreSQL) stays here.
"""

import functools
from datetime import UTC, datetime
from typing import Any

from django.db import connection
from django.db.models import Count, Exists, OuterRef, QuerySet, Subquery, Value
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
        rows = _anonymous_profile_query(connection.alias).fetch(username=username.lower(), now=now)
    else:
        rows = list(_profiles(username, now, viewer)[:1])
    return rows[0] if rows else None


def _profiles(username: str, now: datetime, viewer: Any) -> QuerySet:
    from posts.models import Post  # posts depends on accounts, not the reverse

    def count_of(queryset: QuerySet, field: str) -> Coalesce:
        counted = queryset.filter(**{field: OuterRef("pk")}).order_by().values(field)
        return Coalesce(Subquery(counted.annotate(n=Count("*")).values("n")), 0)

    users = User.objects.filter(is_active=True).with_username(username).select_related("avatar").order_by()
    users = users.annotate(
        post_count=count_of(Post.objects.public(at=now), "author"),
        follower_count=count_of(Follow.objects.all(), "followed"),
        following_count=count_of(Follow.objects.all(), "follower"),
    )
    if viewer is not None and viewer.is_authenticated:
        return users.annotate(
            following=Exists(Follow.objects.filter(follower=viewer, followed=OuterRef("pk")))
        )
    return users.annotate(following=Value(False))


@functools.cache
def _anonymous_profile_query(db: str) -> PreparedQuery:
    profiles = _profiles(_USERNAME_PLACEHOLDER, _NOW_PLACEHOLDER, None).using(db)
    return PreparedQuery(profiles[:1], username=_USERNAME_PLACEHOLDER, now=_NOW_PLACEHOLDER)
