"""Read replicas (config/replicas.py): who reads from a replica, who from the primary.

The suite's ``replica1`` is a test mirror: a connection of its own to the same test
database, which sees only what was committed; hence transactional tests. Which database
served a read is told by the queries each connection ran.
"""

import importlib
import time
from collections.abc import Iterator
from contextlib import contextmanager
from unittest import mock

import pytest
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.db import connections, transaction
from django.http import HttpResponse
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.models import User
from accounts.tests.factories import PASSWORD
from config.replicas import PIN_COOKIE, ReplicaPinningMiddleware
from conftest import client_for
from outbox.models import Message
from posts import tasks
from posts.models import Post
from posts.tests.factories import PostFactory

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "replica1"])

PIN_SECONDS = 5


@pytest.fixture(autouse=True)
def replica(settings):
    settings.REPLICA_DATABASES = ["replica1"]
    settings.DATABASE_REPLICA_PIN_SECONDS = PIN_SECONDS


@pytest.fixture
def post(author):
    return PostFactory(author=author, title="Streaming replication", body="Lag and the primary.")


class Reads:
    def __init__(self, primary: CaptureQueriesContext, replica: CaptureQueriesContext) -> None:
        self._primary, self._replica = primary, replica

    @property
    def primary(self) -> list[str]:
        return [query["sql"] for query in self._primary.captured_queries]

    @property
    def replica(self) -> list[str]:
        return [query["sql"] for query in self._replica.captured_queries]

    def of(self, table: str) -> tuple[int, int]:
        """How many queries naming ``table`` ran on the primary and on the replica."""
        return (sum(table in sql for sql in self.primary), sum(table in sql for sql in self.replica))

    def only_primary(self, table: str) -> bool:
        on_primary, on_replica = self.of(table)
        return on_primary >= 1 and on_replica == 0


@contextmanager
def reads() -> Iterator[Reads]:
    with (
        CaptureQueriesContext(connections["default"]) as primary,
        CaptureQueriesContext(connections["replica1"]) as replica,
    ):
        yield Reads(primary, replica)


@contextmanager
def after_the_pin() -> Iterator[None]:
    later = time.time() + PIN_SECONDS + 1
    with mock.patch("time.time", return_value=later):
        yield


# --- Who reads where ---------------------------------------------------------------------


def test_anonymous_reads_hit_a_replica_only(anon_client, post):
    with reads() as seen:
        listing = anon_client.get("/api/v1/posts/")
        detail = anon_client.get(f"/api/v1/posts/{post.slug}/")
        search = anon_client.get("/api/v1/posts/", {"search": "replication"})
        page = Client().get(f"/posts/{post.slug}/")
    assert [item["slug"] for item in listing.json()["results"]] == [post.slug]
    assert detail.json()["title"] == "Streaming replication"
    assert [item["slug"] for item in search.json()["results"]] == [post.slug]
    assert page.status_code == 200 and "Streaming replication" in page.content.decode()
    assert seen.primary == []
    assert seen.of("posts_post")[1] >= 4
    # Anonymous requests carry no pin.
    assert PIN_COOKIE not in listing.cookies


@pytest.mark.parametrize("pgbouncer", [False, True])
def test_a_search_sets_its_planner_option_on_its_replica_and_leaves_none_behind(
    settings, anon_client, post, postgres_only, pgbouncer
):
    settings.DATABASE_PGBOUNCER = pgbouncer
    with reads() as seen:
        search = anon_client.get("/api/v1/posts/", {"search": "replication"})
    assert [item["slug"] for item in search.json()["results"]] == [post.slug]
    assert not any("enable_seqscan" in sql for sql in seen.primary)
    planner = [sql for sql in seen.replica if "enable_seqscan" in sql]
    if pgbouncer:
        # Transaction pooling: only what lasts as long as a transaction.
        assert planner == ["SET LOCAL enable_seqscan = off", "RESET enable_seqscan"]
    else:
        assert planner == ["SET enable_seqscan = off", "RESET enable_seqscan"]
    with connections["replica1"].cursor() as cursor:
        cursor.execute("SHOW enable_seqscan")
        assert cursor.fetchone() == ("on",)


def test_sessions_users_tokens_lockouts_and_the_outbox_are_read_from_the_primary(author, post):
    # Read while a request is served, as a view would.
    def view(request):
        for model in (Session, User, OutstandingToken, Message, Post):
            list(model.objects.all()[:1])
        from axes.models import AccessAttempt

        list(AccessAttempt.objects.all()[:1])
        return HttpResponse()

    with reads() as seen:
        ReplicaPinningMiddleware(view)(RequestFactory().get("/"))
    for table in (
        "django_session",
        "accounts_user",
        "token_blacklist_outstandingtoken",
        "outbox_message",
        "axes_accessattempt",
    ):
        assert seen.of(table)[0] >= 1, table
        assert seen.of(table)[1] == 0, table
    assert seen.of("posts_post") == (0, 1)


