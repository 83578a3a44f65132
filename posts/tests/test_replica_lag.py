"""Read replicas may lag behind a write (``REPLICA_DATABASES``, ``DATABASE_REPLICA_PIN_SECONDS``):
for the pin's length after each write, what an anonymous read finds is not kept under the
new generation (responses, remembered values, counts, search rankings), and its ETag comes
from its body, so that a read from a replica that had not replayed the write yet is never
remembered, nor revalidated, as the new state."""

import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from conftest import client_for
from posts import caching
from posts.tests.factories import PostFactory

pytestmark = pytest.mark.django_db

PIN_SECONDS = 1


@pytest.fixture
def replicas(settings):
    """A replica configured, with generation ETags and the response cache on (a shared
    cache), and reads pinned for a second after a write."""
    settings.REPLICA_DATABASES = ["replica"]
    settings.DATABASE_REPLICA_PIN_SECONDS = PIN_SECONDS
    settings.GENERATION_ETAGS = True
    settings.POSTS_RESPONSE_CACHE = True
    return settings


@pytest.fixture
def post(author):
    return PostFactory(author=author)


def like(post, user) -> None:
    assert client_for(user).post(f"/api/v1/posts/{post.slug}/like/").status_code == 200


def wait_out_the_pin() -> None:
    time.sleep(PIN_SECONDS + 0.05)


def test_right_after_a_write_the_etag_comes_from_the_body(replicas, anon_client, post, other_user):
    before = anon_client.get("/api/v1/posts/")["ETag"]
    assert before.startswith('W/"')  # no write yet: the generation's
    like(post, other_user)
    during = anon_client.get("/api/v1/posts/")
    assert during["ETag"].startswith('"')
    assert anon_client.get("/api/v1/posts/", HTTP_IF_NONE_MATCH=during["ETag"]).status_code == 304
    wait_out_the_pin()
    after = anon_client.get("/api/v1/posts/", HTTP_IF_NONE_MATCH=before)
    assert after.status_code == 200
    assert after["ETag"].startswith('W/"')
    assert after["ETag"] != before


def test_without_replicas_the_generation_etag_is_used_at_once(replicas, anon_client, post, other_user):
    replicas.REPLICA_DATABASES = []
    like(post, other_user)
    assert anon_client.get("/api/v1/posts/")["ETag"].startswith('W/"')


def queries_of(read) -> int:
    with CaptureQueriesContext(connection) as queries:
        read()
    return len(queries)


def test_responses_are_not_cached_under_the_new_generation_while_replicas_may_lag(
    replicas, anon_client, post, other_user
):
    def read() -> None:
        assert anon_client.get(f"/api/v1/posts/{post.slug}/").status_code == 200

    like(post, other_user)
    read()
    assert queries_of(read) > 0
    wait_out_the_pin()
    read()
    assert queries_of(read) == 0


def test_counts_are_not_kept_while_replicas_may_lag(replicas, post, other_user):
    replicas.POSTS_COUNT_CACHE_MIN = 0
    like(post, other_user)
    caching.public_post_count()
    assert queries_of(caching.public_post_count) > 0
    wait_out_the_pin()
    caching.public_post_count()
    assert queries_of(caching.public_post_count) == 0


@pytest.mark.parametrize(
    "keep",
    [
        lambda produce: caching.remember("top-tags", produce),
        lambda produce: caching.search_ranking(["q", "lag"], produce),
        lambda produce: caching.search_count(["q", "lag"], produce),
    ],
    ids=["remember", "search_ranking", "search_count"],
)
def test_remembered_values_and_rankings_are_not_kept_while_replicas_may_lag(replicas, post, other_user, keep):
    produced = []

    def produce():
        produced.append(1)
        return (1, [post.pk])

    caching.public_post_count()  # the next publication known, as any list read leaves it
    like(post, other_user)
    keep(produce)
    keep(produce)
    assert len(produced) == 2
    wait_out_the_pin()
    caching.public_post_count()
    keep(produce)
    keep(produce)
    assert len(produced) == 3
