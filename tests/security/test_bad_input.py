"""Hostile and malformed input: always a clear 4xx JSON answer, and nothing written.

NUL characters matter most on PostgreSQL, which cannot store or compare them: without
care a NUL in a lookup, filter or body would be a database error (a 500). CI runs this
file on PostgreSQL and on SQLite.
"""

import json

import pytest
from django.contrib.auth import get_user_model

from accounts.models import Follow
from posts.models import Category, Comment, Like, Post, Tag
from posts.tests.factories import CategoryFactory, CommentFactory, PostFactory

pytestmark = pytest.mark.django_db

POSTS = "/api/v1/posts/"


@pytest.fixture
def world(author, other_user):
    category = CategoryFactory(slug="news", name="News")
    post = PostFactory(author=author, slug="public", category=category, tags=["shared"])
    comment = CommentFactory(post=post, author=author)
    return {"post": post, "comment": comment}


def counts() -> dict[str, int]:
    models = [get_user_model(), Post, Comment, Like, Follow, Category, Tag, Post.tags.through]
    return {model.__name__: model.objects.count() for model in models}


def assert_refused(response, *statuses: int) -> None:
    assert response.status_code in (statuses or range(400, 500)), (response.status_code, response.content)
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    assert response.json(), "a refusal says why"


NUL_QUERIES = [
    "/api/v1/posts/?search=a%00b",
    "/api/v1/posts/?search=%00",
    "/api/v1/posts/?author=%00",
    "/api/v1/posts/?tag=a%00,b",
    "/api/v1/posts/?category=%00",
    "/api/v1/posts/?ordering=%00title",
    "/api/v1/posts/?published_after=2024-01-01%00",
    "/api/v1/posts/?page=1%00",
    "/api/v1/posts/?page_size=%00",
    "/api/v1/posts/?x%00y=1",
    "/api/v1/tags/?page=%00",
    "/api/v1/categories/?page=%00",
    "/api/v1/feed/?search=%00",
    "/api/v1/auth/me/posts/?status=%00",
    "/api/v1/posts/public/comments/?page=%00",
]
NUL_PATHS = [
    "/api/v1/posts/a%00b/",
    "/api/v1/posts/%00/comments/",
    "/api/v1/posts/%00/like/",
    "/api/v1/users/a%00/",
    "/api/v1/users/%00/follow/",
    "/api/v1/categories/%00/",
    "/api/v1/tags/%00/",
    "/api/v1/comments/%00/",
]


@pytest.mark.parametrize("url", NUL_QUERIES + NUL_PATHS)
def test_nul_in_query_or_path_is_400(world, author_client, url):
    before = counts()
    for method in ("get", "post", "delete"):
        response = getattr(author_client, method)(url)
        assert_refused(response, 400)
    assert counts() == before


@pytest.mark.parametrize("url", ["/?search=%00", "/posts/a%00/", "/tags/%00/", "/authors/%00/"])
def test_nul_in_page_urls_is_400_not_500(world, client, url):
    assert client.get(url).status_code == 400


NUL_BODIES = [
    ("post", POSTS, {"title": "a\x00", "body": "b"}),
    ("post", POSTS, {"title": "a", "body": "b\x00"}),
    ("post", POSTS, {"title": "a", "body": "b", "excerpt": "\x00"}),
    ("post", POSTS, {"title": "a", "body": "b", "tags": ["ok", "n\x00"]}),
    ("post", POSTS, {"title": "a", "body": "b", "category": "\x00"}),
    ("post", POSTS, {"title": "a", "body": "b", "status": "draft\x00"}),
    ("post", POSTS, {"title": "a", "body": "b", "published_at": "2024-01-01\x00"}),
    ("patch", "/api/v1/posts/public/", {"title": "\x00"}),
    ("post", "/api/v1/posts/public/comments/", {"body": "hi\x00"}),
    ("patch", "/api/v1/comments/{comment}/", {"body": "\x00"}),
    ("patch", "/api/v1/auth/me/", {"bio": "\x00"}),
    ("patch", "/api/v1/auth/me/", {"display_name": "\x00"}),
    ("patch", "/api/v1/auth/me/", {"email": "a\x00@example.com"}),
    ("post", "/api/v1/auth/password/", {"old_password": "\x00", "new_password": "a-long-passw0rd-\x00"}),
]
REGISTER = "/api/v1/auth/register/"
SIGN_UP = {"username": "nul", "email": "n@example.com", "password": "a-fine-passw0rd"}
ANON_NUL_BODIES = [
    (REGISTER, {**SIGN_UP, "username": "n\x00"}),
    (REGISTER, {**SIGN_UP, "email": "n\x00@example.com"}),
    (REGISTER, {**SIGN_UP, "password": "a-fine-\x00passw0rd"}),
    (REGISTER, {**SIGN_UP, "display_name": "\x00"}),
    ("/api/v1/auth/token/", {"username": "author\x00", "password": "x"}),
    ("/api/v1/auth/token/", {"username": "author", "password": "x\x00"}),
    ("/api/v1/auth/token/refresh/", {"refresh": "\x00"}),
    ("/api/v1/auth/token/verify/", {"token": "\x00"}),
    ("/api/v1/auth/logout/", {"refresh": "a\x00"}),
]