def test_a_profile_is_read_from_the_primary(anon_client, author):
    # The user model is authentication's: always the primary, a public profile included.
    with reads() as seen:
        assert anon_client.get(f"/api/v1/users/{author.username}/").status_code == 200
    assert seen.of("accounts_user")[0] >= 1
    assert seen.of("accounts_user")[1] == 0


def test_reads_inside_a_transaction_go_to_the_primary(post):
    def view(request):
        list(Post.objects.all())
        with transaction.atomic():
            list(Post.objects.select_for_update())
            list(Post.objects.filter(pk=post.pk))
        return HttpResponse()

    with reads() as seen:
        ReplicaPinningMiddleware(view)(RequestFactory().get("/"))
    assert seen.of("posts_post") == (2, 1)


def test_unsafe_requests_read_the_primary(author_client, post):
    with reads() as seen:
        response = author_client.post(f"/api/v1/posts/{post.slug}/like/")
    assert response.status_code in (200, 201)
    assert seen.replica == []


# --- Read-your-writes ----------------------------------------------------------------------


def test_a_jwt_writer_reads_the_primary_for_the_pin_then_a_replica(author, other_user, post):
    writer = client_for(author)
    writer.post(f"/api/v1/posts/{post.slug}/like/")
    # The same user on another device: no cookie, pinned by the shared cache.
    another_device = client_for(author)
    stranger = client_for(other_user)

    with reads() as seen:
        assert another_device.get(f"/api/v1/posts/{post.slug}/").json()["liked"] is True
    assert seen.only_primary("posts_post")

    with reads() as seen:
        assert stranger.get(f"/api/v1/posts/{post.slug}/").json()["liked"] is False
    assert seen.of("posts_post")[0] == 0

    with after_the_pin(), reads() as seen:
        another_device.get(f"/api/v1/posts/{post.slug}/")
    assert seen.of("posts_post")[0] == 0
    assert seen.of("posts_post")[1] >= 1


def test_a_conduit_writer_is_pinned_too(author, post):
    conduit = client_for()
    token = RefreshToken.for_user(author).access_token
    conduit.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert conduit.post(f"/api/articles/{post.slug}/favorite").status_code == 200

    fresh = client_for()
    fresh.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    with reads() as seen:
        assert fresh.get(f"/api/articles/{post.slug}").json()["article"]["favorited"] is True
    assert seen.only_primary("posts_post")

    with after_the_pin(), reads() as seen:
        fresh.get(f"/api/articles/{post.slug}")
    assert seen.of("posts_post")[0] == 0
    assert seen.of("posts_post")[1] >= 1


def test_a_browser_is_pinned_by_a_cookie_after_any_unsafe_request(author, post, settings):
    browser = Client()
    login = browser.post("/login/", {"username": author.username, "password": PASSWORD})
    assert login.status_code == 302
    cookie = login.cookies[PIN_COOKIE]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"
    assert cookie["max-age"] == PIN_SECONDS
    assert bool(cookie["secure"]) is settings.SESSION_COOKIE_SECURE

    with reads() as seen:
        assert browser.get(f"/posts/{post.slug}/").status_code == 200
    assert seen.replica == []

    # Past the pin the cookie (were a browser to keep it) pins nothing.
    with after_the_pin(), reads() as seen:
        assert browser.get(f"/posts/{post.slug}/").status_code == 200
    assert seen.of("posts_post")[0] == 0
    assert seen.of("posts_post")[1] >= 1
    # The session and its user are still the primary's.
    assert seen.of("django_session") == (1, 0)


def test_a_signed_in_browser_follows_its_user_writing_elsewhere(author, post):
    browser = Client()
    browser.force_login(author)
    with reads() as seen:
        assert browser.get(f"/api/v1/posts/{post.slug}/").json()["liked"] is False
    assert seen.of("posts_post")[0] == 0

    client_for(author).post(f"/api/v1/posts/{post.slug}/like/")
    with reads() as seen:
        assert browser.get(f"/api/v1/posts/{post.slug}/").json()["liked"] is True
    assert seen.only_primary("posts_post")


def test_a_forged_cookie_cannot_keep_a_client_on_the_primary(anon_client, post):
    anon_client.cookies[PIN_COOKIE] = str(time.time() + 3600)
    with reads() as seen:
        anon_client.get("/api/v1/posts/")
    assert seen.primary == []


