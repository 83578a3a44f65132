"""``EXPLAIN ANALYZE`` of every query the post lists send, as ``posts.selectors`` sends them.

Run against a seeded database (``make bench`` leaves one)::

    DATABASE_URL=postgres://... .venv/bin/python -m bench.explain [tag] [author] [word] [category]

Each read is made once through the selector (with an empty cache, so a count or a
search ranking that is kept until the next write is computed, as on the first request
after a write), its queries are captured, and each is explained with the parameters it
ran with. Session settings the read makes (``SET``/``RESET``) are applied, not explained.
"""

import os
import sys

import django


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.bench")
    django.setup()
    from django.core.cache import cache
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from config.pagination import Window
    from posts import selectors
    from posts.selectors import PostFilters

    given, defaults = sys.argv[1:5], ["python", "admin", "postgres", "news"]
    tag, author, word, category = given + defaults[len(given) :]
    first, fiftieth, sixtieth = Window.page(1, 20), Window.page(50, 20), Window.page(60, 20)
    reads = {
        "list page 1": (PostFilters(), first),
        "list page 50 (deferred join)": (PostFilters(), fiftieth),
        f"list by tag={tag}": (PostFilters(tags=(tag,)), first),
        f"list by tag={tag}, page 50": (PostFilters(tags=(tag,)), fiftieth),
        f"list by category={category}": (PostFilters(category=category), first),
        f"list by author={author}": (PostFilters(author=author), first),
        f"search {word!r}": (PostFilters(search=word), first),
        f"search {word!r}, page 60 (past the ranked matches)": (PostFilters(search=word), sixtieth),
        f"search {word!r} ordered by title": (PostFilters(search=word, ordering=("title",)), first),
    }
    for title, (filters, window) in reads.items():
        cache.clear()
        with CaptureQueriesContext(connection) as queries:
            selectors.public_posts(filters=filters, window=window)
        for number, query in enumerate(queries.captured_queries, start=1):
            sql = query["sql"]
            if sql.startswith(("SET ", "RESET ")):
                with connection.cursor() as cursor:
                    cursor.execute(sql)
                continue
            print(f"--- {title}: query {number} of {len(queries)}")
            with connection.cursor() as cursor:
                cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
                print("\n".join(row[0] for row in cursor.fetchall()))
            print()


if __name__ == "__main__":
    main()
