"""Benchmark settings (``make bench`` only): production, plus the reference views and a
query counter that answers only when asked.

Production refuses to start without its secrets; a benchmark on 127.0.0.1 has none, so
harmless local defaults are provided before production reads the environment.
"""

import os
import secrets

# Random, since production refuses any key written in the repository. One per process:
# bench/run.py gives its gunicorn one key for every worker, so that they agree.
os.environ.setdefault("DJANGO_SECRET_KEY", secrets.token_urlsafe(50))
os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost")
# Plain HTTP on loopback: no redirect to https, no HSTS.
os.environ.setdefault("DJANGO_SECURE_SSL_REDIRECT", "false")
os.environ.setdefault("DJANGO_SECURE_HSTS_SECONDS", "0")

from .production import *  # noqa: F403
from .production import BASE_DIR, MIDDLEWARE

DEBUG = False
ROOT_URLCONF = "bench.urls"
# First, so that it counts the queries of every other middleware too.
MIDDLEWARE = ["bench.middleware.QueryCountMiddleware", *MIDDLEWARE]
STATIC_ROOT = BASE_DIR / ".bench" / "static"
