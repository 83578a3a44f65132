"""Fixtures and helpers of the tests of the anonymous response cache."""

import pytest

from posts.tests.factories import CategoryFactory, CommentFactory, LikeFactory, PostFactory, TagFactory


@pytest.fixture
def cached(settings):
    """The anonymous response cache on (``POSTS_RESPONSE_CACHE``), as with a shared Redis."""
    settings.POSTS_RESPONSE_CACHE = True
    return settings


@pytest.fixture
def post(author, staff_user):
    """A public post with a category, a tag, a comment and a like by ``staff_user``.

    Modules that need a plainer post define their own ``post``, which takes precedence."""
    post = PostFactory(
        author=author, category=CategoryFactory(name="Databases"), tags=[TagFactory(name="sql")]
    )
    CommentFactory(post=post)
    LikeFactory(post=post, user=staff_user)
    post.refresh_from_db()
    return post


def contents(client, urls: list[str]) -> list[bytes]:
    """The bodies of ``urls`` as ``client`` gets them, each a 200."""
    responses = [client.get(url) for url in urls]
    assert all(response.status_code == 200 for response in responses)
    return [response.content for response in responses]


def assert_write_clears_the_cache(cached, client, urls: list[str], write) -> None:
    """``write()`` changes what anonymous readers of ``urls`` see, and they see the change
    at once: the cached responses equal freshly built ones."""
    before = contents(client, urls)
    write()
    after_cached = [client.get(url).content for url in urls]  # a deleted post is a 404 now
    cached.POSTS_RESPONSE_CACHE = False
    truth = [client.get(url).content for url in urls]
    assert after_cached == truth
    assert truth != before  # the write did change what readers see
