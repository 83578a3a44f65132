"""Hostile and malformed input: always a clear 4xx JSON answer, and nothing written.

NUL characters matter most on PostgreSQL, which cannot store or compare them: without
care a NUL in a lookup, filter or body would be a database error (a 500). CI runs this
file on PostgreSQL and on SQLite.
"""

import json

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from accounts.models import Follow
from conduit.tests.conftest import token_client
from conftest import client_for
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
        "published_after=",
        "published_before=%20",
    ],
)
def test_invalid_date_filters_are_400(world, anon_client, query):
    assert_refused(anon_client.get(f"{POSTS}?{query}"), 400)


@pytest.mark.parametrize(
    ("query", "count"),
    [
        # Valid RFC 3339 times whose UTC instant is before the year 1 or after 9999: the
        # schema's date-time admits them, so they filter as the earliest or latest time.
        ("published_after=0001-01-01T00:00:00%2B05:00", 1),
        ("published_before=0001-01-01T00:00:00%2B05:00", 0),
        ("published_before=9999-12-31T23:59:59-05:00", 1),
        ("published_after=9999-12-31T23:59:59-05:00", 0),
    ],
)
def test_times_beyond_the_calendar_in_utc_filter_as_its_ends(world, anon_client, query, count):
    response = anon_client.get(f"{POSTS}?{query}")
    assert response.status_code == 200 and response.json()["count"] == count


def test_an_empty_status_filter_is_400(world, author_client):
    assert_refused(author_client.get("/api/v1/auth/me/posts/?status="), 400)


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


# A quoted cookie value may carry octal escapes, which Python's cookie parser decodes: this
# is what `curl -H 'Cookie: sessionid="abcdefgh\000ijklmnop"'` sends. No session has such a
# key; looking it up was a 500 on PostgreSQL, which refuses a NUL in a query.
BAD_SESSION_COOKIES = [
    '"abcdefgh\\000ijklmnop"',
    '"\\000\\000\\000\\000\\000\\000\\000\\000"',
    '"abcdefgh\\377ijklmnop"',
    "x" * 4000,
]


@pytest.mark.parametrize("cookie", BAD_SESSION_COOKIES, ids=["nul", "only-nuls", "octal-377", "4000-chars"])
@pytest.mark.parametrize(
    ("url", "status"), [("/", 200), ("/api/v1/posts/", 200), ("/api/v1/auth/me/", 401), ("/admin/", 302)]
)
def test_a_session_cookie_that_is_no_session_key_is_no_session_not_a_500(world, cookie, url, status):
    client = Client(raise_request_exception=False)
    client.cookies.load(f"sessionid={cookie}")
    assert client.cookies["sessionid"].value, "the cookie reached the client as sent"
    response = client.get(url)
    assert response.status_code == status, (response.status_code, response.content[:200])


def test_a_bad_session_cookie_does_not_hide_a_valid_token(world, author):
    client = client_for(author)
    client.cookies.load('sessionid="abcdefgh\\000ijklmnop"')
    response = client.get("/api/v1/auth/me/")
    assert response.status_code == 200 and response.json()["username"] == "author"


# JSON's "\ud800" escape decodes to half a surrogate pair: a str that is no text. Nothing
# can encode it (PostgreSQL, nh3, the JSON renderer), so it is refused with the body.
LONE = "\ud800"
SURROGATE_BODIES = [
    ("post", POSTS, {"title": "a", "body": "b", "status": LONE}),  # echoed in the error: a 500
    ("post", POSTS, {"title": "a", "body": "b", "category": LONE}),
    ("post", POSTS, {"title": f"a{LONE}", "body": "b"}),
    ("post", POSTS, {"title": "a", "body": "b", "tags": ["ok", "\udfff"]}),
    ("post", POSTS, {"title": "a", "body": "b", LONE: "a key"}),
    ("put", "/api/v1/posts/public/", {"title": "a", "body": f"b{LONE}"}),
    ("post", "/api/v1/posts/public/comments/", {"body": LONE}),
    ("patch", "/api/v1/auth/me/", {"bio": LONE}),
]
ANON_SURROGATE_BODIES = [
    (REGISTER, {**SIGN_UP, "display_name": LONE}),
    (REGISTER, {**SIGN_UP, "username": f"a{LONE}"}),
    ("/api/v1/auth/token/", {"username": LONE, "password": "x"}),
]
CONDUIT_SURROGATE_BODIES = [
    ("post", "/api/articles", {"article": {"title": LONE, "description": "d", "body": "b"}}),
    (
        "post",
        "/api/articles",
        {"article": {"title": "t", "description": "d", "body": "b", "tagList": [LONE]}},
    ),
    ("post", "/api/articles/public/comments", {"comment": {"body": LONE}}),
    ("put", "/api/user", {"user": {"bio": LONE}}),
    (
        "post",
        "/api/users",
        {"user": {"username": "s", "email": "s@example.com", "password": f"pass{LONE}word"}},
    ),
]