@pytest.mark.parametrize(("method", "url", "body"), NUL_BODIES)
def test_nul_in_body_fields_is_400(world, author_client, method, url, body):
    before = counts()
    url = url.format(comment=world["comment"].pk)
    response = getattr(author_client, method)(url, body, format="json")
    assert_refused(response, 400)
    assert counts() == before


@pytest.mark.parametrize(("url", "body"), ANON_NUL_BODIES)
def test_nul_in_auth_bodies_is_400(world, anon_client, url, body):
    before = counts()
    assert_refused(anon_client.post(url, body, format="json"), 400)
    assert counts() == before


def test_staff_category_with_nul_is_400(world, staff_client):
    before = counts()
    assert_refused(staff_client.post("/api/v1/categories/", {"name": "a\x00"}, format="json"), 400)
    assert_refused(
        staff_client.patch("/api/v1/categories/news/", {"description": "\x00"}, format="json"), 400
    )
    assert counts() == before


MALFORMED_JSON = [
    b"{",
    b'{"title": }',
    b'{"title": "a", "body": "b",}',
    b"[1,",
    b"nul",
    b'{"title": NaN, "body": "b"}',
    b'{"title": Infinity, "body": "b"}',
    b'{"title": "\\ud800", "body": "b"}',  # a lone surrogate: not text PostgreSQL can store
    b"\xff\xfe{}",
    b'{"title": "a", "body": "b", "tags": ["' + b"x" * 10 + b'"]' + b"}" * 2,
    b'{"title": 1' + b"0" * 5000 + b', "body": "b"}',  # an integer past Python's digit limit
    b"[" * 100_000 + b"]" * 100_000,  # nesting deep enough to exhaust a recursive parser
]
NOT_AN_OBJECT = [b"[]", b'"title"', b"123", b"null", b"true", b'[{"title": "a", "body": "b"}]']


@pytest.mark.parametrize("raw", MALFORMED_JSON + NOT_AN_OBJECT, ids=lambda raw: raw[:30].decode("latin-1"))
def test_malformed_json_is_400(world, author_client, raw):
    before = counts()
    response = author_client.post(POSTS, data=raw, content_type="application/json")
    assert_refused(response, 400)
    assert counts() == before


WRONG_TYPES = [
    {"title": {"a": 1}, "body": "b"},
    {"title": ["a"], "body": "b"},
    {"title": True, "body": "b"},
    {"title": None, "body": "b"},
    {"title": "a", "body": {"text": "b"}},
    {"title": "a", "body": "b", "tags": "one,two"},
    {"title": "a", "body": "b", "tags": {"a": 1}},
    {"title": "a", "body": "b", "tags": [{"name": "a"}]},
    {"title": "a", "body": "b", "tags": [["a"]]},
    {"title": "a", "body": "b", "tags": [None]},
    {"title": "a", "body": "b", "status": 1},
    {"title": "a", "body": "b", "status": "archived"},
    {"title": "a", "body": "b", "status": ["published"]},
    {"title": "a", "body": "b", "category": {"slug": "news"}},
    {"title": "a", "body": "b", "category": "no-such-category"},
    {"title": "a", "body": "b", "published_at": 1700000000},
    {"title": "a", "body": "b", "published_at": "yesterday"},
    {"title": "a", "body": "b", "published_at": "2024-02-30T00:00:00Z"},
    {"title": "a", "body": "b", "published_at": "2024-13-01T00:00:00Z"},
    {"title": "a", "body": "b", "published_at": "99999-01-01T00:00:00Z"},
    {"title": "a", "body": "b", "published_at": "0001-01-01T00:00:00+05:00"},
    {"title": "x" * 201, "body": "b"},
    {"title": "a", "body": "b" * 100_001},
    {"title": "a", "body": "b", "tags": [f"tag{i}" for i in range(1000)]},
    {"title": "a", "body": "b", "tags": ["x" * 51]},
    {"title": " ", "body": "b"},
    {"title": "a", "body": "   "},
    {},
]


@pytest.mark.parametrize("body", WRONG_TYPES, ids=lambda body: json.dumps(body)[:60])
def test_wrong_types_and_out_of_range_values_are_400(world, author_client, body):
    before = counts()
    assert_refused(author_client.post(POSTS, body, format="json"), 400)
    assert_refused(author_client.put("/api/v1/posts/public/", body, format="json"), 400)
    assert counts() == before


