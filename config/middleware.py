"""Project-wide middleware: request size limits, NUL characters and JSON errors under /api/."""

import logging
from collections.abc import Callable

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.template import loader

logger = logging.getLogger("django.request")

API_PREFIX = "/api/"


def is_api_request(request: HttpRequest) -> bool:
    return request.path.startswith(API_PREFIX)


class RequestBodyLimitMiddleware:
    """Refuse oversized bodies by their Content-Length, before any parser reads them.

    Django only enforces DATA_UPLOAD_MAX_MEMORY_SIZE when ``request.body`` is read; DRF's
    parsers read the stream directly, so the limit is checked here for every request.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        raw_length = request.META.get("CONTENT_LENGTH") or "0"
        try:
            length = int(raw_length)
        except ValueError:
            return JsonResponse({"detail": "Invalid Content-Length header."}, status=400)
        if length < 0:
            return JsonResponse({"detail": "Invalid Content-Length header."}, status=400)
        limit = body_limit(request)
        if limit is not None and length > limit:
            return JsonResponse(
                {"detail": f"Request body too large: the limit is {limit} bytes."}, status=413
            )
        return self.get_response(request)


# An image upload (POST /api/v1/media/) may be as large as an image may be, plus room for
# the multipart envelope (boundaries, part headers, the alt text). Its file part streams
# to Django's upload handlers (a temporary file above FILE_UPLOAD_MAX_MEMORY_SIZE), and
# images.processing reads at most MEDIA_MAX_BYTES of it.
MEDIA_UPLOAD_PATH = "/api/v1/media/"
MULTIPART_ALLOWANCE = 64 * 1024


def body_limit(request: HttpRequest) -> int | None:
    """The largest body ``request`` may have, in bytes (None: no limit)."""
    if request.method == "POST" and request.path == MEDIA_UPLOAD_PATH:
        return settings.MEDIA_MAX_BYTES + MULTIPART_ALLOWANCE
    return settings.DATA_UPLOAD_MAX_MEMORY_SIZE


class NullByteMiddleware:
    """Refuse a NUL character anywhere in the path or the query string with a 400.

    PostgreSQL cannot store or compare text containing NUL, so such a value reaching a
    lookup, a filter or a search would end in a database error (a 500). Bodies are
    checked field by field by the serializers and forms, which reject NUL already.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        query = request.META.get("QUERY_STRING", "")
        if "\x00" in request.path or "%00" in query or "\x00" in query:
            message = "Null characters are not allowed in the URL."
            if is_api_request(request):
                return JsonResponse({"detail": message}, status=400)
            return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")
        return self.get_response(request)


class ApiExceptionMiddleware:
    """Answer unhandled exceptions under /api/ with JSON, even when DEBUG is on, and a
    database that cannot serve now with a 503 everywhere.

    A database that cannot be reached is a 503 (retry later, see ``database_unavailable``),
    anything else a 500 without a traceback; both are logged with the traceback.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not is_api_request(request):
            if database_unavailable(exception):
                # A page too: "try again shortly" is the truth (the statement timeout
                # cancelled a runaway query, or the database is restarting), not a 500.
                logger.error("Database unavailable: %s %s", request.method, request.path, exc_info=exception)
                return database_unavailable_page()
            return None
        if database_unavailable(exception):
            logger.error("Database unavailable: %s %s", request.method, request.path, exc_info=exception)
            return database_unavailable_response()
        logger.error("Internal Server Error: %s", request.path, exc_info=exception)
        return JsonResponse({"detail": "A server error occurred."}, status=500)


# SQLSTATE classes of a server that cannot serve now: connection exception, insufficient
# resources (too many connections, disk full), operator intervention (shutting down,
# starting up, query cancelled), system error. The rest of what psycopg calls an
# OperationalError is a query refused for what it asked (a program limit exceeded, a
# deadlock, a lock not available): retrying it later would fail again, so it is a 500.
_UNAVAILABLE_SQLSTATE_CLASSES = frozenset({"08", "53", "57", "58"})
# SQLite's equivalents: the file is busy, locked, unreadable or full.
_UNAVAILABLE_SQLITE_ERRORS = (
    "SQLITE_BUSY",
    "SQLITE_LOCKED",
    "SQLITE_CANTOPEN",
    "SQLITE_IOERR",
    "SQLITE_FULL",
)


def database_unavailable(exception: BaseException) -> bool:
    """Whether ``exception`` says the database cannot be reached or cannot serve now, so
    that a 503 "retry later" is the truth; any other database error is a bug or input that
    got through (a 500)."""
    if isinstance(exception, InterfaceError):
        return True
    if not isinstance(exception, OperationalError):
        return False
    cause = exception.__cause__
    sqlstate = getattr(cause, "sqlstate", None)  # psycopg: the server's error code
    if sqlstate:
        return sqlstate[:2] in _UNAVAILABLE_SQLSTATE_CLASSES
    sqlite_error = getattr(cause, "sqlite_errorname", None)
    if sqlite_error:
        return sqlite_error.startswith(_UNAVAILABLE_SQLITE_ERRORS)
    # No code from the server: the driver's own (no connection, or it broke).
    return True


DATABASE_UNAVAILABLE = {"detail": "The service is temporarily unavailable."}
DATABASE_RETRY_AFTER = "5"  # seconds: about how long a PostgreSQL restart takes


def database_unavailable_page() -> HttpResponse:
    # Rendered without a request context: its processors would query the database.
    page = loader.render_to_string("503.html")
    return HttpResponse(page, status=503, headers={"Retry-After": DATABASE_RETRY_AFTER})


def database_unavailable_response() -> JsonResponse:
    return JsonResponse(DATABASE_UNAVAILABLE, status=503, headers={"Retry-After": DATABASE_RETRY_AFTER})
