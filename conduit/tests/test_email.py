"""Conduit's sign-up and ``PUT /api/user`` mail a verification link as /api/v1/'s do."""

import re

import pytest

from accounts.models import User
from accounts.tests.factories import UserFactory
from conduit.tests.conftest import token_client

pytestmark = pytest.mark.django_db

KEY_LINK = re.compile(r"/verify-email/([^/\s]+)/")


def test_registration_mails_a_verification_link(anon_client, django_capture_on_commit_callbacks, mailoutbox):
    user = {"username": "jake", "email": "jake@jake.jake", "password": "password123"}
    with django_capture_on_commit_callbacks(execute=True):
        assert anon_client.post("/api/users", {"user": user}, format="json").status_code == 201

    (mail,) = mailoutbox
    assert mail.to == ["jake@jake.jake"]
    key = KEY_LINK.search(mail.body).group(1)
    assert anon_client.post("/api/v1/auth/verify-email/", {"key": key}, format="json").status_code == 204
    assert User.objects.get(username="jake").email_verified


def test_a_new_email_through_put_user_is_unverified_and_gets_a_link(
    django_capture_on_commit_callbacks, mailoutbox
):
    user = UserFactory(email_verified=True)
    with django_capture_on_commit_callbacks(execute=True):
        response = token_client(user).put(
            "/api/user", {"user": {"email": "moved@example.com"}}, format="json"
        )

    assert response.status_code == 200
    user.refresh_from_db()
    assert user.email == "moved@example.com" and not user.email_verified
    assert [mail.to for mail in mailoutbox] == [["moved@example.com"]]


def test_a_failed_registration_sends_nothing(anon_client, django_capture_on_commit_callbacks, mailoutbox):
    UserFactory(username="jake")
    user = {"username": "jake", "email": "jake@jake.jake", "password": "password123"}
    with django_capture_on_commit_callbacks(execute=True):
        assert anon_client.post("/api/users", {"user": user}, format="json").status_code == 409
    assert mailoutbox == []
