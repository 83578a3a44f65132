"""Reader and writer pages through Django's test client: content, visibility, escaping,
headers, 404s, query counts, and the session login the writer pages rely on."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import PASSWORD, FollowFactory, UserFactory
from conftest import client_for
from posts.tests.factories import CommentFactory, LikeFactory, PostFactory

pytestmark = pytest.mark.django_db

XSS_TITLE = '<script>alert("t")</script><img src=x onerror=alert(1)>'


def _count_queries(client, url: str) -> tuple[int, object]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries), response


# --- Home ------------------------------------------------------------------------------


def test_home_lists_public_posts_only(client):
    public = PostFactory(title="A public post", tags=["python"])
    PostFactory(title="A secret draft", draft=True)
    PostFactory(title="A scheduled post", scheduled=True)

    response = client.get("/")

    html = response.content.decode()
    assert response.status_code == 200
    assert "A public post" in html
    assert public.get_absolute_url() in html
    assert "A secret draft" not in html
    assert "A scheduled post" not in html
    assert reverse("web:tag", args=["python"]) in html
    assert 'role="search"' in html


def test_home_paginates_and_a_page_past_the_end_is_404(client):
    base = timezone.now() - timedelta(days=1)
    for i in range(12):
        PostFactory(title=f"Numbered post {i:02d}", published_at=base + timedelta(minutes=i))

    first = client.get("/").content.decode()
    second = client.get("/?page=2").content.decode()

    assert "Numbered post 11" in first and "Numbered post 02" in first
    assert "Numbered post 01" not in first
    assert "Numbered post 01" in second and "Numbered post 00" in second
    assert 'rel="next" href="?page=2"' in first
    assert client.get("/?page=3").status_code == 404
    assert client.get("/?page=abc").status_code == 404


def test_home_search_finds_matching_public_posts_and_keeps_the_term_in_page_links(client):
    PostFactory(title="Gardening with tomatoes", body="Tomatoes need sun.")
    PostFactory(title="Cooking pasta", body="Boil water.")
    PostFactory(title="Tomatoes in secret", body="Tomatoes.", draft=True)

    html = client.get("/", {"search": "tomatoes"}).content.decode()

    assert "Gardening with tomatoes" in html
    assert "Cooking pasta" not in html
    assert "Tomatoes in secret" not in html
    assert 'value="tomatoes"' in html
    assert 'name="robots" content="noindex"' in html


def test_home_with_no_posts_is_an_empty_page_not_an_error(client):
    response = client.get("/")
    assert response.status_code == 200
    assert "No posts yet." in response.content.decode()


def _publish(author, **fields) -> None:
    """A post written as a reader's browser would: through the API."""
    data = {"body": "Text", "status": "published", **fields}
    assert client_for(author).post("/api/v1/posts/", data, format="json").status_code == 201


def test_home_query_count_does_not_grow_with_posts(client):
    PostFactory.create_batch(2, tags=["a", "b"])
    few, _ = _count_queries(client, "/")
    for _ in range(8):
        _publish(UserFactory(), title="More", tags=["a", "c"])
    many, _ = _count_queries(client, "/")
    assert many == few
    # After a write: count, next scheduled publication, the tag list, posts (+author,
    # category), their tags. Until the next write the middle two come from the cache.
    assert many <= 5
    warm, _ = _count_queries(client, "/")
    assert warm <= 3


def test_home_on_a_large_site_skips_count_and_tag_scan_until_a_write(client, settings):
    settings.POSTS_COUNT_CACHE_MIN = 1  # treat this site as large: the public count is cached
    PostFactory.create_batch(25, tags=["a"])
    _count_queries(client, "/")
    warm, _ = _count_queries(client, "/")
    assert warm <= 2  # the page of posts (and on SQLite their tags); count and tag list from the cache
    _publish(UserFactory(), title="Fresh off the press", tags=["fresh"])
    _, response = _count_queries(client, "/")
    html = response.content.decode()
    assert "Fresh off the press" in html and "#fresh" in html
    assert response.context["page"].count == 26


# --- Post page -------------------------------------------------------------------------


