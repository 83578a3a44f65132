"""The account pages through Django's test client: forgot my password, the reset link,
verifying an address, settings, and their headers."""

import re

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.test import Client
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from accounts import services
from accounts.models import User
from accounts.tests.factories import PASSWORD, UserFactory
from outbox.models import Message

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a-brand-new-password-77"


def reset_path(user) -> str:
    return f"/reset/{urlsafe_base64_encode(force_bytes(user.pk))}/{default_token_generator.make_token(user)}/"


def page(response) -> str:
    return response.content.decode()


# --- Forgot my password ---------------------------------------------------------------------


def test_the_login_page_links_to_the_password_reset_page(client):
    assert 'href="/password-reset/"' in page(client.get("/login/"))
    assert client.get("/password-reset/").status_code == 200


def test_asking_for_a_reset_shows_the_same_page_for_known_and_unknown_addresses(
    client, django_capture_on_commit_callbacks, mailoutbox
):
    UserFactory(email="known@example.com")

    with django_capture_on_commit_callbacks(execute=True):
        known = client.post("/password-reset/", {"email": "known@example.com"})
        unknown = client.post("/password-reset/", {"email": "other@example.com"})

    assert known.status_code == unknown.status_code == 200
    assert page(known).replace("known@example.com", "X") == page(unknown).replace("other@example.com", "X")
    assert "If an account has the address" in page(known)
    assert [mail.to for mail in mailoutbox] == [["known@example.com"]]
    assert Message.objects.count() == 2


def test_the_reset_page_shares_the_api_throttle_per_email(settings, client):
    settings.EMAIL_THROTTLE_RATE = "1/hour"
    api = client.post(
        "/api/v1/auth/password-reset/", {"email": "a@example.com"}, content_type="application/json"
    )
    assert api.status_code == 204

    response = Client(REMOTE_ADDR="10.1.1.1").post("/password-reset/", {"email": "A@example.com"})

    assert response.status_code == 429
    assert response["Retry-After"]
    assert "Too many requests" in page(response)


def test_an_invalid_address_is_a_400_form(client):
    response = client.post("/password-reset/", {"email": "nope"})
    assert response.status_code == 400
    assert 'aria-invalid="true"' in page(response)


def test_the_reset_link_sets_a_new_password_once_then_asks_to_log_in(client):
    user = UserFactory()
    path = reset_path(user)
    assert "Choose a new password" in page(client.get(path))

    done = client.post(path, {"new_password": NEW_PASSWORD, "new_password_again": NEW_PASSWORD})

    assert done.status_code == 302 and done["Location"] == "/login/"
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert "Your password is changed" in page(client.get("/login/"))
    again = client.get(path)
    assert "not valid" in page(again) and "<form" not in page(again).split("<main", 1)[1]
    assert (
        client.post(
            path, {"new_password": "x-other-password-9", "new_password_again": "x-other-password-9"}
        ).status_code
        == 400
    )


def test_the_reset_form_refuses_mismatched_and_weak_passwords(client):
    user = UserFactory(username="alice")
    path = reset_path(user)

    mismatch = client.post(path, {"new_password": NEW_PASSWORD, "new_password_again": "something-else-1"})
    weak = client.post(path, {"new_password": "alice", "new_password_again": "alice"})

    assert mismatch.status_code == weak.status_code == 400
    assert "The two passwords differ." in page(mismatch)
    assert "too short" in page(weak) or "too similar" in page(weak)
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_a_garbled_reset_link_says_so(client):
    response = client.get("/reset/MQ/not-a-token/")
    assert response.status_code == 200
    assert "not valid" in page(response)
    assert response["Referrer-Policy"] == "no-referrer"


# --- Verifying an address ---------------------------------------------------------------------


def test_the_verification_link_verifies_only_when_its_button_is_pressed(client):
    user = UserFactory(email_verified=False)
    path = f"/verify-email/{services.verification_key(user=user)}/"

    shown = client.get(path)
    user.refresh_from_db()
    assert shown.status_code == 200 and not user.email_verified
    assert '<form method="post"' in page(shown) and "Verify my address" in page(shown)

    done = client.post(path)

    assert done.status_code == 200 and "is verified" in page(done)
    user.refresh_from_db()
    assert user.email_verified
    used = client.post(path)
    assert used.status_code == 400 and "used already" in page(used)


def test_the_verification_button_needs_the_pages_csrf_token(client):
    user = UserFactory(email_verified=False)
    path = f"/verify-email/{services.verification_key(user=user)}/"
    strict = Client(enforce_csrf_checks=True)
    assert strict.post(path).status_code == 403
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page(strict.get(path))).group(1)
    assert strict.post(path, {"csrfmiddlewaretoken": token}).status_code == 200


