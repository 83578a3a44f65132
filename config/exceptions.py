"""DRF exception handling: DRF's shapes, plus a JSON 503 when the database is down, and
the domain errors that mean the same on every endpoint."""

from typing import Any

from rest_framework.exceptions import AuthenticationFailed, PermissionDenied
from rest_framework.response import Response
from rest_framework.views import exception_handler

from config.middleware import DATABASE_RETRY_AFTER, DATABASE_UNAVAILABLE, database_unavailable


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    from accounts.services import AccountGone, EmailNotVerified  # not at import: settings load this module

    if isinstance(exc, EmailNotVerified):  # raised by the post and comment services
        exc = PermissionDenied(exc.detail)
    elif isinstance(exc, AccountGone):  # the caller's account was deleted during the request
        exc = AuthenticationFailed("User not found", code="user_not_found")
        view, request = context.get("view"), context.get("request")
        if view is not None and request is not None:
            exc.auth_header = view.get_authenticate_header(request)  # the 401's challenge
    response = exception_handler(exc, context)
    if response is not None:
        if response.status_code == 401 and isinstance(response.data, dict) and "detail" in response.data:
            # simplejwt puts a code, and for a bearer token each token class's reason, beside
            # the message; the contract's 401 body is the message alone.
            response.data = {"detail": response.data["detail"]}
        return response
    if database_unavailable(exc):
        return Response(DATABASE_UNAVAILABLE, status=503, headers={"Retry-After": DATABASE_RETRY_AFTER})
    return None
