"""Races on PostgreSQL: many requests at once on one username, one refresh token."""

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from accounts.tests.factories import PASSWORD, UserFactory
from conftest import run_at_once

pytestmark = [pytest.mark.django_db(transaction=True)]


def test_concurrent_signups_of_one_username(postgres_only):
    def sign_up(i):
        body = {
            "username": "racer" if i % 2 else "RACER",
            "email": f"r{i}@example.com",
            "password": "a-fine-passw0rd",
        }
        return APIClient().post("/api/v1/auth/register/", body, format="json").status_code

    codes = run_at_once(20, sign_up)
    assert codes.count(201) == 1, codes
    assert codes.count(400) == 19, codes
    assert User.objects.with_username("racer").count() == 1


def test_parallel_refreshes_of_one_token_at_most_one_succeeds(postgres_only):
    UserFactory(username="rotor")
    refresh = (
        APIClient()
        .post("/api/v1/auth/token/", {"username": "rotor", "password": PASSWORD}, format="json")
        .data
    )["refresh"]

    def use(_):
        return (
            APIClient().post("/api/v1/auth/token/refresh/", {"refresh": refresh}, format="json").status_code
        )

    codes = run_at_once(10, use)
    assert codes.count(200) <= 1, codes
    assert set(codes) <= {200, 401}, codes
