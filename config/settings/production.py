"""Production: refuses to start without its secrets, hardened transport and cookies.

Required: DJANGO_SECRET_KEY (random: not short, not one written in the repository),
DJANGO_ALLOWED_HOSTS (and DATABASE_URL for PostgreSQL).
"""

from django.core.exceptions import ImproperlyConfigured

from config.logging import logging_config
from config.secret_key import require_unguessable_secret_keys

from .base import *  # noqa: F403
from .base import LOG_FORMAT, LOG_LEVEL, SIMPLE_JWT, SITE_URL, STORAGES, env

DEBUG = False
# No defaults: a missing variable raises ImproperlyConfigured at start-up.
SECRET_KEY = env("DJANGO_SECRET_KEY")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS")
SECRET_KEY_FALLBACKS = env.list("DJANGO_SECRET_KEY_FALLBACKS", default=[])
# Refused here, not merely warned about by check --deploy (W009), which nobody has to run:
# with a guessable key anyone can forge a staff JWT.
require_unguessable_secret_keys(SECRET_KEY, SECRET_KEY_FALLBACKS)
SIMPLE_JWT = {**SIMPLE_JWT, "SIGNING_KEY": SECRET_KEY}
# Links in mail: DJANGO_SITE_URL, else https on the first host named (not a wildcard), never
# the development server that base.py falls back to.
if not SITE_URL:
    _hosts = [host.lstrip(".") for host in ALLOWED_HOSTS if host.lstrip(".") and "*" not in host]
    if not _hosts:
        raise ImproperlyConfigured("Set DJANGO_SITE_URL: links in mail must name the site's host.")
    MAIL_SITE_URL = f"https://{_hosts[0]}"

# Behind a TLS-terminating proxy that sets X-Forwarded-Proto.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
# /healthz and /readyz are probed, and /metrics scraped, over plain HTTP inside the
# network (each app server directly, not through nginx).
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True

# The default storage as base.py chose it (the file system, or S3 when configured).
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

LOGGING = logging_config(LOG_FORMAT or "json", LOG_LEVEL)
LOGGING = {
    **LOGGING,
    "loggers": {
        **LOGGING["loggers"],
        "django.security.DisallowedHost": {"level": "ERROR"},
    },
}
