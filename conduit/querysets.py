"""What the RealWorld representations need, annotated in the query that fetches them.

``favorited`` and ``author_following`` are per-viewer ``EXISTS`` subqueries, so a page of
articles costs one query plus one for the tags whoever asks.
"""

from django.db.models import Exists, OuterRef, QuerySet

from accounts.models import Follow, User
from posts.models import Comment, Like, Post, Tag


def _viewer(user) -> User | None:
    return user if user is not None and user.is_authenticated else None


def _follows(viewer: User | None, field: str) -> Exists | None:
    if viewer is None:
        return None
    return Exists(Follow.objects.filter(follower=viewer, followed=OuterRef(field)))


def articles_for(user, *, visible: QuerySet | None = None) -> QuerySet:
    """Posts with their author and tags, annotated for ``user``; public posts unless
    ``visible`` says otherwise (``Post.objects.visible_to(user)`` for a single article)."""
    posts = Post.objects.public() if visible is None else visible
    posts = (
        posts.select_related("author")
        .prefetch_related("tags")
        .defer("body_html", "search_vector", "author__password")
        .order_by("-published_at", "-id")
    )
    viewer = _viewer(user)
    if viewer is not None:
        posts = posts.annotate(
            favorited=Exists(Like.objects.filter(post=OuterRef("pk"), user=viewer)),
            author_following=_follows(viewer, "author_id"),
        )
    return posts


def feed_for(user: User) -> QuerySet:
    """Our feed: public posts by the authors ``user`` follows, newest first."""
    followed = Follow.objects.filter(follower=user).values("followed_id")
    return articles_for(user).filter(author_id__in=followed)


def profiles_for(user) -> QuerySet:
    """Active users, annotated with whether ``user`` follows each."""
    users = User.objects.filter(is_active=True).defer("password")
    viewer = _viewer(user)
    if viewer is not None:
        users = users.annotate(following=_follows(viewer, "pk"))
    return users


def comments_for(user, post: Post) -> QuerySet:
    """The comments on ``post`` that ``user`` may see, oldest first, with their authors."""
    comments = (
        Comment.objects.visible_to(user)
        .filter(post=post)
        .select_related("author")
        .defer("author__password")
        .order_by("created_at", "id")
    )
    viewer = _viewer(user)
    if viewer is not None:
        comments = comments.annotate(author_following=_follows(viewer, "author_id"))
    return comments


def tag_names() -> QuerySet:
    """Names of the tags on at least one public post, most used first."""
    return Tag.objects.in_use().order_by("-post_count", "name").values_list("name", flat=True)