def test_post_page_shows_body_author_date_tags_reading_time_comments_and_likes(client):
    writer = UserFactory(username="wendy", display_name="Wendy Writer")
    post = PostFactory(
        title="On rivers", body="# Rivers\n\nThey **flow**.", author=writer, tags=["nature"], like_count=0
    )
    CommentFactory(post=post, body="Lovely piece.")
    CommentFactory(post=post, body="Hidden by a moderator", is_hidden=True)

    response = client.get(post.get_absolute_url())
    html = response.content.decode()

    assert response.status_code == 200
    assert "<h1>On rivers</h1>" in html
    assert "<strong>flow</strong>" in html
    assert "Wendy Writer" in html and reverse("web:author", args=["wendy"]) in html
    assert post.published_at.strftime("%Y") in html
    assert "1 min read" in html
    assert reverse("web:tag", args=["nature"]) in html
    assert "Lovely piece." in html
    assert "Hidden by a moderator" not in html
    assert "data-like-count>0<" in html


def test_post_page_meta_tags_canonical_and_feed_link(client):
    post = PostFactory(title="Meta & more", excerpt="A short summary.")

    html = client.get(post.get_absolute_url()).content.decode()

    assert "<title>Meta &amp; more · " in html
    assert '<meta name="description" content="A short summary.">' in html
    assert '<meta property="og:title" content="Meta &amp; more">' in html
    assert '<meta property="og:type" content="article">' in html
    assert f'<link rel="canonical" href="http://testserver{post.get_absolute_url()}">' in html
    assert f'<meta property="og:url" content="http://testserver{post.get_absolute_url()}">' in html
    assert 'rel="alternate" type="application/rss+xml"' in html and 'href="/feed/"' in html


def test_post_page_escapes_user_text_and_keeps_sanitised_body(client):
    writer = UserFactory(display_name='<b onmouseover="x()">Mallory</b>')
    post = PostFactory(
        title=XSS_TITLE,
        excerpt='"><script>alert(2)</script>',
        body="Hi <script>alert(3)</script> <img src=x onerror=alert(4)> [x](javascript:alert(5))",
        author=writer,
        tags=["<i>tag</i>"],
    )
    CommentFactory(post=post, body="<script>alert(6)</script>\nsecond line")

    html = client.get(post.get_absolute_url()).content.decode()

    assert "<script>alert" not in html
    assert "onerror" not in html.replace("onerror=alert(1)&gt;", "")  # escaped title text only
    assert 'href="javascript:' not in html
    assert "&lt;script&gt;alert(&quot;t&quot;)&lt;/script&gt;" in html
    assert "&lt;b onmouseover=&quot;x()&quot;&gt;Mallory&lt;/b&gt;" in html
    assert "&lt;script&gt;alert(6)&lt;/script&gt;<br>second line" in html
    # Only our own module scripts, never inline ones.
    assert all("src=" in tag for tag in re.findall(r"<script[^>]*>", html))


def test_draft_is_404_for_others_and_visible_to_its_author(client):
    writer = UserFactory()
    draft = PostFactory(title="Work in progress", author=writer, draft=True)
    scheduled = PostFactory(title="Coming soon", author=writer, scheduled=True)

    assert client.get(draft.get_absolute_url()).status_code == 404
    assert client.get(scheduled.get_absolute_url()).status_code == 404
    client.force_login(UserFactory())
    assert client.get(draft.get_absolute_url()).status_code == 404

    client.force_login(writer)
    response = client.get(draft.get_absolute_url())
    html = response.content.decode()
    assert response.status_code == 200
    assert "Draft — only you" in html
    assert 'name="robots" content="noindex"' in html
    assert "Scheduled for" in client.get(scheduled.get_absolute_url()).content.decode()


def test_post_page_for_a_reader_shows_like_and_follow_state(client, author, other_user):
    post = PostFactory(author=author)
    FollowFactory(follower=other_user, followed=author)
    LikeFactory(post=post, user=other_user)
    client.force_login(other_user)
    html = client.get(post.get_absolute_url()).content.decode()

    assert f'data-like="{post.slug}" aria-pressed="true"' in html
    assert 'aria-pressed="true">Following' in html
    assert 'name="csrf-token"' in html
    assert "Edit post" not in html


