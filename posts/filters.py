"""The query parameters of post lists: declared (for the schema), validated, and read
into ``posts.selectors.PostFilters``, which the selectors apply.

The FilterSets and backends below describe the parameters to drf-spectacular and
validate them as DRF and django-filter do (a malformed date is a 400); they never filter
a queryset themselves: how a filter runs fast is the selectors' business.
"""

import datetime

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django_filters import fields as filter_fields
from django_filters import rest_framework as filters
from django_filters import utils as filter_utils
from drf_spectacular.utils import extend_schema_field
from rest_framework.filters import BaseFilterBackend, OrderingFilter
from rest_framework.request import Request
from rest_framework.views import APIView

from posts import search
from posts.models import Post
from posts.selectors import ORDERING_KEYS, RANKED_MATCHES, PostFilters


class DateOrDateTimeField(forms.Field):
    """An ISO 8601 date or datetime. A date means its midnight UTC; a naive time is UTC."""

    default_error_messages = {"invalid": "Enter an ISO 8601 date (YYYY-MM-DD) or datetime."}

    def to_python(self, value: str | None) -> datetime.datetime | None:
        if value is None:  # not given
            return None
        # Given empty (?published_after=) is no date either: a 400, as the schema says.
        value = value.strip()
        try:
            parsed = parse_datetime(value)
            if parsed is None:
                day = parse_date(value)
                if day is None:
                    raise ValueError
                parsed = datetime.datetime.combine(day, datetime.time.min)
        except (ValueError, OverflowError) as exc:
            raise ValidationError(self.error_messages["invalid"], code="invalid") from exc
        if timezone.is_naive(parsed):
            parsed = parsed.replace(tzinfo=datetime.UTC)
        try:
            # In UTC: PostgreSQL refuses offsets beyond +-15:59 that Python parses.
            return parsed.astimezone(datetime.UTC)
        except OverflowError:
            # A valid time before the year 1 or after 9999 in UTC (0001-01-01T00:00+01:00):
            # the bound on its side filters exactly as it does.
            early = parsed.utcoffset() > datetime.timedelta(0)
            return (datetime.datetime.min if early else datetime.datetime.max).replace(tzinfo=datetime.UTC)


class DateOrDateTimeFilter(filters.Filter):
    field_class = DateOrDateTimeField


def _date_or_datetime_filter(lookup_expr: str, bound: str) -> DateOrDateTimeFilter:
    # Either format: "date-time" alone would make clients and fuzzers refuse a bare date.
    schema = {
        "anyOf": [{"type": "string", "format": "date"}, {"type": "string", "format": "date-time"}],
        "description": f"ISO 8601 date or datetime, {bound}. A date means its midnight UTC; "
        "a time without offset is UTC.",
    }
    return extend_schema_field(schema)(
        DateOrDateTimeFilter(field_name="published_at", lookup_expr=lookup_expr)
    )


class _DeclaredFilterSet(filters.FilterSet):
    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        raise NotImplementedError("posts.selectors applies the post filters: use read_post_filters()")


class PostFilter(_DeclaredFilterSet):
    author = filters.CharFilter(help_text="Author's username (any case).")
    tag = filters.CharFilter(help_text="A tag slug, or several comma-separated: any of them.")
    category = filters.CharFilter(help_text="Category slug.")
    published_after = _date_or_datetime_filter("gte", "inclusive")
    published_before = _date_or_datetime_filter("lt", "exclusive")

    class Meta:
        model = Post
        fields = ["author", "tag", "category", "published_after", "published_before"]


class GivenChoiceField(filter_fields.ChoiceField):
    """One of the choices when given: ``?status=`` (empty) is refused like any unknown value."""

    def clean(self, value: str | None) -> str:
        # None: not in the query string. "": given empty (to_python makes both "").
        if value == "":
            raise ValidationError(
                self.error_messages["invalid_choice"], code="invalid_choice", params={"value": value}
            )
        return super().clean(value)


class StatusFilter(filters.ChoiceFilter):
    field_class = GivenChoiceField


