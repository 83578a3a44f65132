"""Verifying an address: the mail after sign-up and after an email change, the key (signed,
expiring, tied to the address, single use), resending, and the notification choices on
the private profile."""

import re
from datetime import timedelta
from unittest import mock

import pytest
from django.core import signing

from accounts import services
from accounts.models import User
from accounts.tests.factories import UserFactory
from conftest import client_for

REGISTER = "/api/v1/auth/register/"
ME = "/api/v1/auth/me/"
VERIFY = "/api/v1/auth/verify-email/"
RESEND = "/api/v1/auth/verify-email/resend/"
KEY_LINK = re.compile(r"https?://[^/\s]+/verify-email/([^/\s]+)/")

pytestmark = pytest.mark.django_db


def key_in(message) -> str:
    match = KEY_LINK.search(message.body)
    assert match, message.body
    assert match.group(0) in message.alternatives[0].content
    return match.group(1)


def sign_up(client, capture, **overrides):
    body = {
        "username": "alice",
        "email": "alice@example.com",
        "password": "correct-horse-battery-9",
        **overrides,
    }
    with capture(execute=True):
        return client.post(REGISTER, body, format="json")


def test_sign_up_mails_a_link_that_verifies_the_address(
    anon_client, django_capture_on_commit_callbacks, mailoutbox
):
    response = sign_up(anon_client, django_capture_on_commit_callbacks)

    assert response.status_code == 201 and response.json()["email_verified"] is False
    (mail,) = mailoutbox
    assert mail.to == ["alice@example.com"]
    assert "alice@example.com" in mail.body
    verified = anon_client.post(VERIFY, {"key": key_in(mail)}, format="json")
    assert verified.status_code == 204
    user = User.objects.get(username="alice")
    assert user.email_verified
    assert client_for(user).get(ME).json()["email_verified"] is True


def test_a_used_key_is_a_400_naming_key(anon_client, django_capture_on_commit_callbacks, mailoutbox):
    sign_up(anon_client, django_capture_on_commit_callbacks)
    key = key_in(mailoutbox[0])
    assert anon_client.post(VERIFY, {"key": key}, format="json").status_code == 204

    again = anon_client.post(VERIFY, {"key": key}, format="json")

    assert again.status_code == 400
    assert set(again.json()) == {"key"}


@pytest.mark.parametrize("key", ["", "garbage", "a:b:c", "x" * 500, "eyJ1IjoxfQ:1abc:Zm9v"])
def test_a_bad_key_is_a_400_naming_key(anon_client, key):
    UserFactory()
    response = anon_client.post(VERIFY, {"key": key}, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"key"}


def test_a_key_signed_for_something_else_is_refused(anon_client):
    user = UserFactory()
    # A valid signature with another salt (an unsubscribe token, say) verifies nothing.
    other = signing.TimestampSigner(salt="notifications.unsubscribe").sign_object(
        {"u": user.pk, "e": user.email}
    )
    assert anon_client.post(VERIFY, {"key": other}, format="json").status_code == 400
    user.refresh_from_db()
    assert not user.email_verified


def test_a_key_expires_after_seven_days(anon_client):
    user = UserFactory()
    key = services.verification_key(user=user)
    later = signing.time.time() + timedelta(days=7, seconds=5).total_seconds()
    with mock.patch("django.core.signing.time.time", return_value=later):
        response = anon_client.post(VERIFY, {"key": key}, format="json")
    assert response.status_code == 400
    assert "expired" in response.json()["key"][0]
    assert anon_client.post(VERIFY, {"key": key}, format="json").status_code == 204


def test_changing_the_email_unverifies_it_mails_the_new_address_and_kills_the_old_key(
    django_capture_on_commit_callbacks, mailoutbox
):
    user = UserFactory(email="old@example.com", email_verified=False)
    old_key = services.verification_key(user=user)
    client = client_for(user)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.patch(ME, {"email": "new@example.com"}, format="json")

    assert response.status_code == 200 and response.json()["email_verified"] is False
    assert [mail.to for mail in mailoutbox] == [["new@example.com"]]
    assert client.post(VERIFY, {"key": old_key}, format="json").status_code == 400
    assert client.post(VERIFY, {"key": key_in(mailoutbox[0])}, format="json").status_code == 204


