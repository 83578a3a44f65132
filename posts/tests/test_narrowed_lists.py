"""A tag's, an author's and a category's lists show exactly their public posts, newest
first, whatever wrote them.

On PostgreSQL a tag's list is read from the tag's links, which carry a copy of their
post's status and date; these tests change posts in every way a write can (the API, a
bulk ``QuerySet.update``, a new link, a removed link, a deletion) and check that the
list agrees with the same list read through the general filter (``ordering`` given
explicitly takes that path) and with what the posts are.
"""

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.tests.factories import UserFactory
from posts import caching
from posts.models import Post
from posts.tests.factories import CategoryFactory, PostFactory, TagFactory

pytestmark = pytest.mark.django_db

LIST = "/api/v1/posts/"


def slugs(client, **params) -> list[str]:
    """Every post of the list, page by page (3 per page)."""
    found, counts, page = [], set(), 1
    while True:
        response = client.get(LIST, {**params, "page": page, "page_size": 3})
        if response.status_code == 404:
            assert counts <= {len(found)}  # every page told the same, true count
            return found
        assert response.status_code == 200, response.content
        data = response.json()
        found += [post["slug"] for post in data["results"]]
        counts.add(data["count"])
        page += 1


def assert_tag_list(client, tag: str, expected: list[Post]) -> None:
    wanted = [post.slug for post in sorted(expected, key=lambda p: (p.published_at, p.pk), reverse=True)]
    assert slugs(client, tag=tag) == wanted
    assert slugs(client, tag=tag, ordering="-published_at") == wanted


@pytest.fixture
def tagged():
    now = timezone.now()
    tag = TagFactory(name="rivers")
    posts = [PostFactory(tags=[tag], published_at=now - timedelta(hours=i)) for i in range(1, 8)]
    PostFactory(tags=[tag], draft=True)
    PostFactory(tags=[tag], scheduled=True)
    PostFactory(tags=[TagFactory(name="lakes")])
    return tag, posts


def test_a_tag_lists_its_public_posts_newest_first(tagged, anon_client):
    tag, posts = tagged
    assert_tag_list(anon_client, tag.slug, posts)


def test_unpublishing_through_the_api_takes_a_post_off_its_tags(tagged, anon_client, staff_client):
    tag, posts = tagged
    response = staff_client.patch(f"{LIST}{posts[2].slug}/", {"status": "draft"}, format="json")
    assert response.status_code == 200
    assert_tag_list(anon_client, tag.slug, posts[:2] + posts[3:])


def test_a_new_date_moves_a_post_within_its_tag(tagged, anon_client, staff_client):
    tag, posts = tagged
    earlier = (timezone.now() - timedelta(days=30)).isoformat()
    response = staff_client.patch(f"{LIST}{posts[0].slug}/", {"published_at": earlier}, format="json")
    assert response.status_code == 200
    posts[0].refresh_from_db()
    assert slugs(anon_client, tag=tag.slug)[-1] == posts[0].slug
    assert_tag_list(anon_client, tag.slug, posts)


def test_a_bulk_update_reaches_the_tag_lists_too(tagged, anon_client):
    tag, posts = tagged
    Post.objects.filter(pk__in=[posts[1].pk, posts[4].pk]).update(status=Post.Status.DRAFT)
    caching.bump(posts=True)  # the documented rule for writes outside the services
    assert_tag_list(anon_client, tag.slug, [p for i, p in enumerate(posts) if i not in (1, 4)])


def test_tagging_and_untagging_a_post_changes_its_tag_lists(tagged, anon_client, staff_client):
    tag, posts = tagged
    other = PostFactory(published_at=timezone.now() - timedelta(minutes=5))
    response = staff_client.patch(f"{LIST}{other.slug}/", {"tags": ["rivers"]}, format="json")
    assert response.status_code == 200
    response = staff_client.patch(f"{LIST}{posts[3].slug}/", {"tags": []}, format="json")
    assert response.status_code == 200
    assert_tag_list(anon_client, tag.slug, [other, *posts[:3], *posts[4:]])


def test_deleting_a_post_takes_it_off_its_tags(tagged, anon_client, staff_client):
    tag, posts = tagged
    assert staff_client.delete(f"{LIST}{posts[5].slug}/").status_code == 204
    assert_tag_list(anon_client, tag.slug, posts[:5] + posts[6:])


def test_a_scheduled_post_joins_its_tag_when_its_time_comes(anon_client):
    tag = TagFactory(name="soon")
    shown = PostFactory(tags=[tag])
    soon = PostFactory(tags=[tag], scheduled=True, published_at=timezone.now() + timedelta(seconds=1.5))
    assert slugs(anon_client, tag=tag.slug) == [shown.slug]
    time.sleep(max(0.0, (soon.published_at - timezone.now()).total_seconds()) + 0.1)
    assert slugs(anon_client, tag=tag.slug) == [soon.slug, shown.slug]


def test_an_unknown_tag_lists_nothing(tagged, anon_client):
    response = anon_client.get(LIST, {"tag": "no-such-tag"})
    assert response.status_code == 200
    assert response.json()["count"] == 0
    assert anon_client.get(LIST, {"tag": "no-such-tag", "page": 2}).status_code == 404


def test_a_large_tags_kept_count_follows_every_write(tagged, anon_client, staff_client, settings):
    settings.POSTS_COUNT_CACHE_MIN = 1  # count this tag as a large one: its count is kept
    tag, posts = tagged
    assert_tag_list(anon_client, tag.slug, posts)
    assert (
        staff_client.patch(f"{LIST}{posts[0].slug}/", {"status": "draft"}, format="json").status_code == 200
    )
    assert_tag_list(anon_client, tag.slug, posts[1:])
    response = staff_client.post(
        LIST, {"title": "Fresh", "body": "x", "status": "published", "tags": ["rivers"]}
    )
    assert response.status_code == 201
    fresh = Post.objects.get(slug=response.json()["slug"])
    assert_tag_list(anon_client, tag.slug, [fresh, *posts[1:]])


@pytest.mark.parametrize("narrowing", ["author", "category"])
def test_a_large_author_or_category_list_follows_every_write(anon_client, staff_client, settings, narrowing):
    settings.POSTS_COUNT_CACHE_MIN = 1  # count these lists as large ones: their counts are kept
    category = CategoryFactory(name="Rivers")
    writer = UserFactory(username="Wendy")
    now = timezone.now()
    posts = [
        PostFactory(author=writer, category=category, published_at=now - timedelta(hours=i))
        for i in (1, 2, 3, 4)
    ]
    PostFactory(author=writer, category=category, draft=True)
    params = {"author": "wENDY"} if narrowing == "author" else {"category": category.slug}

    def assert_list(expected: list[Post]) -> None:
        assert slugs(anon_client, **params) == [post.slug for post in expected]
        assert slugs(anon_client, **params, ordering="-published_at") == [post.slug for post in expected]

    assert_list(posts)
    assert (
        staff_client.patch(f"{LIST}{posts[1].slug}/", {"status": "draft"}, format="json").status_code == 200
    )
    assert_list([posts[0], *posts[2:]])
    assert staff_client.delete(f"{LIST}{posts[0].slug}/").status_code == 204
    assert_list(posts[2:])
