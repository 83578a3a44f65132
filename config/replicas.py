"""Read replicas: which database each query reads, and read-your-writes.

Writes always go to the primary (``default``). Reads go to a replica only while an HTTP
request is served: ``ReplicaPinningMiddleware`` allows it for the request's thread (its
context) and always takes it back, exceptions included. Everything else — management
commands, the shell, Celery's worker and beat, the tests of services — reads the primary,
so that a task that runs right after a commit sees the row it was sent for.

Within a request, reads stay on the primary:

- in unsafe requests (POST, PUT, PATCH, DELETE): what they read, they usually write;
- inside a transaction on the primary (``transaction.atomic()``): the row locks and the
  checks of a service must see the rows it writes;
- for the models whose staleness is a security or correctness matter: sessions, users
  (authentication), groups and permissions, simplejwt's blacklist (a revoked refresh
  token is refused at once), django-axes' lockouts and the outbox; throttle counters are
  in the security cache, not in a database;
- for a client that wrote less than ``DATABASE_REPLICA_PIN_SECONDS`` ago: a browser by a
  cookie set on the response to its unsafe request, a signed-in user (JWT, Conduit's
  ``Token``, or a session from another browser) by a per-user key in the shared cache.

One replica is chosen per request, at random: every query of a request sees the same
replica, so a list's count and its page agree.

Why not django-multidb-router's ``PinningReplicaRouter``: it reads from a replica by
default, everywhere (commands and Celery too, which must not), has no rule for
transactions or models, pins only by cookie (not JWT clients), and its middleware leaves
the pin of a request that raised to the next one on that thread. Keeping it would have
meant overriding nearly all of it.
"""

import math
import random
import time
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.middleware import get_user
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Model
from django.http import HttpRequest, HttpResponse
from django.utils.functional import SimpleLazyObject

# The response to a write sets it: "read the primary until" this Unix time.
PIN_COOKIE = "primary_until"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
# Apps whose rows are always read from the primary; the user model is one too.
PRIMARY_APPS = frozenset({"sessions", "auth", "token_blacklist", "axes", "outbox"})


@dataclass
class _Reads:
    alias: str  # where this request's reads go


# None outside a request: the primary.
_reads: ContextVar[_Reads | None] = ContextVar("replica_reads", default=None)


def read_alias() -> str:
    """The alias that this request's reads go to when nothing else keeps them on the
    primary: a replica, or ``default`` outside a request and for a pinned client."""
    reads = _reads.get()
    return DEFAULT_DB_ALIAS if reads is None else reads.alias


def reading_from_replica() -> bool:
    """Whether this request's reads (of the models a replica may serve) go to a replica."""
    return read_alias() != DEFAULT_DB_ALIAS


def _primary_only(model: type[Model]) -> bool:
    meta = model._meta
    return meta.app_label in PRIMARY_APPS or meta.label_lower == settings.AUTH_USER_MODEL.lower()


class ReplicaRouter:
    """``DATABASE_ROUTERS``: reads as the module says, writes and migrations on the primary."""

    def db_for_read(self, model: type[Model], **hints: Any) -> str:
        alias = read_alias()
        if alias == DEFAULT_DB_ALIAS or _primary_only(model) or connections[DEFAULT_DB_ALIAS].in_atomic_block:
            return DEFAULT_DB_ALIAS
        return alias

    def db_for_write(self, model: type[Model], **hints: Any) -> str:
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1: Model, obj2: Model, **hints: Any) -> bool:
        # A replica holds the primary's rows: an object read from one may be saved with
        # a relation to one read from the other.
        return True

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool:
        return db == DEFAULT_DB_ALIAS


def _now() -> float:
    return time.time()


def _user_pin_key(user_id: Any) -> str:
    return f"replica-pin:user:{user_id}"


def _pinned_until(value: Any) -> bool:
    """Whether ``value`` (the cookie's or the cache's) is a pin that has not ended. One
    further away than a pin lasts is no pin: a client cannot keep itself on the primary."""
    try:
        remaining = float(value) - _now()
    except (TypeError, ValueError):
        return False
    return 0 < remaining <= settings.DATABASE_REPLICA_PIN_SECONDS


def pin_if_recent_writer(user: Any) -> None:
    """Read the primary for the rest of this request if ``user`` wrote less than
    ``DATABASE_REPLICA_PIN_SECONDS`` ago (from any client of theirs): called once the
    request's user is known (JWT and Conduit authentication, the session's user)."""
    reads = _reads.get()
    if reads is None or reads.alias == DEFAULT_DB_ALIAS or not user.is_authenticated:
        return
    if _pinned_until(cache.get(_user_pin_key(user.pk))):
        reads.alias = DEFAULT_DB_ALIAS


def _pin_writer(request: HttpRequest, response: HttpResponse) -> None:
    """After an unsafe request: its client, and its user if it has one, read the primary
    for the next ``DATABASE_REPLICA_PIN_SECONDS``."""
    seconds = settings.DATABASE_REPLICA_PIN_SECONDS
    until = _now() + seconds
    response.set_cookie(
        PIN_COOKIE,
        f"{until:.3f}",
        max_age=math.ceil(seconds),
        path="/",
        domain=settings.SESSION_COOKIE_DOMAIN,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )
    # Authenticated by now if ever (DRF sets it on the request; a session's user is
    # loaded by every unsafe request that checks CSRF and permissions).
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        cache.set(_user_pin_key(user.pk), until, timeout=math.ceil(seconds))


class ReplicaPinningMiddleware:
    """Lets the request read from a replica (or not, see the module) and always takes
    that back when it ends; pins the client of an unsafe request to the primary.

    Before anything that reads the database. A session's user is checked for a pin when
    the view (or DRF) first reads ``request.user``, so this costs no query of its own."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        replicas = settings.REPLICA_DATABASES
        alias = DEFAULT_DB_ALIAS
        if replicas and request.method in SAFE_METHODS and not _pinned_until(request.COOKIES.get(PIN_COOKIE)):
            alias = random.choice(replicas)  # noqa: S311 (spreading load, not a secret)
        token = _reads.set(_Reads(alias))
        try:
            response = self.get_response(request)
        finally:
            _reads.reset(token)
        if replicas and request.method not in SAFE_METHODS:
            _pin_writer(request, response)
        return response

    def process_view(self, request: HttpRequest, view_func: Any, view_args: Any, view_kwargs: Any) -> None:
        if reading_from_replica() and hasattr(request, "user"):
            request.user = SimpleLazyObject(lambda: _checked_user(request))


def _checked_user(request: HttpRequest) -> Any:
    user = get_user(request)  # AuthenticationMiddleware's, loaded once per request
    pin_if_recent_writer(user)
    return user