def test_a_verified_address_changed_is_unverified_but_a_change_of_case_is_not(
    django_capture_on_commit_callbacks, mailoutbox
):
    user = UserFactory(email="alice@example.com", email_verified=True)
    client = client_for(user)

    with django_capture_on_commit_callbacks(execute=True):
        same = client.patch(ME, {"email": "Alice@example.com"}, format="json")
    assert same.json()["email_verified"] is True and mailoutbox == []

    with django_capture_on_commit_callbacks(execute=True):
        changed = client.patch(ME, {"email": "alice@elsewhere.example"}, format="json")
    assert changed.json()["email_verified"] is False
    assert len(mailoutbox) == 1


def test_email_verified_cannot_be_set_through_the_profile(django_capture_on_commit_callbacks):
    user = UserFactory()
    response = client_for(user).patch(ME, {"email_verified": True}, format="json")
    assert response.status_code == 200 and response.json()["email_verified"] is False


def test_resend_mails_the_link_again_and_is_throttled_per_account(
    settings, django_capture_on_commit_callbacks, mailoutbox
):
    settings.EMAIL_THROTTLE_RATE = "2/hour"
    user = UserFactory()
    client = client_for(user)

    with django_capture_on_commit_callbacks(execute=True):
        statuses = [client.post(RESEND).status_code for _ in range(3)]

    assert statuses == [204, 204, 429]
    assert len(mailoutbox) == 2
    assert client.post(VERIFY, {"key": key_in(mailoutbox[-1])}, format="json").status_code == 204


def test_resend_sends_nothing_for_a_verified_address_and_needs_a_login(
    anon_client, django_capture_on_commit_callbacks, mailoutbox
):
    user = UserFactory(email_verified=True)
    with django_capture_on_commit_callbacks(execute=True):
        assert client_for(user).post(RESEND).status_code == 204
    assert mailoutbox == []
    assert anon_client.post(RESEND).status_code == 401


def test_notification_choices_are_on_the_private_profile_and_patchable():
    user = UserFactory()
    client = client_for(user)
    assert client.get(ME).json()["notify_comments"] is True

    response = client.patch(ME, {"notify_comments": False, "notify_followed_posts": False}, format="json")

    assert response.status_code == 200
    user.refresh_from_db()
    assert not user.notify_comments and not user.notify_followed_posts
    assert client.patch(ME, {"notify_comments": "maybe"}, format="json").status_code == 400


def test_accounts_that_existed_before_verification_count_as_verified_and_new_ones_do_not(transactional_db):
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    before, after = (
        [("accounts", "0005_user_avatar")],
        [("accounts", "0006_email_verified_and_notifications")],
    )
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    try:
        old_user = executor.loader.project_state(before).apps.get_model("accounts", "User")
        existing = old_user.objects.create(username="old-timer", email="old@example.com", password="!")
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(after)

    assert User.objects.get(pk=existing.pk).email_verified is True
    assert UserFactory().email_verified is False


def test_the_user_admin_shows_and_edits_verification_and_mail_choices(client):
    admin = UserFactory(username="boss", is_staff=True, is_superuser=True, email_verified=True)
    user = UserFactory(username="someone", email_verified=False)
    client.force_login(admin)

    listing = client.get("/admin/accounts/user/", {"email_verified__exact": "0"}).content.decode()
    change = client.get(f"/admin/accounts/user/{user.pk}/change/").content.decode()

    assert "someone" in listing and "boss" not in listing.split("result_list", 1)[1]
    for field in ("email_verified", "notify_comments", "notify_followed_posts"):
        assert f'name="{field}"' in change