def test_a_bad_verification_link_says_why(client):
    response = client.post("/verify-email/nonsense/")
    assert response.status_code == 400
    assert "not valid" in page(response)


# --- Settings ---------------------------------------------------------------------------------


@pytest.fixture
def me(client):
    user = UserFactory(username="alice", email="alice@example.com", display_name="Alice", email_verified=True)
    client.force_login(user)
    return user


def test_settings_need_a_login_and_are_linked_from_the_header(client, me):
    assert 'href="/settings/"' in page(client.get("/"))
    response = client.get("/settings/")
    assert response.status_code == 200
    assert 'value="Alice"' in page(response) and "alice@example.com is verified" in page(response)
    assert Client().get("/settings/").status_code == 302


def test_saving_the_profile(client, me):
    response = client.post(
        "/settings/", {"action": "profile", "display_name": "Alice B.", "bio": "Hi.", "email": me.email}
    )
    assert response.status_code == 302
    me.refresh_from_db()
    assert (me.display_name, me.bio, me.email_verified) == ("Alice B.", "Hi.", True)
    assert "Your profile is saved." in page(client.get("/settings/"))


def test_a_new_email_on_the_settings_page_is_unverified_and_gets_a_link(
    client, me, django_capture_on_commit_callbacks, mailoutbox
):
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            "/settings/",
            {"action": "profile", "display_name": "Alice", "bio": "", "email": "new@example.com"},
        )

    me.refresh_from_db()
    assert me.email == "new@example.com" and not me.email_verified
    assert [mail.to for mail in mailoutbox] == [["new@example.com"]]
    html = page(client.get("/settings/"))
    assert "not verified yet" in html and "Send the verification link again" in html


def test_an_email_another_account_has_is_refused(client, me):
    UserFactory(email="taken@example.com")
    response = client.post(
        "/settings/", {"action": "profile", "display_name": "A", "bio": "", "email": "TAKEN@example.com"}
    )
    assert response.status_code == 400
    assert "already exists" in page(response)
    me.refresh_from_db()
    assert me.email == "alice@example.com"


def test_resending_the_verification_link_from_settings(
    client, django_capture_on_commit_callbacks, mailoutbox
):
    user = UserFactory(email_verified=False)
    client.force_login(user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/settings/", {"action": "resend"})
    assert response.status_code == 302
    assert [mail.to for mail in mailoutbox] == [[user.email]]
    assert "We sent the link" in page(client.get("/settings/"))


def test_changing_the_password_keeps_this_session_and_checks_the_old_one(client, me):
    wrong = client.post(
        "/settings/",
        {
            "action": "password",
            "old_password": "nope",
            "new_password": NEW_PASSWORD,
            "new_password_again": NEW_PASSWORD,
        },
    )
    assert wrong.status_code == 400 and "not correct" in page(wrong)

    done = client.post(
        "/settings/",
        {
            "action": "password",
            "old_password": PASSWORD,
            "new_password": NEW_PASSWORD,
            "new_password_again": NEW_PASSWORD,
        },
    )

    assert done.status_code == 302
    me.refresh_from_db()
    assert me.check_password(NEW_PASSWORD)
    assert client.get("/settings/").status_code == 200  # still logged in here


def test_turning_notifications_off_and_on(client, me):
    assert (
        client.post("/settings/", {"action": "notifications", "notify_followed_posts": "on"}).status_code
        == 302
    )
    me.refresh_from_db()
    assert (me.notify_comments, me.notify_followed_posts) == (False, True)
    html = page(client.get("/settings/"))
    assert re.search(r'<input type="checkbox" name="notify_followed_posts"[^>]*checked', html)
    assert not re.search(r'<input type="checkbox" name="notify_comments"[^>]*checked', html)


def test_an_unknown_settings_action_is_a_400(client, me):
    assert client.post("/settings/", {"action": "explode"}).status_code == 400
    assert User.objects.get(pk=me.pk).display_name == "Alice"


# --- Headers ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/settings/", "/password-reset/", "/reset/MQ/x-y/", "/verify-email/k/", "/unsubscribe/t/"]
)
def test_account_pages_have_the_security_headers_and_no_inline_script(client, me, path):
    response = client.get(path)
    csp = response["Content-Security-Policy"]
    script_src = re.search(r"script-src ([^;]*)", csp).group(1)
    assert "unsafe-inline" not in script_src
    assert response["X-Frame-Options"] == "DENY"
    html = page(response)
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)
    assert not re.search(r"\son[a-z]+=", html)
    assert 'name="robots" content="noindex"' in html
