"""Brute force: failed logins are locked out per account (django-axes) and throttled per
address (the token endpoint's throttle, which counts every attempt)."""

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from accounts.tests.factories import PASSWORD, UserFactory

TOKEN_URL = "/api/v1/auth/token/"
LIMIT = 3


@pytest.fixture
def low_limit(settings):
    settings.AXES_FAILURE_LIMIT = LIMIT
    return settings


def login(username: str, password: str, address: str = "203.0.113.1"):
    return APIClient(REMOTE_ADDR=address).post(
        TOKEN_URL, {"username": username, "password": password}, format="json"
    )


def assert_locked_out(response) -> None:
    assert response.status_code == 429, response.content
    assert "too many failed login attempts" in response.json()["detail"].lower()
    assert int(response["Retry-After"]) > 0


@pytest.mark.django_db
class TestLockout:
    def test_account_is_locked_after_the_limit_from_any_address(self, low_limit):
        UserFactory(username="victim")
        for i in range(LIMIT - 1):
            assert login("victim", "wrong-guess", address=f"198.51.100.{i}").status_code == 401
        # The limit-th failure, from yet another address, locks the account...
        assert_locked_out(login("VICTIM", "wrong-guess", address="198.51.100.200"))
        # ...even for the right password from a fresh address, until the cool-off ends.
        assert_locked_out(login("victim", PASSWORD, address="192.0.2.77"))

    def test_address_spraying_many_accounts_is_throttled(self, low_limit):
        low_limit.AUTH_THROTTLE_RATE = f"{LIMIT}/minute"
        UserFactory(username="bystander")
        for i in range(LIMIT):
            assert login(f"guess{i}", "wrong-guess").status_code == 401
        throttled = login("guess-last", "wrong-guess")
        assert throttled.status_code == 429 and int(throttled["Retry-After"]) > 0
        # The address is held back even for a valid login; another address is not.
        assert login("bystander", PASSWORD).status_code == 429
        assert login("bystander", PASSWORD, address="192.0.2.9").status_code == 200

    def test_typos_of_many_users_behind_one_address_lock_nobody_else_out(self, low_limit):
        UserFactory(username="colleague")
        for i in range(LIMIT * 2):
            assert login(f"typo{i}", "wrong-guess").status_code == 401
        assert login("colleague", PASSWORD).status_code == 200

    def test_failures_below_the_limit_do_not_block_the_right_password(self, low_limit):
        UserFactory(username="typo")
        for _ in range(LIMIT - 1):
            assert login("typo", "wrong-guess").status_code == 401
        assert login("typo", PASSWORD).status_code == 200

    def test_lockout_is_counted_in_the_shared_cache_when_redis_is_configured(self, low_limit):
        # With REDIS_URL the cache handler is used; any cache shared by the processes
        # carries the count. Here one process, the test's cache, stands in for Redis.
        low_limit.AXES_HANDLER = "axes.handlers.cache.AxesCacheHandler"
        UserFactory(username="cached")
        for _ in range(LIMIT):
            login("cached", "wrong-guess")
        assert_locked_out(login("cached", PASSWORD, address="192.0.2.10"))
        cache.clear()  # the shared state is the only state: clearing it lifts the lockout
        assert login("cached", PASSWORD, address="192.0.2.10").status_code == 200


@pytest.mark.django_db
def test_web_login_form_is_locked_out_too(low_limit, client):
    UserFactory(username="webby")
    for _ in range(LIMIT):
        client.post("/login/", {"username": "webby", "password": "wrong-guess"}, REMOTE_ADDR="203.0.113.9")
    response = client.post("/login/", {"username": "webby", "password": PASSWORD}, REMOTE_ADDR="203.0.113.50")
    assert response.status_code == 429
    assert "Too many failed login attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session
