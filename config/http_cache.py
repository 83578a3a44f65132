"""HTTP caching of every GET and HEAD: ETags and conditional requests, ``Vary`` and
``Cache-Control`` (API.md, "Browsers on other sites, and caches"; README, "HTTP caching").

- **Who may store it.** A request with an ``Authorization`` header or a session cookie
  may be answered for its caller alone (``liked``, ``following``, drafts): its answer is
  ``Cache-Control: private, no-cache``. Anyone else's is ``public, no-cache``: a shared
  cache (a CDN, the compose stack's nginx) may store it, but must revalidate it before
  every use, which the ETag makes cheap; ``no-cache`` rather than a lifetime because a
  write must show at once. A response that sets a cookie is private whoever asked. Every
  answer says ``Vary: Authorization, Cookie`` (and ``Accept`` under /api/, where the
  format is negotiated), so that no shared cache hands the anonymous variant to a
  signed-in reader or the reverse. A view that chose its own ``Cache-Control`` keeps it
  (the year-long media files, the export's ``no-store``, ``never_cache`` pages).
- **Body ETags**, the floor: a 200 that may be stored carries an ETag hashed from its
  body (Django's ``set_response_etag``, as ``ConditionalGetMiddleware`` makes it, HEAD
  included), and a matching ``If-None-Match`` turns it into a 304. Right for any
  response; it saves the transfer only. Streaming responses get none.
- **Generation ETags**, the fast path: the anonymous reads of ``GENERATION_ROUTES`` show
  only what ``posts.caching``'s generations cover (every write that changes them bumps
  one). Their ETag is computed before the view runs, from ``posts.caching.validator()``,
  the URL with its scheme, host and query, the ``Accept`` header where it matters, and
  the release (``release_fingerprint``): a matching ``If-None-Match`` is answered 304 at
  once, with no rendering and no query. Only with ``GENERATION_ETAGS`` (a cache that
  every process shares, else a write seen by one process would not move the others'
  generations), and not while replicas may lag behind a write (``validator()`` is None).
  Weak (``W/``): two responses under one generation mean the same, but a read racing a
  write's commit may differ in bytes.
"""

import functools
import hashlib
import os
from collections.abc import Callable
from pathlib import Path

import django
import rest_framework
from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseNotModified
from django.urls import Resolver404, resolve
from django.utils.cache import (
    cc_delim_re,
    get_conditional_response,
    parse_etags,
    patch_cache_control,
    patch_vary_headers,
    set_response_etag,
)

from config.middleware import is_api_request
from posts import caching

SAFE_METHODS = frozenset({"GET", "HEAD"})
VARY = ("Authorization", "Cookie")
API_VARY = ("Accept", *VARY)

# The routes whose anonymous responses are a function of the URL, the format, the release
# and what the generations of posts.caching cover, checked write by write (docs/
# performance.md, "HTTP caching"): posts, their comments, tags, categories, profiles,
# Conduit's equivalents, the feeds, the sitemaps and the reader pages. A route added here
# must show nothing that a write can change without a caching.bump().
GENERATION_ROUTES = frozenset(
    {
        # /api/v1/
        "post-list",
        "post-detail",
        "post-comments",
        "comment-detail",
        "tag-list",
        "tag-detail",
        "category-list",
        "category-detail",
        "user-detail",
        # Conduit, /api/
        "conduit:articles",
        "conduit:article",
        "conduit:comments",
        "conduit:tags",
        "conduit:profile",
        # Feeds and sitemaps
        "feed-rss",
        "feed-atom",
        "sitemap",
        "sitemap-index",
        "sitemap-section",
        # Reader pages
        "web:home",
        "web:post-detail",
        "web:author",
        "web:tag",
    }
)

# Settings read from the environment that change what those responses say: a change is
# a new release for their ETags even when no source file changed.
RENDERING_SETTINGS = (
    "SITE_NAME",
    "SITE_URL",
    "STATIC_URL",
    "MEDIA_URL",
    "MEDIA_S3_BUCKET",
    "MEDIA_S3_ENDPOINT_URL",
    "MEDIA_S3_CUSTOM_DOMAIN",
)
SOURCE_SUFFIXES = (".py", ".html", ".txt", ".xml")
# Not source of this site: virtualenvs, uploads, collected static files, tests.
SKIPPED_DIRECTORIES = frozenset({"node_modules", "media", "staticfiles", "__pycache__", "tests"})


