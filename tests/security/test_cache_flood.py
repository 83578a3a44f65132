"""A flood of cached responses must not evict security state (issue 12, finding 4).

With Redis, anonymous post lists are cached in the same kind of store that counts failed
logins and throttled attempts, and a full cache evicts its least recently used keys.
Here the response cache is a memory cache that keeps a handful of entries, as a full
``allkeys-lru`` Redis would; the security alias is its own store, as in production.
"""

import pytest
from django.core.cache import caches
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from accounts.tests.factories import PASSWORD, UserFactory
from posts.tests.factories import PostFactory

pytestmark = pytest.mark.django_db

LOCMEM = "django.core.cache.backends.locmem.LocMemCache"
SMALL = 20  # entries the flooded response cache keeps
FLOOD = 3 * SMALL
ATTACKER = "203.0.113.66"


@pytest.fixture
def flooded_cache(settings):
    """The production shape with Redis: responses cached, lockouts and throttles counted
    in a cache (axes' cache handler), and a response cache small enough to evict."""
    settings.CACHES = {
        "default": {"BACKEND": LOCMEM, "LOCATION": "flood-default", "OPTIONS": {"MAX_ENTRIES": SMALL}},
        "security": {"BACKEND": LOCMEM, "LOCATION": "flood-security"},
    }
    # After CACHES: axes builds its handler, and picks its cache, when this changes.
    settings.AXES_HANDLER = "axes.handlers.cache.AxesCacheHandler"
    settings.AXES_FAILURE_LIMIT = 3
    settings.POSTS_RESPONSE_CACHE = True
    PostFactory.create_batch(3)
    yield settings
    for alias in settings.CACHES:
        caches[alias].clear()


def login(username: str, password: str):
    return APIClient(REMOTE_ADDR=ATTACKER).post(
        "/api/v1/auth/token/", {"username": username, "password": password}, format="json"
    )


def flood() -> None:
    reader = APIClient()
    for size in range(1, FLOOD + 1):
        # Each page size is a response of its own: a new entry in the response cache.
        assert reader.get(f"/api/v1/posts/?page_size={size}").status_code == 200


def test_a_flood_of_cached_responses_leaves_a_lockout_in_place(flooded_cache):
    UserFactory(username="locked")
    for _ in range(3):
        login("locked", "wrong-guess")
    assert login("locked", PASSWORD).status_code == 429
    flood()
    locked = login("locked", PASSWORD)
    assert locked.status_code == 429, "the flood lifted the lockout"
    assert "failed login attempts" in locked.json()["detail"]


def test_a_flood_of_cached_responses_leaves_the_login_budget_spent(flooded_cache):
    flooded_cache.AUTH_THROTTLE_RATE = "2/minute"
    UserFactory(username="sprayed")
    login("guess-1", "wrong-guess")
    login("guess-2", "wrong-guess")
    assert login("sprayed", PASSWORD).status_code == 429
    flood()
    assert login("sprayed", PASSWORD).status_code == 429, "the flood gave the address a new budget"


def test_unknown_query_parameters_are_answered_from_the_same_cached_response(settings):
    settings.POSTS_RESPONSE_CACHE = True
    post = PostFactory()
    reader = APIClient()
    first = reader.get("/api/v1/posts/?page_size=5")
    assert reader.get(f"/api/v1/posts/{post.slug}/").status_code == 200
    with CaptureQueriesContext(connection) as queries:
        padded = [
            reader.get("/api/v1/posts/?page_size=5&cachebust=1"),
            reader.get("/api/v1/posts/?utm_source=x&page_size=5&ref=newsletter"),
            reader.get(f"/api/v1/posts/{post.slug}/?cachebust=2"),
        ]
    assert [response.status_code for response in padded] == [200, 200, 200]
    assert padded[0].content == padded[1].content == first.content
    assert len(queries) == 0, "a parameter the endpoint ignores made a new cache entry"


def test_unknown_query_parameters_never_reach_other_readers_links(settings):
    settings.POSTS_RESPONSE_CACHE = True
    PostFactory.create_batch(3)
    reader = APIClient()
    tainted = reader.get("/api/v1/posts/?page_size=1&ref=evil")
    assert tainted.status_code == 200 and "ref=evil" in tainted.json()["next"]
    clean = reader.get("/api/v1/posts/?page_size=1")
    assert "ref=evil" not in clean.json()["next"]


# A value for each query parameter the post list documents, whose answer differs from
# the plain list's: served the plain list's entry instead, it would show.
DOCUMENTED_LIST_PARAMS = {
    "author": "nobody",
    "category": "none",
    "ordering": "title",
    "page": "2",
    "page_size": "1",
    "published_after": "2100-01-01",
    "published_before": "2000-01-01",
    "search": "zebra",
    "tag": "none",
}


def test_every_parameter_the_list_documents_still_gets_its_own_answer(settings):
    schema = APIClient().get("/api/v1/schema/?format=json").json()
    documented = {
        p["name"] for p in schema["paths"]["/api/v1/posts/"]["get"]["parameters"] if p["in"] == "query"
    }
    # A new parameter needs a value here, and a place in the response cache's key.
    assert documented == set(DOCUMENTED_LIST_PARAMS)
    for title in ["Beta", "Alpha", "Gamma"]:
        PostFactory(title=title)
    reader = APIClient()
    settings.POSTS_RESPONSE_CACHE = True
    plain = reader.get("/api/v1/posts/").content
    for name, value in DOCUMENTED_LIST_PARAMS.items():
        settings.POSTS_RESPONSE_CACHE = True
        cached = reader.get(f"/api/v1/posts/?{name}={value}")
        settings.POSTS_RESPONSE_CACHE = False
        fresh = reader.get(f"/api/v1/posts/?{name}={value}")
        assert fresh.content != plain, name
        assert (cached.status_code, cached.content) == (fresh.status_code, fresh.content), name
