"""Pagination for every list: ``page`` from 1, ``page_size`` default 20, capped at 100.

Lists that a selector answers (the post lists: see ``posts.selectors``) are asked for a
``Window`` and answer a ``ListPage``; other lists (comments, tags, categories) are
querysets that DRF's paginator slices. Both answer the same body,
``{count, next, previous, results}``, and the same 404 for a malformed page or one past
the end.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from rest_framework import pagination
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

T = TypeVar("T")

COUNT_DESCRIPTION = (
    "How many items the list has, exact as of the last write. For public posts it may come from "
    "a cache kept until the next post write: for a list (filtered or not) of 10,000 posts or more, "
    "and for every search (at most a minute behind, per process, when no shared cache is configured)."
)


@dataclass(frozen=True)
class Window:
    """Which rows of a list to read: ``limit`` rows from ``offset`` (both from the client,
    already validated)."""

    offset: int
    limit: int

    @classmethod
    def page(cls, number: int, size: int) -> "Window":
        return cls(offset=(number - 1) * size, limit=size)


@dataclass(frozen=True)
class ListPage(Generic[T]):
    """One window of a list: its ``items`` and how many the whole list has."""

    items: Sequence[T]
    count: int
    window: Window

    @property
    def number(self) -> int:
        return self.window.offset // self.window.limit + 1

    @property
    def num_pages(self) -> int:
        return max(1, math.ceil(self.count / self.window.limit))

    @property
    def has_previous(self) -> bool:
        return self.window.offset > 0

    @property
    def has_next(self) -> bool:
        return self.window.offset + self.window.limit < self.count

    @property
    def has_other_pages(self) -> bool:
        return self.has_previous or self.has_next

    @property
    def previous_page_number(self) -> int:
        return self.number - 1

    @property
    def next_page_number(self) -> int:
        return self.number + 1

    @property
    def past_the_end(self) -> bool:
        """A window after the last item (an empty list's first page is not)."""
        return self.window.offset > 0 and self.window.offset >= self.count


def page_number(value: Any) -> int:
    """A page number from the query string: a positive integer, or ``NotFound``."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = 0
    if number < 1:
        raise NotFound(PageNumberPagination.invalid_page_message)
    return number


class PageNumberPagination(pagination.PageNumberPagination):
    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100
    # A page is a number: DRF's "last" would need the count before the window is known.
    last_page_strings = ()

    def window(self, request: Request, *, page_size: int | None = None) -> Window:
        """The window this request asks for (``page`` and ``page_size``; ``page_size``
        given, the client's is ignored); ``NotFound`` for a malformed page."""
        self.request = request
        number = page_number(request.query_params.get(self.page_query_param) or 1)
        return Window.page(number, page_size or self.get_page_size(request))

    def page_response(self, page: ListPage, results: list) -> Response:
        """The body of ``page`` with ``results`` (its serialized items); ``NotFound`` for a
        page past the end."""
        if page.past_the_end:
            raise NotFound(self.invalid_page_message)
        url = self.request.build_absolute_uri()
        next_link = pagination.replace_query_param(url, self.page_query_param, page.next_page_number)
        if page.previous_page_number == 1:
            previous_link = pagination.remove_query_param(url, self.page_query_param)
        else:
            previous_link = pagination.replace_query_param(
                url, self.page_query_param, page.previous_page_number
            )
        return Response(
            {
                "count": page.count,
                "next": next_link if page.has_next else None,
                "previous": previous_link if page.has_previous else None,
                "results": results,
            }
        )

    def get_schema_operation_parameters(self, view) -> list[dict]:
        return [
            {
                "name": self.page_query_param,
                "required": False,
                "in": "query",
                "description": "A page number, from 1. A page past the end is a 404.",
                "schema": {"type": "integer", "minimum": 1},
            },
            {
                "name": self.page_size_query_param,
                "required": False,
                "in": "query",
                # The contract's leniency: the one parameter a malformed value of which is
                # no 400 (schemathesis.toml says so for each list).
                "description": f"Items per page, default {self.page_size}. A larger value than "
                f"{self.max_page_size} means {self.max_page_size}; a malformed one, the default.",
                "schema": {"type": "integer", "minimum": 1},
            },
        ]

    def get_paginated_response_schema(self, schema: dict) -> dict:
        response = super().get_paginated_response_schema(schema)
        response["properties"]["count"]["description"] = COUNT_DESCRIPTION
        # Always in the body, null when there is no such page: required, not optional.
        response["required"] = ["count", "next", "previous", "results"]
        for link in ("next", "previous"):
            response["properties"][link].pop("example", None)
        return response
