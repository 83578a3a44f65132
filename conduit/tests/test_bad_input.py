"""Hostile input to the RealWorld API is a 4xx in its error shape, never a 500."""

import pytest

from posts.models import Post
from posts.tests.factories import PostFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("method", "url", "body"),
    [
        (
            "post",
            "/api/users",
            {"user": {"username": "a\x00", "email": "a@example.com", "password": "x" * 9}},
        ),
        ("post", "/api/users/login", {"user": {"email": "a\x00@example.com", "password": "x"}}),
        ("put", "/api/user", {"user": {"bio": "\x00"}}),
        ("put", "/api/user", {"user": {"image": "https://example.com/\x00"}}),
        ("post", "/api/articles", {"article": {"title": "\x00", "description": "d", "body": "b"}}),
        (
            "post",
            "/api/articles",
            {"article": {"title": "t", "description": "d", "body": "b", "tagList": ["\x00"]}},
        ),
        (
            "post",
            "/api/articles",
            {"article": {"title": "t", "description": "d", "body": "b", "tagList": ["x"] * 1000}},
        ),
        (
            "post",
            "/api/articles",
            {"article": {"title": "t", "description": "d", "body": "b", "tagList": [{"a": 1}]}},
        ),
        ("post", "/api/articles", {"article": {"title": "t" * 1000, "description": "d", "body": "b"}}),
        ("post", "/api/articles", {"article": ["not", "an", "object"]}),
        ("post", "/api/articles/{slug}/comments", {"comment": {"body": "hi\x00"}}),
        ("post", "/api/articles/{slug}/comments", {"comment": {"body": "x" * 10_000}}),
    ],
)
def test_bad_bodies_are_422_and_write_nothing(author_conduit, author, method, url, body):
    post = PostFactory(author=author)
    before = (Post.objects.count(), post.comments.count())

    response = getattr(author_conduit, method)(url.format(slug=post.slug), body, format="json")

    assert response.status_code == 422
    assert "errors" in response.json()
    assert (Post.objects.count(), post.comments.count()) == before


@pytest.mark.parametrize(
    "url",
    [
        "/api/articles?limit=99999999999999999999999",
        "/api/articles?offset=99999999999999999999999",
        "/api/articles?author=%F0%9F%90%8D&tag=%F0%9F%90%8D&favorited=x",
        "/api/profiles/%F0%9F%90%8D",
        "/api/articles/%F0%9F%90%8D/comments",
    ],
)
def test_odd_query_and_path_values_are_not_server_errors(author_conduit, url):
    response = author_conduit.get(url)

    assert response.status_code in {200, 404}
