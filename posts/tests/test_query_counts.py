"""Every list endpoint answers in a bounded number of queries, whatever the page size."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.tests.factories import FollowFactory, UserFactory
from conftest import client_for
from posts.models import Post
from posts.tests.factories import CategoryFactory, CommentFactory, LikeFactory, PostFactory, TagFactory

pytestmark = pytest.mark.django_db

ROWS = 55


def count_queries(client, url: str, **params) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params)
    assert response.status_code == 200, response.content
    return len(queries)


def assert_flat(client, url: str, limit: int) -> None:
    """Same number of queries for 5 and 50 rows per page, and at most ``limit``. The
    first request may look up, once per write, what later ones find in the cache (the
    next scheduled publication): it must stay within the limit too."""
    assert count_queries(client, url, page_size=5) <= limit
    small = count_queries(client, url, page_size=5)
    large = count_queries(client, url, page_size=50)
    assert small == large, (small, large)
    assert large <= limit, large


@pytest.fixture
def blog(author, other_user, image_of):
    """ROWS public posts by ``author`` (followed by ``other_user``; both have avatars),
    each with a cover image, a category, two tags, a like and a comment, plus drafts and
    scheduled posts."""
    covers = [image_of(author, width=1200 + i, height=800) for i in range(3)]
    author.avatar = image_of(author, width=300, height=300)
    author.save()
    other_user.avatar = image_of(other_user, width=300, height=300)
    other_user.save()
    tags = [TagFactory(name=f"tag{i}") for i in range(ROWS)]
    categories = [CategoryFactory(name=f"Category {i}") for i in range(ROWS)]
    posts = [
        PostFactory(
            author=author,
            category=categories[i],
            tags=[tags[i], tags[(i + 1) % ROWS]],
            cover_image=covers[i % len(covers)],
        )
        for i in range(ROWS)
    ]
    for post in posts:
        LikeFactory(post=post, user=other_user)
        CommentFactory(post=post, author=other_user)
    for _ in range(3):
        PostFactory(author=author, draft=True, tags=tags[:2])
        PostFactory(author=author, scheduled=True, category=categories[0])
    FollowFactory(follower=other_user, followed=author)
    return posts


@pytest.mark.parametrize("persona", ["anon", "other"])
def test_post_list(blog, other_user, persona):
    client = client_for(other_user if persona == "other" else None)
    assert_flat(client, "/api/v1/posts/", limit=4)
    assert_flat(client, "/api/v1/posts/?tag=tag1,tag2&ordering=-like_count&search=a", limit=4)


@pytest.mark.parametrize("persona", ["anon", "other", "author"])
def test_post_detail(blog, author, other_user, persona):
    user = {"anon": None, "other": other_user, "author": author}[persona]
    assert count_queries(client_for(user), f"/api/v1/posts/{blog[0].slug}/") <= 4


def test_comments(author, other_user):
    post = PostFactory(author=author)
    for _ in range(ROWS):
        CommentFactory(post=post, author=UserFactory())
    assert_flat(client_for(None), f"/api/v1/posts/{post.slug}/comments/", limit=4)
    assert_flat(client_for(other_user), f"/api/v1/posts/{post.slug}/comments/", limit=5)


def test_tags(blog):
    assert_flat(client_for(None), "/api/v1/tags/", limit=2)


def test_categories(blog):
    assert_flat(client_for(None), "/api/v1/categories/", limit=2)


def test_my_posts(blog, author):
    assert_flat(client_for(author), "/api/v1/auth/me/posts/", limit=4)
    assert_flat(client_for(author), "/api/v1/auth/me/posts/?status=published", limit=4)


def test_feed(blog, other_user):
    assert_flat(client_for(other_user), "/api/v1/feed/", limit=4)


def test_profile_counts_in_one_query(blog, author, other_user):
    for client in (client_for(None), client_for(other_user)):
        with CaptureQueriesContext(connection) as queries:
            data = client.get(f"/api/v1/users/{author.username}/").data
        assert data["post_count"] == ROWS
        assert len(queries) <= 2


def test_post_list_counts_are_right(blog, other_user):
    """The bounded queries still give the exact counts."""
    results = client_for(other_user).get("/api/v1/posts/", {"page_size": 50}).data["results"]
    assert all(p["like_count"] == 1 and p["comment_count"] == 1 for p in results)
    assert all(len(p["tags"]) == 2 and p["category"] for p in results)
    assert all(p["cover_image"]["renditions"] for p in results)
    assert Post.objects.count() == ROWS + 6


@pytest.mark.parametrize("url", ["/", "/authors/author/", "/tags/tag1/"])
def test_pages_show_covers_and_avatars_in_bounded_queries(blog, client, other_user, url):
    """A page of ten post cards costs what a page of one would."""
    assert count_queries(client, url) <= 5
    client.force_login(other_user)
    assert count_queries(client, url) <= 6


@pytest.mark.parametrize("url", ["/api/articles", "/api/articles?author=author", "/api/articles/feed"])
def test_conduit_authors_images_cost_no_query_per_article(blog, other_user, url):
    client = client_for(other_user)
    small = count_queries(client, url, limit=5)
    large = count_queries(client, url, limit=50)
    assert small == large <= 5


def test_post_page_with_cover_avatar_and_comments_in_bounded_queries(blog, client, other_user):
    for _ in range(20):
        CommentFactory(post=blog[0], author=UserFactory(avatar=other_user.avatar))
    assert count_queries(client, f"/posts/{blog[0].slug}/") <= 3
    client.force_login(other_user)
    assert count_queries(client, f"/posts/{blog[0].slug}/") <= 5
    assert count_queries(client_for(other_user), f"/api/articles/{blog[0].slug}/comments") <= 4
