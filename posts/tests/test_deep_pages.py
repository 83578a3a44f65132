"""Reading a post list page by page, past its 100th post: every post the list holds
appears exactly once, in the documented order (ties broken by newest id), whatever the
page size, ordering or filter; and a deep page costs no more queries than the first."""

from datetime import timedelta
from operator import attrgetter

import pytest
from django.utils import timezone

from accounts.tests.factories import UserFactory
from conftest import client_for
from posts.models import Post
from posts.tests.factories import TagFactory, bulk_posts

pytestmark = pytest.mark.django_db

POSTS = "/api/v1/posts/"
MINE = "/api/v1/auth/me/posts/"
PUBLIC = 130


@pytest.fixture
def site():
    """130 public posts (pairs share a publication time), a draft and a scheduled post,
    all by one author. Most titles say "Common", most posts are tagged ``kept``, some
    ``also``, a few both."""
    author = UserFactory(username="writer")
    kept, also = TagFactory(name="kept"), TagFactory(name="also")
    an_hour_ago = timezone.now() - timedelta(hours=1)
    rows = [
        {
            "title": f"{'Other' if i % 8 == 0 else 'Common'} post {i:03}",
            "slug": f"post-{i:03}",
            "published_at": an_hour_ago - timedelta(minutes=i // 2),
            "like_count": i % 3,
            "tags": ([kept] if i % 10 else []) + ([also] if i % 4 == 0 else []),
        }
        for i in range(PUBLIC)
    ]
    rows += [
        {"title": "Common draft", "slug": "draft", "status": "draft", "published_at": None, "tags": [kept]},
        {"title": "Common soon", "slug": "soon", "published_at": timezone.now() + timedelta(days=1)},
    ]
    posts = bulk_posts(author, rows)
    tags = {post.pk: row.get("tags", []) for post, row in zip(posts, rows, strict=True)}
    return author, {post.slug: post for post in posts}, tags


def in_order(posts: list[Post], keys: tuple[str, ...]) -> list[str]:
    """The slugs of ``posts`` in the order of ``keys`` (ordering keys, ``-`` descending),
    then newest id first."""
    for key in reversed([*keys, "-id"]):
        posts = sorted(posts, key=attrgetter(key.lstrip("-")), reverse=key.startswith("-"))
    return [post.slug for post in posts]


def public(posts: dict[str, Post]) -> list[Post]:
    return [post for slug, post in posts.items() if slug not in ("draft", "soon")]


def every_page(client, url: str, params: dict) -> list[str]:
    """The slugs of every page of the list, read in turn until the 404 past its end;
    every page says the same count, and the slugs listed add up to it."""
    slugs, counts, page = [], set(), 1
    while (response := client.get(url, {**params, "page": page})).status_code == 200:
        data = response.json()
        counts.add(data["count"])
        slugs += [item["slug"] for item in data["results"]]
        assert (data["next"] is None) == (len(slugs) == data["count"])
        page += 1
    assert response.status_code == 404
    assert counts == {len(slugs)}
    return slugs


LISTS = {
    "newest first": ({}, lambda posts, tags: in_order(public(posts), ("-published_at",))),
    "by title": ({"ordering": "title"}, lambda posts, tags: in_order(public(posts), ("title",))),
    "most liked, then title": (
        {"ordering": "-like_count,title"},
        lambda posts, tags: in_order(public(posts), ("-like_count", "title")),
    ),
    "either of two tags": (
        {"tag": "kept,also"},
        lambda posts, tags: in_order([p for p in public(posts) if tags[p.pk]], ("-published_at",)),
    ),
    # Every match is as relevant as the others: newest first.
    "a search": (
        {"search": "common"},
        lambda posts, tags: in_order([p for p in public(posts) if "Common" in p.title], ("-published_at",)),
    ),
}


@pytest.mark.parametrize("page_size", [25, 100])
@pytest.mark.parametrize("name", LISTS)
def test_every_page_of_a_public_list_read_in_turn_lists_each_post_once_in_order(
    site, anon_client, name, page_size
):
    _, posts, tags = site
    params, expected = LISTS[name]
    slugs = every_page(anon_client, POSTS, {**params, "page_size": page_size})
    assert len(slugs) > 100  # the list reaches past its 100th post
    assert slugs == expected(posts, tags)


def test_every_page_of_the_authors_own_list_lists_each_post_once_in_order(site):
    author, posts, _ = site
    slugs = every_page(client_for(author), MINE, {"page_size": 25})
    # The draft (no date) first, then newest first, the scheduled post at the top.
    rest = [post for slug, post in posts.items() if slug != "draft"]
    assert slugs == ["draft", *in_order(rest, ("-published_at", "-created_at"))]
    assert len(slugs) == PUBLIC + 2


@pytest.mark.parametrize("params", [{}, {"tag": "kept"}], ids=["unfiltered", "filtered"])
def test_a_deep_page_takes_no_more_queries_than_the_first(
    site, anon_client, django_assert_max_num_queries, params
):
    for page in (1, 5):
        with django_assert_max_num_queries(4):
            response = anon_client.get(POSTS, {**params, "page": page, "page_size": 25})
        assert response.status_code == 200
        assert len(response.json()["results"]) > 0