@pytest.mark.parametrize(
    "body",
    [{"body": ""}, {"body": "x" * 5001}, {"body": ["x"]}, {"body": {"x": 1}}, {"body": None}, {}],
    ids=str,
)
def test_bad_comments_are_400(world, other_client, body):
    before = counts()
    assert_refused(other_client.post("/api/v1/posts/public/comments/", body, format="json"), 400)
    assert counts() == before


@pytest.mark.parametrize(
    "body",
    [{"bio": "x" * 2001}, {"display_name": "x" * 101}, {"email": "not-an-email"}, {"email": ["a@b.co"]}],
    ids=str,
)
def test_bad_profile_edits_are_400(world, author_client, author, body):
    assert_refused(author_client.patch("/api/v1/auth/me/", body, format="json"), 400)
    author.refresh_from_db()
    assert author.bio != body.get("bio") and author.email == "author@example.com"


def test_unknown_and_read_only_fields_are_ignored_never_applied(world, author_client, author, other_user):
    response = author_client.post(
        POSTS,
        {
            "title": "Honest",
            "body": "Body",
            "author": "other",
            "author_id": other_user.pk,
            "slug": "chosen-slug",
            "id": 999_999,
            "like_count": 1000,
            "comment_count": 1000,
            "body_html": "<script>alert(1)</script>",
            "search_vector": "x",
            "created_at": "2000-01-01T00:00:00Z",
        },
        format="json",
    )
    assert response.status_code == 201
    post = Post.objects.get(title="Honest")
    assert post.author == author and post.slug != "chosen-slug" and post.pk != 999_999
    assert (post.like_count, post.comment_count) == (0, 0)
    assert "<script" not in post.body_html and post.created_at.year > 2000
    me = author_client.patch(
        "/api/v1/auth/me/", {"username": "renamed", "is_staff": True, "id": 1, "password": "x"}, format="json"
    )
    assert me.status_code == 200
    author.refresh_from_db()
    assert author.username == "author" and not author.is_staff and author.check_password("x") is False


@pytest.mark.parametrize("page", ["0", "-1", "abc", "1.5", "99999999999999999999999", "2"])
def test_malformed_or_past_the_end_pages_are_404(world, anon_client, page):
    for url in (POSTS, "/api/v1/tags/", "/api/v1/categories/", "/api/v1/posts/public/comments/"):
        assert_refused(anon_client.get(f"{url}?page={page}"), 404)


@pytest.mark.parametrize("page_size", ["0", "-1", "abc", "99999999999999999999999", "1e3"])
def test_malformed_page_sizes_fall_back_and_huge_ones_are_capped(world, anon_client, page_size):
    response = anon_client.get(f"{POSTS}?page_size={page_size}")
    assert response.status_code == 200


@pytest.mark.parametrize(
    "query",
    [
        "published_after=abc",
        "published_after=2024-02-30",
        "published_before=2024-13-01",
        "published_after=99999-01-01",
        "published_after=0001-01-01T00:00:00%2B05:00",
        "published_before=9999-12-31T23:59:59-05:00",
    ],
)
def test_invalid_date_filters_are_400(world, anon_client, query):
    assert_refused(anon_client.get(f"{POSTS}?{query}"), 400)


def test_odd_but_valid_utc_offsets_are_read_in_utc(world, anon_client):
    # PostgreSQL refuses offsets beyond +-15:59, which Python parses: the filter converts first.
    response = anon_client.get(f"{POSTS}?published_after=0709-04-16T10:16:16-20:36")
    assert response.status_code == 200 and response.json()["count"] == 1


@pytest.mark.parametrize(
    "url", ["/api/v1/comments/99999999999999999999999/", "/api/v1/comments/-1/", "/api/v1/comments/1.5/"]
)
def test_out_of_range_ids_are_404(world, author_client, url):
    for method in ("get", "patch", "delete"):
        assert_refused(getattr(author_client, method)(url), 404)


def test_ten_megabyte_body_is_refused_before_parsing(world, author_client):
    before = counts()
    body = json.dumps({"title": "big", "body": "x" * 10_000_000})
    assert_refused(author_client.post(POSTS, data=body, content_type="application/json"), 413)
    assert counts() == before


def test_lying_content_length_is_400(world, author_client):
    for length in ("-1", "abc"):
        response = author_client.post(
            POSTS, data=b"{}", content_type="application/json", CONTENT_LENGTH=length
        )
        assert_refused(response, 400)


def test_non_json_bodies_are_415(world, author_client):
    before = counts()
    for content_type in ("text/plain", "application/xml", "multipart/form-data; boundary=x"):
        response = author_client.post(POSTS, data=b"title=a&body=b", content_type=content_type)
        assert_refused(response, 415)
    assert counts() == before
