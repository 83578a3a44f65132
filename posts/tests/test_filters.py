"""Filtering, ordering, pagination and search on the post list."""

import datetime
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from accounts.tests.factories import UserFactory
from posts.tests.factories import CategoryFactory, PostFactory, TagFactory

pytestmark = pytest.mark.django_db

POSTS = "/api/v1/posts/"
UTC = datetime.UTC


def slugs(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [item["slug"] for item in response.data["results"]]


def at(*args) -> datetime.datetime:
    return datetime.datetime(*args, tzinfo=UTC)


class TestFilters:
    def test_author_is_case_insensitive(self, anon_client):
        alice = UserFactory(username="Alice")
        mine = PostFactory(author=alice)
        PostFactory()
        assert slugs(anon_client.get(POSTS, {"author": "aLiCe"})) == [mine.slug]
        assert slugs(anon_client.get(POSTS, {"author": "nobody"})) == []

    def test_tag_comma_means_any_without_duplicates(self, anon_client):
        a, b = TagFactory(name="a"), TagFactory(name="b")
        both = PostFactory(tags=[a, b], published_at=timezone.now() - timedelta(hours=1))
        only_a = PostFactory(tags=[a], published_at=timezone.now() - timedelta(hours=2))
        only_b = PostFactory(tags=[b], published_at=timezone.now() - timedelta(hours=3))
        PostFactory(tags=[TagFactory(name="c")])
        response = anon_client.get(POSTS, {"tag": "a,b"})
        assert slugs(response) == [both.slug, only_a.slug, only_b.slug]
        assert response.data["count"] == 3
        assert slugs(anon_client.get(POSTS, {"tag": "a"})) == [both.slug, only_a.slug]
        assert slugs(anon_client.get(POSTS, {"tag": " b , nope "})) == [both.slug, only_b.slug]
        assert slugs(anon_client.get(POSTS, {"tag": "nope"})) == []

    def test_category(self, anon_client):
        python = CategoryFactory(name="Python", slug="python")
        mine = PostFactory(category=python)
        PostFactory(category=CategoryFactory(name="Go", slug="go"))
        PostFactory()
        assert slugs(anon_client.get(POSTS, {"category": "python"})) == [mine.slug]
        assert slugs(anon_client.get(POSTS, {"category": "cobol"})) == []

    def test_filters_combine(self, anon_client):
        python = CategoryFactory(name="Python", slug="python")
        alice = UserFactory(username="alice")
        hit = PostFactory(author=alice, category=python, tags=["x"])
        PostFactory(author=alice, category=python)
        PostFactory(author=alice, tags=["x"])
        PostFactory(category=python, tags=["x"])
        params = {"author": "alice", "category": "python", "tag": "x"}
        assert slugs(anon_client.get(POSTS, params)) == [hit.slug]

    def test_published_after_inclusive_before_exclusive_date_is_midnight_utc(self, anon_client):
        PostFactory(slug="late-on-1st", published_at=at(2024, 1, 1, 23, 59, 59))
        PostFactory(slug="midnight-2nd", published_at=at(2024, 1, 2))
        PostFactory(slug="noon-2nd", published_at=at(2024, 1, 2, 12))
        PostFactory(slug="midnight-3rd", published_at=at(2024, 1, 3))
        assert slugs(anon_client.get(POSTS, {"published_after": "2024-01-02"})) == [
            "midnight-3rd",
            "noon-2nd",
            "midnight-2nd",
        ]
        assert slugs(anon_client.get(POSTS, {"published_before": "2024-01-02"})) == ["late-on-1st"]
        both = {"published_after": "2024-01-02", "published_before": "2024-01-03"}
        assert slugs(anon_client.get(POSTS, both)) == ["noon-2nd", "midnight-2nd"]

    def test_datetimes_with_and_without_offset(self, anon_client):
        PostFactory(slug="noon", published_at=at(2024, 1, 2, 12))
        PostFactory(slug="one", published_at=at(2024, 1, 2, 13))
        assert slugs(anon_client.get(POSTS, {"published_after": "2024-01-02T12:00:00Z"})) == ["one", "noon"]
        assert slugs(anon_client.get(POSTS, {"published_after": "2024-01-02T12:00:01"})) == ["one"]
        # 14:00 at +02:00 is noon UTC.
        assert slugs(anon_client.get(POSTS, {"published_before": "2024-01-02T14:00:00+02:00"})) == []

    @pytest.mark.parametrize("param", ["published_after", "published_before"])
    @pytest.mark.parametrize(
        "value", ["yesterday", "2024-13-01", "2024-02-30", "2024-01-01T25:00", "1/2/2024"]
    )
    def test_malformed_date_is_400(self, anon_client, param, value):
        PostFactory()
        response = anon_client.get(POSTS, {param: value})
        assert response.status_code == 400
        assert param in response.json()

    def test_scheduled_posts_never_match_a_filter(self, author, anon_client):
        PostFactory(author=author, scheduled=True, tags=["x"])
        PostFactory(author=author, draft=True, tags=["x"])
        assert slugs(anon_client.get(POSTS, {"author": "author"})) == []
        assert slugs(anon_client.get(POSTS, {"tag": "x"})) == []
        far = (timezone.now() + timedelta(days=30)).date().isoformat()
        assert slugs(anon_client.get(POSTS, {"published_before": far})) == []


class TestOrdering:
    @pytest.fixture
    def posts(self):
        now = timezone.now()
        return [
            PostFactory(
                slug="b", title="Bravo", published_at=now - timedelta(days=1), like_count=5, comment_count=2
            ),
            PostFactory(
                slug="a", title="Alpha", published_at=now - timedelta(days=3), like_count=5, comment_count=9
            ),
            PostFactory(slug="c", title="Charlie", published_at=now - timedelta(days=2), like_count=1),
        ]

    def test_default_newest_first(self, posts, anon_client):
        assert slugs(anon_client.get(POSTS)) == ["b", "c", "a"]

    @pytest.mark.parametrize(
        ("ordering", "expected"),
        [
            ("published_at", ["a", "c", "b"]),
            ("-published_at", ["b", "c", "a"]),
            ("-like_count,published_at", ["a", "b", "c"]),
            ("-like_count,-published_at", ["b", "a", "c"]),
            ("like_count", ["c", "a", "b"]),  # ties: newest id first
            ("title", ["a", "b", "c"]),
            ("-title", ["c", "b", "a"]),
            ("-comment_count", ["a", "b", "c"]),
            ("comment_count,title", ["c", "b", "a"]),
            (" -comment_count , title ", ["a", "b", "c"]),
            ("bogus,-like_count,published_at", ["a", "b", "c"]),
            ("bogus", ["b", "c", "a"]),
            ("author__password", ["b", "c", "a"]),
            ("body", ["b", "c", "a"]),
        ],
    )
    def test_allow_listed_keys(self, posts, anon_client, ordering, expected):
        assert slugs(anon_client.get(POSTS, {"ordering": ordering})) == expected


class TestPagination:
    @pytest.fixture
    def many(self):
        now = timezone.now()
        writer = UserFactory()
        return [PostFactory(author=writer, published_at=now - timedelta(minutes=i)) for i in range(105)]

    def test_default_page_size_and_links(self, many, anon_client):
        response = anon_client.get(POSTS)
        assert response.data["count"] == 105
        assert len(response.data["results"]) == 20
        assert response.data["previous"] is None
        assert "page=2" in response.data["next"]
        assert set(response.data) == {"count", "next", "previous", "results"}

    def test_pages_do_not_overlap(self, many, anon_client):
        seen = []
        url = f"{POSTS}?page_size=30"
        while url:
            response = anon_client.get(url)
            seen += slugs(response)
            url = response.data["next"]
        assert sorted(seen) == sorted(p.slug for p in many)

    def test_page_size_is_capped_at_100(self, many, anon_client):
        assert len(slugs(anon_client.get(POSTS, {"page_size": 1000}))) == 100

    @pytest.mark.parametrize("size", ["abc", "0", "-5", "", "1.5"])
    def test_malformed_page_size_falls_back(self, many, anon_client, size):
        assert len(slugs(anon_client.get(POSTS, {"page_size": size}))) == 20

    @pytest.mark.parametrize("page", ["7", "abc", "0", "-1"])
    def test_bad_page_is_404(self, many, anon_client, page):
        response = anon_client.get(POSTS, {"page": page})
        assert response.status_code == 404
        assert "detail" in response.json()

    def test_last_page(self, many, anon_client):
        response = anon_client.get(POSTS, {"page": 6})
        assert len(slugs(response)) == 5 and response.data["next"] is None

    def test_empty_list_first_page_is_200(self, anon_client):
        response = anon_client.get(POSTS)
        assert response.status_code == 200 and response.data["count"] == 0


class TestSearch:
    def test_matches_title_excerpt_and_body_any_case(self, anon_client):
        PostFactory(slug="t", title="Understanding Pelicans", body="nothing here")
        PostFactory(slug="b", title="Birds", body="All about the pelican and its beak.")
        PostFactory(slug="e", title="Misc", body="plain", excerpt="A PELICAN summary")
        PostFactory(slug="n", title="Other", body="unrelated")
        assert set(slugs(anon_client.get(POSTS, {"search": "pelican"}))) == {"t", "b", "e"}

    def test_no_match_and_blank(self, anon_client):
        PostFactory()
        assert slugs(anon_client.get(POSTS, {"search": "zzzyyyxxx"})) == []
        assert len(slugs(anon_client.get(POSTS, {"search": "   "}))) == 1

    def test_search_never_reveals_non_public_posts(self, author, anon_client, other_client):
        PostFactory(author=author, draft=True, title="Secret pelican")
        PostFactory(author=author, scheduled=True, title="Future pelican")
        for client in (anon_client, other_client):
            assert slugs(client.get(POSTS, {"search": "pelican"})) == []

    def test_search_combines_with_filters(self, anon_client):
        PostFactory(slug="x", title="Pelican", tags=["birds"])
        PostFactory(slug="y", title="Pelican too")
        assert slugs(anon_client.get(POSTS, {"search": "pelican", "tag": "birds"})) == ["x"]

    def test_hostile_search_terms_are_harmless(self, anon_client):
        PostFactory(title="Pelican")
        for term in ["'; DROP TABLE posts_post; --", "a & | ! ( ) :*", '"unterminated', "x" * 5000, "%_%"]:
            assert anon_client.get(POSTS, {"search": term}).status_code == 200
        assert len(slugs(anon_client.get(POSTS))) == 1


@pytest.mark.postgres
class TestPostgresSearch:
    def test_ranks_title_above_body_and_stems(self, postgres_only, anon_client):
        now = timezone.now()
        in_body = PostFactory(title="Birds", body="Pelicans fish in the sea.", published_at=now)
        in_title = PostFactory(
            title="Pelicans of the coast", body="Large birds.", published_at=now - timedelta(days=9)
        )
        PostFactory(title="Other", body="Nothing.")
        assert slugs(anon_client.get(POSTS, {"search": "pelican"})) == [in_title.slug, in_body.slug]

    def test_ordering_overrides_relevance(self, postgres_only, anon_client):
        now = timezone.now()
        in_body = PostFactory(title="Birds", body="Pelicans fish.", published_at=now)
        in_title = PostFactory(title="Pelicans", body="Birds.", published_at=now - timedelta(days=9))
        response = anon_client.get(POSTS, {"search": "pelican", "ordering": "-published_at"})
        assert slugs(response) == [in_body.slug, in_title.slug]

    def test_unknown_ordering_keeps_relevance(self, postgres_only, anon_client):
        now = timezone.now()
        in_body = PostFactory(title="Birds", body="Pelicans fish.", published_at=now)
        in_title = PostFactory(title="Pelicans", body="Birds.", published_at=now - timedelta(days=9))
        response = anon_client.get(POSTS, {"search": "pelican", "ordering": "bogus"})
        assert slugs(response) == [in_title.slug, in_body.slug]

    def test_edits_are_searchable(self, postgres_only, author, author_client, anon_client):
        post = PostFactory(author=author, title="Plain")
        author_client.patch(f"{POSTS}{post.slug}/", {"body": "Now about flamingos."})
        assert slugs(anon_client.get(POSTS, {"search": "flamingo"})) == [post.slug]

    def test_websearch_syntax(self, postgres_only, anon_client):
        PostFactory(slug="both", title="Pelican and heron")
        PostFactory(slug="pel", title="Pelican alone")
        assert slugs(anon_client.get(POSTS, {"search": "pelican -heron"})) == ["pel"]
        assert set(slugs(anon_client.get(POSTS, {"search": "heron or alone"}))) == {"both", "pel"}


def test_sqlite_search_is_containment(anon_client):
    if connection.vendor != "sqlite":
        pytest.skip("the SQLite fallback")
    PostFactory(slug="part", title="Superpelicans")
    assert slugs(anon_client.get(POSTS, {"search": "pelican"})) == ["part"]
