"""Settings for the test suite: fast hashing, isolated cache, generous throttles."""

from .base import *  # noqa: F403
from .base import env

DEBUG = False
# Argon2 is deliberately slow; tests only need a hasher that works.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
POSTS_RESPONSE_CACHE = False  # tests of posts.caching turn it on
# Throttle tests lower this through the settings fixture.
AUTH_THROTTLE_RATE = env("DJANGO_AUTH_THROTTLE_RATE", default="10000/minute")
ALLOWED_HOSTS = ["*"]
WHITENOISE_AUTOREFRESH = True  # serve from the finders; no collectstatic in tests
