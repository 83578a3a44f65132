"""The ``count`` of post lists: exact as of the last write for every list (filtered,
searched or neither), including once a scheduled post's time has come; on a large site
counted once until the next write, as the schema says."""

import time
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.tests.factories import UserFactory
from config.pagination import COUNT_DESCRIPTION
from conftest import client_for
from posts import caching
from posts.models import Post
from posts.tests.factories import PostFactory, TagFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/posts/"


@pytest.fixture
def large(settings):
    """Treat three public posts as a large site, so that the unfiltered count is cached."""
    settings.POSTS_COUNT_CACHE_MIN = 3


def get(client, url: str = URL, **params) -> tuple[dict, list[str]]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params)
    assert response.status_code == 200, response.content
    return response.json(), [query["sql"].upper() for query in queries]


def counts(queries: list[str]) -> int:
    return sum("COUNT(" in sql for sql in queries)


def publish_behind_the_caches_back(post: Post) -> None:
    """Raw SQL, as a bulk load would: no signal, no invalidation."""
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE posts_post SET status = 'published', published_at = %s WHERE id = %s",
            [timezone.now() - timedelta(minutes=1), post.pk],
        )


def test_a_large_site_reads_the_unfiltered_count_once(large, anon_client):
    PostFactory.create_batch(3)
    first, first_queries = get(anon_client)
    second, second_queries = get(anon_client)
    assert first["count"] == second["count"] == 3
    assert counts(first_queries) == 1
    assert counts(second_queries) == 0


def test_small_site_counts_every_time(anon_client):
    PostFactory.create_batch(2)
    assert get(anon_client)[0]["count"] == 2
    # A write that sends no signal still shows at once: nothing was cached.
    publish_behind_the_caches_back(PostFactory(draft=True))
    assert get(anon_client)[0]["count"] == 3


def test_writes_move_the_cached_count(large, anon_client, author_client):
    posts = PostFactory.create_batch(3)
    assert get(anon_client)[0]["count"] == 3
    created = author_client.post(URL, {"title": "New", "body": "Body", "status": "published"})
    assert created.status_code == 201
    assert get(anon_client)[0]["count"] == 4
    assert client_for(posts[0].author).delete(f"{URL}{posts[0].slug}/").status_code == 204
    assert get(anon_client)[0]["count"] == 3
    unpublished = client_for(posts[1].author).patch(f"{URL}{posts[1].slug}/", {"status": "draft"})
    assert unpublished.status_code == 200
    assert get(anon_client)[0]["count"] == 2


def test_filtered_counts_stay_exact_after_writes_that_send_no_signal(large, anon_client):
    python = TagFactory(name="python")
    PostFactory.create_batch(3, tags=[python])
    PostFactory.create_batch(2)
    assert get(anon_client)[0]["count"] == 5  # cached from here on
    # A post that turns public without any signal: the filtered counts still see it.
    hidden = PostFactory(draft=True, tags=[python], title="Needle in the haystack")
    publish_behind_the_caches_back(hidden)
    assert get(anon_client, tag="python")[0]["count"] == 4
    assert get(anon_client, author=hidden.author.username)[0]["count"] == 1
    assert get(anon_client, search="needle")[0]["count"] == 1
    assert get(anon_client, published_after="2000-01-01")[0]["count"] == 6


def test_a_scheduled_post_counts_once_its_time_has_come(large, anon_client):
    """On a large site the list's and a search's counts are read once and kept, but not
    past the moment the next scheduled post turns public."""
    PostFactory.create_batch(3, title="Needle")
    due = timezone.now() + timedelta(seconds=2)
    PostFactory(scheduled=True, title="Needle later", published_at=due)
    for params in ({}, {"search": "needle"}):
        first, _ = get(anon_client, **params)
        second, queries = get(anon_client, **params)
        assert first["count"] == second["count"] == 3
        assert counts(queries) == 0  # kept
    time.sleep(max(0.0, (due - timezone.now()).total_seconds()) + 0.05)
    assert get(anon_client)[0]["count"] == 4
    assert get(anon_client, search="needle")[0]["count"] == 4


