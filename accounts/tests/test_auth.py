"""Sign-up, tokens, rotation, logout and password change, over the API."""

import base64
import json

import pytest
from django.contrib.sessions.models import Session
from django.urls import reverse

from accounts.models import User
from accounts.tests.factories import PASSWORD, UserFactory
from conftest import client_for

REGISTER = "/api/v1/auth/register/"
TOKEN = "/api/v1/auth/token/"
REFRESH = "/api/v1/auth/token/refresh/"
VERIFY = "/api/v1/auth/token/verify/"
LOGOUT = "/api/v1/auth/logout/"
ME = "/api/v1/auth/me/"
PASSWORD_URL = "/api/v1/auth/password/"

pytestmark = pytest.mark.django_db


def register(client, **overrides):
    body = {"username": "alice", "email": "alice@example.com", "password": "correct-horse-battery-9"}
    body.update(overrides)
    return client.post(REGISTER, body, format="json")


def obtain(client, username, password=PASSWORD):
    return client.post(TOKEN, {"username": username, "password": password}, format="json")


class TestRegister:
    def test_creates_user_and_returns_private_profile(self, anon_client):
        response = register(anon_client, display_name="Alice A.")
        assert response.status_code == 201
        assert set(response.data) == {
            "id",
            "username",
            "email",
            "email_verified",
            "display_name",
            "bio",
            "avatar",
            "date_joined",
            "is_staff",
            "notify_comments",
            "notify_followed_posts",
        }
        assert response.data["email_verified"] is False
        assert response.data["display_name"] == "Alice A."
        user = User.objects.get(username="alice")
        assert user.password.startswith("md5$") or user.password.startswith("argon2")
        assert "password" not in response.content.decode()

    def test_username_differing_only_in_case_is_400(self, anon_client):
        assert register(anon_client).status_code == 201
        response = register(anon_client, username="ALICE", email="other@example.com")
        assert response.status_code == 400
        assert "username" in response.data
        assert User.objects.count() == 1

    def test_email_differing_only_in_case_is_400(self, anon_client):
        register(anon_client)
        response = register(anon_client, username="bob", email="ALICE@example.com")
        assert response.status_code == 400
        assert "email" in response.data

    @pytest.mark.parametrize("password", ["short", "password123", "12345678901", "alice123"])
    def test_weak_password_is_400_naming_password(self, anon_client, password):
        response = register(anon_client, password=password)
        assert response.status_code == 400
        assert "password" in response.data
        assert not User.objects.exists()

    def test_missing_fields_are_named(self, anon_client):
        response = anon_client.post(REGISTER, {}, format="json")
        assert response.status_code == 400
        assert {"username", "email", "password"} <= set(response.data)

    def test_extra_fields_are_ignored(self, anon_client):
        response = register(anon_client, is_staff=True, is_superuser=True, id=999)
        assert response.status_code == 201
        user = User.objects.get(username="alice")
        assert not user.is_staff and not user.is_superuser and user.pk != 999

    def test_invalid_username_characters(self, anon_client):
        assert register(anon_client, username="al ice/..").status_code == 400

    def test_hash_is_argon2_in_real_settings(self, settings, anon_client):
        settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher"]
        register(anon_client)
        assert User.objects.get().password.startswith("argon2")


