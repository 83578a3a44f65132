"""Conditional requests, Vary and Cache-Control (config/http_cache.py; API.md, "Browsers on
other sites, and caches").

Anonymous readers of posts, comments, tags, categories, profiles, Conduit's equivalents,
the feeds, the sitemaps and the pages get an ETag and, sending it back, a 304 with no
body; with the generations shared (``GENERATION_ETAGS``) that 304 costs no query. After
any write that changes what one of them shows, its old ETag gets a 200 with the change.
Answers made for whoever asks are private, and no shared cache can mix the two up.
"""

import time
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import resolve, reverse
from django.utils import timezone

from accounts.tests.factories import PASSWORD, UserFactory
from conduit.tests.conftest import token_client
from config import http_cache
from conftest import client_for
from posts.models import Post
from posts.tests.factories import CategoryFactory, CommentFactory, LikeFactory, PostFactory, TagFactory
from posts.tests.test_admin import change_form_data

pytestmark = pytest.mark.django_db

ALLOWED_ORIGIN = "https://app.example.com"


@pytest.fixture(params=["generation", "body"])
def etags(request, settings) -> str:
    """Both kinds of ETag: from the generations (a shared cache) or from the body."""
    settings.GENERATION_ETAGS = request.param == "generation"
    return request.param


@pytest.fixture
def generations(settings):
    """Generation ETags on, as with a cache every process shares (REDIS_URL)."""
    settings.GENERATION_ETAGS = True
    return settings


@pytest.fixture
def root(db):
    return UserFactory(username="root", is_staff=True, is_superuser=True)


@pytest.fixture
def site(author, other_user, staff_user, image_of):
    """A public post by ``author`` (a bio, a category, a tag, a cover image), with a
    comment by ``other_user``, a like by ``staff_user``, and ``other_user`` following
    ``author``."""
    from accounts.models import Follow

    author.bio = "Writes about databases."
    author.save()
    cover = image_of(author, alt="A database diagram")
    post = PostFactory(
        author=author,
        category=CategoryFactory(name="Databases"),
        tags=[TagFactory(name="sql")],
        cover_image=cover,
    )
    comment = CommentFactory(post=post, author=other_user)
    LikeFactory(post=post, user=staff_user)
    Follow.objects.create(follower=other_user, followed=author)
    post.refresh_from_db()
    return {"post": post, "comment": comment, "cover": cover}


def urls(site) -> dict[str, str]:
    """One URL per route with generation ETags, by the route's name."""
    post, comment = site["post"], site["comment"]
    tag, category, author = post.tags.get(), post.category, post.author.username
    return {
        "post-list": "/api/v1/posts/",
        "post-detail": f"/api/v1/posts/{post.slug}/",
        "post-comments": f"/api/v1/posts/{post.slug}/comments/",
        "comment-detail": f"/api/v1/comments/{comment.pk}/",
        "tag-list": "/api/v1/tags/",
        "tag-detail": f"/api/v1/tags/{tag.slug}/",
        "category-list": "/api/v1/categories/",
        "category-detail": f"/api/v1/categories/{category.slug}/",
        "user-detail": f"/api/v1/users/{author}/",
        "conduit:articles": "/api/articles",
        "conduit:article": f"/api/articles/{post.slug}",
        "conduit:comments": f"/api/articles/{post.slug}/comments",
        "conduit:tags": "/api/tags",
        "conduit:profile": f"/api/profiles/{author}",
        "feed-rss": "/feed/",
        "feed-atom": "/feed/atom/",
        "sitemap": "/sitemap.xml",
        "sitemap-index": "/sitemap-index.xml",
        "sitemap-section": "/sitemap-posts.xml",
        "web:home": "/",
        "web:post-detail": f"/posts/{post.slug}/",
        "web:author": f"/authors/{author}/",
        "web:tag": f"/tags/{tag.slug}/",
    }


ROUTES = sorted(http_cache.GENERATION_ROUTES)


def directives(response) -> set[str]:
    return {value.strip() for value in response.get("Cache-Control", "").split(",") if value.strip()}


def vary(response) -> set[str]:
    return {value.strip().lower() for value in response.get("Vary", "").split(",") if value.strip()}


def test_every_route_with_generation_etags_is_tested_here(site):
    tested = urls(site)
    assert set(tested) == http_cache.GENERATION_ROUTES
    assert {name: resolve(url.split("?")[0]).view_name for name, url in tested.items()} == {
        name: name for name in tested
    }


# --- ETags and 304s --------------------------------------------------------------------------


