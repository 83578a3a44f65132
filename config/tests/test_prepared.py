"""PreparedQuery: compiled once, run with new values, the same instances as the queryset."""

from datetime import timedelta

import pytest
from django.db import connection
from django.db.models import Value
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from config.prepared import PreparedQuery
from posts.models import Post
from posts.tests.factories import CategoryFactory, PostFactory

pytestmark = pytest.mark.django_db

SLUG = "\x00slug"


def by_slug(slug: str):
    return Post.objects.select_related("author", "category").annotate(marker=Value("m")).filter(slug=slug)


def test_fetch_builds_the_instances_the_queryset_builds():
    post = PostFactory(slug="one", category=CategoryFactory(name="News"))
    other = PostFactory(slug="two")
    prepared = PreparedQuery(by_slug(SLUG), slug=SLUG)

    for wanted in (post, other):
        [fetched] = prepared.fetch(slug=wanted.slug)
        [expected] = by_slug(wanted.slug)
        assert fetched.pk == expected.pk == wanted.pk
        assert fetched.title == expected.title
        assert fetched.marker == expected.marker == "m"
        with CaptureQueriesContext(connection) as queries:
            # select_related objects are attached: reading them costs no query.
            assert fetched.author.username == wanted.author.username
            assert fetched.category == expected.category
        assert len(queries) == 0
    assert prepared.fetch(slug="missing") == []


def test_fetch_is_one_query():
    PostFactory(slug="one")
    prepared = PreparedQuery(by_slug(SLUG), slug=SLUG)
    with CaptureQueriesContext(connection) as queries:
        assert len(prepared.fetch(slug="one")) == 1
    assert len(queries) == 1


def test_new_values_replace_the_placeholders_only(postgres_only):
    now = timezone.now()
    PostFactory(slug="past", published_at=now - timedelta(hours=1))
    PostFactory(slug="soon", scheduled=True, published_at=now + timedelta(hours=1))
    placeholder = now.replace(year=2001)
    prepared = PreparedQuery(Post.objects.public(at=placeholder).order_by("slug"), now=placeholder)

    assert [p.slug for p in prepared.fetch(now=now)] == ["past"]
    assert [p.slug for p in prepared.fetch(now=now + timedelta(hours=2))] == ["past", "soon"]


def test_a_placeholder_that_never_reaches_the_query_is_refused():
    with pytest.raises(ValueError, match="appears 0 times"):
        PreparedQuery(Post.objects.filter(slug="fixed"), slug=SLUG)


def test_every_place_a_placeholder_appears_takes_the_value():
    PostFactory(slug="same", title="same")
    PostFactory(slug="other", title="same")
    prepared = PreparedQuery(Post.objects.filter(slug=SLUG, title=SLUG), value=SLUG)
    assert [post.slug for post in prepared.fetch(value="same")] == ["same"]
    assert prepared.fetch(value="other") == []


def test_fetch_needs_every_value_and_no_other():
    prepared = PreparedQuery(Post.objects.filter(slug=SLUG), slug=SLUG)
    with pytest.raises(TypeError):
        prepared.fetch()
    with pytest.raises(TypeError):
        prepared.fetch(slug="a", title="b")


def test_prefetching_is_refused():
    with pytest.raises(ValueError, match="prefetch"):
        PreparedQuery(Post.objects.prefetch_related("tags").filter(slug=SLUG), slug=SLUG)


def test_a_query_that_cannot_match_fetches_nothing():
    PostFactory(slug="one")
    prepared = PreparedQuery(Post.objects.filter(slug=SLUG)[0:0], slug=SLUG)
    with CaptureQueriesContext(connection) as queries:
        assert prepared.fetch(slug="one") == []
    assert len(queries) == 0
