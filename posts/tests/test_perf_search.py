"""Search on PostgreSQL with a bound on ranking work: every match is still listed and
counted; only the newest ``RANKED_MATCHES`` are ordered by relevance."""

from datetime import timedelta

import pytest
from django.utils import timezone

from posts import filters
from posts.tests.factories import PostFactory


@pytest.fixture
def posts(postgres_only):
    now = timezone.now()
    # Oldest first: the title match (the most relevant) is the oldest post.
    return [
        PostFactory(title="Database tuning", body="Indexes.", published_at=now - timedelta(days=10)),
        *[
            PostFactory(
                title=f"Notes {i}", body="A word on the database.", published_at=now - timedelta(days=i)
            )
            for i in range(1, 5)
        ],
    ]


def search(client, **params) -> dict:
    response = client.get("/api/v1/posts/", {"search": "database", **params})
    assert response.status_code == 200
    return response.json()


def test_all_matches_ranked_when_few(posts, anon_client):
    data = search(anon_client)
    assert data["count"] == 5
    assert data["results"][0]["title"] == "Database tuning"


def test_beyond_the_bound_newest_by_relevance_then_the_rest(posts, anon_client, monkeypatch):
    monkeypatch.setattr(filters, "RANKED_MATCHES", 2)
    data = search(anon_client)
    assert data["count"] == 5  # nothing left out
    titles = [post["title"] for post in data["results"]]
    assert sorted(titles[:2]) == ["Notes 1", "Notes 2"]  # the two newest, ranked
    assert titles[2:] == ["Notes 3", "Notes 4", "Database tuning"]  # then newest first


def test_search_stays_within_the_query_budget(posts, anon_client, django_assert_max_num_queries):
    with django_assert_max_num_queries(4):
        search(anon_client, page_size=100)


def test_a_page_among_the_ranked_matches_reads_only_them(posts, anon_client, monkeypatch):
    # The paginator takes pages within the ranked head from the newest matches alone;
    # the pages must read on exactly as the full ordering does, with nothing repeated.
    monkeypatch.setattr(filters, "RANKED_MATCHES", 3)
    full = [post["title"] for post in search(anon_client)["results"]]
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    paged = []
    for page in (1, 2, 3):
        with CaptureQueriesContext(connection) as queries:
            paged += [post["title"] for post in search(anon_client, page=page, page_size=2)["results"]]
        page_sql = " ".join(q["sql"] for q in queries.captured_queries if "ts_rank" in q["sql"])
        # Page 1 lies within the 3 ranked matches: no CASE over every match; pages 2-3 do not.
        assert ("CASE" not in page_sql) == (page == 1)
    assert paged == full
    assert sorted(full[:3]) == ["Notes 1", "Notes 2", "Notes 3"]