@pytest.mark.parametrize("route", ROUTES)
def test_an_anonymous_read_has_an_etag_and_sending_it_back_gets_a_304(anon_client, site, etags, route):
    url = urls(site)[route]
    first = anon_client.get(url)
    assert first.status_code == 200
    etag = first["ETag"]
    assert etag.startswith('W/"') if etags == "generation" else etag.startswith('"')
    assert directives(first) == {"public", "no-cache"}
    assert {"authorization", "cookie"} <= vary(first)

    again = anon_client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304
    assert again.content == b""
    # What the 200 said to caches, the 304 says too (RFC 9110, 15.4.5).
    assert again["ETag"] == etag
    assert directives(again) == directives(first)
    assert vary(again) == vary(first)

    head = anon_client.head(url)
    assert (head.status_code, head["ETag"]) == (200, etag)
    assert anon_client.head(url, HTTP_IF_NONE_MATCH=etag).status_code == 304


@pytest.mark.parametrize("route", ROUTES)
def test_a_304_from_the_generations_makes_no_query(anon_client, site, generations, route):
    url = urls(site)[route]
    etag = anon_client.get(url)["ETag"]
    with CaptureQueriesContext(connection) as queries:
        response = anon_client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 304
    assert len(queries) == 0, [query["sql"] for query in queries.captured_queries]


def test_if_none_match_takes_lists_weak_and_strong_forms_and_a_star(anon_client, site, etags):
    url = urls(site)["post-detail"]
    etag = anon_client.get(url)["ETag"]
    bare = etag.removeprefix("W/")
    for header in [f'"other", {etag}', bare, f"W/{bare}", "*"]:
        assert anon_client.get(url, HTTP_IF_NONE_MATCH=header).status_code == 304, header
    assert anon_client.get(url, HTTP_IF_NONE_MATCH='"other"').status_code == 200
    # "*" matches an answer that exists, not a missing post.
    assert anon_client.get("/api/v1/posts/no-such-post/", HTTP_IF_NONE_MATCH="*").status_code == 404


def test_an_etag_is_for_one_url_host_and_format(anon_client, site, generations):
    def etag(url: str, **headers: str) -> str:
        return anon_client.get(url, **headers)["ETag"]

    posts = "/api/v1/posts/"
    assert etag(posts) == etag(posts)
    assert etag(posts) != etag(f"{posts}?page_size=5")
    assert etag(posts) != etag(posts, HTTP_HOST="blog.example.com")
    assert etag(posts) != etag(posts, HTTP_ACCEPT="application/json; indent=4")
    # The pages do not negotiate their format.
    assert etag("/", HTTP_ACCEPT="text/html") == etag("/", HTTP_ACCEPT="*/*")


def test_a_new_release_changes_every_generation_etag(anon_client, site, generations, settings):
    url = urls(site)["post-list"]
    etag = anon_client.get(url)["ETag"]
    http_cache.release_fingerprint.cache_clear()
    try:
        settings.RELEASE = "2026.11.29-1"
        assert anon_client.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 200
    finally:
        http_cache.release_fingerprint.cache_clear()


