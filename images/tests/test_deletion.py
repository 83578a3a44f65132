"""Deleting an image that a post shows: anonymous readers of the cached post list and
detail stop seeing it at once; deleting one that nothing shows keeps the cache."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from images import services
from images.models import Image
from posts.tests.conftest import assert_write_clears_the_cache, contents
from posts.tests.factories import PostFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def cached(settings):
    settings.POSTS_RESPONSE_CACHE = True
    return settings


def urls(post) -> list[str]:
    return ["/api/v1/posts/", f"/api/v1/posts/{post.slug}/"]


def test_a_deleted_cover_leaves_the_cached_list_and_detail_at_once(
    cached, anon_client, author_client, author, image_of
):
    cover = image_of(author)
    post = PostFactory(author=author, cover_image=cover)
    assert anon_client.get(urls(post)[1]).json()["cover_image"]["id"] == cover.pk

    assert_write_clears_the_cache(
        cached,
        anon_client,
        urls(post),
        lambda: author_client.delete(f"/api/v1/media/{cover.pk}/"),
    )

    cached.POSTS_RESPONSE_CACHE = True
    assert anon_client.get(urls(post)[1]).json()["cover_image"] is None
    assert anon_client.get(urls(post)[0]).json()["results"][0]["cover_image"] is None


def test_deleting_an_image_nothing_shows_keeps_the_cached_pages(cached, anon_client, author, image_of):
    post = PostFactory(author=author, cover_image=image_of(author))
    unused = image_of(author)
    before = contents(anon_client, urls(post))

    services.delete_image(image=unused)

    with CaptureQueriesContext(connection) as queries:
        after = contents(anon_client, urls(post))
    assert after == before
    assert len(queries) == 0


def test_deleting_an_image_deleted_already_does_nothing(author, image_of):
    image = image_of(author)
    stale = Image.objects.get(pk=image.pk)
    services.delete_image(image=image)

    services.delete_image(image=stale)

    assert not Image.objects.filter(pk=image.pk).exists()
