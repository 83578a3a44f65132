"""Deep pages select their ids first (a deferred join): the same posts in the same order
as plain OFFSET pagination, in a bounded number of queries."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from config import pagination
from posts.tests.factories import PostFactory, TagFactory

pytestmark = pytest.mark.django_db

QUERIES = [
    {},
    {"ordering": "title"},
    {"ordering": "-like_count,title"},
    {"tag": "even"},
    {"search": "common"},
]


@pytest.fixture
def posts():
    even = TagFactory(name="even")
    return [
        PostFactory(title=f"Common post {i:02}", like_count=i % 3, tags=[even] if i % 2 == 0 else [])
        for i in range(13)
    ]


def pages(client, params: dict) -> list[dict]:
    results, page = [], 1
    while True:
        response = client.get("/api/v1/posts/", {**params, "page": page, "page_size": 3})
        if response.status_code == 404:
            return results
        results.append(response.json())
        page += 1


@pytest.mark.parametrize("params", QUERIES, ids=[str(q) or "default" for q in QUERIES])
def test_deep_pages_equal_offset_pages(posts, anon_client, monkeypatch, params):
    monkeypatch.setattr(pagination, "DEEP_OFFSET", 10**9)
    plain = pages(anon_client, params)
    monkeypatch.setattr(pagination, "DEEP_OFFSET", 3)  # every page after the first
    deferred = pages(anon_client, params)
    assert deferred == plain
    assert len(plain) >= 2


def test_deep_page_query_count(posts, anon_client, monkeypatch):
    monkeypatch.setattr(pagination, "DEEP_OFFSET", 0)
    with CaptureQueriesContext(connection) as queries:
        response = anon_client.get("/api/v1/posts/", {"page": 3, "page_size": 3, "tag": "even"})
    assert response.status_code == 200
    assert len(response.json()["results"]) == 1
    assert len(queries) <= 4
