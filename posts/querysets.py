"""Visibility rules for posts and comments, in one place.

How a face reads posts (which columns, which plan) is ``posts.selectors``' business; these
are the rules it and the writes build on.

A post is *public* when it is published and its ``published_at`` has come; a published
post with a future ``published_at`` is *scheduled* and turns public by itself, since
every query compares with the current time. Everyone else's non-public posts exist
only for their author and staff.
"""

from datetime import datetime

from django.db import models
from django.db.models import Count, Q
from django.utils import timezone


def is_public(prefix: str = "", *, at: datetime | None = None) -> Q:
    """The rule for a public post (now, or ``at`` a given moment), for posts or (with
    ``prefix``, e.g. ``"posts__"``) for a model that reaches posts through a relation."""
    moment = timezone.now() if at is None else at
    return Q(**{f"{prefix}status": "published", f"{prefix}published_at__lte": moment})


class PostQuerySet(models.QuerySet):
    def public(self, *, at: datetime | None = None) -> "PostQuerySet":
        return self.filter(is_public(at=at))

    def scheduled(self) -> "PostQuerySet":
        return self.filter(status="published", published_at__gt=timezone.now())

    def drafts(self) -> "PostQuerySet":
        return self.filter(status="draft")

    def visible_to(self, user) -> "PostQuerySet":
        """Public posts, plus the user's own; staff see everything."""
        if user is None or not user.is_authenticated:
            return self.public()
        if user.is_staff:
            return self.all()
        return self.filter(is_public() | Q(author_id=user.pk))

    def with_status(self, status: str) -> "PostQuerySet":
        """Filter by the status a reader sees: ``draft``, ``scheduled`` or ``published``
        (public now)."""
        return {"draft": self.drafts, "scheduled": self.scheduled, "published": self.public}[status]()


class CommentQuerySet(models.QuerySet):
    def visible_to(self, user) -> "CommentQuerySet":
        """Comments on posts the user may see; hidden (moderated) comments only for staff."""
        from posts.models import Post

        posts = Post.objects.visible_to(user)
        comments = self.filter(post__in=posts)
        if user is None or not user.is_staff:
            comments = comments.filter(is_hidden=False)
        return comments


class TagQuerySet(models.QuerySet):
    def in_use(self) -> "TagQuerySet":
        """Tags with at least one public post, with their ``post_count`` of public posts,
        most used first."""
        return (
            self.annotate(post_count=Count("posts", filter=is_public("posts__")))
            .filter(post_count__gt=0)
            .order_by("-post_count", "slug")
        )


class CategoryQuerySet(models.QuerySet):
    def with_post_counts(self) -> "CategoryQuerySet":
        """Every category, with its ``post_count`` of public posts."""
        return self.annotate(post_count=Count("posts", filter=is_public("posts__")))