@functools.cache
def release_fingerprint() -> str:
    """What identifies the code that renders responses, computed once per process:
    ``DJANGO_RELEASE`` when the deployment names its release, otherwise a hash of the
    project's source and templates; with the framework versions and the settings that
    change what pages say. A deploy that changes a template or a serializer changes
    every generation ETag, though no generation moved."""
    digest = hashlib.sha256()
    release = settings.RELEASE
    if release:
        digest.update(f"release:{release}".encode())
    else:
        root = Path(settings.BASE_DIR)
        for path in _source_files(root):
            digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    digest.update(f"django:{django.get_version()} drf:{rest_framework.VERSION}".encode())
    for name in RENDERING_SETTINGS:
        digest.update(f"{name}={getattr(settings, name, None)!r}\0".encode())
    return digest.hexdigest()[:16]


def _source_files(root: Path) -> list[Path]:
    found = []
    for directory, subdirectories, files in os.walk(root):
        subdirectories[:] = [
            name for name in subdirectories if not name.startswith(".") and name not in SKIPPED_DIRECTORIES
        ]
        found += [Path(directory, name) for name in files if name.endswith(SOURCE_SUFFIXES)]
    return sorted(found)


def is_personal(request: HttpRequest) -> bool:
    """Whether the request says who sends it (a token, a session), so that its answer
    may be made for its caller alone."""
    return "HTTP_AUTHORIZATION" in request.META or bool(request.COOKIES.get(settings.SESSION_COOKIE_NAME))


def _vary(request: HttpRequest) -> tuple[str, ...]:
    return API_VARY if is_api_request(request) else VARY


def generation_etag(request: HttpRequest) -> str | None:
    """The fast path's ETag for this anonymous GET or HEAD, or None when its route is
    not covered or the generations cannot be trusted now."""
    try:
        match = resolve(request.path_info)
    except Resolver404:
        return None
    if match.view_name not in GENERATION_ROUTES:
        return None
    basis = caching.validator()
    if basis is None:
        return None
    accept = request.META.get("HTTP_ACCEPT", "") if is_api_request(request) else ""
    url = f"{request.scheme}://{request.get_host()}{request.get_full_path()}"
    digest = hashlib.sha256("\0".join((release_fingerprint(), basis, url, accept)).encode())
    return f'W/"{digest.hexdigest()[:32]}"'


def _matches(etag: str, request: HttpRequest) -> bool:
    """Whether ``If-None-Match`` names ``etag`` (weak comparison, as RFC 9110 has it for
    GET). ``*`` is left to the view's answer: it matches only a resource that exists."""
    tags = parse_etags(request.META.get("HTTP_IF_NONE_MATCH", ""))
    return any(tag.removeprefix("W/") == etag.removeprefix("W/") for tag in tags)


def _apply_policy(request: HttpRequest, response: HttpResponse, *, personal: bool) -> None:
    """``Vary`` and ``Cache-Control`` as the module says."""
    chosen = _directives(response)
    if "public" not in chosen:
        # A view that made its response public (media) said it is the same for everyone.
        patch_vary_headers(response, _vary(request))
    if response.cookies:
        patch_cache_control(response, private=True)
    if chosen:
        return
    if personal or response.cookies:
        patch_cache_control(response, private=True, no_cache=True)
    else:
        patch_cache_control(response, public=True, no_cache=True)


def _directives(response: HttpResponse) -> set[str]:
    """The names of the response's ``Cache-Control`` directives (``max-age``...)."""
    values = cc_delim_re.split(response.get("Cache-Control", ""))
    return {value.split("=", 1)[0].strip().lower() for value in values if value.strip()}


def _storable(response: HttpResponse) -> bool:
    return "no-store" not in _directives(response)


class HttpCacheMiddleware:
    """ETags, 304s, ``Vary`` and ``Cache-Control`` for every GET and HEAD (module doc).

    Above the session, CSRF and message middleware, so that it sees the cookies they set
    (a response that sets one is private), and below CORS, so that its 304s are readable
    from other origins too."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method not in SAFE_METHODS:
            return self.get_response(request)
        personal = is_personal(request)
        etag = None
        if not personal and settings.GENERATION_ETAGS:
            etag = generation_etag(request)
            if etag is not None and _matches(etag, request):
                return self._not_modified(request, etag)
        response = self.get_response(request)
        _apply_policy(request, response, personal=personal)
        if response.status_code != 200 or response.streaming or not _storable(response):
            return response
        if not response.has_header("ETag"):
            # The generation's ETag only where the 304 above would say the same as this
            # 200: public, no cookie set (the browsable API sets the CSRF cookie).
            if etag is not None and not response.cookies:
                response["ETag"] = etag
            else:
                set_response_etag(response)
        if not response.has_header("ETag"):  # an empty body
            return response
        return get_conditional_response(request, etag=response["ETag"], response=response)

    def _not_modified(self, request: HttpRequest, etag: str) -> HttpResponse:
        """The 304 with what the 200 would carry for caches (RFC 9110, section 15.4.5)."""
        response = HttpResponseNotModified()
        response["ETag"] = etag
        _apply_policy(request, response, personal=False)
        return response
