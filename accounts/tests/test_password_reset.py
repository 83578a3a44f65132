"""Password reset by mail over the API: no account enumeration, a link that works once and
expires, password validators, refresh tokens revoked, throttles per address and per email."""

import re

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.models import User
from accounts.tests.factories import PASSWORD, UserFactory
from outbox.models import Message

RESET = "/api/v1/auth/password-reset/"
CONFIRM = "/api/v1/auth/password-reset/confirm/"
REFRESH = "/api/v1/auth/token/refresh/"
NEW_PASSWORD = "a-brand-new-password-77"
LINK = re.compile(r"(https?://[^/\s]+)/reset/([^/\s]+)/([^/\s]+)/")

pytestmark = pytest.mark.django_db


def ask(client, email, capture):
    with capture(execute=True):
        return client.post(RESET, {"email": email}, format="json")


def link_in(message) -> tuple[str, str, str]:
    match = LINK.search(message.body)
    assert match, message.body
    assert match.group(0) in message.alternatives[0].content  # the HTML part has it too
    return match.group(1), match.group(2), match.group(3)


def confirm(client, uid, token, password=NEW_PASSWORD):
    return client.post(CONFIRM, {"uid": uid, "token": token, "new_password": password}, format="json")


def test_a_known_and_an_unknown_address_get_the_same_answer_and_only_the_known_one_gets_mail(
    anon_client, django_capture_on_commit_callbacks, mailoutbox
):
    UserFactory(username="known", email="known@example.com")

    known = ask(anon_client, "known@example.com", django_capture_on_commit_callbacks)
    unknown = ask(anon_client, "nobody@example.com", django_capture_on_commit_callbacks)

    assert known.status_code == unknown.status_code == 204
    assert known.content == unknown.content == b""
    assert dict(known.headers).keys() == dict(unknown.headers).keys()
    assert [mail.to for mail in mailoutbox] == [["known@example.com"]]
    # The same work on both paths: a mail rendered and stored in the outbox.
    assert Message.objects.filter(topic="email").count() == 2


def test_both_paths_run_the_same_queries(anon_client, django_capture_on_commit_callbacks):
    UserFactory(username="known", email="known@example.com")
    counts = []
    for email in ("known@example.com", "nobody@example.com"):
        with CaptureQueriesContext(connection) as queries:
            anon_client.post(RESET, {"email": email}, format="json")
        counts.append([query["sql"].split()[0] for query in queries.captured_queries])
    assert counts[0] == counts[1]


def test_the_mail_goes_to_the_stored_address_with_an_absolute_link(
    anon_client, django_capture_on_commit_callbacks, mailoutbox, settings
):
    settings.MAIL_SITE_URL = "https://blog.example.com"
    UserFactory(username="alice", email="Alice@example.com")

    ask(anon_client, "ALICE@EXAMPLE.COM", django_capture_on_commit_callbacks)

    (mail,) = mailoutbox
    assert mail.to == ["Alice@example.com"]
    origin, _, _ = link_in(mail)
    assert origin == "https://blog.example.com"
    assert "alice" in mail.body and "1 hour" in mail.body


def test_the_link_sets_a_new_password_once_and_kills_every_refresh_token(
    anon_client, django_capture_on_commit_callbacks, mailoutbox
):
    user = UserFactory(username="alice", email="alice@example.com")
    refresh = str(RefreshToken.for_user(user))
    ask(anon_client, "alice@example.com", django_capture_on_commit_callbacks)
    _, uid, token = link_in(mailoutbox[0])

    first = confirm(anon_client, uid, token)
    again = confirm(anon_client, uid, token, password="yet-another-password-88")

    assert first.status_code == 204
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert anon_client.post(REFRESH, {"refresh": refresh}, format="json").status_code == 401
    assert again.status_code == 400
    assert set(again.json()) == {"token"}
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)


