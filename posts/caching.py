"""Caching for the public, anonymous side of the posts API, invalidated by generations.

Two counters live in the cache (Redis when ``REDIS_URL`` is set):

- the *content* generation moves on every write a post list or detail shows: posts,
  their tags, comments, likes, tags, categories and authors' public names;
- the *posts* generation moves only when the set of public posts may change (a post
  created, deleted, published or unpublished), the only writes that change the count.

Cached values are keyed by the generation, so a write makes every older entry
unreachable at once (they expire by themselves). Generations move when the write
happens and again when its transaction commits, so a reader that ran between the two
cannot leave data from before the commit under the newer generation.

Invalidation is explicit: each service that changes what is cached (``posts.services``,
``accounts.services`` for the author's name) calls :func:`bump` once, and every face
(the API, the pages, Conduit, the admin, ``seed_blog``) writes through them. No model
signal moves a generation: a login, which saves ``last_login``, keeps every cached page.

Scheduled posts turn public with no write at all, so nothing is cached past the moment
the next scheduled post becomes public.

With read replicas (``config.replicas``), a reader may reach a replica that has not yet
replayed the last write when the generation has already moved: what it read could then
be kept under the new generation until the next write. So for
``DATABASE_REPLICA_PIN_SECONDS`` after a write (as long as a writer is kept on the
primary) nothing read from a replica is kept; it is still served.
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

from config import replicas

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


def _written_key() -> str:
    return f"{KEY_PREFIX}:written"


def _note_write() -> None:
    if settings.REPLICA_DATABASES:
        cache.set(_written_key(), True, math.ceil(settings.DATABASE_REPLICA_PIN_SECONDS))


def _replica_may_lag() -> bool:
    """Whether this request reads from a replica that may not have the last write yet."""
    return replicas.reading_from_replica() and cache.get(_written_key()) is not None


def _keep(key: str, value: object, timeout: int | None) -> None:
    if not _replica_may_lag():
        cache.set(key, value, timeout)


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
        _note_write()

    incr_all()
    transaction.on_commit(incr_all)


def _seconds_until_next_publication(posts_generation: int) -> float | None:
    """Seconds until the next scheduled post turns public, or None when none is
    scheduled; one query per posts generation (and per scheduled post that turns public)."""
    from posts.models import Post

    now = time.time()
    at = cache.get(_next_publication_key(posts_generation))
    if at is None or (at and at <= now):
        first = Post.objects.scheduled().order_by("published_at").values_list("published_at", flat=True)
        at = _remember_next_publication(posts_generation, first.first())
    return at - now if at else None


def _next_publication_key(posts_generation: int) -> str:
    return f"{KEY_PREFIX}:next-publication:{posts_generation}"


def _remember_next_publication(posts_generation: int, when: datetime | None) -> float:
    at = when.timestamp() if when is not None else 0.0
    _keep(_next_publication_key(posts_generation), at, RESPONSE_SECONDS)
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
        now = timezone.now()
        totals = Post.objects.filter(status=Post.Status.PUBLISHED).aggregate(
            public=Count("pk", filter=is_public(at=now)),
            next=Min("published_at", filter=Q(published_at__gt=now)),
        )
        count = totals["public"]
        at = totals["next"].timestamp() if totals["next"] is not None else 0.0
        if cached.get(next_key) != at:
            _remember_next_publication(posts_generation, totals["next"])
        if count >= getattr(settings, "POSTS_COUNT_CACHE_MIN", COUNT_CACHE_MIN):
            timeout = _timeout(_kept_seconds(), posts_generation)
            if timeout:
                _keep(key, count, timeout)
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
    return keep_filtered_count(params, count()) if value is None else value


def kept_filtered_count(params: list) -> int | None:
    """The count ``filtered_count`` keeps for ``params``, or None when it holds none."""
    return cache.get(_kept_key("filtered-count", params))


def keep_filtered_count(params: list, value: int) -> int:
    """Keep ``value``, just counted, as the count of ``params`` if it is large enough."""
    if value >= getattr(settings, "POSTS_COUNT_CACHE_MIN", COUNT_CACHE_MIN):
        _set_if_known(_kept_key("filtered-count", params), value)
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
        value = compute()
        if keep is None or keep(value):
            _set_if_known(key, value)
    return value


def _kept_key(kind: str, params: list) -> str:
    digest = hashlib.sha256(json.dumps(params).encode()).hexdigest()
    return f"{KEY_PREFIX}:{kind}:{generation(CONTENT)}:{digest}"


def _set_if_known(key: str, value: object) -> None:
    # Only when the next publication is already known (the public list, the home page
    # and the response cache look it up once per post write): looking it up here would
    # cost a search or a filtered list one more query.
    timeout = _known_timeout(_kept_seconds(), generation(POSTS))
    if timeout:
        _keep(key, value, timeout)


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
        timeout = _timeout(max(RESPONSE_SECONDS, _kept_seconds()), generation(POSTS))
        value = produce()
        if timeout:
            _keep(key, value, timeout)
    return value


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
    keep = not _replica_may_lag()
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
