"""The anonymous response cache (``POSTS_RESPONSE_CACHE``, off unless configured): an
anonymous reader asking again for a post list or detail is answered without touching the
database; signed-in readers always get their own answer; and after any write, through
any of the API's endpoints, every reader sees what the write changed."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.tests.factories import UserFactory
from conftest import client_for
from posts import services
from posts.models import Post
from posts.tests.conftest import assert_write_clears_the_cache, contents
from posts.tests.factories import PostFactory

pytestmark = pytest.mark.django_db


def urls(post: Post) -> list[str]:
    return ["/api/v1/posts/", f"/api/v1/posts/{post.slug}/", "/api/v1/posts/?page_size=5"]


def snapshot(client, post: Post) -> list[bytes]:
    return contents(client, urls(post))


def test_second_anonymous_request_is_served_without_queries(cached, anon_client, post):
    first = snapshot(anon_client, post)
    with CaptureQueriesContext(connection) as queries:
        second = snapshot(anon_client, post)
    assert second == first
    assert len(queries) == 0


def test_off_by_default_in_tests_and_without_shared_cache(anon_client, post):
    snapshot(anon_client, post)
    with CaptureQueriesContext(connection) as queries:
        snapshot(anon_client, post)
    assert len(queries) > 0


def test_authenticated_callers_are_not_served_from_the_cache(cached, anon_client, other_user, post):
    client = client_for(other_user)
    snapshot(anon_client, post)
    assert client.get(f"/api/v1/posts/{post.slug}/").json()["liked"] is False
    client.post(f"/api/v1/posts/{post.slug}/like/")
    assert client.get(f"/api/v1/posts/{post.slug}/").json()["liked"] is True


def test_browsable_api_is_not_cached(cached, anon_client, post):
    anon_client.get("/api/v1/posts/", HTTP_ACCEPT="text/html")
    json_response = anon_client.get("/api/v1/posts/")
    assert json_response["Content-Type"] == "application/json"
    assert json_response.json()["count"] == 1


def _edit_post(post, author, staff):
    client_for(author).patch(f"/api/v1/posts/{post.slug}/", {"title": "Renamed"})


def _new_post(post, author, staff):
    client_for(author).post("/api/v1/posts/", {"title": "Another", "body": "Text", "status": "published"})


def _delete_post(post, author, staff):
    PostFactory(author=author)  # keep the list non-empty
    client_for(author).delete(f"/api/v1/posts/{post.slug}/")


def _retag_post(post, author, staff):
    client_for(author).patch(f"/api/v1/posts/{post.slug}/", {"tags": ["python"]})


def _comment(post, author, staff):
    client_for(staff).post(f"/api/v1/posts/{post.slug}/comments/", {"body": "Nice"})


def _delete_comment(post, author, staff):
    services.delete_comment(comment=post.comments.get())


def _like(post, author, staff):
    client_for(UserFactory()).post(f"/api/v1/posts/{post.slug}/like/")


def _unlike(post, author, staff):
    client_for(staff).delete(f"/api/v1/posts/{post.slug}/like/")


def _rename_category(post, author, staff):
    client_for(staff).patch("/api/v1/categories/databases/", {"name": "Data stores"})


def _profile(post, author, staff):
    client_for(author).patch("/api/v1/auth/me/", {"display_name": "A New Name"})


# Writes through the other faces (the pages, Conduit, the admin): test_cache_invalidation.py.
WRITES = [
    _edit_post,
    _new_post,
    _delete_post,
    _retag_post,
    _comment,
    _delete_comment,
    _like,
    _unlike,
    _rename_category,
    _profile,
]


@pytest.mark.parametrize("write", WRITES, ids=[w.__name__.strip("_") for w in WRITES])
def test_every_write_invalidates_what_it_changes(cached, anon_client, post, author, staff_user, write):
    assert_write_clears_the_cache(cached, anon_client, urls(post), lambda: write(post, author, staff_user))