def test_the_link_dies_after_the_reset_timeout(anon_client, settings):
    settings.PASSWORD_RESET_TIMEOUT = 3600
    user = UserFactory()
    generator = default_token_generator
    issued = generator._num_seconds(generator._now()) - 3601
    old_token = generator._make_token_with_timestamp(user, issued, generator.secret)
    uid = urlsafe_base64_encode(force_bytes(user.pk))

    response = confirm(anon_client, uid, old_token)

    assert response.status_code == 400
    assert set(response.json()) == {"token"}
    user.refresh_from_db()
    assert user.check_password(PASSWORD)
    fresh = generator._make_token_with_timestamp(user, issued + 2, generator.secret)  # 3599 s old: still good
    assert confirm(anon_client, uid, fresh).status_code == 204


def test_a_weak_password_is_refused_naming_new_password_and_the_link_still_works(anon_client):
    user = UserFactory(username="alice")
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)

    weak = confirm(anon_client, uid, token, password="alice")
    numeric = confirm(anon_client, uid, token, password="12345678901")

    assert weak.status_code == numeric.status_code == 400
    assert set(weak.json()) == {"new_password"}
    assert confirm(anon_client, uid, token).status_code == 204


@pytest.mark.parametrize(
    ("uid", "token"),
    [
        ("", ""),
        ("!!!", "abc-def"),
        ("MQ", "not-a-token"),
        (urlsafe_base64_encode(b"99999999999999999999999"), "abc-def"),
        (urlsafe_base64_encode(b"-1"), "abc-def"),
        (urlsafe_base64_encode(b"\xff\xfe"), "abc-def"),
        ("x" * 64, "y" * 100),
    ],
)
def test_a_bad_uid_or_token_is_a_400_never_a_500(anon_client, uid, token):
    UserFactory()
    response = confirm(anon_client, uid, token)
    assert response.status_code == 400
    assert set(response.json()) <= {"uid", "token"}


def test_bodies_that_are_not_an_email_are_400(anon_client):
    for body in ({}, {"email": "not-an-address"}, {"email": ["a@example.com"]}, {"email": None}):
        assert anon_client.post(RESET, body, format="json").status_code == 400
    assert anon_client.post(RESET, "[1]", content_type="application/json").status_code == 400


def test_an_inactive_account_gets_no_mail(anon_client, django_capture_on_commit_callbacks, mailoutbox):
    UserFactory(email="gone@example.com", is_active=False)
    assert ask(anon_client, "gone@example.com", django_capture_on_commit_callbacks).status_code == 204
    assert mailoutbox == []


def test_completing_a_reset_verifies_the_address(anon_client):
    user = UserFactory(email_verified=False)
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    assert confirm(anon_client, uid, default_token_generator.make_token(user)).status_code == 204
    user.refresh_from_db()
    assert user.email_verified


def test_requests_for_one_email_are_throttled_whoever_asks_and_whether_or_not_it_has_an_account(
    settings, django_capture_on_commit_callbacks, mailoutbox
):
    from rest_framework.test import APIClient

    settings.EMAIL_THROTTLE_RATE = "2/hour"
    UserFactory(email="alice@example.com")
    clients = [APIClient(REMOTE_ADDR=f"10.0.0.{n}") for n in range(4)]

    answers = [
        ask(client, email, django_capture_on_commit_callbacks)
        for client, email in zip(
            clients,
            ["alice@example.com", "ALICE@example.com", "alice@example.com", "bob@example.com"],
            strict=True,
        )
    ]
    unknown = [ask(clients[0], "nobody@example.com", django_capture_on_commit_callbacks) for _ in range(3)]

    assert [a.status_code for a in answers] == [204, 204, 429, 204]
    assert "Retry-After" in answers[2]
    assert [a.status_code for a in unknown] == [204, 204, 429]
    assert len(mailoutbox) == 2


def test_requests_from_one_client_address_are_throttled(settings, anon_client):
    settings.AUTH_THROTTLE_RATE = "3/minute"
    statuses = [
        anon_client.post(RESET, {"email": f"user{n}@example.com"}, format="json").status_code
        for n in range(4)
    ]
    assert statuses == [204, 204, 204, 429]


def test_no_mail_is_sent_before_the_request_commits(anon_client, mailoutbox):
    # Without the commit (the test's transaction never commits), nothing is sent at all.
    UserFactory(email="alice@example.com")
    assert anon_client.post(RESET, {"email": "alice@example.com"}, format="json").status_code == 204
    assert mailoutbox == []
    assert User.objects.count() == 1
