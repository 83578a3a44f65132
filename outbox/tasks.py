"""The worker's entry points. Messages carry their own state (outbox/models.py): a task
is safe to run twice, or after its message was already delivered."""

from celery import shared_task

from outbox import services


@shared_task(acks_late=True, ignore_result=True)
def deliver(message_id: int) -> str:
    return services.deliver(message_id=message_id)


@shared_task(acks_late=True, ignore_result=True)
def sweep() -> int:
    return services.sweep()