class TestTokens:
    def test_login_is_case_insensitive(self, anon_client):
        UserFactory(username="Carol")
        response = obtain(anon_client, "carol")
        assert response.status_code == 200
        assert set(response.data) == {"access", "refresh"}

    def test_wrong_password_and_unknown_user_get_the_same_401(self, anon_client):
        UserFactory(username="dave")
        wrong = obtain(anon_client, "dave", "not-the-password")
        unknown = obtain(anon_client, "nobody", "not-the-password")
        assert wrong.status_code == unknown.status_code == 401
        assert wrong.json() == unknown.json()

    def test_inactive_user_cannot_log_in(self, anon_client):
        UserFactory(username="eve", is_active=False)
        assert obtain(anon_client, "eve").status_code == 401

    def test_full_flow_register_token_me_refresh_logout(self, anon_client):
        register(anon_client)
        pair = obtain(anon_client, "alice", "correct-horse-battery-9").data
        me = anon_client.get(ME, HTTP_AUTHORIZATION=f"Bearer {pair['access']}")
        assert me.status_code == 200 and me.data["username"] == "alice"

        rotated = anon_client.post(REFRESH, {"refresh": pair["refresh"]}, format="json")
        assert rotated.status_code == 200
        assert rotated.data["refresh"] != pair["refresh"]
        assert anon_client.post(REFRESH, {"refresh": pair["refresh"]}, format="json").status_code == 401

        new_refresh = rotated.data["refresh"]
        assert anon_client.post(LOGOUT, {"refresh": new_refresh}, format="json").status_code == 205
        assert anon_client.post(REFRESH, {"refresh": new_refresh}, format="json").status_code == 401
        assert anon_client.post(LOGOUT, {"refresh": new_refresh}, format="json").status_code == 401

    def test_verify(self, anon_client, author):
        pair = obtain(anon_client, author.username).data
        assert anon_client.post(VERIFY, {"token": pair["access"]}, format="json").json() == {}
        bad = anon_client.post(VERIFY, {"token": pair["access"][:-3] + "abc"}, format="json")
        assert bad.status_code == 401

    def test_logout_needs_a_refresh_token(self, anon_client):
        assert anon_client.post(LOGOUT, {}, format="json").status_code == 400
        assert anon_client.post(LOGOUT, {"refresh": "garbage"}, format="json").status_code == 401

    def test_refresh_for_deleted_user_is_401(self, anon_client, author):
        refresh = obtain(anon_client, author.username).data["refresh"]
        author.delete()
        response = anon_client.post(REFRESH, {"refresh": refresh}, format="json")
        assert response.status_code == 401

    def test_refresh_for_deactivated_user_is_401(self, anon_client, author):
        refresh = obtain(anon_client, author.username).data["refresh"]
        author.is_active = False
        author.save()
        assert anon_client.post(REFRESH, {"refresh": refresh}, format="json").status_code == 401


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


class TestBadTokens:
    def test_missing_credentials_is_401_with_bearer_challenge(self, anon_client):
        response = anon_client.get(ME)
        assert response.status_code == 401
        assert response["WWW-Authenticate"].startswith("Bearer")
        assert "detail" in response.json()

    def test_broken_signature(self, anon_client, author):
        access = obtain(anon_client, author.username).data["access"]
        header, payload, signature = access.split(".")
        forged = f"{header}.{payload}.{signature[::-1]}"
        assert anon_client.get(ME, HTTP_AUTHORIZATION=f"Bearer {forged}").status_code == 401

    def test_alg_none(self, anon_client, author):
        access = obtain(anon_client, author.username).data["access"]
        payload = access.split(".")[1]
        unsigned = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{payload}."
        assert anon_client.get(ME, HTTP_AUTHORIZATION=f"Bearer {unsigned}").status_code == 401

    def test_refresh_token_used_as_access(self, anon_client, author):
        refresh = obtain(anon_client, author.username).data["refresh"]
        assert anon_client.get(ME, HTTP_AUTHORIZATION=f"Bearer {refresh}").status_code == 401

    @pytest.mark.parametrize("header", ["Bearer", "Bearer a b", "Token abc", "Bearer \x00"])
    def test_malformed_headers(self, anon_client, header):
        assert anon_client.get(ME, HTTP_AUTHORIZATION=header).status_code == 401


class TestMe:
    def test_patch_changes_profile_fields(self, author_client, author):
        response = author_client.patch(ME, {"display_name": "New", "bio": "Hi"}, format="json")
        assert response.status_code == 200
        author.refresh_from_db()
        assert (author.display_name, author.bio) == ("New", "Hi")

    def test_patch_ignores_read_only_fields(self, author_client, author):
        before = (author.pk, author.username, author.is_staff, author.date_joined)
        response = author_client.patch(
            ME,
            {"username": "hacker", "is_staff": True, "id": 12345, "date_joined": "2000-01-01T00:00:00Z"},
            format="json",
        )
        assert response.status_code == 200
        author.refresh_from_db()
        assert (author.pk, author.username, author.is_staff, author.date_joined) == before

    def test_email_taken_by_someone_else_is_400(self, author_client, other_user):
        response = author_client.patch(ME, {"email": other_user.email.upper()}, format="json")
        assert response.status_code == 400 and "email" in response.data

    def test_invalid_email_is_400(self, author_client):
        assert author_client.patch(ME, {"email": "not-an-email"}, format="json").status_code == 400

    def test_anonymous_is_401(self, anon_client):
        assert anon_client.patch(ME, {"bio": "x"}, format="json").status_code == 401

    def test_put_is_not_allowed(self, author_client):
        assert author_client.put(ME, {"bio": "x"}, format="json").status_code == 405


