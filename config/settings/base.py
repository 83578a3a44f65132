"""Settings shared by every environment.

The environment is read here and only here (12-factor, as in cookiecutter-django);
``local``, ``test`` and ``production`` only adjust what differs.
"""

from datetime import timedelta
from pathlib import Path
from typing import Any

import environ
from corsheaders.defaults import default_headers as cors_default_headers
from csp.constants import NONE, SELF

from config.logging import logging_config
from config.secret_key import DEVELOPMENT_SECRET_KEY

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()

# --- Core -----------------------------------------------------------------------------

DEBUG = env.bool("DJANGO_DEBUG", default=False)
# The development key signs only while DEBUG is on: local.py and production.py refuse it,
# and any other guessable key, otherwise (config/secret_key.py).
SECRET_KEY = env("DJANGO_SECRET_KEY", default=DEVELOPMENT_SECRET_KEY)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
AUTH_USER_MODEL = "accounts.User"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

SITE_NAME = env("DJANGO_SITE_NAME", default="The Django Blog")

# --- Applications ---------------------------------------------------------------------

DJANGO_APPS = [
    "config.apps.AdminConfig",  # django.contrib.admin, its login throttled (config/admin.py)
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.sitemaps",
    "django.contrib.syndication",
]
THIRD_PARTY_APPS = [
    "rest_framework",
    "rest_framework_simplejwt",
    "rest_framework_simplejwt.token_blacklist",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "csp",
    "axes",
    "corsheaders",
]
LOCAL_APPS = [
    "accounts",
    "images",
    "posts",
    "web",
    "conduit",
    "outbox",
    "notifications",
    "webhooks",
    "imports",
]
INSTALLED_APPS = DJANGO_APPS + THIRD_PARTY_APPS + LOCAL_APPS

