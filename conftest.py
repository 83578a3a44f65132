"""Fixtures and helpers shared by every app's tests: API clients for each persona, and
releasing many requests at once for the race tests."""

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from threading import Barrier
from typing import TypeVar

import pytest
from django.core.cache import caches
from django.db import connections
from django.test import override_settings
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.tests.factories import UserFactory


@pytest.fixture(scope="session", autouse=True)
def _media_root(tmp_path_factory):
    # Uploads made by tests land in a throwaway folder, never in the project's media/.
    with override_settings(MEDIA_ROOT=tmp_path_factory.mktemp("media")):
        yield


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    yield
    from django.conf import settings

    if not settings.DATABASE_PGBOUNCER:
        return
    # pgbouncer keeps the server connections the tests used open in its pool, and a
    # database with connections cannot be dropped: end them before pytest-django drops it.
    with django_db_blocker.unblock(), connections["default"]._nodb_cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = %s AND pid <> pg_backend_pid()",
            [connections["default"].settings_dict["NAME"]],
        )


@pytest.fixture(autouse=True)
def _clear_cache():
    # Throttle and login-failure counters live in the caches; each test starts with none.
    for each in caches.all():
        each.clear()
    yield
    for each in caches.all():
        each.clear()


def client_for(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
    return client


@pytest.fixture
def anon_client():
    return APIClient()


@pytest.fixture
def author(db):
    return UserFactory(username="author")


@pytest.fixture
def other_user(db):
    return UserFactory(username="other")


@pytest.fixture
def staff_user(db):
    return UserFactory(username="staff", is_staff=True)


@pytest.fixture
def author_client(author):
    return client_for(author)


@pytest.fixture
def other_client(other_user):
    return client_for(other_user)


@pytest.fixture
def staff_client(staff_user):
    return client_for(staff_user)


@pytest.fixture
def image_of(settings, tmp_path):
    """``image_of(owner, width=..., height=..., alt=...)``: a real upload of ``owner``'s
    (a Pillow-made JPEG, with its renditions), stored under a media root of the test's own."""
    from images.tests.factories import make_image

    settings.MEDIA_ROOT = tmp_path / "media"
    return make_image


@pytest.fixture
def postgres_only(db):
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: set DATABASE_URL (CI runs it)")


T = TypeVar("T")


def run_at_once(count: int, request: Callable[[int], T]) -> list[T]:
    """Run ``request(i)`` in ``count`` threads released together by a barrier. Each thread
    has its own database connection, as separate gunicorn workers would."""
    barrier = Barrier(count)

    def worker(i: int) -> T:
        try:
            barrier.wait(timeout=10)
            return request(i)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(worker, range(count), timeout=60))
