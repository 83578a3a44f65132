"""Conduit's own reads: profiles with the viewer's follow, and the tag names.

Articles and comments come from ``posts.selectors``, as every face's do.
"""

from django.db.models import Exists, OuterRef, QuerySet

from accounts.models import Follow, User
from posts.models import Tag


def _viewer(user) -> User | None:
    return user if user is not None and user.is_authenticated else None


def _follows(viewer: User | None, field: str) -> Exists | None:
    if viewer is None:
        return None
    return Exists(Follow.objects.filter(follower=viewer, followed=OuterRef(field)))


def profiles_for(user) -> QuerySet:
    """Active users with their avatars, annotated with whether ``user`` follows each."""
    users = User.objects.filter(is_active=True).select_related("avatar").defer("password")
    viewer = _viewer(user)
    if viewer is not None:
        users = users.annotate(following=_follows(viewer, "pk"))
    return users


def tag_names() -> QuerySet:
    """Names of the tags on at least one public post, most used first."""
    return Tag.objects.in_use().order_by("-post_count", "name").values_list("name", flat=True)