MIDDLEWARE = [
    # Metrics (config/metrics.py) first: its latency histogram times the whole stack, and
    # its database figures count the queries of every middleware. It logs nothing, so it
    # needs no request id.
    "config.metrics.PrometheusBeforeMiddleware",
    # First after the metrics, so that every response (413s and JSON errors included)
    # carries the request id.
    "config.request_id.RequestIdMiddleware",
    # As high as possible (django-cors-headers' advice): it answers preflights itself, and
    # the responses of every middleware below (413, 400 for a NUL, JSON errors) get the
    # CORS headers too, so a page on another origin can read why it was refused.
    "corsheaders.middleware.CorsMiddleware",
    "config.middleware.RequestBodyLimitMiddleware",
    "config.middleware.NullByteMiddleware",
    "config.middleware.ApiExceptionMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # ETags, 304s, Vary and Cache-Control of every GET (config/http_cache.py): below CORS,
    # whose headers its 304s need too; above the session and CSRF middleware, so that it
    # sees the cookies they set (a response that sets one is never public); its fast
    # path answers before the session is read.
    "config.http_cache.HttpCacheMiddleware",
    # Before anything that reads the database: reads may go to a replica only inside it,
    # and an unsafe request's response pins its client to the primary (DATABASE_REPLICA_*).
    "config.replicas.ReplicaPinningMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    # Only on 404s: an imported post's old permalink answers 301 to the post.
    "imports.middleware.OldLinkRedirectMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last but the metrics: turns a lockout flagged during authentication into its response.
    "axes.middleware.AxesMiddleware",
    # Metrics, last: nearest the view, where the route is known. It counts responses by
    # route and status as the view (or Django's error handling) gave them; an answer made
    # by a middleware above instead (a 413, a CORS preflight, a lockout) is counted only
    # in the first one's totals.
    "config.metrics.PrometheusAfterMiddleware",
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "config.context_processors.site",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------

# Persistent PostgreSQL connections, checked before reuse so a restarted server is survived.
DATABASE_CONN_MAX_AGE = env.int("DJANGO_CONN_MAX_AGE", default=60)
# A runaway query is cancelled after this many milliseconds (a 503, never a stuck
# worker). Sent when the connection opens: no query of its own. manage.py sets 0 (no
# limit) unless told otherwise: migrations, seeding and operators' commands may run long.
DATABASE_STATEMENT_TIMEOUT_MS = env.int("DJANGO_DB_STATEMENT_TIMEOUT_MS", default=5000)
# DATABASE_URL (and the replicas' URLs) lead to pgbouncer in transaction pooling: a
# server connection serves another client after each transaction, so nothing may live in
# a session (docs/deployment.md, "pgbouncer").
DATABASE_PGBOUNCER = env.bool("DJANGO_DB_PGBOUNCER", default=False)


def database_settings(database: dict[str, Any]) -> dict[str, Any]:
    """``database`` (one of DATABASES, from its URL) with the options every alias of its
    engine gets: the primary and each replica alike."""
    options = database.setdefault("OPTIONS", {})
    if database["ENGINE"] == "django.db.backends.postgresql":
        database["CONN_MAX_AGE"] = DATABASE_CONN_MAX_AGE
        database["CONN_HEALTH_CHECKS"] = True
        # Fail fast when the database is down instead of holding a worker.
        options.setdefault("connect_timeout", 3)
        if DATABASE_PGBOUNCER:
            # A server-side cursor lives in the session that declared it; the next fetch
            # may reach another one.
            database["DISABLE_SERVER_SIDE_CURSORS"] = True
            # No named prepared statements: they too belong to one server session.
            # Django 5.2 already passes None to psycopg unless OPTIONS says otherwise.
            options["prepare_threshold"] = None
            # pgbouncer refuses the "options" startup parameter: the timeout is then set
            # on the web's database role (docs/deployment.md), not sent.
        elif DATABASE_STATEMENT_TIMEOUT_MS > 0:
            options["options"] = f"-c statement_timeout={DATABASE_STATEMENT_TIMEOUT_MS}"
    elif database["ENGINE"] == "django.db.backends.sqlite3":
        # WAL and IMMEDIATE transactions let the dev server take concurrent writes
        # without "database is locked" errors.
        options.update(
            {
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            }
        )
    return database


DATABASES = {
    "default": database_settings(env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")),
}
# Streaming replicas of the primary (comma-separated URLs): aliases replica1, replica2...
# Requests read from one of them, except right after the client wrote (config/replicas.py).
REPLICA_DATABASES: list[str] = []
for _number, _url in enumerate(env.list("DATABASE_REPLICA_URLS", default=[]), start=1):
    REPLICA_DATABASES.append(f"replica{_number}")
    # Tests run on the primary's test database: a replica cannot create one of its own.
    DATABASES[f"replica{_number}"] = {
        **database_settings(env.db_url_config(_url)),
        "TEST": {"MIRROR": "default"},
    }
DATABASE_ROUTERS = ["config.replicas.ReplicaRouter"]
# Seconds a client that wrote reads from the primary: longer than replication lag
# normally lasts, so that it sees its own write.
DATABASE_REPLICA_PIN_SECONDS = env.int("DJANGO_DATABASE_REPLICA_PIN_SECONDS", default=5)

# --- Cache ----------------------------------------------------------------------------

REDIS_URL = env("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "config.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "blog",
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Security state (throttle counters, and login failures when in a cache) has an alias of
# its own: the response cache above can fill its Redis with anyone's requests, and a
# full Redis that evicts (compose: allkeys-lru) would drop a lockout to make room. So
# SECURITY_REDIS_URL names a Redis that never evicts (compose runs one, noeviction);
# without it, login failures stay in the database and only the throttle counters share
# REDIS_URL's Redis (see docs/security.md, issue 12 finding 4).
SECURITY_REDIS_URL = env("SECURITY_REDIS_URL", default="")
if SECURITY_REDIS_URL or REDIS_URL:
    CACHES["security"] = {
        "BACKEND": "config.cache.RedisCache",
        "LOCATION": SECURITY_REDIS_URL or REDIS_URL,
        "KEY_PREFIX": "blog-security",
    }
else:
    CACHES["security"] = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "security"}
# Anonymous post list and detail responses from the cache, invalidated by every write
# (posts.caching). Only with a cache every process shares; DJANGO_RESPONSE_CACHE overrides.
POSTS_RESPONSE_CACHE = env.bool("DJANGO_RESPONSE_CACHE", default=bool(REDIS_URL))
# ETags of anonymous reads made from the cache generations before the view runs, so that
# a matching If-None-Match costs no query (config/http_cache.py). Only with a cache every
# process shares, as above; otherwise ETags come from the body. DJANGO_GENERATION_ETAGS
# overrides.
GENERATION_ETAGS = env.bool("DJANGO_GENERATION_ETAGS", default=bool(REDIS_URL))
# The deployed release (a version, a commit): part of every generation ETag, so that a
# deploy changes them. Unset: a hash of the source files, computed once per process.
RELEASE = env("DJANGO_RELEASE", default="")

# --- Passwords ------------------------------------------------------------------------

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Axes first: it refuses a locked-out login before the password is even checked.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]

# Brute force. Per account and address, django-axes: failed logins are counted per
# username (any case) and client address together; reaching the limit locks that
# account's logins from that address for the cool-off. Locking the account alone let
# anyone who knew a username lock its owner out (issue 12, finding 3); locking the
# address alone would lock out everyone behind one NAT or proxy for a few typos. Per
# address, every way to log in (token, /login/, Conduit, the admin) spends one budget,
# AUTH_THROTTLE_RATE (accounts.throttles.LoginRateThrottle), which bounds a spray across
# accounts. Nothing locks an account for every address: that is the weapon; see
# docs/security.md for what this leaves to a distributed guesser.
# Failures live in the "security" cache with SECURITY_REDIS_URL, otherwise in the
# database: either is shared by every process, and neither evicts them.
AXES_FAILURE_LIMIT = env.int("DJANGO_LOGIN_FAILURE_LIMIT", default=10)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("DJANGO_LOGIN_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_CALLABLE = "accounts.throttles.axes_username"
AXES_CLIENT_IP_CALLABLE = "accounts.throttles.axes_client_ip"
AXES_LOCKOUT_CALLABLE = "accounts.throttles.lockout_response"
AXES_CACHE = "security"
AXES_HANDLER = (
    "axes.handlers.cache.AxesCacheHandler"
    if SECURITY_REDIS_URL
    else "axes.handlers.database.AxesDatabaseHandler"
)
AXES_DISABLE_ACCESS_LOG = True  # successful logins need no row each

# --- Static files ---------------------------------------------------------------------

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# --- Requests -------------------------------------------------------------------------

# 2.5 MB: RequestBodyLimitMiddleware refuses larger bodies before anything parses them.
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
APPEND_SLASH = True
# JSON under /api/ (an HTML page elsewhere), like every other error there.
CSRF_FAILURE_VIEW = "config.views.csrf_failure"
# Database sessions; a cookie that is no possible session key (a NUL, which PostgreSQL
# refuses in the lookup) is no session rather than a 500.
SESSION_ENGINE = "config.sessions"

# --- Security headers (every environment) -----------------------------------------------

SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# --- Other origins (CORS) ----------------------------------------------------------------

# Pages on these origins (scheme://host[:port], comma-separated) may call /api/ from a
# browser, with a bearer token; none by default. Never with cookies: the session is for
# this site's own pages, and a credentialed CORS request would let any page on an allowed
# origin act as whoever is logged in here (docs/security.md, "Other origins").
CORS_ALLOWED_ORIGINS = [
    origin.rstrip("/") for origin in env.list("DJANGO_CORS_ALLOWED_ORIGINS", default=[]) if origin
]
CORS_URLS_REGEX = r"^/api/"
CORS_ALLOW_CREDENTIALS = False
# The defaults (Authorization and Content-Type among them), and If-None-Match for a
# script that revalidates by hand.
CORS_ALLOW_HEADERS = (*cors_default_headers, "if-none-match")
# Readable by the calling script besides the always-safe ones: how long to wait after a
# 429, the request id to quote in a report, the export's file name, the ETag.
CORS_EXPOSE_HEADERS = ["Retry-After", "X-Request-ID", "Content-Disposition", "ETag"]
CORS_PREFLIGHT_MAX_AGE = 86400

# --- Media: uploaded images (images/) --------------------------------------------------

# Served by the app itself (images.views.serve_media) and, in compose, by nginx.
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env("DJANGO_MEDIA_ROOT", default=str(BASE_DIR / "media")))
# An upload's file; its request body may be 64 KiB more (config.middleware.body_limit).
MEDIA_MAX_BYTES = env.int("DJANGO_MEDIA_MAX_BYTES", default=10 * 1024 * 1024)
# Checked from the header before any pixel is decoded: 40 MP of RGBA is 160 MB in memory.
MEDIA_MAX_PIXELS = 40_000_000
# Per user, counting the stored originals.
MEDIA_QUOTA_BYTES = env.int("DJANGO_MEDIA_QUOTA_BYTES", default=1024**3)
MEDIA_UPLOAD_RATE = env("DJANGO_MEDIA_UPLOAD_RATE", default="60/minute")
# The site's public origin (https://blog.example.com): absolute URLs in the API and in
# emails are built on it when set, else on the request's host.
SITE_URL = env("DJANGO_SITE_URL", default="").rstrip("/")

# --- Email (notifications/mail.py) -------------------------------------------------------

# django-environ's URL form: consolemail:// (printed by the process that sends it: the web
# process without a broker, else the worker), smtp://user:password@host:587 (smtp+tls://,
# smtp+ssl://), filemail:///path. Mail is sent by the task worker through the outbox.
_email = env.email_url("DJANGO_EMAIL_URL", default="consolemail://")
EMAIL_BACKEND = _email["EMAIL_BACKEND"]
vars().update({key: value for key, value in _email.items() if key.startswith("EMAIL_") and value is not None})
# A mail server that does not answer must not hold a worker: the outbox retries later.
EMAIL_TIMEOUT = int(_email.get("OPTIONS", {}).get("TIMEOUT", 10))
DEFAULT_FROM_EMAIL = env("DJANGO_DEFAULT_FROM_EMAIL", default="noreply@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Seconds a password reset link works (Django's token generator reads this).
PASSWORD_RESET_TIMEOUT = env.int("DJANGO_PASSWORD_RESET_TIMEOUT", default=3600)
# Unverified accounts may save drafts but not publish or comment (accounts.services).
REQUIRE_VERIFIED_EMAIL = env.bool("DJANGO_REQUIRE_VERIFIED_EMAIL", default=False)
# Mail sent on someone's request to one address or account: password resets per address,
# verification mails per account (each also limited per client address).
EMAIL_THROTTLE_RATE = env("DJANGO_EMAIL_THROTTLE_RATE", default="5/hour")
# Links in mail are absolute. Mail is rendered with no request to take a host from (and
# beat's notifications have no request at all), so without DJANGO_SITE_URL they point at
# the development server; production.py falls back to the first allowed host instead.
MAIL_SITE_URL = SITE_URL or "http://127.0.0.1:8000"

# Background work (config/celery.py, outbox/). The broker defaults to REDIS_URL; with
# neither, tasks run eagerly in the web process (zero set-up), and nothing retries them.
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL)
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
# Acknowledged after the task ran, one at a time per worker process: a worker killed
# mid-task leaves its message for another (tasks are idempotent; outbox/services.py).
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A broker that is down must not hold up a request: publishing gives up at once (the
# outbox's sweep sends it later), after a connection attempt of at most this long.
CELERY_BROKER_CONNECTION_TIMEOUT = env.float("CELERY_BROKER_CONNECTION_TIMEOUT", default=2.0)
# ... and tries once: kombu would otherwise retry the connection for that whole timeout.
CELERY_BROKER_TRANSPORT_OPTIONS = {"max_retries": 0}
CELERY_TIMEZONE = "UTC"
# Seconds an undelivered outbox message waits before the sweep sends it again (its task
# was lost: a crash between commit and publish, or a broker that was down).
OUTBOX_SWEEP_AFTER_SECONDS = env.int("DJANGO_OUTBOX_SWEEP_AFTER_SECONDS", default=60)
OUTBOX_SWEEP_EVERY_SECONDS = env.float("DJANGO_OUTBOX_SWEEP_EVERY_SECONDS", default=30.0)
# The first retry of a failed message (a mail server that is down) waits this long; each
# next one twice as long, up to an hour.
OUTBOX_RETRY_FIRST_SECONDS = env.float("DJANGO_OUTBOX_RETRY_FIRST_SECONDS", default=30.0)
# How often beat looks for posts that have become public (scheduled posts whose time
# came) to announce them: post.published and the followers' mail, once per post.
POSTS_ANNOUNCE_EVERY_SECONDS = env.float("DJANGO_POSTS_ANNOUNCE_EVERY_SECONDS", default=30.0)
CELERY_BEAT_SCHEDULE = {
    "outbox-sweep": {"task": "outbox.tasks.sweep", "schedule": OUTBOX_SWEEP_EVERY_SECONDS},
    "posts-announce": {"task": "posts.tasks.announce_due_posts", "schedule": POSTS_ANNOUNCE_EVERY_SECONDS},
}

# Webhooks (webhooks/, docs/webhooks.md). A receiver gets this many seconds to connect
# and between reads; redirects are never followed.
WEBHOOK_TIMEOUT = env.float("DJANGO_WEBHOOK_TIMEOUT", default=10.0)
# Seconds before each retry of a failed delivery: the n-th retry waits the n-th delay,
# and after the last the delivery is given up (recorded in the log).
WEBHOOK_RETRY_DELAYS = [
    float(delay)
    for delay in env.list("DJANGO_WEBHOOK_RETRY_DELAYS", default=["60", "300", "1800", "7200", "21600"])
]
# The SSRF guard: targets must resolve to public addresses, at registration and at
# every delivery. Local development and tests turn it off (a receiver on 127.0.0.1).
WEBHOOK_ALLOW_PRIVATE = env.bool("DJANGO_WEBHOOK_ALLOW_PRIVATE", default=False)

# S3-compatible object storage instead of MEDIA_ROOT when a bucket is named. The bucket
# serves the files (public reads, no signed URLs): objects carry their Content-Type and
# the year-long Cache-Control; nosniff and the sandboxing CSP need a CDN in front
# (README, "Images").
MEDIA_S3_BUCKET = env("DJANGO_MEDIA_S3_BUCKET", default="")
if MEDIA_S3_BUCKET:
    MEDIA_S3_ENDPOINT_URL = env("DJANGO_MEDIA_S3_ENDPOINT_URL", default="").rstrip("/")
    MEDIA_S3_CUSTOM_DOMAIN = env("DJANGO_MEDIA_S3_CUSTOM_DOMAIN", default="")
    STORAGES = {
        **STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": MEDIA_S3_BUCKET,
                "endpoint_url": MEDIA_S3_ENDPOINT_URL or None,
                "access_key": env("DJANGO_MEDIA_S3_ACCESS_KEY_ID", default="") or None,
                "secret_key": env("DJANGO_MEDIA_S3_SECRET_ACCESS_KEY", default="") or None,
                "region_name": env("DJANGO_MEDIA_S3_REGION", default="") or None,
                "custom_domain": MEDIA_S3_CUSTOM_DOMAIN or None,
                "file_overwrite": False,
                "querystring_auth": False,
                "default_acl": None,
                "object_parameters": {"CacheControl": "public, max-age=31536000, immutable"},
            },
        },
    }
    # The pages show the bucket's URLs: their origin joins the CSP's img-src.
    if MEDIA_S3_CUSTOM_DOMAIN:
        MEDIA_ORIGINS = [f"https://{MEDIA_S3_CUSTOM_DOMAIN}"]
    elif MEDIA_S3_ENDPOINT_URL:
        scheme, _, host = MEDIA_S3_ENDPOINT_URL.partition("://")
        # Path-style (host/bucket/...) or virtual-hosted (bucket.host/...) addressing.
        MEDIA_ORIGINS = [
            f"{scheme}://{host.split('/')[0]}",
            f"{scheme}://{MEDIA_S3_BUCKET}.{host.split('/')[0]}",
        ]
    else:
        MEDIA_ORIGINS = [f"https://{MEDIA_S3_BUCKET}.s3.amazonaws.com"]
        if region := env("DJANGO_MEDIA_S3_REGION", default=""):
            MEDIA_ORIGINS.append(f"https://{MEDIA_S3_BUCKET}.s3.{region}.amazonaws.com")
    CONTENT_SECURITY_POLICY["DIRECTIVES"]["img-src"] = [
        *CONTENT_SECURITY_POLICY["DIRECTIVES"]["img-src"],
        *MEDIA_ORIGINS,
    ]

