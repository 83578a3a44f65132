"""Caching for the public, anonymous side of the posts API, invalidated by generations.

Two counters live in the cache (Redis when ``REDIS_URL`` is set):

- the *content* generation moves on every write that an anonymous read of posts,
  comments, tags, categories or profiles shows: posts, their tags, comments, likes,
  tags, categories, what anyone sees of an account, follows;
- the *posts* generation moves only when the set of public posts may change (a post
  created, deleted, published or unpublished), the only writes that change the count.

Cached values are keyed by the generation, so a write makes every older entry
unreachable at once (they expire by themselves). Generations move when the write
happens and again when its transaction commits, so a reader that ran between the two
cannot leave data from before the commit under the newer generation.

Invalidation is explicit: each service that changes what is cached (``posts.services``,
``accounts.services`` for public account fields and follows, ``images.services`` for
images that covers and avatars show) calls :func:`bump` once, and every face
(the API, the pages, Conduit, the admin, ``seed_blog``) writes through them. No model
signal moves a generation: a login, which saves ``last_login``, keeps every cached page.

Scheduled posts turn public with no write at all, so nothing is cached past the moment
the next scheduled post becomes public.

With read replicas (``REPLICA_DATABASES``), a read just after a write may come from a
replica that has not replayed it: for ``DATABASE_REPLICA_PIN_SECONDS`` after each bump
nothing is stored under a generation (:func:`settled` is False), and the conditional
requests' ETags come from the body rather than the generation (:func:`validator`).
"""

import hashlib
import json
import math
import time
from collections.abc import Callable, Collection
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Count, Min, Q
from django.http import HttpResponse
from django.utils import timezone
from prometheus_client import Counter
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings

CONTENT = "content"
POSTS = "posts"
KEY_PREFIX = "posts-cache"
# Bounds how stale a per-process cache (no REDIS_URL) can be after another process writes.
COUNT_SECONDS = 60
# With a shared cache every process sees every write's new generation at once, so what is
# kept under a generation can stay until the next write: only memory bounds it.
SHARED_SECONDS = 3600
RESPONSE_SECONDS = 300
# Below this many public posts COUNT(*) is cheap, so the count is always exact.
COUNT_CACHE_MIN = 10_000


def _generation_key(name: str) -> str:
    return f"{KEY_PREFIX}:gen:{name}"


def _fresh_generation() -> int:
    # Microseconds: larger than any generation this key had before it was evicted, so
    # a lost counter can never bring back entries from an older generation.
    return time.time_ns() // 1000


def generation(name: str) -> int:
    """The current generation ``name`` (``CONTENT`` or ``POSTS``)."""
    key = _generation_key(name)
    value = cache.get(key)
    if value is None:
        cache.add(key, _fresh_generation(), timeout=None)
        value = cache.get(key)
    return value


def _incr(name: str) -> None:
    key = _generation_key(name)
    try:
        cache.incr(key)
    except ValueError:  # not there (never read, or evicted): any fresh value is newer
        cache.set(key, _fresh_generation(), timeout=None)


def _last_bump_key() -> str:
    return f"{KEY_PREFIX}:last-bump"


# How long the time of the last bump is kept beyond the pin: longer than any read runs
# (the statement timeout), so that a read's ``settled(since=...)`` still finds it.
LAST_BUMP_MARGIN_SECONDS = 60


def _replica_pin_seconds() -> float:
    """How long after a write a replica may still lag behind it; 0 without replicas."""
    return float(settings.DATABASE_REPLICA_PIN_SECONDS) if settings.REPLICA_DATABASES else 0.0


def settled(*, since: float | None = None) -> bool:
    """Whether reads that began at ``since`` (a ``time.time()``; default now) reflect every
    write up to the current generations, so that what they found may be kept under them.

    Always so with one database. With replicas (``REPLICA_DATABASES``), not while the last
    bump is younger than ``DATABASE_REPLICA_PIN_SECONDS``: a replica may not have replayed
    that write yet, and its answer kept under the new generation would outlive the lag.
    Called before the reads (``since`` when only after them): a bump during the reads
    moves the generation past the key they were read for, which the writes' rule covers."""
    pin = _replica_pin_seconds()
    if not pin:
        return True
    last = cache.get(_last_bump_key())
    start = time.time() if since is None else since
    return last is None or last <= start - pin