class TestPasswordChange:
    NEW = "brand-new-secret-77"

    def test_jwt_caller_gets_no_session(self, author_client):
        response = author_client.post(PASSWORD_URL, {"old_password": PASSWORD, "new_password": self.NEW})
        assert response.status_code == 204
        assert "sessionid" not in response.cookies
        assert not Session.objects.exists()

    def test_session_caller_stays_logged_in_other_sessions_end(self, author):
        from rest_framework.test import APIClient

        this_browser, other_browser = APIClient(), APIClient()
        this_browser.force_login(author)
        other_browser.force_login(author)
        response = this_browser.post(PASSWORD_URL, {"old_password": PASSWORD, "new_password": self.NEW})
        assert response.status_code == 204
        assert this_browser.get(ME).status_code == 200
        assert other_browser.get(ME).status_code in (401, 403)

    def test_change_revokes_refresh_tokens(self, anon_client, author):
        pair = obtain(anon_client, author.username).data
        other_session = obtain(anon_client, author.username).data
        client = client_for(author)
        response = client.post(
            PASSWORD_URL, {"old_password": PASSWORD, "new_password": "brand-new-secret-77"}, format="json"
        )
        assert response.status_code == 204
        for token in (pair["refresh"], other_session["refresh"]):
            assert anon_client.post(REFRESH, {"refresh": token}, format="json").status_code == 401
        assert obtain(anon_client, author.username, PASSWORD).status_code == 401
        assert obtain(anon_client, author.username, "brand-new-secret-77").status_code == 200

    def test_wrong_old_password(self, author_client):
        response = author_client.post(
            PASSWORD_URL, {"old_password": "wrong", "new_password": "brand-new-secret-77"}, format="json"
        )
        assert response.status_code == 400 and "old_password" in response.data

    def test_weak_new_password(self, author_client, author):
        response = author_client.post(
            PASSWORD_URL, {"old_password": PASSWORD, "new_password": "123"}, format="json"
        )
        assert response.status_code == 400 and "new_password" in response.data
        author.refresh_from_db()
        assert author.check_password(PASSWORD)

    def test_anonymous_is_401(self, anon_client):
        assert anon_client.post(PASSWORD_URL, {}, format="json").status_code == 401


class TestThrottling:
    def test_auth_endpoints_are_throttled_with_retry_after(self, settings, anon_client):
        settings.AUTH_THROTTLE_RATE = "3/minute"
        codes = [obtain(anon_client, "nobody", "x").status_code for _ in range(4)]
        assert codes == [401, 401, 401, 429]
        throttled = obtain(anon_client, "nobody", "x")
        assert throttled.status_code == 429
        assert int(throttled["Retry-After"]) > 0
        assert "detail" in throttled.json()

    def test_register_is_throttled_per_address(self, settings, anon_client):
        settings.AUTH_THROTTLE_RATE = "2/minute"
        register(anon_client, username="u1", email="u1@example.com")
        register(anon_client, username="u2", email="u2@example.com")
        assert register(anon_client, username="u3", email="u3@example.com").status_code == 429
        assert not User.objects.filter(username="u3").exists()
        body = {"username": "u4", "email": "u4@example.com", "password": "correct-horse-battery-9"}
        other_address = anon_client.post(REGISTER, body, format="json", REMOTE_ADDR="10.0.0.9")
        assert other_address.status_code == 201


def test_api_root_lists_endpoints(anon_client):
    response = anon_client.get(reverse("api-root"))
    assert response.status_code == 200
    assert response.data["posts"].endswith("/api/v1/posts/")
