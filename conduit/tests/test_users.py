"""Sign-up, login, the current user, profiles and follows through the RealWorld API."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from accounts.models import Follow, User
from accounts.tests.factories import PASSWORD, UserFactory
from conduit.tests.conftest import token_client
from conftest import client_for

pytestmark = pytest.mark.django_db


def register(client, **fields):
    user = {"username": "jake", "email": "jake@jake.jake", "password": "password123", **fields}
    return client.post("/api/users", {"user": user}, format="json")


def test_registration_answers_the_user_with_a_working_token(anon_client):
    response = register(anon_client)

    assert response.status_code == 201
    body = response.json()["user"]
    assert body == {
        "email": "jake@jake.jake",
        "token": body["token"],
        "username": "jake",
        "bio": None,
        "image": None,
    }
    me = anon_client.get("/api/user", HTTP_AUTHORIZATION=f"Token {body['token']}")
    assert me.status_code == 200
    assert me.json()["user"]["username"] == "jake"
    assert User.objects.get(username="jake").check_password("password123")


def test_the_same_token_works_on_api_v1_with_bearer(anon_client):
    token = register(anon_client).json()["user"]["token"]

    response = anon_client.get("/api/v1/auth/me/", HTTP_AUTHORIZATION=f"Bearer {token}")

    assert response.status_code == 200
    assert response.json()["username"] == "jake"


def test_taken_username_or_email_is_a_conflict_in_any_case(anon_client):
    UserFactory(username="Jake", email="JAKE@jake.jake")

    by_name = register(anon_client, email="new@example.com")
    by_email = register(anon_client, username="newname", email="jake@JAKE.jake")

    assert by_name.status_code == 409
    assert by_name.json() == {"errors": {"username": ["has already been taken"]}}
    assert by_email.status_code == 409
    assert by_email.json() == {"errors": {"email": ["has already been taken"]}}
    assert User.objects.count() == 1


@pytest.mark.parametrize(
    ("fields", "key", "message"),
    [
        ({"username": ""}, "username", "can't be blank"),
        ({"email": ""}, "email", "can't be blank"),
        ({"password": ""}, "password", "can't be blank"),
        ({"email": "not-an-email"}, "email", "is invalid"),
        ({"username": "jake smith"}, "username", "is invalid"),
    ],
)
def test_registration_validation_errors_are_422(anon_client, fields, key, message):
    response = register(anon_client, **fields)

    assert response.status_code == 422
    assert response.json()["errors"][key] == [message]
    assert not User.objects.exists()


def test_short_password_is_refused_but_common_ones_follow_the_spec(anon_client):
    short = register(anon_client, password="short7c")
    assert short.status_code == 422
    assert "password" in short.json()["errors"]
    assert register(anon_client, password="password123").status_code == 201


def test_missing_envelope_and_malformed_json_are_422(anon_client):
    missing = anon_client.post("/api/users", {"username": "jake"}, format="json")
    malformed = anon_client.post("/api/users", "{not json", content_type="application/json")

    assert missing.status_code == 422
    assert missing.json() == {"errors": {"user": ["is missing"]}}
    assert malformed.status_code == 422
    assert list(malformed.json()["errors"]) == ["body"]


def test_deeply_nested_json_is_422_not_a_server_error(anon_client):
    nested = '{"user": ' + "[" * 100_000 + "]" * 100_000 + "}"

    response = anon_client.post("/api/users", nested, content_type="application/json")

    assert response.status_code == 422
    assert list(response.json()["errors"]) == ["body"]


def test_login_by_email_in_any_case(anon_client):
    UserFactory(username="jake", email="jake@jake.jake")

    response = anon_client.post(
        "/api/users/login", {"user": {"email": "JAKE@jake.jake", "password": PASSWORD}}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["user"]["username"] == "jake"


@pytest.mark.parametrize("email", ["jake@jake.jake", "nobody@jake.jake"])
def test_bad_credentials_are_401_with_a_challenge(anon_client, email):
    UserFactory(username="jake", email="jake@jake.jake")

    response = anon_client.post(
        "/api/users/login", {"user": {"email": email, "password": "wrong-password"}}, format="json"
    )

    assert response.status_code == 401
    assert response.json() == {"errors": {"credentials": ["invalid"]}}
    assert response["WWW-Authenticate"].startswith("Token")


def test_inactive_user_cannot_log_in(anon_client):
    UserFactory(username="jake", email="jake@jake.jake", is_active=False)

    response = anon_client.post(
        "/api/users/login", {"user": {"email": "jake@jake.jake", "password": PASSWORD}}, format="json"
    )

    assert response.status_code == 401


def test_current_user_needs_a_valid_token(anon_client):
    missing = anon_client.get("/api/user")
    invalid = anon_client.get("/api/user", HTTP_AUTHORIZATION="Token not-a-jwt")

    assert missing.status_code == 401
    assert missing.json() == {"errors": {"token": ["is missing"]}}
    assert invalid.status_code == 401
    assert invalid.json() == {"errors": {"token": ["is invalid"]}}


@pytest.mark.parametrize("user_id", ["abc", [3], {"id": 1}, "1 OR 1=1", 10**30])
def test_a_signed_token_whose_user_id_is_no_id_is_401_not_500(author, anon_client, user_id):
    token = AccessToken.for_user(author)
    token["user_id"] = user_id  # signed with the server's key: only the claim is wrong

    response = anon_client.get("/api/user", HTTP_AUTHORIZATION=f"Token {token}")

    assert response.status_code == 401
    assert response.json() == {"errors": {"token": ["is invalid"]}}


def test_update_bio_and_image_blank_or_null_clear_them(author):
    client = token_client(author)

    set_both = client.put(
        "/api/user", {"user": {"bio": "Hi", "image": "https://example.com/a.jpg"}}, format="json"
    )
    assert set_both.status_code == 200
    assert set_both.json()["user"]["bio"] == "Hi"
    author.refresh_from_db()
    assert (author.bio, author.image) == ("Hi", "https://example.com/a.jpg")

    cleared = client.put("/api/user", {"user": {"bio": "", "image": None}}, format="json")
    assert cleared.json()["user"]["bio"] is None
    assert cleared.json()["user"]["image"] is None
    author.refresh_from_db()
    assert (author.bio, author.image) == ("", None)

    client.put("/api/user", {"user": {"bio": "Again", "image": "https://example.com/b.jpg"}}, format="json")
    cleared = client.put("/api/user", {"user": {"bio": None, "image": ""}}, format="json")
    assert cleared.json()["user"]["bio"] is None
    assert cleared.json()["user"]["image"] is None


@pytest.mark.parametrize(
    "fields",
    [
        {"email": ""},
        {"email": None},
        {"username": ""},
        {"username": None},
        {"password": ""},
        {"password": None},
        {"password": "short7c"},
        {"image": "not a url"},
    ],
)
def test_invalid_updates_are_422_and_change_nothing(author, fields):
    before = User.objects.values().get(pk=author.pk)

    response = token_client(author).put("/api/user", {"user": fields}, format="json")

    assert response.status_code == 422
    assert set(response.json()["errors"]) == set(fields)
    assert User.objects.values().get(pk=author.pk) == before


def test_update_to_another_users_username_is_refused(author, other_user):
    response = token_client(author).put(
        "/api/user", {"user": {"username": other_user.username.upper()}}, format="json"
    )

    assert response.status_code == 422
    assert response.json() == {"errors": {"username": ["has already been taken"]}}


def test_password_change_revokes_refresh_tokens_and_takes_effect(author, anon_client):
    refresh = RefreshToken.for_user(author)

    response = token_client(author).put("/api/user", {"user": {"password": "bonjour1"}}, format="json")

    assert response.status_code == 200
    assert OutstandingToken.objects.get(jti=refresh["jti"]).blacklistedtoken is not None
    login = anon_client.post(
        "/api/users/login", {"user": {"email": author.email, "password": "bonjour1"}}, format="json"
    )
    assert login.status_code == 200


def test_profile_of_unknown_user_is_404(anon_client):
    response = anon_client.get("/api/profiles/nobody")

    assert response.status_code == 404
    assert response.json() == {"errors": {"profile": ["not found"]}}


def test_follow_and_unfollow(author, other_user, anon_client):
    client = token_client(author)

    followed = client.post(f"/api/profiles/{other_user.username.upper()}/follow")
    assert followed.status_code == 200
    assert followed.json()["profile"]["following"] is True
    assert followed.json()["profile"]["username"] == other_user.username
    assert Follow.objects.filter(follower=author, followed=other_user).exists()
    assert client.post(f"/api/profiles/{other_user.username}/follow").status_code == 200  # idempotent
    assert client.get(f"/api/profiles/{other_user.username}").json()["profile"]["following"] is True
    assert anon_client.get(f"/api/profiles/{other_user.username}").json()["profile"]["following"] is False

    unfollowed = client.delete(f"/api/profiles/{other_user.username}/follow")
    assert unfollowed.json()["profile"]["following"] is False
    assert not Follow.objects.exists()


def test_cannot_follow_oneself_or_follow_anonymously(author, anon_client):
    self_follow = token_client(author).post(f"/api/profiles/{author.username}/follow")
    anonymous = anon_client.post(f"/api/profiles/{author.username}/follow")

    assert self_follow.status_code == 422
    assert anonymous.status_code == 401
    assert anonymous.json() == {"errors": {"token": ["is missing"]}}
    assert not Follow.objects.exists()


def test_repeated_failed_logins_lock_the_account_out(anon_client, settings):
    settings.AXES_FAILURE_LIMIT = 3
    UserFactory(username="jake", email="jake@jake.jake")

    def login(password):
        return anon_client.post(
            "/api/users/login", {"user": {"email": "jake@jake.jake", "password": password}}, format="json"
        )

    # The attempt that reaches the limit is already refused, and so is the right password.
    assert [login("wrong-password").status_code for _ in range(3)] == [401, 401, 429]
    locked = login(PASSWORD)

    assert locked.status_code == 429
    assert list(locked.json()["errors"]) == ["throttled"]
    assert "Retry-After" in locked


def test_email_login_never_matches_a_username(anon_client):
    # Usernames may contain "@": an email nobody has must not log in the user so named.
    UserFactory(username="jake@jake.jake", email="other@example.com")

    response = anon_client.post(
        "/api/users/login", {"user": {"email": "jake@jake.jake", "password": PASSWORD}}, format="json"
    )

    assert response.status_code == 401


@pytest.mark.parametrize(
    ("method", "url", "body"),
    [
        (
            "post",
            "/api/users",
            {"user": {"username": "Fresh", "email": "Fresh@Example.com", "password": "x" * 12}},
        ),
        ("put", "/api/user", {"user": {"username": "Renamed", "email": "Renamed@Example.com"}}),
        (
            "post",
            "/api/v1/auth/register/",
            {"username": "Fresh", "email": "Fresh@Example.com", "password": "a-fine-passw0rd"},
        ),
        ("patch", "/api/v1/auth/me/", {"email": "Renamed@Example.com"}),
    ],
    ids=["conduit-sign-up", "conduit-update", "api-v1-sign-up", "api-v1-update"],
)
def test_taken_usernames_and_emails_are_looked_up_through_the_case_insensitive_indexes(
    author, method, url, body
):
    """``iexact`` compiles to ``UPPER(...) = UPPER(...)`` on PostgreSQL (``LIKE`` on
    SQLite), which the ``LOWER(...)`` unique indexes cannot answer: every user is read."""
    client = client_for(author) if method == "patch" else token_client(author if method == "put" else None)

    with CaptureQueriesContext(connection) as queries:
        response = getattr(client, method)(url, body, format="json")

    assert response.status_code in (200, 201), response.content
    lookups = [query["sql"] for query in queries if '"accounts_user"' in query["sql"]]
    assert lookups
    assert not [sql for sql in lookups if "UPPER(" in sql or " LIKE " in sql], lookups