def test_post_page_query_count_does_not_grow_with_comments(client, author):
    post = PostFactory(author=author, tags=["x", "y"])
    CommentFactory(post=post)
    few, _ = _count_queries(client, post.get_absolute_url())
    CommentFactory.create_batch(10, post=post)
    many, response = _count_queries(client, post.get_absolute_url())
    assert many == few <= 4
    assert response.content.decode().count('class="comment"') == 11

    client.force_login(author)
    logged_in, _ = _count_queries(client, post.get_absolute_url())
    assert logged_in <= few + 2  # the session and its user


def test_unknown_post_is_a_styled_404(client):
    response = client.get("/posts/no-such-post/")
    html = response.content.decode()
    assert response.status_code == 404
    assert "Page not found" in html
    assert "/static/css/site.css" in html
    assert response["Content-Type"].startswith("text/html")


# --- Author and tag pages --------------------------------------------------------------


def test_author_page_lists_their_public_posts_with_counts(client):
    writer = UserFactory(username="ada", display_name="Ada L.", bio="Counts <things>.")
    PostFactory(author=writer, title="Notes on engines")
    PostFactory(author=writer, title="Unfinished", draft=True)
    PostFactory(title="Someone else's post")
    FollowFactory(followed=writer)

    response = client.get("/authors/ADA/")  # any case
    html = response.content.decode()

    assert response.status_code == 200
    assert "Ada L." in html and "@ada" in html
    assert "Counts &lt;things&gt;." in html
    assert "Notes on engines" in html
    assert "Unfinished" not in html and "Someone else" not in html
    assert "1 post<" in html
    assert "data-follower-count>1<" in html
    assert client.get("/authors/nobody/").status_code == 404


def test_author_page_query_count_is_bounded(client):
    writer = UserFactory()
    PostFactory.create_batch(2, author=writer, tags=["a"])
    few, _ = _count_queries(client, f"/authors/{writer.username}/")
    PostFactory.create_batch(8, author=writer, tags=["b", "c"])
    many, _ = _count_queries(client, f"/authors/{writer.username}/")
    assert many == few <= 4


def test_tag_page_lists_public_posts_with_the_tag(client):
    PostFactory(title="Tagged and public", tags=["django"])
    PostFactory(title="Tagged draft", tags=["django"], draft=True)
    PostFactory(title="Untagged", tags=["other"])
    PostFactory(title="Secret tag only", tags=["secret-plans"], draft=True)

    html = client.get("/tags/django/").content.decode()

    assert "Tagged and public" in html
    assert "Tagged draft" not in html and "Untagged" not in html
    assert client.get("/tags/secret-plans/").status_code == 404
    assert client.get("/tags/nope/").status_code == 404


def test_tag_page_query_count_is_bounded(client):
    PostFactory.create_batch(2, tags=["t"])
    few, _ = _count_queries(client, "/tags/t/")
    PostFactory.create_batch(8, tags=["t", "u"])
    many, _ = _count_queries(client, "/tags/t/")
    assert many == few <= 4


# --- Headers ---------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/login/", "/signup/", "/posts/missing/"])
def test_html_pages_send_security_headers(client, path):
    response = client.get(path)
    csp = response["Content-Security-Policy"]
    script_src = re.search(r"script-src ([^;]*)", csp).group(1)
    assert "'self'" in script_src and "unsafe-inline" not in script_src and "unsafe-eval" not in script_src
    assert "frame-ancestors 'none'" in csp
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"]


def test_reader_pages_have_no_inline_script_or_handlers(client, author):
    post = PostFactory(author=author)
    client.force_login(author)
    for path in ["/", post.get_absolute_url(), f"/authors/{author.username}/", "/write/", "/me/"]:
        html = client.get(path).content.decode()
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), path
        assert not re.search(r"\son[a-z]+=", html), path


# --- Writers: session login, logout and the pages that need them -----------------------