def test_without_replicas_nothing_is_pinned(settings, author_client, post):
    settings.REPLICA_DATABASES = []
    response = author_client.post(f"/api/v1/posts/{post.slug}/like/")
    assert PIN_COOKIE not in response.cookies
    with reads() as seen:
        author_client.get("/api/v1/posts/")
    assert seen.replica == []


# --- Outside requests ------------------------------------------------------------------------


def test_commands_and_tasks_read_the_primary(post):
    with reads() as seen:
        call_command("recount_posts")
        tasks.announce_due_posts.delay()
        assert Post.objects.count() == 1
    assert seen.replica == []
    assert seen.of("posts_post")[0] >= 3


def test_a_request_that_raised_leaves_no_replica_reads_behind(post):
    def view(request):
        list(Post.objects.all())
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        ReplicaPinningMiddleware(view)(RequestFactory().get("/"))
    with reads() as seen:
        list(Post.objects.all())
    assert seen.of("posts_post") == (1, 0)


# --- Caches fed from a replica ----------------------------------------------------------------


def test_a_replica_read_right_after_a_write_is_not_kept_in_the_response_cache(
    settings, anon_client, author_client, post
):
    settings.POSTS_RESPONSE_CACHE = True
    author_client.post(f"/api/v1/posts/{post.slug}/like/")
    for _ in range(2):
        with reads() as seen:
            anon_client.get("/api/v1/posts/")
        assert seen.of("posts_post")[1] >= 1  # computed each time: nothing kept

    with after_the_pin():
        anon_client.get("/api/v1/posts/")
        with reads() as seen:
            assert anon_client.get("/api/v1/posts/").json()["results"][0]["like_count"] == 1
        assert seen.replica == []  # kept once the replicas have caught up


# --- Settings -----------------------------------------------------------------------------------


@pytest.fixture
def base_settings(monkeypatch):
    base = importlib.import_module("config.settings.base")

    def load(**environ: str):
        # Only what the test says, whatever the suite runs with (pgbouncer, replicas).
        environ = {
            "DATABASE_REPLICA_URLS": "",
            "DJANGO_DB_PGBOUNCER": "false",
            "DJANGO_DB_STATEMENT_TIMEOUT_MS": "5000",
            "DJANGO_CONN_MAX_AGE": "60",
            "DJANGO_DATABASE_REPLICA_PIN_SECONDS": "5",
            **environ,
        }
        for name, value in environ.items():
            monkeypatch.setenv(name, value)
        return importlib.reload(base)

    yield load
    monkeypatch.undo()
    importlib.reload(base)


def test_each_replica_url_is_an_alias_with_the_primarys_options(base_settings):
    base = base_settings(
        DATABASE_URL="postgres://blog@primary:5432/blog",
        DATABASE_REPLICA_URLS="postgres://blog@replica-a:5432/blog,postgres://blog@replica-b:5432/blog",
    )
    assert base.REPLICA_DATABASES == ["replica1", "replica2"]
    primary = base.DATABASES["default"]
    for alias, host in (("replica1", "replica-a"), ("replica2", "replica-b")):
        replica = base.DATABASES[alias]
        assert replica["HOST"] == host
        for name in ("CONN_MAX_AGE", "CONN_HEALTH_CHECKS", "OPTIONS"):
            assert replica[name] == primary[name]
        assert "statement_timeout" in replica["OPTIONS"]["options"]
        assert replica["TEST"] == {"MIRROR": "default"}
    assert base.DATABASE_REPLICA_PIN_SECONDS == 5


def test_no_replica_urls_no_replicas(base_settings):
    base = base_settings(DATABASE_URL="postgres://blog@primary:5432/blog")
    assert base.REPLICA_DATABASES == []
    assert list(base.DATABASES) == ["default"]


def test_behind_pgbouncer_no_alias_keeps_state_in_a_session(base_settings):
    base = base_settings(
        DATABASE_URL="postgres://blog@pgbouncer:6432/blog",
        DATABASE_REPLICA_URLS="postgres://blog@pgbouncer:6432/blog_replica",
        DJANGO_DB_PGBOUNCER="true",
    )
    for alias in ("default", "replica1"):
        database = base.DATABASES[alias]
        assert database["DISABLE_SERVER_SIDE_CURSORS"] is True
        assert database["OPTIONS"]["prepare_threshold"] is None
        # pgbouncer refuses the startup parameter that carried the statement timeout.
        assert "options" not in database["OPTIONS"]
        assert database["CONN_HEALTH_CHECKS"] is True
