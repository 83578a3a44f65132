"""The anonymous detail and the unfiltered list run SQL compiled once per process
(``config.prepared``): the same responses as building the query every time, the current
time read on every request, never compiled again."""

from datetime import timedelta
from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from config import pagination
from posts import views
from posts.tests.factories import CategoryFactory, LikeFactory, PostFactory

pytestmark = pytest.mark.usefixtures("postgres_only")

POSTS = "/api/v1/posts/"


@pytest.fixture
def posts():
    news = CategoryFactory(name="News")
    now = timezone.now()
    made = [
        PostFactory(
            title=f"Post {i:02}",
            like_count=i % 3,
            category=news if i % 2 else None,
            tags=["even"] if i % 2 == 0 else ["odd", "x"],
            published_at=now - timedelta(hours=i),
        )
        for i in range(9)
    ]
    PostFactory(draft=True, title="Draft")
    PostFactory(scheduled=True, title="Soon", slug="soon")
    return made


def switch_off_prepared_lists(monkeypatch) -> None:
    """Every list request builds and compiles its queryset again."""
    monkeypatch.setattr(views.PostViewSet, "_prepared_listing", lambda self: False)
    monkeypatch.setattr(views, "with_prepared_pages", lambda queryset, key, **values: queryset)


def every_page(client, params: dict) -> list[dict]:
    pages, page = [], 1
    while (response := client.get(POSTS, {**params, "page": page})).status_code == 200:
        pages.append(response.json())
        page += 1
    assert response.status_code == 404
    return pages


LISTS = [{"page_size": 4}, {"page_size": 3, "ordering": "-like_count,title"}, {"page_size": 100}]


@pytest.mark.parametrize("params", LISTS, ids=str)
def test_list_pages_equal_the_built_queries(posts, anon_client, monkeypatch, params):
    prepared = every_page(anon_client, params)
    switch_off_prepared_lists(monkeypatch)
    assert prepared == every_page(anon_client, params)
    assert sum(len(page["results"]) for page in prepared) == 9


def test_detail_equals_the_built_query(posts, anon_client, other_client):
    post = posts[1]
    LikeFactory(post=post)
    prepared = anon_client.get(f"{POSTS}{post.slug}/")
    built = other_client.get(f"{POSTS}{post.slug}/")  # a signed-in reader: the queryset path
    assert prepared.status_code == built.status_code == 200
    assert prepared.json() == {**built.json(), "liked": False}
    assert prepared.json()["tags"] == ["odd", "x"]
    assert prepared.json()["category"] == {"slug": "news", "name": "News"}


@pytest.mark.parametrize("slug", ["soon", "no-such-post"])
def test_detail_404s_as_the_built_query_does(posts, anon_client, other_client, slug):
    prepared = anon_client.get(f"{POSTS}{slug}/")
    built = other_client.get(f"{POSTS}{slug}/")
    assert prepared.status_code == built.status_code == 404
    assert prepared.json() == built.json()


def test_drafts_are_404_to_anonymous_readers(posts, anon_client):
    draft = views.Post.objects.get(title="Draft")
    assert anon_client.get(f"{POSTS}{draft.slug}/").status_code == 404


def test_each_request_reads_the_time_afresh(posts, anon_client):
    # Compiled before the scheduled post's time...
    assert anon_client.get(f"{POSTS}soon/").status_code == 404
    assert "soon" not in [p["slug"] for p in anon_client.get(POSTS).json()["results"]]
    # ...and run after it: the compiled SQL holds no time of its own.
    later = timezone.now() + timedelta(days=2)
    with mock.patch.object(views.timezone, "now", return_value=later):
        assert anon_client.get(f"{POSTS}soon/").status_code == 200
        assert anon_client.get(POSTS).json()["results"][0]["slug"] == "soon"


def test_requests_compile_nothing_after_the_first(posts, anon_client, settings):
    settings.POSTS_COUNT_CACHE_MIN = 3  # a large site: the list's count is kept too
    post = posts[0]
    for url in (POSTS, f"{POSTS}{post.slug}/"):
        assert anon_client.get(url).status_code == 200  # compiles
    with mock.patch("django.db.models.sql.compiler.SQLCompiler.as_sql", side_effect=AssertionError):
        with CaptureQueriesContext(connection) as queries:
            assert anon_client.get(f"{POSTS}{post.slug}/").status_code == 200
        assert len(queries) == 1
        assert anon_client.get(POSTS).status_code == 200


def test_filtered_and_deep_pages_are_not_prepared(posts, anon_client, monkeypatch):
    monkeypatch.setattr(pagination, "_prepared_pages", {})
    anon_client.get(POSTS, {"tag": "even"})
    anon_client.get(POSTS, {"search": "post"})
    anon_client.get(POSTS, {"page": 3, "page_size": 3})  # bottom 6: prepared
    monkeypatch.setattr(pagination, "DEEP_OFFSET", 3)
    anon_client.get(POSTS, {"page": 2, "page_size": 3})  # bottom 3: the deferred join
    assert [key[2:] for key in pagination._prepared_pages] == [(6, 9)]


def test_prepared_pages_are_bounded(posts, anon_client, monkeypatch):
    monkeypatch.setattr(pagination, "_prepared_pages", {})
    monkeypatch.setattr(pagination, "PREPARED_PAGES_MAX", 3)
    for size in range(1, 8):
        assert anon_client.get(POSTS, {"page_size": size}).status_code == 200
        assert len(pagination._prepared_pages) <= 3
