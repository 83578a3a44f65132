"""Sending through the outbox: a mail server that is down delays mail and loses none; one
that refuses a mailbox for good is not asked again; a batch that stops part-way mails
nobody twice."""

import smtplib
from datetime import timedelta

import pytest
from django.core import mail as django_mail
from django.core.mail.backends.locmem import EmailBackend
from django.utils import timezone

from notifications import mail, services
from notifications.tests.factories import followers_of
from outbox import services as outbox
from outbox.models import Message
from posts.tests.factories import PostFactory

pytestmark = pytest.mark.django_db

BACKEND = f"{__name__}.FlakyBackend"


class FlakyBackend(EmailBackend):
    """The test mail server: refuses what ``failures`` says, delivers the rest to the outbox."""

    failures: dict[str, Exception] = {}
    down = False

    def open(self) -> bool:
        if FlakyBackend.down:
            raise ConnectionRefusedError("mail server down")
        return super().open()

    def send_messages(self, messages) -> int:
        if FlakyBackend.down:
            raise smtplib.SMTPServerDisconnected("mail server down")
        for message in messages:
            for address in message.to:
                if address in FlakyBackend.failures:
                    raise FlakyBackend.failures[address]
        return super().send_messages(messages)


@pytest.fixture(autouse=True)
def flaky(settings):
    settings.EMAIL_BACKEND = BACKEND
    FlakyBackend.failures = {}
    FlakyBackend.down = False
    yield FlakyBackend
    FlakyBackend.failures = {}
    FlakyBackend.down = False


def due_now(message: Message) -> None:
    Message.objects.filter(pk=message.pk).update(available_at=timezone.now())


def test_a_mail_server_that_is_down_delays_the_mail_with_backoff_and_loses_none(
    flaky, django_capture_on_commit_callbacks
):
    flaky.down = True
    with django_capture_on_commit_callbacks(execute=True):
        message = mail.send(
            template="verify_email", to=["a@example.com"], context={"verify_url": "https://x/"}
        )

    message.refresh_from_db()
    assert message.state == "pending" and message.attempts == 1
    assert "mail server down" in message.last_error
    assert message.available_at > timezone.now() + timedelta(seconds=20)
    assert django_mail.outbox == []

    flaky.down = False
    due_now(message)
    assert outbox.deliver(message_id=message.pk) == "delivered"
    assert [m.to for m in django_mail.outbox] == [["a@example.com"]]


def test_a_repeat_carries_the_same_message_id(flaky):
    message = Message.objects.create(
        topic=mail.EMAIL_TOPIC,
        payload=mail.render(
            template="verify_email", to=["a@example.com"], context={"verify_url": "https://x/"}
        ),
    )
    outbox.deliver(message_id=message.pk)
    # A worker that died after sending but before recording it: the message runs again.
    Message.objects.filter(pk=message.pk).update(delivered_at=None)
    outbox.deliver(message_id=message.pk)

    first, second = django_mail.outbox
    assert first.extra_headers["Message-ID"] == second.extra_headers["Message-ID"]
    assert str(message.uuid) in first.extra_headers["Message-ID"]
    assert first.extra_headers["Auto-Submitted"] == "auto-generated"


def test_a_mailbox_refused_for_good_is_given_up(flaky):
    flaky.failures = {
        "nobody@example.com": smtplib.SMTPRecipientsRefused({"nobody@example.com": (550, b"no")})
    }
    message = Message.objects.create(
        topic=mail.EMAIL_TOPIC,
        payload=mail.render(template="verify_email", to=["nobody@example.com"], context={}),
    )
    assert outbox.deliver(message_id=message.pk) == "failed"
    message.refresh_from_db()
    assert "refused" in message.last_error


def test_a_mailbox_refused_for_now_is_tried_again(flaky):
    flaky.failures = {
        "busy@example.com": smtplib.SMTPRecipientsRefused({"busy@example.com": (451, b"later")})
    }
    message = Message.objects.create(
        topic=mail.EMAIL_TOPIC,
        payload=mail.render(template="verify_email", to=["busy@example.com"], context={}),
    )
    assert outbox.deliver(message_id=message.pk) == "retry"


def test_a_message_for_nobody_sends_nothing_and_is_done(flaky):
    message = Message.objects.create(
        topic=mail.EMAIL_TOPIC, payload=mail.render(template="verify_email", to=[], context={})
    )
    assert outbox.deliver(message_id=message.pk) == "delivered"
    assert django_mail.outbox == []


def test_a_batch_that_stops_part_way_sends_the_rest_later_and_nobody_twice(author, flaky):
    followers = followers_of(author, 5)
    post = PostFactory(author=author)
    batch = Message.objects.create(
        topic=services.NEW_POST_TOPIC, payload={"post_id": post.pk, "user_ids": [u.pk for u in followers]}
    )
    flaky.failures = {followers[2].email: smtplib.SMTPServerDisconnected("connection lost")}

    assert outbox.deliver(message_id=batch.pk) == "delivered"
    assert [m.to[0] for m in django_mail.outbox] == [followers[0].email, followers[1].email]
    (rest,) = Message.objects.filter(topic=services.NEW_POST_TOPIC).exclude(pk=batch.pk)
    assert rest.payload["user_ids"] == [u.pk for u in followers[2:]]
    assert rest.available_at > timezone.now()

    flaky.failures = {}
    due_now(rest)
    assert outbox.deliver(message_id=rest.pk) == "delivered"
    assert sorted(m.to[0] for m in django_mail.outbox) == sorted(u.email for u in followers)


def test_a_batch_whose_server_is_down_is_retried_whole_with_backoff(author, flaky):
    followers = followers_of(author, 3)
    batch = Message.objects.create(
        topic=services.NEW_POST_TOPIC,
        payload={"post_id": PostFactory(author=author).pk, "user_ids": [u.pk for u in followers]},
    )
    flaky.down = True

    assert outbox.deliver(message_id=batch.pk) == "retry"
    assert Message.objects.filter(topic=services.NEW_POST_TOPIC).count() == 1

    flaky.down = False
    due_now(batch)
    assert outbox.deliver(message_id=batch.pk) == "delivered"
    assert len(django_mail.outbox) == 3


def test_a_follower_refused_for_good_does_not_stop_the_batch(author, flaky):
    followers = followers_of(author, 3)
    flaky.failures = {followers[0].email: smtplib.SMTPRecipientsRefused({followers[0].email: (550, b"no")})}
    batch = Message.objects.create(
        topic=services.NEW_POST_TOPIC,
        payload={"post_id": PostFactory(author=author).pk, "user_ids": [u.pk for u in followers]},
    )
    assert outbox.deliver(message_id=batch.pk) == "delivered"
    assert [m.to[0] for m in django_mail.outbox] == [followers[1].email, followers[2].email]
