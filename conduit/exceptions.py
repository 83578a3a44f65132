"""RealWorld's error shape, ``{"errors": {"<key>": ["<message>", ...]}}``, for every failure.

Validation errors are 422 (the spec's generic error); missing and bad tokens are 401 under
``token``; not found and forbidden name the resource (``article``, ``comment``, ``profile``).
"""

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response

from accounts.services import EmailNotVerified
from config.exceptions import api_exception_handler
from posts.services import PostGone

BLANK = "can't be blank"
TAKEN = "has already been taken"
# RealWorld clients show "<key> <message>": "email must be verified ...".
UNVERIFIED = "must be verified to publish articles and comments: follow the link we emailed you"


class Unprocessable(exceptions.ValidationError):
    """A 422 with errors keyed by field or resource."""

    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY


class Conflict(exceptions.APIException):
    """409: the username or email is already taken."""

    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"


class InvalidCredentials(exceptions.AuthenticationFailed):
    def __init__(self) -> None:
        super().__init__({"credentials": ["invalid"]})


def not_found(resource: str) -> exceptions.NotFound:
    return exceptions.NotFound({resource: ["not found"]})


def forbidden(resource: str) -> exceptions.PermissionDenied:
    return exceptions.PermissionDenied({resource: ["forbidden"]})


def _messages(detail: Any) -> list[str]:
    """Flatten DRF's nested error details (lists, dicts by index) into a list of strings."""
    if isinstance(detail, dict):
        return [message for value in detail.values() for message in _messages(value)]
    if isinstance(detail, list):
        return [message for value in detail for message in _messages(value)]
    return [str(detail)]


def _errors(exc: exceptions.APIException) -> dict[str, list[str]]:
    if isinstance(exc, exceptions.NotAuthenticated):
        return {"token": ["is missing"]}
    if isinstance(exc, exceptions.AuthenticationFailed) and not isinstance(exc, InvalidCredentials):
        return {"token": ["is invalid"]}
    if isinstance(exc, exceptions.ParseError):
        return {"body": [str(exc.detail)]}
    if isinstance(exc.detail, dict):
        return {str(key): _messages(value) for key, value in exc.detail.items()}
    return {exc.default_code: _messages(exc.detail)}


def conduit_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Our handler's statuses and headers (401 challenge, Retry-After, 503), RealWorld's body."""
    if isinstance(exc, PostGone):  # deleted after the view found it
        exc = not_found("article")
    elif isinstance(exc, EmailNotVerified):
        exc = exceptions.PermissionDenied({"email": [UNVERIFIED]})
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound({"resource": ["not found"]})
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied({"resource": ["forbidden"]})
    response = api_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.APIException):
        if isinstance(exc, (exceptions.ValidationError, exceptions.ParseError)):
            response.status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
        response.data = {"errors": _errors(exc)}
    else:
        response.data = {"errors": {"server": _messages(response.data)}}
    return response
