"""Visibility rules for posts and comments, in one place.

A post is *public* when it is published and its ``published_at`` has come; a published
post with a future ``published_at`` is *scheduled* and turns public by itself, since
every query compares with the current time. Everyone else's non-public posts exist
only for their author and staff.
"""

from django.db import models
from django.db.models import Q
from django.utils import timezone


class PostQuerySet(models.QuerySet):
    def public(self) -> "PostQuerySet":
        return self.filter(status="published", published_at__lte=timezone.now())

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
        return self.filter(Q(status="published", published_at__lte=timezone.now()) | Q(author_id=user.pk))

    def with_status(self, status: str) -> "PostQuerySet":
        """Filter by the status a reader sees: ``draft``, ``scheduled`` or ``published``
        (public now)."""
        return {"draft": self.drafts, "scheduled": self.scheduled, "published": self.public}[status]()

    def for_listing(self) -> "PostQuerySet":
        """What a list item needs, in one query plus one for the tags."""
        return (
            self.select_related("author", "category")
            .prefetch_related("tags")
            .defer("body", "body_html", "search_vector", "author__password", "author__bio")
        )


class CommentQuerySet(models.QuerySet):
    def visible_to(self, user) -> "CommentQuerySet":
        """Comments on posts the user may see; hidden (moderated) comments only for staff."""
        from posts.models import Post

        posts = Post.objects.visible_to(user)
        comments = self.filter(post__in=posts)
        if user is None or not user.is_staff:
            comments = comments.filter(is_hidden=False)
        return comments
