"""The hand-built list and detail representations (the fast path) give exactly the JSON
DRF's generic field-by-field serialisation gives, for every kind of post."""

import pytest
from django.test import RequestFactory
from rest_framework import serializers
from rest_framework.request import Request

from posts.models import Post
from posts.serializers import PostDetailSerializer, PostListSerializer
from posts.tests.factories import CategoryFactory, PostFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def posts(author):
    return [
        PostFactory(author=author, category=CategoryFactory(name="Python"), tags=["b-tag", "a-tag"]),
        PostFactory(author=author),  # no category, no tags
        PostFactory(author=author, draft=True),
        PostFactory(author=author, scheduled=True, tags=["c"]),
    ]


def generic(serializer: serializers.ModelSerializer, post: Post) -> dict:
    return serializers.ModelSerializer.to_representation(serializer, post)


@pytest.mark.parametrize("queryset", ["for_listing", "plain"])
@pytest.mark.parametrize("serializer_class", [PostListSerializer, PostDetailSerializer])
def test_fast_representation_matches_drf(posts, serializer_class, queryset):
    request = Request(RequestFactory().get("/api/v1/posts/", HTTP_HOST="blog.example.com"))
    rows = Post.objects.order_by("id")
    rows = (
        rows.for_listing() if queryset == "for_listing" and serializer_class is PostListSerializer else rows
    )
    serializer = serializer_class(context={"request": request})
    for post in rows:
        fast = serializer.to_representation(post)
        assert fast == generic(serializer, post)
        assert list(fast) == list(serializer.Meta.fields)
    assert fast["url"] == f"http://blog.example.com/api/v1/posts/{post.slug}/"


def test_tags_are_sorted_slugs(posts, anon_client):
    item = anon_client.get("/api/v1/posts/").json()["results"][-1]
    assert item["tags"] == ["a-tag", "b-tag"]
