"""Uploads per user: decoding and encoding images is the most expensive thing a client
can ask of a worker."""

from django.conf import settings
from django.core.cache import BaseCache, caches
from rest_framework.throttling import UserRateThrottle

from accounts.throttles import SECURITY_CACHE


class MediaUploadThrottle(UserRateThrottle):
    """``DJANGO_MEDIA_UPLOAD_RATE`` uploads per user (accepted or not), counted in the
    security cache that every app server shares."""

    scope = "media-upload"

    @property
    def cache(self) -> BaseCache:
        # Looked up on use, not at import, so that it follows the settings in force.
        return caches[SECURITY_CACHE]

    def get_rate(self) -> str:
        return settings.MEDIA_UPLOAD_RATE
