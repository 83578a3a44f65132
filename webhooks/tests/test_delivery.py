"""Delivering to a real receiver on 127.0.0.1: signatures any Standard Webhooks library
verifies, retries on the configured schedule with one webhook-id, 410 Gone, no redirects,
the timeout, and the delivery log."""

import json
import time
from datetime import timedelta

import pytest
from django.utils import timezone
from standardwebhooks.webhooks import Webhook as Verifier

from outbox.models import Message
from posts import services as posts
from webhooks import services
from webhooks.models import Delivery, Webhook
from webhooks.tests.conftest import Reply, deliver_again, webhook_messages
from webhooks.tests.factories import WebhookFactory

pytestmark = pytest.mark.django_db


def ping(webhook: Webhook, capture) -> Message:
    with capture(execute=True):
        message = services.ping(webhook=webhook)
    message.refresh_from_db()
    return message


def test_every_request_verifies_with_the_standard_webhooks_library(
    hook, receiver, author, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        post = posts.create_post(author=author, title="Hello", body="*Hi*", status="published")
        posts.add_comment(post=post, author=author, body="First!")

    assert receiver.events() == ["post.added", "post.published", "comment.added"]
    for request in receiver.requests:
        assert request.headers["Content-Type"] == "application/json"
        document = Verifier(hook.secret).verify(request.body, request.headers)
        assert set(document) == {"event", "created_at", "data"}
        assert request.headers["webhook-id"].startswith("msg_")
        assert abs(int(request.headers["webhook-timestamp"]) - time.time()) < 60
    assert len({request.headers["webhook-id"] for request in receiver.requests}) == 3


def test_a_tampered_body_or_another_secret_does_not_verify(
    hook, receiver, django_capture_on_commit_callbacks
):
    ping(hook, django_capture_on_commit_callbacks)
    request = receiver.requests[0]
    with pytest.raises(Exception, match="signature"):
        Verifier(hook.secret).verify(request.body.replace(b"ping", b"pong"), request.headers)
    with pytest.raises(Exception, match="signature"):
        Verifier(WebhookFactory().secret).verify(request.body, request.headers)


def test_a_receiver_failing_twice_gets_the_event_three_times_with_one_webhook_id(
    hook, receiver, django_capture_on_commit_callbacks
):
    receiver.script = [Reply(500), Reply(500, body=b"still down")]
    message = ping(hook, django_capture_on_commit_callbacks)
    assert message.state == "pending" and message.attempts == 1
    # The first retry waits the first configured delay (60 s by default).
    assert timedelta(seconds=50) < message.available_at - timezone.now() <= timedelta(seconds=60)

    assert deliver_again(message) == "retry"
    message.refresh_from_db()
    assert timedelta(seconds=290) < message.available_at - timezone.now() <= timedelta(seconds=300)
    assert deliver_again(message) == "delivered"

    assert len(receiver.requests) == 3
    assert {request.headers["webhook-id"] for request in receiver.requests} == {f"msg_{message.uuid.hex}"}
    assert len({request.body for request in receiver.requests}) == 1  # the same bytes every time
    for request in receiver.requests:
        Verifier(hook.secret).verify(request.body, request.headers)

    log = list(Delivery.objects.order_by("attempt"))
    assert [(row.attempt, row.status_code) for row in log] == [(1, 500), (2, 500), (3, 200)]
    assert log[0].error == "HTTP 500" and log[1].response_body == "still down" and log[2].error == ""
    assert all(row.message_uuid == message.uuid and row.event == "ping" for row in log)


def test_after_the_last_delay_the_delivery_is_given_up_and_recorded(
    settings, hook, receiver, django_capture_on_commit_callbacks
):
    settings.WEBHOOK_RETRY_DELAYS = [5.0, 10.0]
    receiver.script = [Reply(503)] * 3
    message = ping(hook, django_capture_on_commit_callbacks)
    assert deliver_again(message) == "retry"
    assert deliver_again(message) == "failed"
    message.refresh_from_db()
    assert message.state == "failed" and "gave up after 3 attempts" in message.last_error
    last = Delivery.objects.order_by("-attempt").first()
    assert last.attempt == 3 and "gave up" in last.error
    assert Webhook.objects.get().is_active  # a failing receiver is not switched off


def test_410_gone_deactivates_the_webhook(hook, receiver, author, django_capture_on_commit_callbacks):
    receiver.script = [Reply(410)]
    message = ping(hook, django_capture_on_commit_callbacks)
    assert message.state == "failed"
    hook.refresh_from_db()
    assert not hook.is_active
    assert Delivery.objects.get().status_code == 410

    with django_capture_on_commit_callbacks(execute=True):
        posts.create_post(author=author, title="After", body="x", status="published")
    assert len(receiver.requests) == 1  # nothing more for it


def test_a_redirect_is_not_followed_and_counts_as_a_failure(
    hook, receiver, django_capture_on_commit_callbacks
):
    receiver.script = [Reply(302, headers={"Location": f"http://127.0.0.1:{receiver.port}/elsewhere"})]
    message = ping(hook, django_capture_on_commit_callbacks)
    assert [request.path for request in receiver.requests] == ["/hook"]
    assert message.state == "pending"  # retried later
    delivery = Delivery.objects.get()
    assert delivery.status_code == 302 and "redirect" in delivery.error


def test_a_slow_receiver_times_out_and_is_recorded_as_a_failure(
    settings, hook, receiver, django_capture_on_commit_callbacks
):
    settings.WEBHOOK_TIMEOUT = 0.3
    receiver.script = [Reply(200, delay=2.0)]
    started = time.monotonic()
    message = ping(hook, django_capture_on_commit_callbacks)
    assert time.monotonic() - started < 1.5
    assert message.state == "pending"
    delivery = Delivery.objects.get()
    assert delivery.status_code is None and "timed out" in delivery.error
    assert 250 <= delivery.duration_ms < 1500


def test_an_unreachable_receiver_is_a_recorded_failure(settings, django_capture_on_commit_callbacks):
    from webhooks.tests.conftest import Receiver

    with Receiver() as gone:
        url = gone.url
    hook = WebhookFactory(target_url=url)  # nothing listens there any more
    message = ping(hook, django_capture_on_commit_callbacks)
    assert message.state == "pending"
    delivery = Delivery.objects.get()
    assert delivery.status_code is None and "connect" in delivery.error


def test_only_the_first_kilobyte_of_an_answer_is_kept(hook, receiver, django_capture_on_commit_callbacks):
    receiver.script = [Reply(200, body=b"x" * 100_000)]
    ping(hook, django_capture_on_commit_callbacks)
    assert Delivery.objects.get().response_body == "x" * 1024


def test_deliveries_to_a_webhook_deleted_or_deactivated_meanwhile_give_up_quietly(
    hook, receiver, author, django_capture_on_commit_callbacks
):
    posts.create_post(author=author, title="Queued", body="x")  # its message waits
    queued = webhook_messages()
    Webhook.objects.filter(pk=hook.pk).update(is_active=False)
    for message in queued:
        assert deliver_again(message) == "failed"
    assert receiver.requests == [] and not Delivery.objects.exists()


def test_the_body_is_rendered_once_when_the_event_happens(
    hook, receiver, author, django_capture_on_commit_callbacks
):
    post = posts.create_post(author=author, title="Original title", body="x")
    message = webhook_messages()[0]
    posts.update_post(post=post, title="Changed before delivery")
    assert deliver_again(message) == "delivered"
    document = json.loads(receiver.requests[0].body)
    assert document["event"] == "post.added" and document["data"]["title"] == "Original title"


def test_delivery_happens_after_commit_not_during_the_write(
    hook, receiver, author, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        posts.create_post(author=author, title="Later", body="x")
        assert receiver.requests == []
    assert callbacks  # published once the transaction commits
