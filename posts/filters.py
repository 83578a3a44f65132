"""Filtering, ordering and search for post lists."""

import datetime

from django import forms
from django.contrib.postgres.search import SearchQuery, SearchRank
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import (
    Case,
    Exists,
    F,
    FloatField,
    Func,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    TextField,
    Value,
    When,
)
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema_field
from rest_framework.filters import BaseFilterBackend, OrderingFilter
from rest_framework.request import Request
from rest_framework.views import APIView

from accounts.models import User
from config.pagination import Head, with_head
from posts import search
from posts.models import Post

# Matches ranked by relevance in a search, newest first (see PostSearchFilter).
RANKED_MATCHES = 1000


class DateOrDateTimeField(forms.Field):
    """An ISO 8601 date or datetime. A date means its midnight UTC; a naive time is UTC."""

    default_error_messages = {"invalid": "Enter an ISO 8601 date (YYYY-MM-DD) or datetime."}

    def to_python(self, value: str | None) -> datetime.datetime | None:
        if value in (None, ""):
            return None
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
        except OverflowError as exc:
            raise ValidationError(self.error_messages["invalid"], code="invalid") from exc


class DateOrDateTimeFilter(filters.Filter):
    field_class = DateOrDateTimeField


def _date_or_datetime_filter(lookup_expr: str, bound: str) -> DateOrDateTimeFilter:
    # A plain string in the schema: "date-time" would make clients reject a bare date.
    schema = {
        "type": "string",
        "description": f"ISO 8601 date or datetime, {bound}. A date means its midnight UTC; "
        "a time without offset is UTC.",
    }
    return extend_schema_field(schema)(
        DateOrDateTimeFilter(field_name="published_at", lookup_expr=lookup_expr)
    )


