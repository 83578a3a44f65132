"""What anonymous readers get from the public list and the post detail: every public
post once, in order, on every page; the same posts and fields a signed-in reader gets
(without ``liked``); drafts and posts not yet due are 404 until their time has come, and
then they are there, without any write."""

import time
from datetime import timedelta

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from config.pagination import Window
from posts import selectors
from posts.models import Post
from posts.serializers import PostListSerializer
from posts.tests.factories import CategoryFactory, LikeFactory, PostFactory

pytestmark = pytest.mark.django_db

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
            published_at=now - timedelta(hours=i + 1),
        )
        for i in range(9)
    ]
    PostFactory(draft=True, title="Draft", slug="draft")
    PostFactory(scheduled=True, title="Soon", slug="soon")
    return made


def every_page(client, params: dict) -> list[dict]:
    pages, page = [], 1
    while (response := client.get(POSTS, {**params, "page": page})).status_code == 200:
        pages.append(response.json())
        page += 1
    assert response.status_code == 404
    return pages


def by_likes_then_title(post: Post) -> tuple:
    return (-post.like_count, post.title)


LISTS = [
    ({"page_size": 4}, None),
    ({"page_size": 3, "ordering": "-like_count,title"}, by_likes_then_title),
    ({"page_size": 100}, None),
]


@pytest.mark.parametrize(("params", "order"), LISTS, ids=[str(params) for params, _ in LISTS])
def test_every_page_of_the_anonymous_list_lists_each_public_post_once_in_order(
    posts, anon_client, params, order
):
    pages = every_page(anon_client, params)
    expected = sorted(posts, key=order) if order else posts  # the fixture's are newest first
    assert [item["slug"] for page in pages for item in page["results"]] == [p.slug for p in expected]
    assert {page["count"] for page in pages} == {9}


def test_a_signed_in_reader_lists_the_same_posts_with_what_they_like(posts, other_user):
    LikeFactory(post=posts[2], user=other_user)
    request = Request(APIRequestFactory().get(POSTS))
    serializer = PostListSerializer(context={"request": request})
    window = Window.page(1, 20)
    anonymous = selectors.public_posts(window=window)
    signed_in = selectors.public_posts(window=window, viewer=other_user)
    assert anonymous.count == signed_in.count == 9
    assert [serializer.to_representation(p) for p in signed_in.items] == [
        serializer.to_representation(p) for p in anonymous.items
    ]
    assert [p.liked for p in signed_in.items] == [p == posts[2] for p in posts]
    assert not any(p.following_author for p in signed_in.items)
    assert selectors.public_posts(window=window, viewer=AnonymousUser()).items == anonymous.items


def test_the_anonymous_detail_equals_the_signed_in_detail_minus_liked(posts, anon_client, other_client):
    post = posts[1]
    LikeFactory(post=post)
    anonymous = anon_client.get(f"{POSTS}{post.slug}/")
    signed_in = other_client.get(f"{POSTS}{post.slug}/")
    assert anonymous.status_code == signed_in.status_code == 200
    assert anonymous.json() == {**signed_in.json(), "liked": False}
    assert anonymous.json()["tags"] == ["odd", "x"]
    assert anonymous.json()["category"] == {"slug": "news", "name": "News"}
    assert anonymous.json()["like_count"] == 2


@pytest.mark.parametrize("slug", ["soon", "draft", "no-such-post"])
def test_a_post_nobody_may_read_yet_is_the_same_404_to_every_reader(posts, anon_client, other_client, slug):
    anonymous = anon_client.get(f"{POSTS}{slug}/")
    signed_in = other_client.get(f"{POSTS}{slug}/")
    assert anonymous.status_code == signed_in.status_code == 404
    assert anonymous.json() == signed_in.json()


def test_a_scheduled_post_appears_in_the_anonymous_list_and_detail_once_its_time_has_come(
    posts, anon_client, cached
):
    # With the anonymous response cache on: nothing read before may hide it afterwards.
    due = timezone.now() + timedelta(seconds=1.5)
    PostFactory(scheduled=True, slug="due", published_at=due)
    for _ in range(2):  # the second time from whatever the first left behind
        assert anon_client.get(f"{POSTS}due/").status_code == 404
        listed = anon_client.get(POSTS).json()
        assert "due" not in [item["slug"] for item in listed["results"]]
        assert listed["count"] == 9
    time.sleep(max(0.0, (due - timezone.now()).total_seconds()) + 0.05)
    assert anon_client.get(f"{POSTS}due/").status_code == 200
    listed = anon_client.get(POSTS).json()
    assert listed["results"][0]["slug"] == "due"
    assert listed["count"] == 10