@pytest.mark.parametrize("path", ["/write/", "/me/", "/write/some-slug/"])
def test_writer_pages_ask_for_a_login(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"] == f"/login/?next={path}"


def test_login_form_works_without_javascript(client):
    UserFactory(username="Zoe")
    page = client.get("/login/?next=/write/")
    assert page.status_code == 200 and 'name="next" value="/write/"' in page.content.decode()

    wrong = client.post("/login/", {"username": "zoe", "password": "wrong", "next": "/write/"})
    assert wrong.status_code == 400
    assert "Please enter a correct username and password" in wrong.content.decode()

    right = client.post("/login/", {"username": "zoe", "password": PASSWORD, "next": "/write/"})
    assert right.status_code == 302 and right["Location"] == "/write/"
    assert client.get("/write/").status_code == 200


def test_login_answers_json_to_the_script_and_refuses_foreign_next(client):
    UserFactory(username="yan")
    bad = client.post("/login/", {"username": "yan", "password": "nope"}, HTTP_ACCEPT="application/json")
    assert bad.status_code == 400 and "__all__" in bad.json()

    ok = client.post(
        "/login/",
        {"username": "yan", "password": PASSWORD, "next": "https://evil.example/"},
        HTTP_ACCEPT="application/json",
    )
    assert ok.status_code == 200 and ok.json() == {"next": "/me/"}
    assert client.session.get("_auth_user_id")


def test_login_needs_a_csrf_token():
    from django.test import Client

    UserFactory(username="csrf")
    client = Client(enforce_csrf_checks=True)
    response = client.post("/login/", {"username": "csrf", "password": PASSWORD})
    assert response.status_code == 403
    assert not client.session.get("_auth_user_id")


def test_login_is_throttled(client, settings):
    settings.AUTH_THROTTLE_RATE = "2/minute"
    UserFactory(username="tim")
    for _ in range(2):
        assert client.post("/login/", {"username": "tim", "password": "x"}).status_code == 400
    response = client.post(
        "/login/", {"username": "tim", "password": PASSWORD}, HTTP_ACCEPT="application/json"
    )
    assert response.status_code == 429 and response["Retry-After"]
    assert not client.session.get("_auth_user_id")


def test_logout_ends_the_session_and_needs_post(client, author):
    client.force_login(author)
    assert client.get("/logout/").status_code == 405
    response = client.post("/logout/")
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.get("/me/").status_code == 302


def test_edit_page_is_404_for_someone_elses_post(client, author, other_user):
    post = PostFactory(author=author)
    client.force_login(other_user)
    assert client.get(f"/write/{post.slug}/").status_code == 404
    client.force_login(author)
    response = client.get(f"/write/{post.slug}/")
    assert response.status_code == 200 and f'data-slug="{post.slug}"' in response.content.decode()


def test_api_accepts_the_page_session_with_its_csrf_token(author):
    """The writer pages' script calls the API with the session cookie and X-CSRFToken."""
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(author)
    html = client.get("/write/").content.decode()
    token = re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)

    refused = client.post("/api/v1/posts/", {"title": "T", "body": "B"}, content_type="application/json")
    created = client.post(
        "/api/v1/posts/", {"title": "T", "body": "B"}, content_type="application/json", HTTP_X_CSRFTOKEN=token
    )

    assert refused.status_code == 403
    assert created.status_code == 201 and created.json()["status"] == "draft"


def test_preview_renders_sanitised_markdown_for_a_logged_in_writer(client, author):
    url = reverse("web:preview")
    assert client.post(url, {"body": "x"}, content_type="application/json").status_code == 401
    client.force_login(author)

    response = client.post(
        url,
        {"body": "**bold** <script>alert(1)</script><img src=x onerror=alert(2)>"},
        content_type="application/json",
    )

    assert response.status_code == 200
    html = response.json()["html"]
    assert "<strong>bold</strong>" in html
    assert "<script" not in html and "onerror" not in html
    assert client.post(url, "not json", content_type="application/json").status_code == 400
    assert client.post(url, {"body": 3}, content_type="application/json").status_code == 400
    assert client.post(url, {"body": "x" * 100_001}, content_type="application/json").status_code == 400


def test_signup_page_redirects_a_logged_in_user(client, author):
    assert client.get("/signup/").status_code == 200
    client.force_login(author)
    assert client.get("/signup/")["Location"] == "/me/"


def test_server_error_page_is_styled_and_needs_no_database(rf, django_assert_num_queries):
    from config.views import server_error

    with django_assert_num_queries(0):
        response = server_error(rf.get("/posts/x/"))
    assert response.status_code == 500
    html = response.content.decode()
    assert "Something went wrong" in html and "/static/css/site.css" in html
