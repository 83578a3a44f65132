"""Handlers by topic, and what a handler may raise to steer its retries."""

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from outbox.models import Message

Handler = Callable[["Message"], None]

_handlers: dict[str, Handler] = {}


class Retry(Exception):
    """Try again later: after ``delay`` seconds, or the default backoff when None."""

    def __init__(self, reason: str = "", *, delay: float | None = None) -> None:
        super().__init__(reason)
        self.delay = delay


class GiveUp(Exception):
    """Stop trying: the message is recorded as failed, with the reason."""


def handler(topic: str) -> Callable[[Handler], Handler]:
    """Register the function that carries out messages of ``topic``. It runs in the
    worker, outside any transaction, and may run more than once for one message (at least
    once): it must be idempotent or tolerate a repeat. Returning is success; ``Retry``,
    ``GiveUp`` or any other exception (retried with backoff) is not."""

    def register(function: Handler) -> Handler:
        if _handlers.get(topic, function) is not function:
            raise RuntimeError(f"two handlers for outbox topic {topic!r}")
        _handlers[topic] = function
        return function

    return register


def handler_for(topic: str) -> Handler | None:
    return _handlers.get(topic)
