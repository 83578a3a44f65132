"""Response allow-lists: every representation has exactly its documented keys, and no
response anywhere carries another user's email, a password hash or an internal field."""

import json

import jwt
import pytest
from django.conf import settings
from rest_framework_simplejwt.tokens import RefreshToken

from conftest import client_for
from posts.tests.factories import CategoryFactory, CommentFactory, LikeFactory, PostFactory

pytestmark = pytest.mark.django_db

AUTHOR = {"username", "display_name"}
CATEGORY_REF = {"slug", "name"}
POST_ITEM = {
    "id", "slug", "title", "excerpt", "author", "category", "tags", "status", "published_at",
    "created_at", "updated_at", "comment_count", "like_count", "reading_time", "cover_image",
    "url",
}  # fmt: skip
POST_DETAIL = POST_ITEM | {"body", "body_html", "liked"}
COMMENT = {"id", "post", "author", "body", "created_at", "updated_at"}
TAG = {"name", "slug", "post_count"}
CATEGORY = {"name", "slug", "description", "post_count"}
PRIVATE_PROFILE = {
    "id", "username", "email", "email_verified", "display_name", "bio", "avatar", "date_joined",
    "is_staff", "notify_comments", "notify_followed_posts",
}  # fmt: skip
PUBLIC_PROFILE = {
    "username", "display_name", "bio", "avatar", "date_joined", "post_count", "follower_count",
    "following_count", "following",
}  # fmt: skip
IMAGE_REF = {"id", "url", "width", "height", "alt", "renditions"}
RENDITION = {"width", "url", "content_type"}
PAGE = {"count", "next", "previous", "results"}

# Keys that are internal, secret or private, at any depth of any response.
FORBIDDEN_KEYS = {
    "password", "search_vector", "is_hidden", "is_superuser", "is_active", "last_login",
    "groups", "user_permissions", "author_id", "user_id", "post_id", "category_id",
    "jti", "token", "body_source", "rank", "owner", "owner_id", "file",
}  # fmt: skip
HASH_MARKERS = ("argon2$", "pbkdf2_sha256$", "md5$", "scrypt$", "bcrypt")


@pytest.fixture
def world(author, other_user, staff_user, image_of):
    category = CategoryFactory(slug="news", name="News")
    author.avatar = image_of(author, width=700, height=700)
    author.save()
    cover = image_of(author, alt="Cover")
    public = PostFactory(author=author, slug="public", category=category, tags=["shared"], cover_image=cover)
    PostFactory(author=author, slug="draft", draft=True)
    PostFactory(author=other_user, slug="theirs", tags=["shared"])
    CommentFactory(post=public, author=other_user)
    LikeFactory(post=public, user=other_user)
    return {"author": author, "other": other_user, "staff": staff_user}


def keys(data: dict) -> set[str]:
    return set(data)


