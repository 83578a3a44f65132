"""Garbage in: always a clear 4xx, never a 5xx, and nothing changes."""

import pytest

from posts.models import Comment, Post
from posts.tests.factories import CategoryFactory, PostFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "param", ["author", "tag", "category", "search", "published_after", "ordering", "page", "page_size"]
)
def test_nul_in_a_query_parameter_is_400(anon_client, param):
    PostFactory()
    assert anon_client.get("/api/v1/posts/", {param: "a\x00b"}).status_code == 400


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/posts/a%00b/",
        "/api/v1/posts/a%00b/comments/",
        "/api/v1/users/a%00b/",
        "/api/v1/tags/a%00b/",
        "/api/v1/categories/a%00b/",
        "/api/v1/comments/1%00/",
    ],
)
def test_nul_in_a_path_is_4xx(anon_client, url):
    assert 400 <= anon_client.get(url).status_code < 500


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("title", "a\x00b"),
        ("body", "a\x00b"),
        ("excerpt", "a\x00b"),
        ("tags", ["a\x00b"]),
        ("category", "a\x00b"),
        ("category", {"slug": "python"}),
        ("category", ["python"]),
        ("category", 42),
        ("tags", [{"name": "x"}]),
        ("tags", {"name": "x"}),
        ("title", ["list"]),
        ("published_at", 12),
        ("status", None),
    ],
)
def test_malformed_post_fields_are_400(author_client, field, value):
    CategoryFactory(name="Python", slug="python")
    body = {"title": "t", "body": "b", field: value}
    response = author_client.post("/api/v1/posts/", body, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert not Post.objects.exists()


@pytest.mark.parametrize("body", ["a\x00b", ["x"], {"x": 1}, None])
def test_malformed_comment_is_400(author_client, body):
    post = PostFactory()
    response = author_client.post(f"/api/v1/posts/{post.slug}/comments/", {"body": body}, format="json")
    assert response.status_code == 400
    assert not Comment.objects.exists()


@pytest.mark.parametrize("payload", ["[]", '"text"', "not json", "{"])
def test_non_object_json_bodies_are_400(author_client, payload):
    response = author_client.post("/api/v1/posts/", payload, content_type="application/json")
    assert response.status_code == 400
    assert not Post.objects.exists()


def test_form_bodies_are_415(author_client):
    response = author_client.post("/api/v1/posts/", {"title": "t", "body": "b"}, format="multipart")
    assert response.status_code == 415


EXTREME_DATES = ["0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00", "0001-01-01", "9999-12-31"]


@pytest.mark.parametrize("value", EXTREME_DATES)
@pytest.mark.parametrize("param", ["published_after", "published_before"])
def test_extreme_dates_in_filters_never_fail(anon_client, param, value):
    PostFactory()
    assert anon_client.get("/api/v1/posts/", {param: value}).status_code in (200, 400)


@pytest.mark.parametrize("value", EXTREME_DATES[:2])
def test_extreme_published_at_never_fails(author_client, value):
    body = {"title": "t", "body": "b", "status": "published", "published_at": value}
    assert author_client.post("/api/v1/posts/", body, format="json").status_code in (201, 400)
