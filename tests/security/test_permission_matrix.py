"""Permission matrix: every object route x method x persona, with the status each gets.

Personas: anonymous, the author (of the post, and of comment ``mine``), another user
(author of comment ``theirs``) and staff. Wherever a request is refused (any 4xx), the
database is shown to be exactly as it was.
"""

import pytest
from django.contrib.auth import get_user_model
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

from accounts.models import Follow
from conftest import client_for
from posts.models import Category, Comment, Like, Post, Tag
from posts.tests.factories import CategoryFactory, CommentFactory, PostFactory

pytestmark = pytest.mark.django_db

PERSONAS = ("anon", "author", "other", "staff")
POST_BODY = {"title": "Replaced", "body": "New body", "status": "published"}

# (route, method, body, expected status for anon, author, other, staff)
MATRIX = [
    # A public post by the author.
    ("/api/v1/posts/public/", "get", None, (200, 200, 200, 200)),
    ("/api/v1/posts/public/", "put", POST_BODY, (401, 200, 403, 200)),
    ("/api/v1/posts/public/", "patch", {"title": "Edited"}, (401, 200, 403, 200)),
    ("/api/v1/posts/public/", "delete", None, (401, 204, 403, 204)),
    ("/api/v1/posts/public/like/", "post", None, (401, 200, 200, 200)),
    ("/api/v1/posts/public/like/", "delete", None, (401, 200, 200, 200)),
    ("/api/v1/posts/public/comments/", "get", None, (200, 200, 200, 200)),
    ("/api/v1/posts/public/comments/", "post", {"body": "Hi"}, (401, 201, 201, 201)),
    # The author's draft: it does not exist for anyone but the author and staff.
    ("/api/v1/posts/draft/", "get", None, (404, 200, 404, 200)),
    ("/api/v1/posts/draft/", "put", POST_BODY, (401, 200, 404, 200)),
    ("/api/v1/posts/draft/", "patch", {"title": "Edited"}, (401, 200, 404, 200)),
    ("/api/v1/posts/draft/", "delete", None, (401, 204, 404, 204)),
    ("/api/v1/posts/draft/like/", "post", None, (401, 200, 404, 200)),
    ("/api/v1/posts/draft/like/", "delete", None, (401, 200, 404, 200)),
    ("/api/v1/posts/draft/comments/", "get", None, (404, 200, 404, 200)),
    ("/api/v1/posts/draft/comments/", "post", {"body": "Hi"}, (401, 201, 404, 201)),
    # Comments on the public post: "mine" by the author, "theirs" by the other user. The
    # post's author may delete (moderate) but not edit other people's comments.
    ("/api/v1/comments/{mine}/", "get", None, (200, 200, 200, 200)),
    ("/api/v1/comments/{mine}/", "patch", {"body": "Edited"}, (401, 200, 403, 200)),
    ("/api/v1/comments/{mine}/", "put", {"body": "Edited"}, (401, 405, 405, 405)),
    ("/api/v1/comments/{mine}/", "delete", None, (401, 204, 403, 204)),
    ("/api/v1/comments/{theirs}/", "patch", {"body": "Edited"}, (401, 403, 200, 200)),
    ("/api/v1/comments/{theirs}/", "delete", None, (401, 204, 204, 204)),
    # A comment on the draft is as invisible as the draft.
    ("/api/v1/comments/{on_draft}/", "get", None, (404, 200, 404, 200)),
    ("/api/v1/comments/{on_draft}/", "patch", {"body": "Edited"}, (401, 200, 404, 200)),
    ("/api/v1/comments/{on_draft}/", "delete", None, (401, 204, 404, 204)),
    # Categories: staff write, everyone reads.
    ("/api/v1/categories/", "post", {"name": "New one"}, (401, 403, 403, 201)),
    ("/api/v1/categories/news/", "get", None, (200, 200, 200, 200)),
    ("/api/v1/categories/news/", "put", {"name": "Renamed", "slug": "news"}, (401, 403, 403, 200)),
    ("/api/v1/categories/news/", "patch", {"description": "Edited"}, (401, 403, 403, 200)),
    ("/api/v1/categories/news/", "delete", None, (401, 403, 403, 204)),
    # Tags are read-only for everyone.
    ("/api/v1/tags/shared/", "get", None, (200, 200, 200, 200)),
    ("/api/v1/tags/shared/", "put", {"name": "x"}, (401, 405, 405, 405)),
    ("/api/v1/tags/shared/", "patch", {"name": "x"}, (401, 405, 405, 405)),
    ("/api/v1/tags/shared/", "delete", None, (401, 405, 405, 405)),
    ("/api/v1/tags/", "post", {"name": "x"}, (401, 405, 405, 405)),
    # Users: the other user's profile; following yourself is a 400.
    ("/api/v1/users/other/", "get", None, (200, 200, 200, 200)),
    ("/api/v1/users/other/", "patch", {"bio": "pwned"}, (405, 405, 405, 405)),
    ("/api/v1/users/other/", "delete", None, (405, 405, 405, 405)),
    ("/api/v1/users/other/follow/", "post", None, (401, 200, 400, 200)),
    ("/api/v1/users/other/follow/", "delete", None, (401, 200, 200, 200)),
    # The caller's own things.
    ("/api/v1/auth/me/", "get", None, (401, 200, 200, 200)),
    ("/api/v1/auth/me/", "patch", {"bio": "Mine"}, (401, 200, 200, 200)),
    # Deleting one's account needs its password: a wrong one deletes nothing.
    ("/api/v1/auth/me/", "delete", {"password": "wrong"}, (401, 400, 400, 400)),
    ("/api/v1/auth/me/export/", "get", None, (401, 200, 200, 200)),
    ("/api/v1/auth/me/posts/", "get", None, (401, 200, 200, 200)),
    ("/api/v1/feed/", "get", None, (401, 200, 200, 200)),
    ("/api/v1/auth/password/", "post", {"old_password": "wrong", "new_password": "x"}, (401, 400, 400, 400)),
]