def walk(value, path="$"):
    """Every (path, key, value) in a JSON document."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield path, key, item
            yield from walk(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from walk(item, f"{path}[{index}]")


def assert_nothing_leaks(data, *, viewer, others) -> None:
    text = json.dumps(data)
    for other in others:
        assert other.email not in text, f"{other.username}'s email leaked"
    for marker in HASH_MARKERS:
        assert marker not in text, "a password hash leaked"
    for path, key, value in walk(data):
        assert key not in FORBIDDEN_KEYS, f"internal field {key!r} at {path}"
        if key == "email":
            assert viewer is not None and value == viewer.email, f"an email at {path}"


def get(client, url):
    response = client.get(url)
    assert response.status_code == 200, (url, response.content)
    return response.json()


def check_image_ref(image) -> None:
    assert image is None or (
        keys(image) == IMAGE_REF and all(keys(each) == RENDITION for each in image["renditions"])
    )


def check_post_item(item) -> None:
    assert keys(item) == POST_ITEM
    assert keys(item["author"]) == AUTHOR
    assert item["category"] is None or keys(item["category"]) == CATEGORY_REF
    assert all(isinstance(tag, str) for tag in item["tags"])
    check_image_ref(item["cover_image"])


@pytest.mark.parametrize("persona", ["anon", "author", "other", "staff"])
def test_every_representation_has_exactly_its_keys(world, persona):
    viewer = world.get(persona)
    client = client_for(viewer)
    everyone = [world["author"], world["other"], world["staff"]]
    others = [user for user in everyone if user != viewer]
    seen = []

    def fetch(url):
        data = get(client, url)
        seen.append(data)
        return data

    posts = fetch("/api/v1/posts/")
    assert keys(posts) == PAGE and posts["results"]
    for item in posts["results"]:
        check_post_item(item)

    detail = fetch("/api/v1/posts/public/")
    assert keys(detail) == POST_DETAIL
    assert keys(detail["cover_image"]) == IMAGE_REF
    assert keys(detail["author"]) == AUTHOR and keys(detail["category"]) == CATEGORY_REF

    comments = fetch("/api/v1/posts/public/comments/")
    assert keys(comments) == PAGE
    for comment in comments["results"]:
        assert keys(comment) == COMMENT and keys(comment["author"]) == AUTHOR
        assert keys(fetch(f"/api/v1/comments/{comment['id']}/")) == COMMENT

    for tag in fetch("/api/v1/tags/")["results"]:
        assert keys(tag) == TAG
    assert keys(fetch("/api/v1/tags/shared/")) == TAG
    for category in fetch("/api/v1/categories/")["results"]:
        assert keys(category) == CATEGORY
    assert keys(fetch("/api/v1/categories/news/")) == CATEGORY

    for username in ("author", "other", "staff"):
        profile = fetch(f"/api/v1/users/{username}/")
        assert keys(profile) == PUBLIC_PROFILE
        check_image_ref(profile["avatar"])
    assert fetch("/api/v1/users/author/")["avatar"]["renditions"]

    if viewer is not None:
        me = fetch("/api/v1/auth/me/")
        assert keys(me) == PRIVATE_PROFILE and me["email"] == viewer.email
        for item in fetch("/api/v1/auth/me/posts/")["results"]:
            check_post_item(item)
        for item in fetch("/api/v1/feed/")["results"]:
            check_post_item(item)
        if viewer.is_staff or viewer == world["author"]:
            assert keys(fetch("/api/v1/posts/draft/")) == POST_DETAIL

    for data in seen:
        assert_nothing_leaks(data, viewer=viewer, others=others)


def test_write_responses_have_exactly_their_keys(world, author_client, author, other_user, staff_user):
    created = author_client.post(
        "/api/v1/posts/",
        {"title": "New", "body": "Body", "tags": ["a"], "category": "news", "password": "x"},
        format="json",
    )
    assert created.status_code == 201 and keys(created.json()) == POST_DETAIL
    slug = created.json()["slug"]
    edited = author_client.patch(f"/api/v1/posts/{slug}/", {"title": "Edited"}, format="json")
    assert keys(edited.json()) == POST_DETAIL
    comment = author_client.post(f"/api/v1/posts/{slug}/comments/", {"body": "Hi"}, format="json")
    assert comment.status_code == 201 and keys(comment.json()) == COMMENT
    like = author_client.post(f"/api/v1/posts/{slug}/like/")
    assert keys(like.json()) == {"liked", "like_count"}
    follow = author_client.post("/api/v1/users/other/follow/")
    assert keys(follow.json()) == {"following", "follower_count"}
    category = client_for(staff_user).post("/api/v1/categories/", {"name": "Fresh"}, format="json")
    assert category.status_code == 201 and keys(category.json()) == CATEGORY
    me = author_client.patch("/api/v1/auth/me/", {"bio": "Hello"}, format="json")
    assert keys(me.json()) == PRIVATE_PROFILE
    for response in (created, edited, comment, like, follow, category, me):
        assert_nothing_leaks(response.json(), viewer=author, others=[other_user, staff_user])


def test_register_and_tokens_answer_no_password_or_hash(anon_client):
    registered = anon_client.post(
        "/api/v1/auth/register/",
        {"username": "newbie", "email": "newbie@example.com", "password": "a-fine-passw0rd-x"},
        format="json",
    )
    assert registered.status_code == 201 and keys(registered.json()) == PRIVATE_PROFILE
    text = registered.content.decode()
    assert "a-fine-passw0rd-x" not in text and not any(marker in text for marker in HASH_MARKERS)
    pair = anon_client.post(
        "/api/v1/auth/token/", {"username": "newbie", "password": "a-fine-passw0rd-x"}, format="json"
    )
    assert keys(pair.json()) == {"access", "refresh"}


def test_access_token_carries_no_personal_data(author):
    claims = jwt.decode(
        str(RefreshToken.for_user(author).access_token),
        settings.SIMPLE_JWT["SIGNING_KEY"],
        algorithms=["HS256"],
    )
    assert set(claims) <= {"token_type", "exp", "iat", "jti", "user_id"}
