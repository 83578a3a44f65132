"""DJANGO_REQUIRE_VERIFIED_EMAIL: unverified accounts keep drafts but may not publish or
comment, on /api/v1/, on Conduit and on the pages, with a 403 that says why. Off by
default, and staff are exempt."""

import pytest

from accounts.tests.factories import UserFactory
from conduit.tests.conftest import token_client
from conftest import client_for
from posts.models import Post
from posts.tests.factories import PostFactory

POSTS = "/api/v1/posts/"

pytestmark = pytest.mark.django_db


@pytest.fixture
def required(settings):
    settings.REQUIRE_VERIFIED_EMAIL = True


@pytest.fixture
def unverified(db):
    return UserFactory(username="newcomer", email_verified=False)


@pytest.fixture
def verified(db):
    return UserFactory(username="regular", email_verified=True)


def new_post(client, **fields):
    return client.post(POSTS, {"title": "Hello", "body": "Some words.", **fields}, format="json")


def assert_refused(response) -> None:
    assert response.status_code == 403
    assert response.json()["detail"].startswith("Verify your email address")


def test_an_unverified_author_may_save_drafts_but_not_publish(required, unverified):
    client = client_for(unverified)

    draft = new_post(client, status="draft")
    assert draft.status_code == 201
    assert_refused(new_post(client, status="published"))
    assert_refused(client.patch(f"{POSTS}{draft.json()['slug']}/", {"status": "published"}, format="json"))
    assert (
        client.patch(f"{POSTS}{draft.json()['slug']}/", {"title": "Still a draft"}, format="json").status_code
        == 200
    )
    assert list(Post.objects.values_list("status", flat=True)) == ["draft"]


def test_a_scheduled_post_is_publishing_too(required, unverified):
    response = new_post(client_for(unverified), status="published", published_at="2999-01-01T00:00:00Z")
    assert_refused(response)


def test_an_unverified_user_may_not_comment(required, unverified):
    post = PostFactory()
    response = client_for(unverified).post(f"{POSTS}{post.slug}/comments/", {"body": "First!"}, format="json")
    assert_refused(response)
    post.refresh_from_db()
    assert post.comment_count == 0


def test_verified_users_and_staff_publish_and_comment(required, verified):
    staff = UserFactory(is_staff=True, email_verified=False)
    post = PostFactory()
    for user in (verified, staff):
        client = client_for(user)
        assert new_post(client, status="published").status_code == 201
        assert (
            client.post(f"{POSTS}{post.slug}/comments/", {"body": "Nice."}, format="json").status_code == 201
        )


def test_without_the_setting_unverified_users_publish_and_comment(unverified):
    client = client_for(unverified)
    post = PostFactory()
    assert new_post(client, status="published").status_code == 201
    assert client.post(f"{POSTS}{post.slug}/comments/", {"body": "Nice."}, format="json").status_code == 201


def test_an_address_changed_since_publishing_blocks_editing_the_public_post(required, verified):
    post = PostFactory(author=verified)
    client = client_for(verified)
    assert client.patch("/api/v1/auth/me/", {"email": "new@example.com"}, format="json").status_code == 200

    assert_refused(client.patch(f"{POSTS}{post.slug}/", {"title": "Edited"}, format="json"))
    assert client.patch(f"{POSTS}{post.slug}/", {"status": "draft"}, format="json").status_code == 200


def test_conduit_refuses_articles_and_comments_in_its_own_shape(required, unverified):
    client = token_client(unverified)
    post = PostFactory()

    article = client.post(
        "/api/articles", {"article": {"title": "T", "description": "D", "body": "B"}}, format="json"
    )
    comment = client.post(f"/api/articles/{post.slug}/comments", {"comment": {"body": "Hi"}}, format="json")

    for response in (article, comment):
        assert response.status_code == 403
        assert set(response.json()) == {"errors"}
        assert set(response.json()["errors"]) == {"email"}
        assert "verified" in response.json()["errors"]["email"][0]
    assert not Post.objects.filter(author=unverified).exists()


def test_the_pages_say_why_before_anyone_tries(client, required, unverified, verified):
    post = PostFactory()
    client.force_login(unverified)
    write = client.get("/write/").content.decode()
    detail = client.get(post.get_absolute_url()).content.decode()
    assert "To publish" in write and "verify your email address" in write
    assert "To comment" in detail

    client.force_login(verified)
    assert "verify your email address" not in client.get("/write/").content.decode()