class PostFilter(filters.FilterSet):
    author = filters.CharFilter(method="filter_author", help_text="Author's username (any case).")
    tag = filters.CharFilter(
        method="filter_tag", help_text="A tag slug, or several comma-separated: any of them."
    )
    category = filters.CharFilter(field_name="category__slug", help_text="Category slug.")
    published_after = _date_or_datetime_filter("gte", "inclusive")
    published_before = _date_or_datetime_filter("lt", "exclusive")

    class Meta:
        model = Post
        fields = ["author", "tag", "category", "published_after", "published_before"]

    def filter_author(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(author__in=User.objects.with_username(value).values("pk"))

    def filter_tag(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        slugs = [slug.strip() for slug in value.split(",") if slug.strip()]
        if not slugs:
            return queryset
        # EXISTS, not a join: a post with two matching tags must appear once.
        tagged = Post.tags.through.objects.filter(post_id=OuterRef("pk"), tag__slug__in=slugs)
        return queryset.filter(Exists(tagged))


class MyPostFilter(PostFilter):
    status = filters.ChoiceFilter(
        choices=[("draft", "draft"), ("scheduled", "scheduled"), ("published", "published (public now)")],
        method="filter_status",
    )

    class Meta(PostFilter.Meta):
        fields = [*PostFilter.Meta.fields, "status"]

    def filter_status(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.with_status(value)


class PostFilterBackend(filters.DjangoFilterBackend):
    """django-filter's backend, skipped when the request has none of the filterset's
    parameters: building and validating an empty FilterSet filters nothing and cost
    ~15% of a post list request."""

    def filter_queryset(self, request: Request, queryset: QuerySet, view: APIView) -> QuerySet:
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is not None and not any(
            name in request.query_params for name in filterset_class.base_filters
        ):
            return queryset
        return super().filter_queryset(request, queryset, view)


class PostOrderingFilter(OrderingFilter):
    """``ordering``: published_at, title, like_count, comment_count, with ``-`` for
    descending, comma-separated. Unknown keys are ignored. Ties break by newest id, so
    pages never overlap."""

    ordering_fields = ["published_at", "title", "like_count", "comment_count"]
    ordering_description = (
        "Comma-separated keys among published_at, title, like_count, comment_count; prefix `-` for "
        "descending. Default -published_at (relevance when searching); unknown keys are ignored."
    )

    # Drafts have no published_at. PostgreSQL sorts NULLs last ascending and first
    # descending, SQLite the other way round; spelling PostgreSQL's rule out makes both
    # databases agree (and PostgreSQL's plan, and so its index use, is unchanged).
    NULLS_AS_POSTGRESQL = {
        "published_at": F("published_at").asc(nulls_last=True),
        "-published_at": F("published_at").desc(nulls_first=True),
    }

    def get_ordering(self, request: Request, queryset: QuerySet, view: APIView):
        ordering = super().get_ordering(request, queryset, view)
        if ordering:
            return [*(self.NULLS_AS_POSTGRESQL.get(key, key) for key in ordering), "-id"]
        return ordering

    def filter_queryset(self, request: Request, queryset: QuerySet, view: APIView) -> QuerySet:
        if self.get_valid_ordering_requested(request, queryset, view):
            return super().filter_queryset(request, queryset, view)
        if request.query_params.get(PostSearchFilter.search_param, "").strip():
            return queryset  # relevance order, set by the search backend
        return super().filter_queryset(request, queryset, view)

    def get_valid_ordering_requested(self, request: Request, queryset: QuerySet, view: APIView) -> bool:
        params = request.query_params.get(self.ordering_param)
        if not params:
            return False
        fields = [param.strip() for param in params.split(",")]
        return bool(self.remove_invalid_fields(queryset, fields, view, request))


class PostSearchFilter(BaseFilterBackend):
    """``search``: full text over title, excerpt and body.

    On PostgreSQL: the stored, weighted ``search_vector`` (GIN-indexed) matched by a
    ``websearch_to_tsquery``, ordered by rank unless ``ordering`` is given. Elsewhere
    (SQLite): case-insensitive containment.
    """

    search_param = "search"
    max_length = search.MAX_SEARCH_LENGTH

    def filter_queryset(self, request: Request, queryset: QuerySet, view: APIView) -> QuerySet:
        term = request.query_params.get(self.search_param, "").strip()[: self.max_length]
        if not term:
            return queryset
        # Only a valid ordering overrides relevance: unknown keys are ignored, as elsewhere.
        ordered_by_client = PostOrderingFilter().get_valid_ordering_requested(request, queryset, view)
        if connection.vendor == "postgresql":
            parsed = search.parse(term)
            query = search.match_query(parsed)
            if query is None or not parsed.looks_for_something:
                return queryset.none()
            # Stop words drop out of a query ("the -dog" is only "-dog"): PostgreSQL's
            # querytree() says "T" when what remains cannot use the index, and as it only
            # depends on the term, the planner settles it before any row is read.
            indexable = Func(query, function="querytree", output_field=TextField())
            queryset = queryset.filter(search_vector=query).alias(search_indexable=indexable)
            queryset = queryset.exclude(search_indexable="T")
            query = search.rank_query(parsed)
            if not ordered_by_client:
                newest = queryset.order_by("-published_at", "-id").values("pk")[:RANKED_MATCHES]
                ranked = queryset.annotate(rank=self._bounded_rank(newest, query))
                ranked = ranked.order_by("-rank", "-published_at", "-id")
                # The first RANKED_MATCHES results are exactly the newest matches by
                # relevance (every other match ranks -1, below them): a page among them
                # is read from those alone, instead of sorting every match (for a word
                # in every post, all 100,000 rows) to find it.
                head = queryset.filter(pk__in=newest).annotate(rank=SearchRank(F("search_vector"), query))
                head = head.order_by("-rank", "-published_at", "-id")
                return with_head(ranked, head, RANKED_MATCHES, by_id=queryset)
            return queryset
        matches = Q(title__icontains=term) | Q(excerpt__icontains=term) | Q(body__icontains=term)
        return queryset.filter(matches)

    @staticmethod
    def ranked_matches_query(head: Head) -> QuerySet:
        """The ids of a relevance-ordered search's ranked head (``head.rows``: the newest
        ``RANKED_MATCHES`` matches by relevance) in order, each with how many posts match
        in all: a subquery PostgreSQL runs once."""
        matches = head.by_id.order_by()
        total = matches.annotate(total=Func(F("pk"), function="COUNT", output_field=IntegerField()))
        return head.rows.annotate(total=Subquery(total.values("total"))).values_list("pk", "total")

    @classmethod
    def ranked_matches(cls, head: Head) -> tuple[int, list[int]]:
        """How many posts the search matches, and its ranked ids in order: one query."""
        rows = list(cls.ranked_matches_query(head))
        return (rows[0][1] if rows else 0), [pk for pk, _ in rows]

    @staticmethod
    def _bounded_rank(newest: QuerySet, query: SearchQuery) -> Case:
        """The rank of the newest ``RANKED_MATCHES`` matches, -1 for older ones.

        Ranking reads and decompresses each match's vector: for a word found in most of
        100,000 posts that took seconds. Any rarer word has all its matches ranked; for
        a very common one, the newest matches come by relevance, then the older ones
        newest first. Nothing is left out, so ``count`` stays exact.
        """
        return Case(
            When(pk__in=newest, then=SearchRank(F("search_vector"), query)),
            default=Value(-1.0),
            output_field=FloatField(),
        )

    def get_schema_operation_parameters(self, view: APIView) -> list[dict]:
        return [
            {
                "name": self.search_param,
                "required": False,
                "in": "query",
                "description": "Full-text search over title, excerpt and body; results by relevance "
                "unless `ordering` is given (when a search matches more than 1,000 posts, the newest "
                "1,000 come by relevance, then the older ones newest first; none is left out). The "
                "ranking and `count` are kept in a cache until the next post write. Syntax (as web "
                'search engines): words must all appear, `"a phrase"` in that order, `or` between '
                'alternatives, `-word` or `-"a phrase"` must not appear. At most '
                f"{search.MAX_SEARCH_WORDS} words count (the rest is ignored), and every alternative needs a "
                "word to look for: a search of only negations (`-draft`, `cat or -dog`) matches "
                "nothing. At most 200 characters. On SQLite (development) the term is matched as "
                "plain text.",
                "schema": {"type": "string"},
            }
        ]