def test_count_is_documented_in_the_schema(anon_client):
    schema = anon_client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    page = schema["components"]["schemas"]["PaginatedPostListList"]
    description = page["properties"]["count"]["description"]
    assert description == COUNT_DESCRIPTION
    assert "exact as of the last write" in description


def test_a_search_matching_many_posts_counts_once_until_a_write(large, anon_client):
    PostFactory.create_batch(3, title="Needle")
    # Alone in a fresh process, a search counts exactly and stays within its 4 queries.
    alone, alone_queries = get(anon_client, search="needle")
    assert alone["count"] == 3
    assert len(alone_queries) <= 4
    get(anon_client)  # the public list looks up the next scheduled publication
    first, first_queries = get(anon_client, search="needle")
    second, second_queries = get(anon_client, search="needle", page_size=1)
    assert first["count"] == second["count"] == 3
    assert counts(first_queries) == 1
    assert counts(second_queries) == 0
    # Other filters are part of the key: the same word by one author counts on its own.
    assert get(anon_client, search="needle", author="nobody")[0]["count"] == 0
    # Any post write moves it at once.
    created = client_for(UserFactory()).post(
        URL, {"title": "Another needle", "body": "Hay", "status": "published"}
    )
    assert created.status_code == 201
    assert get(anon_client, search="needle")[0]["count"] == 4


def test_a_kept_search_sees_writes_that_bypass_signals_once_they_bump(large, anon_client):
    PostFactory.create_batch(3, title="Needle")
    PostFactory(title="Haystack")
    get(anon_client)  # the public list looks up the next scheduled publication
    assert get(anon_client, search="haystack")[0]["count"] == 1
    # Raw SQL moves no generation: the kept result stands until something does.
    publish_behind_the_caches_back(PostFactory(draft=True, title="Haystack two"))
    caching.bump(posts=True)
    assert get(anon_client, search="haystack")[0]["count"] == 2


def test_a_search_ranks_once_until_a_write(large, anon_client, postgres_only):
    PostFactory.create_batch(2, title="Needle", body="Hay.")
    best = PostFactory(
        title="Needle needle needle", body="Needle.", published_at=timezone.now() - timedelta(days=3)
    )
    get(anon_client)  # the public list looks up the next scheduled publication
    pages = [get(anon_client, search="needle", page_size=2) for _ in range(3)]
    # Ranked and counted in one query, then the page by id; then only the page by id
    # (between the search's SET and RESET).
    assert [len(queries) for _, queries in pages] == [4, 3, 3]
    assert [sum("TS_RANK" in sql for sql in queries) for _, queries in pages] == [1, 0, 0]
    assert all(page == pages[0][0] for page, _ in pages)
    assert pages[0][0]["count"] == 3
    assert pages[0][0]["results"][0]["slug"] == best.slug
    # Page 2 of the same search comes from the same kept ranking.
    second, queries = get(anon_client, search="needle", page_size=2, page=2)
    assert [post["slug"] for post in second["results"]] not in ([], [best.slug])
    assert sum("TS_RANK" in sql for sql in queries) == 0
    # A write that changes the ranking shows at once.
    data = {"title": "Needle needle needle needle", "body": "Needle needle.", "status": "published"}
    assert client_for(UserFactory()).post(URL, data).status_code == 201
    after, _ = get(anon_client, search="needle", page_size=2)
    assert after["count"] == 4
    assert after["results"][0]["title"] == "Needle needle needle needle"


def test_a_small_site_keeps_search_results_too(anon_client, postgres_only):
    PostFactory.create_batch(3, title="Needle")
    PostFactory(scheduled=True, title="Needle later")
    # The public list counts exactly on a small site, and learns the next publication
    # in the same query...
    _, list_queries = get(anon_client)
    assert counts(list_queries) == 1
    assert len(list_queries) == 2
    # ...so a search can keep its ranking and count from the second request on.
    first, first_queries = get(anon_client, search="needle")
    second, second_queries = get(anon_client, search="needle")
    assert first == second
    assert first["count"] == 3
    assert (len(first_queries), len(second_queries)) == (4, 3)
