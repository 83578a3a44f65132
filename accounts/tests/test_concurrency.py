"""Races on PostgreSQL: many requests at once on one username, one refresh token, one
reset or verification link."""

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


def test_one_reset_link_used_many_times_at_once_works_once(postgres_only):
    from django.contrib.auth.tokens import default_token_generator
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    user = UserFactory(username="forgetful")
    uid, token = urlsafe_base64_encode(force_bytes(user.pk)), default_token_generator.make_token(user)

    def use(i):
        body = {"uid": uid, "token": token, "new_password": f"a-racing-password-{i}"}
        return APIClient().post("/api/v1/auth/password-reset/confirm/", body, format="json").status_code

    codes = run_at_once(8, use)
    assert codes.count(204) == 1, codes
    assert codes.count(400) == 7, codes
    user.refresh_from_db()
    winner = codes.index(204)
    assert user.check_password(f"a-racing-password-{winner}")


def test_one_verification_link_used_many_times_at_once_verifies_once(postgres_only):
    from accounts import services

    key = services.verification_key(user=UserFactory(username="verifier"))

    def use(_):
        return APIClient().post("/api/v1/auth/verify-email/", {"key": key}, format="json").status_code

    codes = run_at_once(8, use)
    assert codes.count(204) == 1, codes
    assert codes.count(400) == 7, codes
