"""What made the difference: the post list and detail measured in-process with each
optimisation switched back off, one stage after another, against a seeded database.

    DATABASE_URL=postgres://.../blog_bench .venv/bin/python -m bench.stages [common word] [rare word]

Each stage undoes one change on top of the previous stage (so the first row is the code
as it was before any of them, the last row the code as it is). Per request: the process's
CPU time and the wall time, each the best of several batches (the machine is shared:
the best batch is the one least disturbed), and the queries it ran.
"""

import os
import sys
import time
from collections.abc import Callable
from contextlib import ExitStack, contextmanager
from unittest import mock

import django

BATCHES, PER_BATCH = 5, 30


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.bench")
    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django_filters.rest_framework import DjangoFilterBackend
    from rest_framework import serializers
    from rest_framework.generics import GenericAPIView
    from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer

    from config import pagination
    from posts import caching, querysets, views
    from posts.models import Post
    from posts.serializers import PostDetailSerializer, PostListSerializer
    from posts.views import POST_FILTER_BACKENDS, PostViewSet

    def exact_count(self, queryset=None):
        return None

    list_count = PostViewSet.get_list_count

    def ranked_in_the_page(self, queryset):
        # Before the ranking was kept: a search counted (kept from 10,000 matches on) and
        # ranked its matches in the page's own query, on every request.
        filters = self.list_filters
        if "search" not in filters:
            return list_count(self, queryset)
        count = caching.search_count(filters, queryset.count)
        return count if count >= caching.COUNT_CACHE_MIN else queryset.count()

    def prefetched_tags(self):
        return self.select_related("author", "category").prefetch_related("tags")

    def deferred_listing(self):
        return self.with_tag_slugs().defer(
            "body", "body_html", "search_vector", "author__password", "author__bio"
        )

    generic = serializers.ModelSerializer.to_representation

    patch = mock.patch.object
    plain_renderers = [JSONRenderer, BrowsableAPIRenderer]
    # Undone in this order (so applied bottom-up): the hand-built representation goes
    # before the tag array, which only it reads.
    plain_filters = [DjangoFilterBackend, *POST_FILTER_BACKENDS[1:]]
    changes: list[tuple[str, Callable[[], object]]] = [
        ("kept search ranking", lambda: patch(PostViewSet, "get_list_count", ranked_in_the_page)),
        ("detail compiled once", lambda: patch(PostViewSet, "get_object", GenericAPIView.get_object)),
        (
            "list pages compiled once",
            lambda: _both(
                patch(views, "with_prepared_pages", lambda queryset, key, **values: queryset),
                patch(PostViewSet, "_prepared_listing", lambda self: False),
            ),
        ),
        ("deferred join for deep pages", lambda: patch(pagination, "DEEP_OFFSET", 10**9)),
        ("no FilterSet when unfiltered", lambda: patch(PostViewSet, "filter_backends", plain_filters)),
        ("orjson renderer", lambda: patch(PostViewSet, "renderer_classes", plain_renderers)),
        ("only the listed columns", lambda: patch(querysets.PostQuerySet, "for_listing", deferred_listing)),
        (
            "tag slugs in the same query",
            lambda: patch(querysets.PostQuerySet, "with_tag_slugs", prefetched_tags),
        ),
        (
            "hand-built representation",
            lambda: _both(
                patch(PostListSerializer, "to_representation", generic),
                patch(PostDetailSerializer, "to_representation", generic),
            ),
        ),
        ("cached unfiltered count", lambda: patch(PostViewSet, "get_list_count", exact_count)),
    ]

    slug = Post.objects.public().order_by("-published_at").values_list("slug", flat=True)[5]
    common, rare = (sys.argv[1:3] + ["comment", "proof"][len(sys.argv[1:3]) :])[:2]
    paths = {
        "list p1": "/api/v1/posts/",
        "list p50": "/api/v1/posts/?page=50",
        "detail": f"/api/v1/posts/{slug}/",
        f"search {common}": f"/api/v1/posts/?search={common}",
        f"search {rare}": f"/api/v1/posts/?search={rare}",
    }
    client = Client(HTTP_HOST="127.0.0.1")

    def measure(path: str) -> tuple[float, float, int]:
        for _ in range(3):
            assert client.get(path).status_code == 200
        cpu = wall = float("inf")
        for _ in range(BATCHES):
            cpu0, wall0 = time.process_time(), time.perf_counter()
            for _ in range(PER_BATCH):
                client.get(path)
            cpu = min(cpu, (time.process_time() - cpu0) / PER_BATCH * 1000)
            wall = min(wall, (time.perf_counter() - wall0) / PER_BATCH * 1000)
        with CaptureQueriesContext(connection) as queries:
            client.get(path)
        return cpu, wall, len(queries)

    rows = []
    for undone in range(len(changes), -1, -1):
        with ExitStack() as stack:
            for _, undo in changes[:undone]:
                stack.enter_context(undo())
            label = "before all" if undone == len(changes) else f"+ {changes[undone][0]}"
            rows.append((label, {name: measure(path) for name, path in paths.items()}))

    count = Post.objects.public().count()
    print(f"{count:,} public posts; CPU and wall ms per request (best of {BATCHES} batches of {PER_BATCH})")
    header = "| stage | " + " | ".join(f"{n} CPU | {n} wall | {n} queries" for n in paths) + " |"
    print(header)
    print("|" + "---|" * (1 + 3 * len(paths)))
    for label, results in rows:
        cells = " | ".join(f"{cpu:.2f} | {wall:.2f} | {queries}" for cpu, wall, queries in results.values())
        print(f"| {label} | {cells} |")


@contextmanager
def _both(first, second):
    with first, second:
        yield


if __name__ == "__main__":
    main()