def as_json(body: dict) -> str:
    return json.dumps(body)  # escapes the surrogate as \ud800, as a browser's JSON.stringify does


@pytest.mark.parametrize(("method", "url", "body"), SURROGATE_BODIES)
def test_lone_surrogate_in_a_body_is_400(world, author_client, method, url, body):
    before = counts()
    response = getattr(author_client, method)(url, as_json(body), content_type="application/json")
    assert_refused(response, 400)
    assert counts() == before


@pytest.mark.parametrize(("url", "body"), ANON_SURROGATE_BODIES)
def test_lone_surrogate_in_an_auth_body_is_400(world, anon_client, url, body):
    before = counts()
    assert_refused(anon_client.post(url, as_json(body), content_type="application/json"), 400)
    assert counts() == before


@pytest.mark.parametrize(("method", "url", "body"), CONDUIT_SURROGATE_BODIES)
def test_lone_surrogate_in_a_conduit_body_is_422(world, author, method, url, body):
    before = counts()
    client = token_client(author) if url != "/api/users" else token_client()
    response = getattr(client, method)(url, as_json(body), content_type="application/json")
    assert response.status_code == 422, (response.status_code, response.content[:200])
    assert "errors" in response.json()
    assert counts() == before


def test_lone_surrogate_in_a_markdown_preview_is_400(world, author):
    client = Client(raise_request_exception=False)
    client.force_login(author)
    for body in ({"body": LONE}, {"body": f"*a* {LONE} b"}, {"body": "ok", "other": LONE}):
        response = client.post("/markdown-preview/", as_json(body), content_type="application/json")
        assert response.status_code == 400, (body, response.status_code)
        assert "detail" in response.json()
    ok = client.post(
        "/markdown-preview/", as_json({"body": "a \U0001f600 *b*"}), content_type="application/json"
    )
    assert ok.status_code == 200 and "\U0001f600" in ok.json()["html"]


# Surrogates encoded as UTF-8 bytes (%ED%A0%80) in a URL or a form are not UTF-8: Django
# decodes them as U+FFFD replacement characters, which are text.
@pytest.mark.parametrize(
    "url",
    [
        "/?search=%ED%A0%80",
        "/?tag=%ED%A0%80&page=%ED%A0%80",
        "/api/v1/posts/?search=%ED%A0%80&author=%ED%A0%80&tag=%ED%A0%80&category=%ED%A0%80",
        "/api/v1/posts/?ordering=%ED%A0%80&published_after=%ED%A0%80",
        "/api/articles?tag=%ED%A0%80&author=%ED%A0%80&favorited=%ED%A0%80",
        "/api/v1/users/%ED%A0%80/",
        "/api/profiles/%ED%A0%80",
        "/posts/%ED%A0%80/",
        "/authors/%ED%A0%80/",
        "/tags/%ED%A0%80/",
    ],
)
def test_surrogate_bytes_in_a_url_are_not_a_server_error(world, url):
    response = Client(raise_request_exception=False).get(url)
    assert response.status_code < 500, (url, response.status_code)


def test_surrogate_bytes_in_an_admin_form_are_not_a_server_error(world, staff_user, author):
    staff_user.is_superuser = True
    staff_user.save()
    client = Client(raise_request_exception=False)
    client.force_login(staff_user)
    before = counts()
    response = client.post(
        f"/admin/accounts/user/{author.pk}/change/",
        "username=a%ED%A0%80&email=author%40example.com&bio=%ED%A0%80",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200  # the form again, with the username refused
    assert counts() == before