def bump(*, posts: bool = False) -> None:
    """Invalidate what the cache holds for post lists and details (and the public post
    count and next publication when ``posts``), now and again when the current
    transaction commits.

    Called once by each write that changes what a post list or detail shows, after (or
    in the same transaction as) its writes; ``posts`` when public posts may have come or
    gone. Writes outside the services (``bulk_create``, raw SQL) must call it too."""
    names = (CONTENT, POSTS) if posts else (CONTENT,)

    def incr_all() -> None:
        for name in names:
            _incr(name)
        pin = _replica_pin_seconds()
        if pin:
            cache.set(_last_bump_key(), time.time(), math.ceil(pin) + LAST_BUMP_MARGIN_SECONDS)

    incr_all()
    transaction.on_commit(incr_all)


def _seconds_until_next_publication(posts_generation: int) -> float | None:
    """Seconds until the next scheduled post turns public, or None when none is
    scheduled; one query per posts generation (and per scheduled post that turns public)."""
    now = time.time()
    at = _next_publication_at(posts_generation, now)
    return at - now if at else None


def _next_publication_at(posts_generation: int, now: float) -> float:
    """When the next scheduled post turns public (a ``time.time()``), 0 when none is
    scheduled: from the cache, or one query when it does not know or that time has come."""
    from posts.models import Post

    at = cache.get(_next_publication_key(posts_generation))
    if at is None or (at and at <= now):
        keep = settled()
        first = Post.objects.scheduled().order_by("published_at").values_list("published_at", flat=True)
        at = _remember_next_publication(posts_generation, first.first(), keep=keep)
    return at


def _next_publication_key(posts_generation: int) -> str:
    return f"{KEY_PREFIX}:next-publication:{posts_generation}"


def _remember_next_publication(posts_generation: int, when: datetime | None, *, keep: bool) -> float:
    at = when.timestamp() if when is not None else 0.0
    if keep:
        cache.set(_next_publication_key(posts_generation), at, RESPONSE_SECONDS)
    return at


def _kept_seconds() -> int:
    """How long a count, a search's ranking or a remembered value may be kept (the next
    scheduled publication may shorten it)."""
    return SHARED_SECONDS if getattr(settings, "REDIS_URL", "") else COUNT_SECONDS


def _timeout(limit: int, posts_generation: int) -> int:
    """``limit``, shortened so that nothing outlives the next scheduled publication."""
    remaining = _seconds_until_next_publication(posts_generation)
    if remaining is None:
        return limit
    return max(0, min(limit, math.floor(remaining)))


def public_post_count() -> int:
    """How many posts are public: exact, and cached once there are many of them.

    Below ``POSTS_COUNT_CACHE_MIN`` public posts every call counts. Above it, the count
    is cached until the next post write (from any process when the cache is shared,
    otherwise within ``COUNT_SECONDS``) or the next scheduled publication.
    """
    from posts.models import Post
    from posts.querysets import is_public

    posts_generation = generation(POSTS)
    key = f"{KEY_PREFIX}:public-count:{posts_generation}"
    next_key = _next_publication_key(posts_generation)
    cached = cache.get_many([key, next_key])
    count = cached.get(key)
    if count is None:
        # The next publication comes with the count, in the same query (a walk of the
        # published posts' date index), so that searches, which keep their results only
        # when it is known (see _set_if_known), can on small sites too. Small sites
        # count on every request: the cache is written only when the answer changed.
        keep = settled()
        now = timezone.now()
        totals = Post.objects.filter(status=Post.Status.PUBLISHED).aggregate(
            public=Count("pk", filter=is_public(at=now)),
            next=Min("published_at", filter=Q(published_at__gt=now)),
        )
        count = totals["public"]
        at = totals["next"].timestamp() if totals["next"] is not None else 0.0
        if cached.get(next_key) != at:
            _remember_next_publication(posts_generation, totals["next"], keep=keep)
        if count >= getattr(settings, "POSTS_COUNT_CACHE_MIN", COUNT_CACHE_MIN) and keep:
            timeout = _timeout(_kept_seconds(), posts_generation)
            if timeout:
                cache.set(key, count, timeout)
    return count


def filtered_count(params: list, count: Callable[[], int]) -> int:
    """The count of a filtered public list (``params``: its filters, as
    ``PostFilters.cache_key`` gives them): kept, or as ``count()`` computes it.

    Like ``public_post_count``: below ``POSTS_COUNT_CACHE_MIN`` every call counts (an
    index walk of so few rows is cheap); above it, the count is kept until the next write
    that changes post content, since a tag on a fifth of the posts makes an exact count
    visit every one of them, on every page of that list.
    """
    value = kept_filtered_count(params)
    if value is not None:
        return value
    started = time.time()
    return keep_filtered_count(params, count(), counted_since=started)


