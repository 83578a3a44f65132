"""The JSON of posts in lists and of a post's detail is exactly what the serializers'
declared fields give, field by field, for every kind of post: with or without a
category and tags, draft, scheduled or public, as the selectors read it or as just
written."""

import pytest
from django.contrib.auth.models import AnonymousUser
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from config.pagination import Window
from posts import selectors
from posts.models import Post
from posts.serializers import PostDetailSerializer, PostListSerializer
from posts.tests.factories import CategoryFactory, PostFactory

pytestmark = pytest.mark.django_db

WINDOW = Window.page(1, 100)


@pytest.fixture
def posts(author, image_of):
    cover = image_of(author, width=1200, height=800, alt="A cover")
    return [
        PostFactory(
            author=author, category=CategoryFactory(name="Python"), tags=["b-tag", "a-tag"], cover_image=cover
        ),
        PostFactory(author=author),  # no category, no tags, no cover
        PostFactory(author=author, draft=True, cover_image=image_of(author, width=400, height=300)),
        PostFactory(author=author, scheduled=True, tags=["c"]),
    ]


def request_for(path: str = "/api/v1/posts/", host: str = "blog.example.com") -> Request:
    return Request(APIRequestFactory().get(path, HTTP_HOST=host))


def declared(serializer: serializers.ModelSerializer, post: Post) -> dict:
    """What the serializer's declared fields give, field by field (DRF's own path)."""
    return serializers.ModelSerializer.to_representation(serializer, post)


def test_the_lists_json_equals_what_the_declared_fields_give(posts, anon_client):
    items = anon_client.get("/api/v1/posts/", {"page_size": 100}).json()["results"]
    serializer = PostListSerializer(context={"request": request_for(host="testserver")})
    read = selectors.public_posts(window=WINDOW).items
    assert items == [declared(serializer, post) for post in read]
    assert [item["slug"] for item in items] == [posts[1].slug, posts[0].slug]
    assert list(items[0]) == list(PostListSerializer.Meta.fields)


def test_the_authors_list_json_equals_what_the_declared_fields_give(posts, author, author_client):
    items = author_client.get("/api/v1/auth/me/posts/", {"page_size": 100}).json()["results"]
    serializer = PostListSerializer(context={"request": request_for("/api/v1/auth/me/posts/", "testserver")})
    read = selectors.own_posts(author=author, window=WINDOW).items
    assert items == [declared(serializer, post) for post in read]
    assert {item["status"] for item in items} == {"draft", "scheduled", "published"}


@pytest.mark.parametrize("read", ["by the selectors", "as written"])
@pytest.mark.parametrize("serializer_class", [PostListSerializer, PostDetailSerializer])
def test_each_post_serializes_as_its_declared_fields_say(posts, author, serializer_class, read):
    if read == "as written":
        rows = list(Post.objects.order_by("id"))
    elif serializer_class is PostListSerializer:
        rows = selectors.own_posts(author=author, window=WINDOW).items
    else:
        rows = [selectors.post_for(slug=post.slug, viewer=author) for post in posts]
    assert len(rows) == len(posts)
    serializer = serializer_class(context={"request": request_for()})
    for post in rows:
        data = serializer.to_representation(post)
        assert data == declared(serializer, post)
        assert list(data) == list(serializer.Meta.fields)
        assert data["url"] == f"http://blog.example.com/api/v1/posts/{post.slug}/"


def test_the_anonymous_detail_serializes_as_its_declared_fields_say(posts):
    serializer = PostDetailSerializer(context={"request": request_for()})
    post = selectors.post_for(slug=posts[0].slug, viewer=AnonymousUser())
    assert serializer.to_representation(post) == declared(serializer, post)
    assert serializer.to_representation(post)["tags"] == ["a-tag", "b-tag"]
    assert serializer.to_representation(post)["cover_image"]["alt"] == "A cover"


def test_tags_are_sorted_slugs(posts, anon_client):
    item = anon_client.get("/api/v1/posts/").json()["results"][-1]
    assert item["tags"] == ["a-tag", "b-tag"]