@pytest.fixture
def world(author, other_user, staff_user):
    """The objects every case acts on; returns the ids the routes name."""
    category = CategoryFactory(slug="news", name="News")
    public = PostFactory(author=author, slug="public", category=category, tags=["shared"])
    draft = PostFactory(author=author, slug="draft", draft=True)
    return {
        "mine": CommentFactory(post=public, author=author).pk,
        "theirs": CommentFactory(post=public, author=other_user).pk,
        "on_draft": CommentFactory(post=draft, author=author).pk,
        "users": {"anon": None, "author": author, "other": other_user, "staff": staff_user},
    }


def snapshot() -> dict[str, list]:
    """Every row a request could change, as plain values."""
    user_model = get_user_model()
    return {
        "users": list(user_model.objects.order_by("pk").values()),
        "posts": list(Post.objects.order_by("pk").values()),
        "post_tags": list(Post.tags.through.objects.order_by("pk").values()),
        "comments": list(Comment.objects.order_by("pk").values()),
        "likes": list(Like.objects.order_by("pk").values()),
        "follows": list(Follow.objects.order_by("pk").values()),
        "categories": list(Category.objects.order_by("pk").values()),
        "tags": list(Tag.objects.order_by("pk").values()),
        "tokens": list(OutstandingToken.objects.order_by("pk").values("pk", "jti")),
    }


CASES = [
    pytest.param(route, method, body, persona, expected[i], id=f"{method.upper()} {route} as {persona}")
    for route, method, body, expected in MATRIX
    for i, persona in enumerate(PERSONAS)
]


@pytest.mark.parametrize(("route", "method", "body", "persona", "expected"), CASES)
def test_permission_matrix(world, route, method, body, persona, expected):
    client = client_for(world["users"][persona])
    url = route.format(**{k: v for k, v in world.items() if k != "users"})
    before = snapshot()
    response = getattr(client, method)(url, body, format="json") if body else getattr(client, method)(url)
    assert response.status_code == expected, response.content
    if 400 <= expected < 500:
        assert response["Content-Type"].startswith("application/json")
        assert snapshot() == before, "a refused request changed the database"
    if expected == 401:
        assert response["WWW-Authenticate"].startswith("Bearer")