def kept_filtered_count(params: list) -> int | None:
    """The count ``filtered_count`` keeps for ``params``, or None when it holds none."""
    return cache.get(_kept_key("filtered-count", params))


def keep_filtered_count(params: list, value: int, *, counted_since: float) -> int:
    """Keep ``value``, counted by reads that began at ``counted_since`` (a ``time.time()``),
    as the count of ``params`` if it is large enough."""
    if value >= getattr(settings, "POSTS_COUNT_CACHE_MIN", COUNT_CACHE_MIN):
        _set_if_known(_kept_key("filtered-count", params), value, since=counted_since)
    return value


def search_count(params: list, count: Callable[[], int]) -> int:
    """The count of a search, kept like the ranking of ``search_ranking``: a word found in
    most posts makes the exact count visit every match, on every page of those results."""
    return _kept("search-count", params, count)


def search_ranking(params: list, rank: Callable[[], tuple[int, list[int]]]) -> tuple[int, list[int]]:
    """The count of a relevance-ordered search and the ids of its ranked matches in
    order, as ``rank()`` computes them, kept until the next write that changes post
    content.

    Ranking reads and decompresses each match's search vector. Searches repeat, writes
    are rare: the result is kept until the next post, tag or profile write (any process
    when the cache is shared, otherwise within ``COUNT_SECONDS``) or the next scheduled
    publication, whichever comes first, and pages are read by id.
    """
    return _kept("search-ranking", params, rank)


def _kept(
    kind: str, params: list, compute: Callable[[], Any], keep: Callable[[Any], bool] | None = None
) -> Any:
    key = _kept_key(kind, params)
    value = cache.get(key)
    if value is None:
        started = time.time()
        value = compute()
        if keep is None or keep(value):
            _set_if_known(key, value, since=started)
    return value


def _kept_key(kind: str, params: list) -> str:
    digest = hashlib.sha256(json.dumps(params).encode()).hexdigest()
    return f"{KEY_PREFIX}:{kind}:{generation(CONTENT)}:{digest}"


def _set_if_known(key: str, value: object, *, since: float) -> None:
    # Only when the next publication is already known (the public list, the home page
    # and the response cache look it up once per post write): looking it up here would
    # cost a search or a filtered list one more query. ``since``: when the reads began.
    timeout = _known_timeout(_kept_seconds(), generation(POSTS))
    if timeout and settled(since=since):
        cache.set(key, value, timeout)


def _known_timeout(limit: int, posts_generation: int) -> int | None:
    """``_timeout`` from what the cache already knows, without a query; None if unknown."""
    at = cache.get(_next_publication_key(posts_generation))
    now = time.time()
    if at is None or (at and at <= now):
        return None
    return limit if not at else max(0, min(limit, math.floor(at - now)))


def remember(name: str, produce: Callable[[], object]) -> object:
    """``produce()``'s value, cached until the next write that changes post content (or the
    next scheduled publication): for aggregates that every reader page shows, such as the
    most used tags, which cost a scan of the post-tag table to compute."""
    key = f"{KEY_PREFIX}:value:{name}:{generation(CONTENT)}"
    value = cache.get(key)
    if value is None:
        # Both read before ``produce()`` runs, as the key is: see ``cached_response``.
        timeout = _timeout(max(RESPONSE_SECONDS, _kept_seconds()), generation(POSTS))
        keep = settled()
        value = produce()
        if timeout and keep:
            cache.set(key, value, timeout)
    return value


def validator() -> str | None:
    """What every anonymous response the generations cover depends on besides its URL,
    its format and the code that renders it: the content and posts generations and the
    next scheduled publication (so that the moment a scheduled post turns public changes
    it, with no write). ``config.http_cache`` makes the ETag of such responses from it
    before the view runs, so that a matching ``If-None-Match`` costs no rendering.

    None while reads may not reflect the generations yet (see :func:`settled`): the ETag
    then comes from the body. One cache round trip; a query once per posts generation
    (and per scheduled post turning public) to learn the next publication.
    """
    global _seen_posts_generation
    names = {CONTENT: _generation_key(CONTENT), POSTS: _generation_key(POSTS)}
    seen = _seen_posts_generation
    keys = [*names.values(), _last_bump_key()]
    if seen is not None:
        keys.append(_next_publication_key(seen))
    found = cache.get_many(keys)
    now = time.time()
    pin = _replica_pin_seconds()
    last = found.get(_last_bump_key())
    if pin and last is not None and last > now - pin:
        return None
    content = found.get(names[CONTENT]) or generation(CONTENT)
    posts = found.get(names[POSTS]) or generation(POSTS)
    at = found.get(_next_publication_key(posts)) if posts == seen else None
    if at is None or (at and at <= now):
        at = _next_publication_at(posts, now)
    _seen_posts_generation = posts
    return f"{content}:{posts}:{at!r}"


