"""Searches an anonymous client can send must stay cheap: every accepted form is answered
from the full-text index, a search of only negations matches nothing instead of reading
every post, the number of words is capped, and a query that still runs away is cancelled
by the statement timeout and answered with a quick 503.

PostgreSQL only: SQLite has no full-text search (it matches the term as plain text).
"""

import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from posts import search
from posts.models import Post
from posts.search import MAX_SEARCH_WORDS
from posts.tests.factories import PostFactory

NEGATION_ONLY = ["-cats", '-"cats purr"', "-cats -dogs", "cats or -dogs", '"cats purr" or -dogs', "the -dogs"]
INDEXED = ["cats", '"cats purr"', "cats -dogs", '"cats purr" or "dogs bark"', "cats or dogs", "-dogs cats"]


@pytest.fixture
def pets(postgres_only):
    return {
        "cat": PostFactory(title="On cats", body="Cats purr in the sun."),
        "dog": PostFactory(title="On dogs", body="Dogs bark at the post."),
        "both": PostFactory(title="Cats and dogs", body="Cats purr and dogs bark."),
    }


def titles(client, term: str, url: str = "/api/v1/posts/") -> list[str]:
    response = client.get(url, {"search": term})
    assert response.status_code == 200
    return sorted(post["title"] for post in response.json()["results"])


@pytest.mark.parametrize("term", NEGATION_ONLY)
def test_a_search_of_only_negations_matches_nothing(pets, anon_client, term):
    response = anon_client.get("/api/v1/posts/", {"search": term})
    assert response.status_code == 200
    assert response.json()["count"] == 0
    assert response.json()["results"] == []


def test_the_home_page_search_of_only_negations_lists_nothing(pets, client):
    response = client.get("/", {"search": '-"zz yy"'})
    assert response.status_code == 200
    assert b"On cats" not in response.content and b"On dogs" not in response.content


def test_negations_still_narrow_a_search_that_looks_for_something(pets, anon_client):
    assert titles(anon_client, "cats -dogs") == ["On cats"]
    assert titles(anon_client, '"dogs bark" or -nothing') == []  # an alternative of only a negation
    assert titles(anon_client, '"cats purr" or "dogs bark"') == ["Cats and dogs", "On cats", "On dogs"]


def test_words_past_the_cap_are_ignored(postgres_only, anon_client):
    words = [f"word{i}" for i in range(MAX_SEARCH_WORDS)]
    PostFactory(title="Many words", body=" ".join(words))
    # One more word, found in no post: ignored, so the post is still found.
    assert titles(anon_client, " ".join([*words, "absent"])) == ["Many words"]
    assert titles(anon_client, " or ".join([*words, "absent"])) == ["Many words"]
    assert titles(anon_client, " ".join(["absent", *words])) == []


def explain(sql: str, params: tuple = ()) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")  # what a searching list request does
        try:
            cursor.execute(f"EXPLAIN {sql}", params)
            return "\n".join(row[0] for row in cursor.fetchall())
        finally:
            cursor.execute("RESET enable_seqscan")


def searching_queries(client, term: str) -> list[str]:
    """The SQL of the queries a list request that searches for ``term`` sends."""
    with CaptureQueriesContext(connection) as captured:
        assert client.get("/api/v1/posts/", {"search": term}).status_code == 200
    return [query["sql"] for query in captured.captured_queries if "@@" in query["sql"]]


@pytest.mark.parametrize("term", INDEXED)
def test_every_accepted_search_form_is_answered_from_the_index_alone(pets, anon_client, term):
    assert searching_queries(anon_client, term)
    # What selects the matches: the index answers it exactly, with no word positions
    # ("<->") that only reading each candidate's vector back could check.
    match = search.match_query(search.parse(term))
    plan = explain(*Post.objects.filter(search_vector=match).only("pk").query.sql_with_params())
    assert "Bitmap Index Scan on posts_post_search_vector_gin" in plan, plan
    assert "<->" not in plan, plan


@pytest.mark.parametrize("term", NEGATION_ONLY)
def test_a_search_of_only_negations_reads_no_post_at_all(pets, anon_client, term):
    sent = searching_queries(anon_client, term)
    for sql in sent:
        assert "One-Time Filter: false" in explain(sql)


def test_web_requests_run_with_a_statement_timeout(postgres_only, settings):
    assert settings.DATABASE_STATEMENT_TIMEOUT_MS > 0
    if settings.DATABASE_PGBOUNCER:
        # pgbouncer refuses the startup option that carries it: there the timeout is the
        # database role's (docs/deployment.md, "pgbouncer"), and the app must not send it.
        assert "options" not in connection.settings_dict["OPTIONS"]
        return
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        (value,) = cursor.fetchone()
    assert value == f"{settings.DATABASE_STATEMENT_TIMEOUT_MS}ms" or value == (
        f"{settings.DATABASE_STATEMENT_TIMEOUT_MS // 1000}s"
    )


@pytest.mark.urls("tests.security.boom_urls")
@pytest.mark.parametrize(("url", "json"), [("/api/v1/slow/", True), ("/slow/", False)])
def test_a_runaway_query_is_cancelled_and_answered_with_a_quick_503(transactional_db, client, url, json):
    # transactional_db: the cancelled query must not abort a test-wide transaction.
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: set DATABASE_URL (CI runs it)")
    client.raise_request_exception = False  # answer as the server would
    with connection.cursor() as cursor:
        cursor.execute("SET statement_timeout = 200")  # the view's query asks for 30 s
    try:
        started = time.monotonic()
        response = client.get(url)
        elapsed = time.monotonic() - started
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET statement_timeout")
    assert response.status_code == 503
    assert elapsed < 5
    assert response["Retry-After"]
    if json:
        assert response["Content-Type"] == "application/json"
        assert "detail" in response.json()
    else:
        assert response["Content-Type"].startswith("text/html")
