"""Throttles for the sign-up, token and password endpoints, and the login lockout."""

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from rest_framework.exceptions import Throttled
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle, SimpleRateThrottle
from rest_framework.views import APIView

from config.middleware import is_api_request


class AuthRateThrottle(SimpleRateThrottle):
    """Per client address and per endpoint, at ``DJANGO_AUTH_THROTTLE_RATE``.

    The rate is read when the throttle is built, not at import time, so that it follows
    the settings in force (and the tests can lower it). Counters live in the cache, so
    they are shared by every app server when ``REDIS_URL`` is set.
    """

    scope = "auth"

    def get_rate(self) -> str:
        return settings.AUTH_THROTTLE_RATE

    def allow_request(self, request: Request, view: APIView) -> bool:
        self.scope = getattr(view, "throttle_scope", None) or "auth"
        return super().allow_request(request, view)

    def get_cache_key(self, request: Request, view: APIView) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


# --- Brute-force lockout (django-axes) -------------------------------------------------
# Axes counts failed logins per username (per address, AuthRateThrottle above limits
# every attempt); these hooks make it agree with the rest of the API about who the
# client is and how a refusal looks.


def axes_username(request: HttpRequest, credentials: dict[str, Any] | None) -> str | None:
    """The username a login attempt targets, case-folded: login is case-insensitive, so
    ``Alice`` and ``alice`` share one failure count."""
    raw = (credentials or {}).get("username")
    return str(raw).casefold() if raw is not None else None


def axes_client_ip(request: HttpRequest) -> str:
    """The client address as the throttles see it (honours ``DJANGO_NUM_PROXIES``)."""
    return BaseThrottle().get_ident(request)


def lockout_detail() -> str:
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return f"Too many failed login attempts. Try again in {minutes} minutes."


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: dict | None = None
) -> HttpResponse:
    """Axes' answer to a locked-out login outside DRF (the web and admin login forms): a
    429, in JSON for the API and for scripts that ask for it, as text otherwise."""
    wants_json = is_api_request(request) or "application/json" in request.headers.get("Accept", "")
    if wants_json:
        response = JsonResponse({"detail": lockout_detail()}, status=429)
    else:
        response = HttpResponse(lockout_detail(), status=429, content_type="text/plain; charset=utf-8")
    response["Retry-After"] = str(int(settings.AXES_COOLOFF_TIME.total_seconds()))
    return response


class LoginLockedOut(Throttled):
    """A login refused because the account is locked out."""

    def __init__(self) -> None:
        super().__init__(wait=settings.AXES_COOLOFF_TIME.total_seconds(), detail=lockout_detail())