# The posts generation ``validator`` saw last in this process: while it is current (until
# the next post write), the next publication is read with the generations, in one round
# trip to the cache instead of two. Only a key's name is remembered, never a value.
_seen_posts_generation: int | None = None


# --- Anonymous responses ------------------------------------------------------------------

# /metrics (config/metrics.py): how often an anonymous list or detail was answered from the
# cache. Counted here, where the answer is decided: counting the cache backend's gets would
# mix in generations, counts and throttle counters.
RESPONSE_CACHE_LOOKUPS = Counter(
    "blog_response_cache_lookups",
    "Anonymous post list and detail requests looked up in the response cache, by result (hit or miss).",
    ["result"],
)


def response_cache_enabled() -> bool:
    return getattr(settings, "POSTS_RESPONSE_CACHE", False)


def _response_key(request: Request, params: Collection[str]) -> str | None:
    """The cache key for this request's response, or None when it must not be cached:
    only anonymous GETs answered as JSON are shared between callers.

    Of the query string, only ``params`` (those the response depends on) count, in a
    fixed order: any other parameter (a cache buster, a tracking tag) would make a new
    entry holding the same response, and anyone could fill the cache with them.
    """
    if request.method != "GET" or request.user.is_authenticated:
        return None
    renderer = getattr(request, "accepted_renderer", None)
    if renderer is None or renderer.format != "json":
        return None
    query = urlencode(
        [(name, value) for name in sorted(params) for value in request.query_params.getlist(name)]
    )
    # Scheme and host are part of the representation (absolute URLs in ``url``/``next``).
    return (
        f"{KEY_PREFIX}:response:{generation(CONTENT)}:{request.scheme}://{request.get_host()}"
        f"{request.path}?{query}"
    )


def cached_response(
    request: Request, produce: Callable[[], Response], *, params: Collection[str]
) -> HttpResponse:
    """Answer from the cache when this anonymous GET was answered since the last write,
    otherwise ``produce()`` the response and cache its rendered body if it is a 200.

    ``params``: the query parameters the response depends on (see ``_response_key``).
    A request with others is answered from the entry of the same request without them,
    but its own response is not stored: its links (``next``) carry those parameters,
    which must not reach other callers.
    """
    if not response_cache_enabled():
        return produce()
    key = _response_key(request, params)
    if key is None:
        return produce()
    body = cache.get(key)
    RESPONSE_CACHE_LOOKUPS.labels("miss" if body is None else "hit").inc()
    if body is not None:
        return HttpResponse(body, content_type=request.accepted_renderer.media_type)
    # Read before the queries run: entries from before a concurrent write stay under
    # the older generation.
    timeout = _timeout(RESPONSE_SECONDS, generation(POSTS))
    keep = settled()
    response = produce()
    if response.status_code == 200 and timeout and keep and set(request.query_params) <= set(params):
        response.add_post_render_callback(lambda rendered: cache.set(key, rendered.content, timeout))
    return response


class AnonymousResponseCacheMixin:
    """Serve ``list`` and ``retrieve`` to anonymous callers from the cache (when
    ``POSTS_RESPONSE_CACHE`` is on); every write that changes them invalidates them.

    ``list_query_params``: the query parameters a list response depends on besides
    pagination's and ``format`` (filters, search, ordering); the cache ignores others.
    """

    list_query_params: Collection[str] = ()

    def list(self, request: Request, *args, **kwargs) -> HttpResponse:
        paginator = self.paginator
        paging = (paginator.page_query_param, paginator.page_size_query_param) if paginator else ()
        params = {api_settings.URL_FORMAT_OVERRIDE, *paging, *self.list_query_params} - {None}
        return cached_response(
            request,
            lambda: super(AnonymousResponseCacheMixin, self).list(request, *args, **kwargs),
            params=params,
        )

    def retrieve(self, request: Request, *args, **kwargs) -> HttpResponse:
        return cached_response(
            request,
            lambda: super(AnonymousResponseCacheMixin, self).retrieve(request, *args, **kwargs),
            params={api_settings.URL_FORMAT_OVERRIDE},
        )
