"""Pagination for every list: ``page`` from 1, ``page_size`` default 20, capped at 100.

``count`` is exact for every filtered list but searches. A view may supply the count
itself through ``get_list_count(queryset)`` (the public post list does, unfiltered and
for searches: see ``posts.caching``), so that a page never waits on ``COUNT(*)`` over a
large table or a word found in most posts.
"""

from collections.abc import Hashable
from dataclasses import dataclass
from functools import partial
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from rest_framework import pagination

from config.prepared import PreparedQuery

COUNT_DESCRIPTION = (
    "How many items the list has. Exact for any filtered list, but for the unfiltered public post "
    "list on a large site and for a search it may be served from a cache: exact as of the last "
    "post written (at most a minute behind, per process, when no shared cache is configured)."
)


# From this offset on, a page first selects its ids, then loads those rows.
DEEP_OFFSET = 100


@dataclass
class Head:
    """The first ``size`` rows of a list's ordering, as a cheaper query of their own.

    ``ids``, when the view knows them (in order: e.g. a search's ranking, cached), let a
    page within the head be read by id from ``by_id`` (the list's rows, unordered).
    """

    rows: QuerySet
    size: int
    by_id: QuerySet | None = None
    ids: list | None = None


def with_head(queryset: QuerySet, head: QuerySet, size: int, *, by_id: QuerySet | None = None) -> QuerySet:
    """Mark ``queryset`` as starting with the ``size`` rows of ``head``, in the same
    order: ``KnownCountPaginator`` reads a page that lies within them from ``head`` (or
    by id, see ``Head``).

    The mark lives on this queryset object only (a clone drops it and simply pages
    ``queryset`` itself); the view hands it to the paginator unchanged.
    """
    queryset.paginator_head = Head(head, size, by_id)
    return queryset


def in_order(rows: QuerySet, ids: list) -> list:
    """The rows of ``rows`` with these ids, in the order of ``ids`` (missing ones left out)."""
    by_id = {row.pk: row for row in rows.filter(pk__in=ids).order_by()}
    return [by_id[pk] for pk in ids if pk in by_id]


def with_prepared_pages(
    queryset: QuerySet, key: Hashable, *, built_with: dict[str, Any] | None = None, **values: Any
) -> QuerySet:
    """Mark ``queryset`` as one whose shape ``key`` names completely, its ``values``
    (name: this request's value) aside: ``KnownCountPaginator`` then compiles each of
    its first pages once per process (``config.prepared``) and runs the compiled SQL
    with this request's values.

    ``built_with`` gives the values the queryset itself holds when they are not this
    request's (a queryset built once with stand-ins); such a queryset must only be
    asked for pages before ``DEEP_OFFSET``, which never run it. The key must change
    whenever anything but those values would change the SQL (a filter, an ordering);
    like ``with_head`` the mark lives on this object only.
    """
    queryset.prepared_pages = (key, values if built_with is None else built_with, values)
    return queryset


# (key, database, bottom, top) -> PreparedQuery. Bounded: page and page_size come from
# the client, though only pages before DEEP_OFFSET are prepared.
_prepared_pages: dict[tuple, PreparedQuery] = {}
PREPARED_PAGES_MAX = 256


def _prepared_page(rows: QuerySet, bottom: int, top: int) -> list:
    key, placeholders, values = rows.prepared_pages
    cache_key = (key, rows.db, bottom, top)
    query = _prepared_pages.get(cache_key)
    if query is None:
        if len(_prepared_pages) >= PREPARED_PAGES_MAX:
            _prepared_pages.clear()
        query = _prepared_pages[cache_key] = PreparedQuery(rows[bottom:top], **placeholders)
    return query.fetch(**values)


class KnownCountPaginator(Paginator):
    """Django's paginator, told the count instead of running ``COUNT(*)``, and with a
    deferred join for deep pages.

    ``OFFSET n`` makes PostgreSQL build every skipped row in full (joins, tag arrays)
    only to throw it away, so page 50 cost twenty times page 1. Past ``DEEP_OFFSET`` the
    page's ids are selected alone (an index walk), then only those rows are loaded.
    """

    def __init__(self, object_list: Any, per_page: int, *, known_count: int | None = None, **kwargs) -> None:
        super().__init__(object_list, per_page, **kwargs)
        if known_count is not None:
            self.__dict__["count"] = known_count  # ``count`` is a cached_property

    def page(self, number: Any) -> Page:
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        rows = self.object_list
        head = getattr(rows, "paginator_head", None)
        if head is not None and top <= min(head.size, self.count):
            if head.ids is not None and head.by_id is not None:
                return self._get_page(in_order(head.by_id, head.ids[bottom:top]), number, self)
            return self._get_page(head.rows[bottom:top], number, self)
        if getattr(rows, "prepared_pages", None) is not None and bottom < DEEP_OFFSET:
            return self._get_page(_prepared_page(rows, bottom, top), number, self)
        if bottom < DEEP_OFFSET or not isinstance(rows, QuerySet):
            return self._get_page(rows[bottom:top], number, self)
        ids = list(rows.values_list("pk", flat=True)[bottom:top])
        return self._get_page(in_order(rows, ids), number, self)


class PageNumberPagination(pagination.PageNumberPagination):
    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100

    def paginate_queryset(self, queryset, request, view=None):
        get_count = getattr(view, "get_list_count", None)
        known_count = get_count(queryset) if get_count is not None else None
        self.django_paginator_class = partial(KnownCountPaginator, known_count=known_count)
        return super().paginate_queryset(queryset, request, view)

    def get_paginated_response_schema(self, schema: dict) -> dict:
        response = super().get_paginated_response_schema(schema)
        response["properties"]["count"]["description"] = COUNT_DESCRIPTION
        return response
