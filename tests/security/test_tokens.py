"""Tokens: forged, expired, misused, revoked or orphaned tokens are a 401, never a 5xx.

Each bad token is tried on every endpoint that reads one: an access token on a read and a
write that need authentication, a refresh token on refresh and logout, any token on verify.
"""

import base64
import json
from datetime import timedelta

import jwt
import pytest
from django.conf import settings
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from accounts.models import User
from accounts.tests.factories import PASSWORD, UserFactory
from conftest import run_at_once
from posts.models import Post

pytestmark = pytest.mark.django_db

ME = "/api/v1/auth/me/"
POSTS = "/api/v1/posts/"
REFRESH = "/api/v1/auth/token/refresh/"
LOGOUT = "/api/v1/auth/logout/"
VERIFY = "/api/v1/auth/token/verify/"


def b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def claims_of(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


def sign(claims: dict, *, key: str | None = None, algorithm: str = "HS256") -> str:
    return jwt.encode(claims, key or settings.SIMPLE_JWT["SIGNING_KEY"], algorithm=algorithm)


# Tokens signed with the server's own key but with claims it never issues: they need the
# key, so they are not an attacker's; they must still grant nothing and break nothing.
SERVER_SIGNED_ODDITIES = {
    "no expiry",
    "no user",
    "no type",
    "unknown user",
    "non-numeric user",
    "huge user id",
    "user id object",
}


def forgeries(token: str) -> dict[str, str]:
    """Ways to tamper with a genuine token of the victim."""
    claims = claims_of(token)
    header, payload, signature = token.split(".")
    expired = {**claims, "exp": int((timezone.now() - timedelta(minutes=1)).timestamp())}
    return {
        "alg none": f"{b64({'alg': 'none', 'typ': 'JWT'})}.{payload}.",
        "alg none, no dot": f"{b64({'alg': 'none', 'typ': 'JWT'})}.{payload}",
        "wrong key": sign(claims, key="not-the-server-key-" * 4),
        "other algorithm, right key": sign(
            claims, key=settings.SIMPLE_JWT["SIGNING_KEY"] * 2, algorithm="HS512"
        ),
        "expired": sign(expired),
        "no expiry": sign({k: v for k, v in claims.items() if k != "exp"}),
        "no user": sign({k: v for k, v in claims.items() if k != "user_id"}),
        "no type": sign({k: v for k, v in claims.items() if k != "token_type"}),
        "unknown user": sign({**claims, "user_id": "999999"}),
        "non-numeric user": sign({**claims, "user_id": "1 OR 1=1"}),
        "huge user id": sign({**claims, "user_id": 10**30}),
        "user id object": sign({**claims, "user_id": {"id": 1}}),
        "tampered payload": f"{header}.{b64({**claims, 'user_id': '1'})}.{signature}",
        "broken signature": f"{header}.{payload}.{signature[::-1]}",
        "garbage": "not.a.jwt",
        "empty": "",
        "huge": "a" * 10_000,
    }


@pytest.fixture
def victim():
    user = UserFactory(username="victim")
    Post.objects.create(author=user, title="Mine", slug="mine", body="x")
    return user


def access_uses(client: APIClient, token: str) -> list[int]:
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    return [
        client.get(ME, **auth).status_code,
        client.post(POSTS, {"title": "t", "body": "b"}, format="json", **auth).status_code,
        client.delete("/api/v1/posts/mine/", **auth).status_code,
    ]


def refresh_uses(client: APIClient, token: str) -> list[int]:
    return [
        client.post(REFRESH, {"refresh": token}, format="json").status_code,
        client.post(LOGOUT, {"refresh": token}, format="json").status_code,
    ]


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
class TestForgedTokens:
    def test_forged_access_tokens_are_401_everywhere(self, victim):
        client = APIClient()
        access = str(AccessToken.for_user(victim))
        for name, token in forgeries(access).items():
            codes = access_uses(client, token)
            # An empty bearer value is no credentials at all: still a 401 (the write needs them).
            assert codes == [401, 401, 401], (name, codes)
            # verify answers as the API does: none of these is a credential.
            verified = client.post(VERIFY, {"token": token}, format="json").status_code
            assert verified == (400 if token == "" else 401), (name, verified)
        assert Post.objects.filter(slug="mine").exists()
        assert Post.objects.count() == 1

    def test_forged_refresh_tokens_are_401_or_400(self, victim):
        client = APIClient()
        refresh = str(RefreshToken.for_user(victim))
        for name, token in forgeries(refresh).items():
            refreshed, logged_out = refresh_uses(client, token)
            if name in SERVER_SIGNED_ODDITIES:
                assert refreshed == 401 and logged_out < 500, (name, refreshed, logged_out)
            else:
                # An empty string is invalid input (400); anything else is a dead token (401).
                expected = (400, 400) if token == "" else (401, 401)
                assert (refreshed, logged_out) == expected, (name, refreshed, logged_out)

    def test_refresh_token_used_as_access_is_401(self, victim):
        refresh = str(RefreshToken.for_user(victim))
        assert access_uses(APIClient(), refresh) == [401, 401, 401]

    def test_access_token_used_as_refresh_is_401(self, victim):
        access = str(AccessToken.for_user(victim))
        assert refresh_uses(APIClient(), access) == [401, 401]


class TestRevokedTokens:
    def login(self, username: str) -> dict:
        response = APIClient().post(
            "/api/v1/auth/token/", {"username": username, "password": PASSWORD}, format="json"
        )
        assert response.status_code == 200
        return response.json()

    def test_refresh_after_logout_is_401(self, victim):
        pair = self.login("victim")
        client = APIClient()
        assert client.post(LOGOUT, {"refresh": pair["refresh"]}, format="json").status_code == 205
        assert refresh_uses(client, pair["refresh"]) == [401, 401]

    def test_refresh_after_rotation_is_401_and_the_new_one_works(self, victim):
        pair = self.login("victim")
        client = APIClient()
        rotated = client.post(REFRESH, {"refresh": pair["refresh"]}, format="json")
        assert rotated.status_code == 200
        assert refresh_uses(client, pair["refresh"]) == [401, 401]
        assert client.post(REFRESH, {"refresh": rotated.json()["refresh"]}, format="json").status_code == 200

    def test_refresh_after_password_change_is_401(self, victim):
        pair = self.login("victim")
        other_session = self.login("victim")
        client = APIClient(HTTP_AUTHORIZATION=f"Bearer {pair['access']}")
        changed = client.post(
            "/api/v1/auth/password/",
            {"old_password": PASSWORD, "new_password": "a-new-long-password-77"},
            format="json",
        )
        assert changed.status_code == 204
        assert refresh_uses(APIClient(), other_session["refresh"]) == [401, 401]

    @pytest.mark.parametrize("fate", ["deleted", "deactivated"])
    def test_tokens_of_a_deleted_or_deactivated_user_are_401(self, victim, fate):
        pair = self.login("victim")
        if fate == "deleted":
            victim.delete()
        else:
            User.objects.filter(pk=victim.pk).update(is_active=False)
        client = APIClient()
        assert client.post(REFRESH, {"refresh": pair["refresh"]}, format="json").status_code == 401
        assert access_uses(client, pair["access"]) == [401, 401, 401]


def assert_401_with_only_a_detail(response, case: str) -> None:
    """The contract's 401: ``{"detail": "..."}`` and a Bearer challenge, nothing else."""
    assert response.status_code == 401, (case, response.status_code)
    body = response.json()
    assert list(body) == ["detail"] and isinstance(body["detail"], str), (case, body)
    assert response["WWW-Authenticate"].startswith("Bearer"), case


class TestVerify:
    """verify answers 200 for exactly the tokens the API accepts as credentials."""

    def test_a_live_access_token_is_200(self, victim):
        response = APIClient().post(VERIFY, {"token": str(AccessToken.for_user(victim))}, format="json")
        assert (response.status_code, response.json()) == (200, {})

    @pytest.mark.parametrize(
        "case", ["refresh token", "logged-out refresh token", "deactivated user", "deleted user"]
    )
    def test_a_token_the_api_refuses_is_401(self, victim, case):
        client = APIClient()
        if case.endswith("refresh token"):
            token = str(RefreshToken.for_user(victim))
            if case.startswith("logged-out"):
                assert client.post(LOGOUT, {"refresh": token}, format="json").status_code == 205
        else:
            token = str(AccessToken.for_user(victim))
            if case == "deleted user":
                victim.delete()
            else:
                User.objects.filter(pk=victim.pk).update(is_active=False)
        assert client.get(ME, HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 401
        assert_401_with_only_a_detail(client.post(VERIFY, {"token": token}, format="json"), case)


def test_every_401_body_is_only_a_detail_message(victim):
    client = APIClient()
    access = str(AccessToken.for_user(victim))
    refresh = str(RefreshToken.for_user(victim))
    expired = sign({**claims_of(access), "exp": int((timezone.now() - timedelta(minutes=1)).timestamp())})

    def bearer(token: str) -> dict[str, str]:
        return {"HTTP_AUTHORIZATION": f"Bearer {token}"}

    wrong_password = {"username": "victim", "password": "not-the-password-1"}
    responses = {
        "no credentials": client.get(ME),
        "garbage bearer": client.get(ME, **bearer("not.a.jwt")),
        "expired bearer": client.get(ME, **bearer(expired)),
        "refresh token as bearer": client.post(
            POSTS, {"title": "t", "body": "b"}, format="json", **bearer(refresh)
        ),
        "wrong password": client.post("/api/v1/auth/token/", wrong_password, format="json"),
        "refresh with garbage": client.post(REFRESH, {"refresh": "not.a.jwt"}, format="json"),
        "access token as refresh": client.post(REFRESH, {"refresh": access}, format="json"),
        "logout with garbage": client.post(LOGOUT, {"refresh": "not.a.jwt"}, format="json"),
        "verify garbage": client.post(VERIFY, {"token": "not.a.jwt"}, format="json"),
    }
    for case, response in responses.items():
        assert_401_with_only_a_detail(response, case)


def test_ten_parallel_refreshes_of_one_token_at_most_one_succeeds(postgres_only, transactional_db):
    UserFactory(username="racer")
    refresh = (
        APIClient()
        .post("/api/v1/auth/token/", {"username": "racer", "password": PASSWORD}, format="json")
        .json()["refresh"]
    )
    codes = run_at_once(
        10, lambda _: APIClient().post(REFRESH, {"refresh": refresh}, format="json").status_code
    )
    assert codes.count(200) <= 1, codes
    assert set(codes) <= {200, 401}, codes
    # And the winner's token is the only live one: the original stays dead.
    assert APIClient().post(REFRESH, {"refresh": refresh}, format="json").status_code == 401
