"""The outbox's promises: nothing for a rolled-back write, at least once for a committed
one, retries with backoff, and a sweep that recovers lost tasks."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from outbox import services
from outbox.models import Message
from outbox.registry import GiveUp, Retry, handler

pytestmark = pytest.mark.django_db

calls: list[dict] = []
behaviour: dict[str, object] = {}


@handler("test.echo")
def echo(message: Message) -> None:
    calls.append(message.payload)
    outcome = behaviour.get("outcome")
    if isinstance(outcome, Exception):
        raise outcome


@pytest.fixture(autouse=True)
def _reset():
    calls.clear()
    behaviour.clear()


def test_a_committed_write_has_its_message_carried_out_after_commit(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        services.enqueue(topic="test.echo", payload={"n": 1})
        assert calls == []  # not before the commit
    assert calls == [{"n": 1}]
    message = Message.objects.get()
    assert message.state == "delivered" and message.attempts == 1


def test_a_rolled_back_write_leaves_no_message_and_sends_nothing(django_capture_on_commit_callbacks):
    def failing_write() -> None:
        with transaction.atomic():
            services.enqueue(topic="test.echo", payload={"n": 1})
            raise RuntimeError("the write failed")

    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(RuntimeError):
        failing_write()
    assert callbacks == []
    assert calls == []
    assert not Message.objects.exists()


def test_a_failing_handler_is_retried_later_with_a_growing_delay(django_capture_on_commit_callbacks):
    behaviour["outcome"] = ConnectionRefusedError("mail server down")
    with django_capture_on_commit_callbacks(execute=True):
        message = services.enqueue(topic="test.echo", payload={})
    message.refresh_from_db()
    assert message.state == "pending" and message.attempts == 1
    assert "mail server down" in message.last_error
    first_wait = message.available_at - timezone.now()
    assert timedelta(seconds=20) < first_wait <= timedelta(seconds=30)

    # Not due yet: a second task does nothing.
    assert services.deliver(message_id=message.pk) == "skipped"
    Message.objects.filter(pk=message.pk).update(available_at=timezone.now())
    assert services.deliver(message_id=message.pk) == "retry"
    message.refresh_from_db()
    assert message.available_at - timezone.now() > first_wait + timedelta(seconds=20)

    behaviour.clear()
    Message.objects.filter(pk=message.pk).update(available_at=timezone.now())
    assert services.deliver(message_id=message.pk) == "delivered"
    message.refresh_from_db()
    assert message.state == "delivered" and message.attempts == 3 and message.last_error == ""


def test_a_handler_may_choose_its_delay_or_give_up(django_capture_on_commit_callbacks):
    behaviour["outcome"] = Retry("busy", delay=600)
    with django_capture_on_commit_callbacks(execute=True):
        message = services.enqueue(topic="test.echo", payload={})
    message.refresh_from_db()
    assert timedelta(seconds=590) < message.available_at - timezone.now() <= timedelta(seconds=600)

    behaviour["outcome"] = GiveUp("410 Gone")
    Message.objects.filter(pk=message.pk).update(available_at=timezone.now())
    assert services.deliver(message_id=message.pk) == "failed"
    message.refresh_from_db()
    assert message.state == "failed" and message.last_error == "410 Gone"
    assert services.deliver(message_id=message.pk) == "skipped"


def test_a_delivered_message_is_not_carried_out_again():
    message = Message.objects.create(topic="test.echo", payload={"n": 2})
    assert services.deliver(message_id=message.pk) == "delivered"
    assert services.deliver(message_id=message.pk) == "skipped"
    assert calls == [{"n": 2}]


def test_a_message_held_by_a_worker_is_not_taken_by_another():
    message = Message.objects.create(
        topic="test.echo", payload={}, claimed_until=timezone.now() + timedelta(minutes=1)
    )
    assert services.deliver(message_id=message.pk) == "skipped"
    # A worker that died lets its lease lapse; then another takes the message.
    Message.objects.filter(pk=message.pk).update(claimed_until=timezone.now() - timedelta(seconds=1))
    assert services.deliver(message_id=message.pk) == "delivered"


def test_the_sweep_sends_again_only_what_is_overdue_and_unheld(settings):
    settings.OUTBOX_SWEEP_AFTER_SECONDS = 60
    long_ago = timezone.now() - timedelta(minutes=5)
    lost = Message.objects.create(topic="test.echo", payload={"lost": True}, available_at=long_ago)
    Message.objects.create(topic="test.echo", payload={"fresh": True})  # its task is on its way
    Message.objects.create(
        topic="test.echo",
        payload={"held": True},
        available_at=long_ago,
        claimed_until=timezone.now() + timedelta(minutes=1),
    )
    Message.objects.create(
        topic="test.echo", payload={"done": True}, available_at=long_ago, delivered_at=long_ago
    )

    assert services.sweep() == 1
    assert calls == [{"lost": True}]
    lost.refresh_from_db()
    assert lost.state == "delivered"


def test_a_message_for_an_unknown_topic_fails_with_the_reason():
    message = Message.objects.create(topic="nobody.handles.this", payload={})
    assert services.deliver(message_id=message.pk) == "failed"
    message.refresh_from_db()
    assert "no handler" in message.last_error


def test_the_webhook_id_of_a_message_is_stable_across_attempts(django_capture_on_commit_callbacks):
    behaviour["outcome"] = ConnectionResetError()
    with django_capture_on_commit_callbacks(execute=True):
        message = services.enqueue(topic="test.echo", payload={})
    before = message.uuid
    behaviour.clear()
    Message.objects.filter(pk=message.pk).update(available_at=timezone.now())
    services.deliver(message_id=message.pk)
    message.refresh_from_db()
    assert message.uuid == before and message.attempts == 2
