"""DRF exception handling: DRF's shapes, plus a JSON 503 when the database is down."""

from typing import Any

from django.db import InterfaceError, OperationalError
from rest_framework.response import Response
from rest_framework.views import exception_handler

from config.middleware import database_unavailable_response


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    response = exception_handler(exc, context)
    if response is not None:
        return response
    if isinstance(exc, (OperationalError, InterfaceError)):
        fallback = database_unavailable_response()
        return Response(
            {"detail": "The service is temporarily unavailable."},
            status=503,
            headers={"Retry-After": fallback["Retry-After"]},
        )
    return None
