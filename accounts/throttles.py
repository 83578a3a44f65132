"""Throttles for the sign-up, token and password endpoints."""

from django.conf import settings
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import APIView


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