class MyPostFilter(PostFilter):
    status = StatusFilter(
        choices=[("draft", "draft"), ("scheduled", "scheduled"), ("published", "published (public now)")],
        empty_label=None,
    )

    class Meta(PostFilter.Meta):
        fields = [*PostFilter.Meta.fields, "status"]


class PostOrderingFilter(OrderingFilter):
    """``ordering``: published_at, title, like_count, comment_count, with ``-`` for
    descending, comma-separated. Unknown keys are ignored. Ties break by newest id, so
    pages never overlap."""

    ordering_fields = list(ORDERING_KEYS)
    ordering_description = (
        "Comma-separated keys among published_at, title, like_count, comment_count; prefix `-` for "
        "descending. Default -published_at (relevance when searching); unknown keys are ignored."
    )

    def filter_queryset(self, request: Request, queryset: QuerySet, view: APIView) -> QuerySet:
        raise NotImplementedError("posts.selectors orders post lists: use read_post_filters()")


class PostSearchFilter(BaseFilterBackend):
    """``search``: full text over title, excerpt and body (see ``posts.search``)."""

    search_param = "search"

    def filter_queryset(self, request: Request, queryset: QuerySet, view: APIView) -> QuerySet:
        raise NotImplementedError("posts.selectors searches post lists: use read_post_filters()")

    def get_schema_operation_parameters(self, view: APIView) -> list[dict]:
        return [
            {
                "name": self.search_param,
                "required": False,
                "in": "query",
                "description": "Full-text search over title, excerpt and body; results by relevance "
                "unless `ordering` is given (when a search matches more than "
                f"{RANKED_MATCHES:,} posts, the newest {RANKED_MATCHES:,} come by relevance, then the "
                "older ones newest first; none is left out). The "
                "ranking and `count` are kept in a cache until the next post write. Syntax (as web "
                'search engines): words must all appear, `"a phrase"` in that order, `or` between '
                'alternatives, `-word` or `-"a phrase"` must not appear. At most '
                f"{search.MAX_SEARCH_WORDS} words count (the rest is ignored), and every alternative needs a "
                "word to look for: a search of only negations (`-draft`, `cat or -dog`) matches "
                f"nothing. At most {search.MAX_SEARCH_LENGTH} characters. On SQLite (development) the "
                "term is matched as plain text.",
                "schema": {"type": "string"},
            }
        ]


# Parameters that post lists read (filters, search, ordering): the response cache keys on them.
POST_LIST_PARAMS = (
    *PostFilter.base_filters,
    PostSearchFilter.search_param,
    PostOrderingFilter.ordering_param,
)


def search_term(value: str | None) -> str:
    """The search term as the selectors take it: trimmed and at most MAX_SEARCH_LENGTH."""
    return (value or "").strip()[: search.MAX_SEARCH_LENGTH]


def ordering_keys(value: str | None) -> tuple[str, ...]:
    """The valid keys of an ``ordering`` parameter, in order; unknown keys are ignored."""
    keys = (key.strip() for key in (value or "").split(","))
    return tuple(key for key in keys if key.lstrip("-") in ORDERING_KEYS)


def read_post_filters(request: Request, filterset_class: type[PostFilter] = PostFilter) -> PostFilters:
    """This list request's filters, search and ordering; a ``ValidationError`` (400) for
    a malformed value, as django-filter's backend gives."""
    params = request.query_params
    values: dict = {}
    # Most lists have no filter at all: building and validating an empty FilterSet would
    # cost more than the rest of reading the parameters.
    if any(name in params for name in filterset_class.base_filters):
        filterset = filterset_class(data=params, request=request)
        if not filterset.is_valid():
            raise filter_utils.translate_validation(filterset.errors)
        values = filterset.form.cleaned_data
    tags = tuple(slug.strip() for slug in (values.get("tag") or "").split(",") if slug.strip())
    return PostFilters(
        author=(values.get("author") or "").strip(),
        tags=tags,
        category=(values.get("category") or "").strip(),
        published_after=values.get("published_after"),
        published_before=values.get("published_before"),
        status=values.get("status") or "",
        search=search_term(params.get(PostSearchFilter.search_param)),
        ordering=ordering_keys(params.get(PostOrderingFilter.ordering_param)),
    )
