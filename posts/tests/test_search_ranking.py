"""Search results on PostgreSQL: by relevance, every match listed once and counted. When
a search matches more than 1,000 posts, the newest 1,000 come first by relevance, then
the older ones newest first (as the ``search`` parameter's description says)."""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from accounts.tests.factories import UserFactory
from posts.tests.factories import PostFactory, bulk_posts

POSTS = "/api/v1/posts/"
RANKED = 1000  # the API schema's "the newest 1,000 come by relevance"


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
    response = client.get(POSTS, {"search": "database", **params})
    assert response.status_code == 200
    return response.json()


def test_all_matches_ranked_when_few(posts, anon_client):
    data = search(anon_client)
    assert data["count"] == 5
    titles = [post["title"] for post in data["results"]]
    assert titles == ["Database tuning", "Notes 1", "Notes 2", "Notes 3", "Notes 4"]


def test_search_stays_within_the_query_budget(posts, anon_client, django_assert_max_num_queries):
    with django_assert_max_num_queries(4):
        search(anon_client, page_size=100)


# --- More than 1,000 matches -------------------------------------------------------------

MATCHES = RANKED + 5
RELEVANT = (10, 500, RANKED - 1)  # among the newest 1,000: ranked first
RELEVANT_BUT_OLD = RANKED + 3  # past the newest 1,000: in its place among the rest


@pytest.fixture
def many(postgres_only):
    """1,005 matches of "database" (the ``n``-th newest is ``match-n``), of which a few
    say it more often than the others; and posts that do not match or are not public."""
    an_hour_ago = timezone.now() - timedelta(hours=1)
    rows = [
        {
            "slug": f"match-{n}",
            "published_at": an_hour_ago - timedelta(minutes=n),
            **(
                {"title": "Database notes", "body": "Database, database."}
                if n in (*RELEVANT, RELEVANT_BUT_OLD)
                else {"title": "Notes", "body": "A word on the database."}
            ),
        }
        for n in range(MATCHES)
    ]
    rows += [
        {"slug": "unrelated", "title": "Gardening", "body": "Tomatoes."},
        {"slug": "draft", "title": "Database draft", "status": "draft", "published_at": None},
        {"slug": "soon", "title": "Database soon", "published_at": timezone.now() + timedelta(days=1)},
    ]
    bulk_posts(UserFactory(), rows)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE posts_post")  # as autovacuum would after a bulk load
    ranked = [f"match-{n}" for n in RELEVANT]
    ranked += [f"match-{n}" for n in range(RANKED) if n not in RELEVANT]
    return ranked + [f"match-{n}" for n in range(RANKED, MATCHES)]


def test_many_matches_newest_1000_by_relevance_then_the_rest_newest_first(many, anon_client):
    slugs, page = [], 1
    while (
        response := anon_client.get(POSTS, {"search": "database", "page": page, "page_size": 100})
    ).status_code == 200:
        data = response.json()
        assert data["count"] == MATCHES  # exact: nothing left out
        slugs += [post["slug"] for post in data["results"]]
        page += 1
    assert response.status_code == 404
    assert page - 1 == 11
    assert slugs == many
    assert slugs.index(f"match-{RELEVANT_BUT_OLD}") == RANKED + 3


# Within the newest 1,000 (up to the 990th), across the 1,000th, and past it.
@pytest.mark.parametrize(("page", "size"), [(33, 30), (34, 30), (101, 10)])
def test_any_page_of_many_matches_is_its_window_of_the_whole_order(many, anon_client, page, size):
    data = search(anon_client, page=page, page_size=size)
    assert data["count"] == MATCHES
    assert [post["slug"] for post in data["results"]] == many[(page - 1) * size : page * size]


def test_the_schema_documents_the_bound(anon_client, db):
    schema = anon_client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    [parameter] = [p for p in schema["paths"][POSTS]["get"]["parameters"] if p["name"] == "search"]
    assert f"the newest {RANKED:,} come by relevance" in parameter["description"]
