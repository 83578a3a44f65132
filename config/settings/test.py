"""Settings for the test suite: fast hashing, isolated cache, generous throttles."""

import copy

from config.secret_key import TEST_SECRET_KEY

from .base import *  # noqa: F403
from .base import DATABASES, SIMPLE_JWT, env

DEBUG = False
# DEBUG off with a key written in the repository, which only tests may do: production and
# local with DEBUG off refuse it (config/secret_key.py).
SECRET_KEY = TEST_SECRET_KEY
SIMPLE_JWT = {**SIMPLE_JWT, "SIGNING_KEY": SECRET_KEY}
# Argon2 is deliberately slow; tests only need a hasher that works.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "security": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "security"},
}
POSTS_RESPONSE_CACHE = False  # tests of posts.caching turn it on
GENERATION_ETAGS = False  # likewise, the tests of config.http_cache
# Throttle tests lower this through the settings fixture.
AUTH_THROTTLE_RATE = env("DJANGO_AUTH_THROTTLE_RATE", default="10000/minute")
ALLOWED_HOSTS = ["*"]
WHITENOISE_AUTOREFRESH = True  # serve from the finders; no collectstatic in tests
# Unit tests carry background work out in-process (the end-to-end tests run a real worker
# and broker in their own processes, with their own settings).
CELERY_BROKER_URL = "memory://"
CELERY_TASK_ALWAYS_EAGER = True
# Receivers in tests listen on 127.0.0.1; the SSRF tests turn the guard back on.
WEBHOOK_ALLOW_PRIVATE = True
# The suite reads the primary, as commands and tasks do; the tests of the routing
# (config/tests/test_replicas.py) turn it on with REPLICA_DATABASES = ["replica1"]. That
# alias is a test mirror: another connection to the same test database, which sees only
# what was committed (so those tests use transactional_db).
if "replica1" not in DATABASES:
    _replica = {**copy.deepcopy(DATABASES["default"]), "TEST": {"MIRROR": "default"}}
    DATABASES = {**DATABASES, "replica1": _replica}
REPLICA_DATABASES: list[str] = []
