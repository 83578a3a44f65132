"""Throttles for the sign-up, login and password endpoints, and the login lockout."""

import hashlib
import math
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.core.cache import BaseCache, caches
from django.http import HttpRequest, HttpResponse, JsonResponse
from rest_framework.exceptions import Throttled
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle, SimpleRateThrottle
from rest_framework.views import APIView

from config.middleware import is_api_request

# Where throttle counters and (with a cache handler) login failures live: a store that a
# flood of cached responses cannot evict (config/settings/base.py).
SECURITY_CACHE = "security"


class AuthRateThrottle(SimpleRateThrottle):
    """Per client address and per endpoint, at ``DJANGO_AUTH_THROTTLE_RATE``.

    The rate is read when the throttle is built, not at import time, so that it follows
    the settings in force (and the tests can lower it). Counters live in the security
    cache, shared by every app server when a Redis is configured.
    """

    scope = "auth"

    @property
    def cache(self) -> BaseCache:
        # Looked up on use, not at import, so that it follows the settings in force.
        return caches[SECURITY_CACHE]

    def get_rate(self) -> str:
        return settings.AUTH_THROTTLE_RATE

    def scope_for(self, view: APIView | None) -> str:
        return getattr(view, "throttle_scope", None) or "auth"

    def allow_request(self, request: Request | HttpRequest, view: APIView | None) -> bool:
        self.scope = self.scope_for(view)
        return super().allow_request(request, view)

    def get_cache_key(self, request: Request | HttpRequest, view: APIView | None) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class LoginRateThrottle(AuthRateThrottle):
    """One budget per client address for every way to log in: the token endpoint, the
    web login form, Conduit's login and the admin's. A budget per way in gave one
    address one budget per login path (and the admin none at all)."""

    def scope_for(self, view: APIView | None) -> str:
        return "login"


class PasswordResetRateThrottle(AuthRateThrottle):
    """Per client address: password reset requests, by the API and by the page alike."""

    def scope_for(self, view: APIView | None) -> str:
        return "password-reset"


class EmailRateThrottle(AuthRateThrottle):
    """Per email address, at ``DJANGO_EMAIL_THROTTLE_RATE``: password reset requests for
    one address, whoever sends them, so that nobody can fill someone's mailbox with them.
    It counts addresses with and without an account alike (a refusal tells nothing) and
    keys them by a hash, so the cache holds no address.

    DRF builds it without an address and it reads ``email`` from the request body; a page
    passes the address it read."""

    def __init__(self, email: str | None = None) -> None:
        self.email = email
        super().__init__()

    def get_rate(self) -> str:
        return settings.EMAIL_THROTTLE_RATE

    def scope_for(self, view: APIView | None) -> str:
        return "password-reset-email"

    def get_cache_key(self, request: Request | HttpRequest, view: APIView | None) -> str | None:
        email = self.email
        if email is None and isinstance(request, Request):
            data = request.data
            email = data.get("email") if isinstance(data, dict) else None
        if not isinstance(email, str) or not email.strip():
            return None  # no address: the serializer refuses it, the address budget counts it
        ident = hashlib.sha256(email.strip().casefold().encode()).hexdigest()
        return self.cache_format % {"scope": self.scope, "ident": ident}


class VerificationMailThrottle(AuthRateThrottle):
    """Per account, at ``DJANGO_EMAIL_THROTTLE_RATE``: verification mails sent again on
    request (the API's resend and the settings page's button)."""

    def get_rate(self) -> str:
        return settings.EMAIL_THROTTLE_RATE

    def scope_for(self, view: APIView | None) -> str:
        return "verification-mail"

    def get_cache_key(self, request: Request | HttpRequest, view: APIView | None) -> str | None:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        return self.cache_format % {"scope": self.scope, "ident": user.pk}


def _wait(throttles: list[SimpleRateThrottle], request: HttpRequest) -> int | None:
    """Spend one request of each budget: None when all allow it, else the longest wait."""
    waits = [throttle.wait() or 1 for throttle in throttles if not throttle.allow_request(request, None)]
    return max(1, math.ceil(max(waits))) if waits else None


def password_reset_wait(request: HttpRequest, email: str) -> int | None:
    """For the password reset page: the API's two budgets (per address, per email)."""
    return _wait([PasswordResetRateThrottle(), EmailRateThrottle(email)], request)


def verification_mail_wait(request: HttpRequest) -> int | None:
    """For the settings page's "send the link again": the API's resend budget."""
    return _wait([VerificationMailThrottle()], request)


def throttled_detail(wait: int) -> str:
    return f"Too many requests. Try again in {wait} seconds."


def login_budget_wait(request: HttpRequest) -> int | None:
    """Spend one login attempt of the client address's budget: None when it is allowed,
    otherwise the seconds until the next one is (for ``Retry-After``).

    For the login views outside DRF; DRF views list ``LoginRateThrottle`` instead."""
    throttle = LoginRateThrottle()
    if throttle.allow_request(request, None):
        return None
    return max(1, math.ceil(throttle.wait() or 1))


def login_throttled_detail(wait: int) -> str:
    return f"Too many attempts. Try again in {wait} seconds."


def refusal(request: HttpRequest, detail: str, retry_after: int) -> HttpResponse:
    """A 429 for a login form outside DRF: JSON for the API and for scripts that ask for
    it, text otherwise."""
    wants_json = is_api_request(request) or "application/json" in request.headers.get("Accept", "")
    if wants_json:
        response = JsonResponse({"detail": detail}, status=429)
    else:
        response = HttpResponse(detail, status=429, content_type="text/plain; charset=utf-8")
    response["Retry-After"] = str(retry_after)
    return response


def login_throttled(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Make a login view outside DRF (the admin's) spend the address's login budget on
    each POST, and refuse it with a 429 once the budget is spent."""

    @wraps(view)
    def throttled_view(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method == "POST":
            wait = login_budget_wait(request)
            if wait is not None:
                return refusal(request, login_throttled_detail(wait), wait)
        return view(request, *args, **kwargs)

    return throttled_view


# --- Brute-force lockout (django-axes) -------------------------------------------------
# Axes counts failed logins per username and client address together (per address,
# LoginRateThrottle above limits every attempt); these hooks make it agree with the
# rest of the API about who the client is and how a refusal looks.


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
    """Axes' answer to a locked-out login outside DRF (the web and admin login forms)."""
    return refusal(request, lockout_detail(), int(settings.AXES_COOLOFF_TIME.total_seconds()))


class LoginLockedOut(Throttled):
    """A login refused because the account is locked out for this client address."""

    def __init__(self) -> None:
        super().__init__(wait=settings.AXES_COOLOFF_TIME.total_seconds(), detail=lockout_detail())
