"""``DELETE /api/v1/auth/me/`` with the password: the account goes with everything it owns,
and its tokens die at once. The admin's deletion of users goes through the same service."""

import pytest
from django.core.files.storage import default_storage
from rest_framework.test import APIClient
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

from accounts import services
from accounts.models import Follow, User, UsernameClaim
from accounts.tests.factories import PASSWORD, FollowFactory, UserFactory
from conftest import client_for, run_at_once
from images.models import Image
from outbox.models import Message
from posts.models import Comment, Like, Post
from posts.tests.factories import CommentFactory, LikeFactory, PostFactory
from webhooks.tests.conftest import emitted, emitted_documents
from webhooks.tests.factories import WebhookFactory

pytestmark = pytest.mark.django_db

ME = "/api/v1/auth/me/"
TOKEN = "/api/v1/auth/token/"
REFRESH = "/api/v1/auth/token/refresh/"


def delete_me(client, password=PASSWORD):
    body = {} if password is None else {"password": password}
    return client.delete(ME, body, format="json")


def log_in(username: str) -> dict[str, str]:
    response = APIClient().post(TOKEN, {"username": username, "password": PASSWORD}, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def anon_get(path: str):
    return APIClient().get(path)


@pytest.fixture
def owned(author, other_user, image_of):
    """The author's posts (one with a cover), comments, likes, follows and uploads, and
    the other user's post that the author liked and commented on."""
    cover = image_of(author)
    author.avatar = image_of(author, width=300, height=300)
    author.save()
    public = PostFactory(author=author, cover_image=cover, tags=["sql"])
    PostFactory(author=author, draft=True)
    theirs = PostFactory(author=other_user, title="Theirs")
    CommentFactory(post=public, author=other_user)
    CommentFactory(post=theirs, author=author)
    LikeFactory(post=theirs, user=author)
    LikeFactory(post=public, user=other_user)
    FollowFactory(follower=author, followed=other_user)
    FollowFactory(follower=other_user, followed=author)
    files = [name for image in Image.objects.filter(owner=author) for name in image.stored_names]
    return {"theirs": theirs, "files": files, "public": public}


def test_deleting_the_account_removes_everything_it_owns(
    author, other_user, owned, django_capture_on_commit_callbacks
):
    client = client_for(author)
    assert all(default_storage.exists(name) for name in owned["files"])

    with django_capture_on_commit_callbacks(execute=True):
        response = delete_me(client)

    assert response.status_code == 204 and response.content == b""
    assert not User.objects.filter(pk=author.pk).exists()
    assert not Post.objects.filter(author_id=author.pk).exists()
    assert not Comment.objects.filter(author_id=author.pk).exists()
    assert not Like.objects.filter(user_id=author.pk).exists()
    assert not Follow.objects.exists()
    assert not Image.objects.filter(owner_id=author.pk).exists()
    assert not any(default_storage.exists(name) for name in owned["files"])
    assert not UsernameClaim.objects.filter(name="author").exists()
    # What others own stays, with counters that no longer count the author.
    theirs = Post.objects.get(pk=owned["theirs"].pk)
    assert (theirs.comment_count, theirs.like_count) == (0, 0)
    assert User.objects.filter(pk=other_user.pk).exists()
    assert anon_get(f"/api/v1/users/{other_user.username}/").json()["follower_count"] == 0
    # Its files answer 404 too.
    assert all(APIClient().get(f"/media/{name}").status_code == 404 for name in owned["files"])


def test_the_tokens_of_a_deleted_account_are_401_at_once(author):
    pair = log_in("author")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {pair['access']}")
    assert client.get(ME).status_code == 200

    assert delete_me(client).status_code == 204

    assert client.get(ME).status_code == 401
    assert client.get("/api/v1/auth/me/export/").status_code == 401
    assert client.post("/api/v1/posts/", {"title": "t", "body": "b"}, format="json").status_code == 401
    refreshed = APIClient().post(REFRESH, {"refresh": pair["refresh"]}, format="json")
    assert refreshed.status_code == 401
    assert (
        APIClient().post(TOKEN, {"username": "author", "password": PASSWORD}, format="json").status_code
        == 401
    )
    # Its refresh tokens were revoked before the account went.
    assert not OutstandingToken.objects.filter(blacklistedtoken__isnull=True).exists()


@pytest.mark.parametrize("password", [None, "", "not-the-password", PASSWORD + " "])
def test_a_missing_or_wrong_password_is_a_400_naming_password_and_deletes_nothing(author, owned, password):
    before = (Post.objects.count(), Image.objects.count(), Follow.objects.count())

    response = delete_me(client_for(author), password)

    assert response.status_code == 400
    assert list(response.json()) == ["password"]
    assert User.objects.filter(pk=author.pk).exists()
    assert (Post.objects.count(), Image.objects.count(), Follow.objects.count()) == before


@pytest.mark.parametrize("body", [[], "password", {"password": 12345678}, {"password": None}])
def test_a_malformed_body_is_a_400(author_client, author, body):
    response = author_client.delete(ME, body, format="json")
    assert response.status_code == 400
    assert User.objects.filter(pk=author.pk).exists()


def test_anonymous_callers_get_a_401(anon_client, author):
    response = delete_me(anon_client)
    assert response.status_code == 401 and response["WWW-Authenticate"].startswith("Bearer")
    assert User.objects.filter(pk=author.pk).exists()


def test_staff_delete_only_their_own_account(staff_user, author, owned):
    response = delete_me(client_for(staff_user))
    assert response.status_code == 204
    assert not User.objects.filter(pk=staff_user.pk).exists()
    assert User.objects.filter(pk=author.pk).exists() and Post.objects.filter(author=author).count() == 2


def test_the_name_is_free_for_a_new_account_afterwards(author):
    assert delete_me(client_for(author)).status_code == 204
    body = {"username": "Author", "email": "new@example.com", "password": "a-fine-passw0rd-9"}
    assert APIClient().post("/api/v1/auth/register/", body, format="json").status_code == 201


def test_each_deleted_post_is_told_to_webhooks_as_post_deleted(author, other_user, staff_user, owned):
    WebhookFactory(created_by=staff_user)

    assert delete_me(client_for(author)).status_code == 204

    assert emitted() == ["post.deleted", "post.deleted"]
    documents = emitted_documents("post.deleted")
    assert sorted(d["data"]["status"] for d in documents) == ["draft", "published"]
    [public] = [d for d in documents if d["data"]["slug"] == owned["public"].slug]
    assert public["data"]["tags"] == ["sql"] and public["data"]["author"]["username"] == "author"
    assert public["data"]["cover_image"]["id"] == owned["public"].cover_image_id


def test_no_webhook_means_no_message(author, owned):
    assert delete_me(client_for(author)).status_code == 204
    assert not Message.objects.exists()


def test_deleting_is_throttled_per_client_address(settings, author):
    settings.AUTH_THROTTLE_RATE = "2/minute"
    client = client_for(author)
    assert [delete_me(client, "wrong").status_code for _ in range(2)] == [400, 400]

    refused = delete_me(client)

    assert refused.status_code == 429 and refused["Retry-After"]
    assert User.objects.filter(pk=author.pk).exists()
    # Reading and editing the profile spend nothing of it.
    assert client.get(ME).status_code == 200
    assert client.patch(ME, {"bio": "Still here"}, format="json").status_code == 200


def test_a_browser_session_ends_with_the_account(client, author):
    client.force_login(author)

    response = client.delete(ME, {"password": PASSWORD}, content_type="application/json")

    assert response.status_code == 204
    assert client.get("/api/v1/auth/me/").status_code == 401
    assert "_auth_user_id" not in client.session


def test_a_session_caller_needs_the_csrf_token(author):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(author)
    response = client.delete(ME, {"password": PASSWORD}, format="json")
    assert response.status_code == 403
    assert User.objects.filter(pk=author.pk).exists()


def test_the_admin_deletes_users_with_the_same_service(client, staff_user, author, owned):
    staff_user.is_superuser = True
    staff_user.save()
    WebhookFactory(created_by=staff_user)
    pair = log_in("author")
    client.force_login(staff_user)

    response = client.post(f"/admin/accounts/user/{author.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert not User.objects.filter(pk=author.pk).exists()
    assert emitted().count("post.deleted") == 2
    assert APIClient().post(REFRESH, {"refresh": pair["refresh"]}, format="json").status_code == 401


def test_delete_users_with_a_queryset_of_nobody_does_nothing(author):
    assert services.delete_users(users=User.objects.none()) == 0
    assert services.delete_users(users=User.objects.filter(username="nobody")) == 0


def test_the_schema_documents_the_deletion_with_its_password_body(anon_client):
    schema = anon_client.get("/api/v1/schema/?format=json").json()
    operation = schema["paths"]["/api/v1/auth/me/"]["delete"]
    body = operation["requestBody"]
    assert body["required"] is True
    ref = body["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    request = schema["components"]["schemas"][ref]
    assert request["required"] == ["password"]
    assert {"204", "400", "401", "429"} <= set(operation["responses"])


@pytest.mark.django_db(transaction=True)
def test_deleting_the_account_while_it_writes_elsewhere(postgres_only):
    """The account's own requests still running while it is deleted (likes, comments,
    new posts, a profile change, a token refresh): the deletion always succeeds and leaves
    nothing of the account; each other request lands before it (and goes with the rest)
    or answers 401 (its account is gone), never a 5xx or a deadlock."""
    user = UserFactory(username="leaving")
    other = UserFactory(username="staying")
    targets = [PostFactory(author=other) for _ in range(3)]
    LikeFactory(post=targets[0], user=user)
    own = PostFactory(author=user)
    pair = log_in("leaving")
    writes = [
        lambda c, i: c.post(f"/api/v1/posts/{targets[i % 3].slug}/like/"),
        lambda c, i: c.post(f"/api/v1/posts/{targets[i % 3].slug}/comments/", {"body": "hi"}, format="json"),
        lambda c, i: c.post(f"/api/v1/posts/{own.slug}/comments/", {"body": "mine"}, format="json"),
        lambda c, i: c.post("/api/v1/posts/", {"title": f"Post {i}", "body": "b"}, format="json"),
        lambda c, i: c.patch(ME, {"display_name": f"Leaving {i}"}, format="json"),
        lambda c, i: APIClient().post(REFRESH, {"refresh": pair["refresh"]}, format="json"),
    ]

    def act(i: int) -> int:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {pair['access']}")
        if i == 0:
            return delete_me(client).status_code
        return writes[i % len(writes)](client, i).status_code

    for _ in range(3):
        codes = run_at_once(13, act)
        assert codes[0] == 204, codes
        assert set(codes[1:]) <= {200, 201, 401, 404}, codes  # 404: a comment on a post it deleted
        assert not User.objects.filter(pk=user.pk).exists()
        assert not Post.objects.filter(author_id=user.pk).exists()
        assert not Comment.objects.filter(author_id=user.pk).exists()
        assert not Like.objects.filter(user_id=user.pk).exists()
        for post in Post.objects.filter(author=other):
            assert (post.comment_count, post.like_count) == (0, 0), post
        user = UserFactory(username="leaving")
        LikeFactory(post=targets[0], user=user)
        own = PostFactory(author=user)
        pair = log_in("leaving")


def test_a_write_for_an_account_deleted_meanwhile_is_refused_by_its_service(author, other_user):
    from posts import services as post_services

    post = PostFactory(author=other_user)
    stale = User.objects.get(pk=author.pk)
    services.delete_users(users=User.objects.filter(pk=author.pk))

    with pytest.raises(services.AccountGone):
        post_services.add_comment(post=post, author=stale, body="Too late")
    with pytest.raises(services.AccountGone):
        post_services.create_post(author=stale, title="Too late", body="b")
    with pytest.raises(services.AccountGone):
        post_services.like_post(user=stale, post=post)
    with pytest.raises(services.AccountGone):
        services.update_account(user=stale, bio="Too late")
    assert not Post.objects.filter(title="Too late").exists()


def test_a_request_whose_account_goes_during_it_is_a_401(monkeypatch, author_client, other_user):
    from posts import services as post_services

    def gone(*, user_id):
        raise services.AccountGone()

    monkeypatch.setattr(post_services, "hold_account", gone)
    post = PostFactory(author=other_user)

    responses = [
        author_client.post("/api/v1/posts/", {"title": "t", "body": "b"}, format="json"),
        author_client.post(f"/api/v1/posts/{post.slug}/comments/", {"body": "hi"}, format="json"),
        author_client.post(f"/api/v1/posts/{post.slug}/like/"),
    ]

    for response in responses:
        assert response.status_code == 401
        assert response.json() == {"detail": "User not found"}
        assert response["WWW-Authenticate"].startswith("Bearer")
    assert Post.objects.count() == 1 and not Comment.objects.exists() and not Like.objects.exists()