def test_a_304_can_be_read_from_another_origin(anon_client, site, etags, settings):
    settings.CORS_ALLOWED_ORIGINS = [ALLOWED_ORIGIN]
    url = urls(site)["post-list"]
    etag = anon_client.get(url, HTTP_ORIGIN=ALLOWED_ORIGIN)["ETag"]
    response = anon_client.get(url, HTTP_ORIGIN=ALLOWED_ORIGIN, HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 304
    assert response["Access-Control-Allow-Origin"] == ALLOWED_ORIGIN
    assert "etag" in response["Access-Control-Expose-Headers"].lower()


# --- Every write moves the ETags of what it changes ----------------------------------------


def _ok(response, *codes: int) -> None:
    assert response.status_code in (codes or (200,)), response.content


def _admin(root) -> Client:
    client = Client()
    client.force_login(root)
    return client


def comment(site, root):
    post = site["post"]
    _ok(client_for(root).post(f"/api/v1/posts/{post.slug}/comments/", {"body": "Nice"}), 201)


def edit_comment(site, root):
    comment = site["comment"]
    _ok(client_for(comment.author).patch(f"/api/v1/comments/{comment.pk}/", {"body": "Edited"}))


def hide_comment(site, root):
    data = {"action": "hide", "_selected_action": [site["comment"].pk]}
    _ok(_admin(root).post(reverse("admin:posts_comment_changelist"), data), 302)


def like(site, root):
    _ok(client_for(root).post(f"/api/v1/posts/{site['post'].slug}/like/"))


def conduit_favorite(site, root):
    _ok(token_client(UserFactory()).post(f"/api/articles/{site['post'].slug}/favorite"))


def admin_edit_tag(site, root):
    tag = site["post"].tags.get()
    data = {"name": "Structured Query Language", "slug": tag.slug}
    _ok(_admin(root).post(reverse("admin:posts_tag_change", args=[tag.pk]), data), 302)


def rename_category(site, root):
    _ok(client_for(root).patch(f"/api/v1/categories/{site['post'].category.slug}/", {"name": "Data stores"}))


def edit_bio(site, root):
    _ok(client_for(site["post"].author).patch("/api/v1/auth/me/", {"bio": "Writes about caches."}))


def edit_display_name(site, root):
    _ok(client_for(site["post"].author).patch("/api/v1/auth/me/", {"display_name": "A. Writer"}))


def set_avatar(site, root):
    author = site["post"].author
    _ok(client_for(author).patch("/api/v1/auth/me/", {"avatar": site["cover"].pk}))


def conduit_set_image(site, root):
    user = {"user": {"image": "https://images.example.com/me.png"}}
    _ok(token_client(site["post"].author).put("/api/user", user, format="json"))


def follow(site, root):
    _ok(client_for(root).post(f"/api/v1/users/{site['post'].author.username}/follow/"))


def unfollow(site, root):
    _ok(client_for(site["comment"].author).delete(f"/api/v1/users/{site['post'].author.username}/follow/"))


def admin_delete_follow(site, root):
    from accounts.models import Follow

    follows = list(Follow.objects.values_list("pk", flat=True))
    data = {"action": "delete_selected", "_selected_action": follows, "post": "yes"}
    _ok(_admin(root).post(reverse("admin:accounts_follow_changelist"), data), 302)


def admin_edit_post(site, root):
    post = site["post"]
    data = change_form_data(post, title="Renamed in the admin", cover_image=post.cover_image_id)
    _ok(_admin(root).post(reverse("admin:posts_post_change", args=[post.pk]), data), 302)


def conduit_edit_article(site, root):
    article = {"article": {"body": "A new body."}}
    _ok(token_client(site["post"].author).put(f"/api/articles/{site['post'].slug}", article, format="json"))


def new_post(site, root):
    data = {"title": "Another", "body": "Text", "status": "published", "tags": ["sql"]}
    _ok(client_for(site["post"].author).post("/api/v1/posts/", data, format="json"), 201)


def change_cover_alt(site, root):
    cover = site["cover"]
    _ok(client_for(site["post"].author).patch(f"/api/v1/media/{cover.pk}/", {"alt": "A schema"}))


def delete_cover(site, root):
    _ok(client_for(site["post"].author).delete(f"/api/v1/media/{site['cover'].pk}/"), 204)


def delete_commenters_account(site, root):
    commenter = site["comment"].author
    _ok(client_for(commenter).delete("/api/v1/auth/me/", {"password": PASSWORD}), 204)


# Each write, and routes whose answer it certainly changes: their ETags must move. Every
# other route's must move too whenever its answer changed.
WRITES = {
    comment: {"post-comments", "post-detail", "conduit:comments", "web:post-detail"},
    edit_comment: {"comment-detail", "post-comments", "conduit:comments", "web:post-detail"},
    hide_comment: {"post-comments", "comment-detail", "conduit:comments", "web:post-detail"},
    like: {"post-detail", "post-list", "conduit:article", "conduit:articles"},
    conduit_favorite: {"post-detail", "conduit:article"},
    admin_edit_tag: {"tag-list", "tag-detail", "conduit:tags", "conduit:article", "web:tag"},
    rename_category: {"category-list", "category-detail", "post-detail", "post-list"},
    edit_bio: {"user-detail", "conduit:profile", "conduit:article", "conduit:articles", "web:author"},
    edit_display_name: {"post-list", "post-detail", "user-detail", "feed-rss", "web:author", "web:home"},
    set_avatar: {"user-detail", "conduit:profile", "conduit:article", "web:author", "web:post-detail"},
    conduit_set_image: {"conduit:profile", "conduit:article", "conduit:articles"},
    follow: {"user-detail", "web:author"},
    unfollow: {"user-detail", "web:author"},
    admin_delete_follow: {"user-detail", "web:author"},
    admin_edit_post: {"post-list", "post-detail", "feed-rss", "feed-atom", "web:home", "web:post-detail"},
    conduit_edit_article: {"post-detail", "conduit:article", "web:post-detail"},
    new_post: {"post-list", "conduit:articles", "tag-list", "user-detail", "sitemap", "web:home"},
    change_cover_alt: {"post-detail", "post-list", "web:post-detail"},
    delete_cover: {"post-detail", "post-list", "web:post-detail"},
    delete_commenters_account: {"post-comments", "user-detail", "conduit:comments", "web:author"},
}


@pytest.mark.parametrize("write", list(WRITES), ids=[write.__name__ for write in WRITES])
def test_after_a_write_an_old_etag_gets_the_new_answer(anon_client, site, root, generations, write):
    before = {route: anon_client.get(url) for route, url in urls(site).items()}
    write(site, root)
    changed = set()
    for route, url in urls(site).items():
        revalidated = anon_client.get(url, HTTP_IF_NONE_MATCH=before[route]["ETag"])
        now = anon_client.get(url)
        if (now.status_code, now.content) != (before[route].status_code, before[route].content):
            changed.add(route)
            assert revalidated.status_code == now.status_code, f"{route} kept its ETag after {write.__name__}"
            assert revalidated.content == now.content
    assert WRITES[write] <= changed


def test_a_scheduled_post_turning_public_changes_the_lists_etag(anon_client, author, generations):
    PostFactory(author=author)
    soon = PostFactory(author=author, published_at=timezone.now() + timedelta(seconds=1))
    for url in ["/api/v1/posts/", "/", "/feed/", "/api/articles"]:
        assert soon.slug not in anon_client.get(url).content.decode()
    etags = {url: anon_client.get(url)["ETag"] for url in ["/api/v1/posts/", "/", "/feed/", "/api/articles"]}
    time.sleep(max(0.0, (soon.published_at - timezone.now()).total_seconds()) + 0.05)
    for url, etag in etags.items():
        response = anon_client.get(url, HTTP_IF_NONE_MATCH=etag)
        assert response.status_code == 200, url
        assert soon.slug in response.content.decode()


# --- Who may store what -----------------------------------------------------------------------


def _session(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize(
    ("make_client", "url"),
    [
        (client_for, "/api/v1/posts/{slug}/"),
        (client_for, "/api/v1/posts/"),
        (client_for, "/api/v1/auth/me/"),
        (client_for, "/api/v1/auth/me/posts/"),
        (token_client, "/api/articles/{slug}"),
        (token_client, "/api/profiles/author"),
        (_session, "/"),
        (_session, "/posts/{slug}/"),
        (_session, "/api/v1/posts/{slug}/"),
    ],
)
def test_answers_to_a_signed_in_caller_are_private(site, generations, other_user, make_client, url):
    response = make_client(other_user).get(url.format(slug=site["post"].slug))
    assert response.status_code == 200
    assert "private" in directives(response)
    assert "public" not in directives(response)
    assert {"authorization", "cookie"} <= vary(response)
    # Never the anonymous readers' ETag: this answer is this caller's.
    assert response["ETag"].startswith('"')


def test_the_liked_flag_is_never_served_to_someone_else(site, generations, staff_user, anon_client):
    url = urls(site)["post-detail"]
    mine = client_for(staff_user).get(url)
    assert mine.json()["liked"] is True
    assert "accept" in vary(mine)
    assert anon_client.get(url, HTTP_IF_NONE_MATCH=mine["ETag"]).status_code == 200


def test_an_answer_that_sets_a_cookie_is_never_public(anon_client, site, generations):
    # The browsable API and the login form carry a CSRF token, and set its cookie.
    for url, accept in [("/api/v1/posts/", "text/html"), ("/login/", "text/html")]:
        response = anon_client.get(url, HTTP_ACCEPT=accept)
        assert response.cookies, url
        assert "private" in directives(response), url
        assert "public" not in directives(response), url
        assert not response.get("ETag", "").startswith("W/"), url


def test_media_and_the_export_keep_their_own_caching(author, author_client, image_of):
    image = image_of(author)
    media = Client().get(image.url())
    assert media["Cache-Control"] == "public, max-age=31536000, immutable"
    assert "cookie" not in vary(media)
    assert "ETag" not in media
    export = author_client.get("/api/v1/auth/me/export/")
    assert export.status_code == 200
    assert export["Cache-Control"] == "private, no-store"
    assert "ETag" not in export


def test_without_generation_etags_reads_still_revalidate_and_stay_correct(anon_client, site):
    url = urls(site)["post-detail"]
    etag = anon_client.get(url)["ETag"]
    assert anon_client.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 304
    Post.objects.filter(pk=site["post"].pk).update(title="Changed without a bump")
    # The body's ETag sees any change, even one no write announced.
    assert anon_client.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 200


def test_the_schema_documents_if_none_match_and_the_304_of_the_public_reads():
    from drf_spectacular.generators import SchemaGenerator

    from config.schema import CONDITIONAL_READS

    schema = SchemaGenerator().get_schema(request=None, public=True)
    assert "If-None-Match" in schema["info"]["description"]
    for path in CONDITIONAL_READS:
        operation = schema["paths"][path]["get"]
        assert "304" in operation["responses"], path
        assert "ETag" in operation["responses"]["200"]["headers"], path
        headers = [p["name"] for p in operation["parameters"] if p["in"] == "header"]
        assert headers == ["If-None-Match"], path
        sample = path.replace("{slug}", "x").replace("{id}", "1").replace("{username}", "u")
        assert resolve(sample).view_name in http_cache.GENERATION_ROUTES, path
