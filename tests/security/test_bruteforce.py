"""Brute force: failed logins are locked out per account *and* address (django-axes), and
every way to log in (the token endpoint, the web form, Conduit, the admin) spends one
budget per address (``accounts.throttles.LoginRateThrottle``), failed or not."""

from collections.abc import Callable

import pytest
from django.core.cache import caches
from django.test import Client
from rest_framework.test import APIClient

from accounts.tests.factories import PASSWORD, UserFactory

TOKEN_URL = "/api/v1/auth/token/"
LIMIT = 3
# The pen test's personas: someone who knows a username, and its owner elsewhere.
STRANGER = "203.0.113.1"
OWNER_HOME = "192.0.2.77"


@pytest.fixture
def low_limit(settings):
    settings.AXES_FAILURE_LIMIT = LIMIT
    return settings


def login(username: str, password: str, address: str = STRANGER):
    return APIClient(REMOTE_ADDR=address).post(
        TOKEN_URL, {"username": username, "password": password}, format="json"
    )


def form_login(username: str, password: str, address: str = STRANGER):
    return Client(REMOTE_ADDR=address).post(
        "/login/", {"username": username, "password": password}, HTTP_ACCEPT="application/json"
    )


def conduit_login(username: str, password: str, address: str = STRANGER):
    user = {"email": f"{username}@example.com", "password": password}
    return APIClient(REMOTE_ADDR=address).post("/api/users/login", {"user": user}, format="json")


def admin_login(username: str, password: str, address: str = STRANGER):
    return Client(REMOTE_ADDR=address).post(
        "/admin/login/", {"username": username, "password": password, "next": "/admin/"}
    )


# Every way in, with the status of a successful login (the factories' users have
# username@example.com as their email, which Conduit logs in with).
WAYS_IN: dict[str, tuple[Callable, int]] = {
    "token": (login, 200),
    "web-form": (form_login, 200),
    "conduit": (conduit_login, 200),
    "admin": (admin_login, 302),
}


def assert_locked_out(response) -> None:
    assert response.status_code == 429, response.content
    assert "too many failed login attempts" in response.content.decode().lower()
    assert int(response["Retry-After"]) > 0


@pytest.mark.django_db
class TestLockout:
    @pytest.mark.parametrize("attack", WAYS_IN)
    def test_a_stranger_cannot_lock_the_owner_out(self, low_limit, attack):
        UserFactory(username="owner", is_staff=True)
        guess, _ = WAYS_IN[attack]
        for _ in range(LIMIT + 2):
            guess("owner", "wrong-guess", STRANGER)
        # The stranger's address is locked out of the account, the right password included...
        assert_locked_out(login("owner", PASSWORD, STRANGER))
        # ...but its owner, from another address, logs in every way there is.
        for name, (way_in, ok) in WAYS_IN.items():
            assert way_in("owner", PASSWORD, OWNER_HOME).status_code == ok, name

    def test_a_brute_force_from_one_address_stops_at_the_limit(self, low_limit):
        UserFactory(username="target", is_staff=True)
        statuses = [login("TARGET", f"guess-{i}").status_code for i in range(LIMIT - 1)]
        assert statuses == [401] * (LIMIT - 1)
        # The limit-th failure locks the account for this address (any case of the name)...
        assert_locked_out(login("target", "guess-last"))
        # ...even for the right password, and whichever way in it tries next.
        assert_locked_out(login("target", PASSWORD))
        assert_locked_out(form_login("target", PASSWORD))
        assert conduit_login("target", PASSWORD).status_code == 429
        assert_locked_out(admin_login("target", PASSWORD))

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

    def test_lockout_is_counted_in_the_security_cache_when_redis_is_configured(self, low_limit):
        # With SECURITY_REDIS_URL the cache handler counts in the "security" alias, which
        # every process shares. Here one process's alias stands in for that Redis.
        low_limit.AXES_HANDLER = "axes.handlers.cache.AxesCacheHandler"
        UserFactory(username="cached")
        for _ in range(LIMIT):
            login("cached", "wrong-guess")
        assert_locked_out(login("cached", PASSWORD))
        caches["default"].clear()  # the response cache's store holds none of it
        assert_locked_out(login("cached", PASSWORD))
        caches["security"].clear()  # the shared state is the only state
        assert login("cached", PASSWORD).status_code == 200


@pytest.mark.django_db
class TestOneLoginBudgetPerAddress:
    def test_every_way_in_spends_the_same_budget(self, settings):
        settings.AUTH_THROTTLE_RATE = f"{len(WAYS_IN)}/minute"
        UserFactory(username="sprayed", is_staff=True)
        for name, (way_in, _) in WAYS_IN.items():
            assert way_in(f"guess-{name}", "wrong-guess").status_code != 429, name
        # One attempt each spent the address's budget: every way in now refuses it, the
        # right password included...
        for name, (way_in, _) in WAYS_IN.items():
            refused = way_in("sprayed", PASSWORD)
            assert refused.status_code == 429, name
            assert int(refused["Retry-After"]) > 0, name
        # ...while another address has a budget of its own.
        assert login("sprayed", PASSWORD, OWNER_HOME).status_code == 200

    def test_the_admin_login_is_throttled(self, settings):
        settings.AUTH_THROTTLE_RATE = f"{LIMIT}/minute"
        statuses = [admin_login(f"admin{i}", "wrong-guess").status_code for i in range(LIMIT + 1)]
        assert statuses == [200] * LIMIT + [429]

    def test_a_spray_across_accounts_from_one_address_is_throttled(self, low_limit):
        low_limit.AUTH_THROTTLE_RATE = f"{LIMIT}/minute"
        UserFactory(username="bystander")
        for i in range(LIMIT):
            assert login(f"guess{i}", "wrong-guess").status_code == 401
        throttled = login("guess-last", "wrong-guess")
        assert throttled.status_code == 429 and int(throttled["Retry-After"]) > 0
        # The address is held back even for a valid login; another address is not.
        assert login("bystander", PASSWORD).status_code == 429
        assert login("bystander", PASSWORD, address="192.0.2.9").status_code == 200


@pytest.mark.django_db
def test_web_login_form_is_locked_out_too(low_limit, client):
    UserFactory(username="webby")
    for _ in range(LIMIT):
        client.post("/login/", {"username": "webby", "password": "wrong-guess"}, REMOTE_ADDR=STRANGER)
    response = client.post("/login/", {"username": "webby", "password": PASSWORD}, REMOTE_ADDR=STRANGER)
    assert response.status_code == 429
    assert "Too many failed login attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_a_throttled_login_form_shows_the_form_again_not_a_server_error(settings, client):
    settings.AUTH_THROTTLE_RATE = "1/minute"
    UserFactory(username="patient")
    client.post("/login/", {"username": "patient", "password": "wrong-guess"})
    # A browser without JavaScript posts the plain form and gets the page back.
    response = client.post("/login/", {"username": "patient", "password": PASSWORD})
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    page = response.content.decode()
    assert "Too many attempts. Try again in" in page and 'name="password"' in page
    assert 'value="patient"' in page  # what was typed stays in the form
    assert "_auth_user_id" not in client.session
