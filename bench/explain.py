"""``EXPLAIN ANALYZE`` of the queries the post list runs, built by the API's own code.

Run against a seeded database (``make bench`` leaves one)::

    DATABASE_URL=postgres://... .venv/bin/python -m bench.explain [tag] [author] [word]

Each query is the one the view sends: the page of the public list (page 50 by its
deferred join), the list filtered by tag and by author (with their exact counts), and the
full-text search (its ranking and count, computed once per write; page 1 read by id from
that ranking; a page past the ranked matches; and the count of a search ordered by the
client), with ``enable_seqscan`` off as the search view sets it.
"""

import os
import sys

import django


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.bench")
    django.setup()
    from django.db import connection
    from django.test import RequestFactory
    from django.test.utils import CaptureQueriesContext
    from rest_framework.request import Request

    from posts.filters import PostFilter, PostSearchFilter
    from posts.models import Post

    given, defaults = sys.argv[1:4], ["python", "admin", "postgres"]
    tag, author, word = given + defaults[len(given) :]

    def listing():
        return Post.objects.public().for_listing().order_by("-published_at", "-id")

    def filtered(**params):
        return PostFilter(data=params, queryset=listing()).qs

    def searched(term: str):
        request = Request(RequestFactory().get("/api/v1/posts/", {"search": term}))
        return PostSearchFilter().filter_queryset(request, listing(), view=None)

    plans = {
        "list page 1": listing()[:20],
        "list page 50, its ids (deferred join)": listing().values_list("pk", flat=True)[980:1000],
        "list page 50, its rows": listing().filter(
            pk__in=list(listing().values_list("pk", flat=True)[980:1000])
        ),
        f"list by tag={tag}": filtered(tag=tag)[:20],
        f"count by tag={tag}": filtered(tag=tag),
        f"list by author={author}": filtered(author=author)[:20],
        f"count by author={author}": filtered(author=author),
        # Once per write: the newest matches ranked (their ids, in order) and counted.
        f"search {word!r}: ranking and count": PostSearchFilter.ranked_matches_query(
            searched(word).paginator_head
        ),
        # Every request until the next write: page 1 read by id from the kept ranking.
        f"search {word!r}: page 1 by id": searched(word).paginator_head.by_id.filter(
            pk__in=PostSearchFilter.ranked_matches(searched(word).paginator_head)[1][:20]
        ),
        f"search {word!r}, page 60 (past the ranked matches)": searched(word)[1180:1200],
        f"count search {word!r}": searched(word),
    }
    for title, queryset in plans.items():
        print(f"--- {title}")
        if "search" in title:
            with connection.cursor() as cursor:
                cursor.execute("SET enable_seqscan = off")  # as the search view does (PostListMixin.list)
        if title.startswith("count"):
            # Exactly the SQL Paginator.count sends.
            with CaptureQueriesContext(connection) as queries:
                queryset.count()
            with connection.cursor() as cursor:
                cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {queries[-1]['sql']}")
                print("\n".join(row[0] for row in cursor.fetchall()))
        else:
            print(queryset.explain(analyze=True, buffers=True))
        print()


if __name__ == "__main__":
    main()
