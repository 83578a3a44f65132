"""Request ids: one per request, taken from the proxy or made here, logged and echoed back.

nginx sets ``X-Request-ID`` (its ``$request_id`` unless the client sent one); without a
proxy the app makes one. Every log line written while the request runs carries it (see
``config.logging.RequestIdFilter``), and the response echoes it so a user can quote it.
"""

import re
import uuid
from collections.abc import Callable
from contextvars import ContextVar

from django.http import HttpRequest, HttpResponse

REQUEST_ID_HEADER = "X-Request-ID"
# Anything else (overlong, spaces, quotes, newlines) could forge or break log lines: replace it.
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")

_current_request_id: ContextVar[str | None] = ContextVar("request_id", default=None)


def get_request_id() -> str | None:
    """The id of the request being handled by this thread, or None outside a request."""
    return _current_request_id.get()


def clean_request_id(value: str | None) -> str:
    """The incoming id when it is safe to log, else a fresh one."""
    if value and _VALID_REQUEST_ID.match(value):
        return value
    return uuid.uuid4().hex


class RequestIdMiddleware:
    """Bind the request id for logging and echo it in the ``X-Request-ID`` response header.

    Placed first in MIDDLEWARE so that even responses made by later middleware (413, JSON
    errors) carry the id.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = clean_request_id(request.headers.get(REQUEST_ID_HEADER))
        request.request_id = request_id
        token = _current_request_id.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            _current_request_id.reset(token)
        response[REQUEST_ID_HEADER] = request_id
        return response