# --- Django REST framework ------------------------------------------------------------

AUTH_THROTTLE_RATE = env("DJANGO_AUTH_THROTTLE_RATE", default="20/minute")

REST_FRAMEWORK = {
    # JWT first: its WWW-Authenticate header makes unauthenticated requests 401, not 403.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.JWTAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticatedOrReadOnly"],
    "DEFAULT_PARSER_CLASSES": ["config.parsers.JSONParser"],
    "DEFAULT_RENDERER_CLASSES": [
        "config.renderers.ORJSONRenderer",  # DRF's JSON, written by orjson (docs/performance.md)
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "config.pagination.PageNumberPagination",
    "PAGE_SIZE": 20,
    "EXCEPTION_HANDLER": "config.exceptions.api_exception_handler",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "NUM_PROXIES": env.int("DJANGO_NUM_PROXIES", default=0),
    "DATETIME_FORMAT": "iso-8601",
}

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env.int("JWT_ACCESS_TOKEN_MINUTES", default=15)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env.int("JWT_REFRESH_TOKEN_DAYS", default=7)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": False,
    "AUTH_HEADER_TYPES": ("Bearer",),
    "ALGORITHM": "HS256",
    "SIGNING_KEY": SECRET_KEY,
    "TOKEN_REFRESH_SERIALIZER": "accounts.serializers.RotatingRefreshSerializer",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Blog API",
    "DESCRIPTION": (
        "The public JSON API of the blog. Authenticate with `Authorization: Bearer <access>` "
        "(obtain a pair at `/api/v1/auth/token/`). Errors follow Django REST framework's shape: "
        '`{"field": ["message"]}` or `{"detail": "message"}`.'
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "ENUM_NAME_OVERRIDES": {
        "PostStatusEnum": ["draft", "scheduled", "published"],
        "PostWriteStatusEnum": "posts.models.Post.Status",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "config.schema.add_error_responses",
        "config.schema.describe_strings",
        "config.schema.mark_anonymous_operations",
        "config.schema.describe_conditional_requests",
    ],
}

# --- Metrics (config/metrics.py) ------------------------------------------------------

# /metrics answers only "Authorization: Bearer <this>"; unset, it is a 404 like any
# unknown URL. A long random string: guesses are not throttled, only its length stops them.
METRICS_TOKEN = env("DJANGO_METRICS_TOKEN", default="")
# prometheus_client's multiprocess mode: each gunicorn worker writes its counts to files
# here, and a scrape adds up every worker of the server. prometheus_client reads the
# variable itself when imported; gunicorn's config empties the folder when it starts.
PROMETHEUS_MULTIPROC_DIR = env("PROMETHEUS_MULTIPROC_DIR", default="")
# Seconds. django-prometheus' default starts at 10 ms, which most queries and cached
# responses here stay under; nothing runs past gunicorn's 30 s timeout.
PROMETHEUS_LATENCY_BUCKETS = (
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, float("inf"),
)  # fmt: skip

# --- Logging --------------------------------------------------------------------------

# "json" (one JSON object a line, for production log collectors) or "plain" (readable);
# unset: plain here, json in production. Every line carries the request id.
LOG_FORMAT = env("DJANGO_LOG_FORMAT", default="")
LOG_LEVEL = env("DJANGO_LOG_LEVEL", default="INFO")
LOGGING = logging_config(LOG_FORMAT or "plain", LOG_LEVEL)
