"""Reads of posts: the one home of every list, detail and feed that a face shows.

The JSON API, the pages, Conduit and the syndication feeds all call these functions
with the viewer and what the reader asked for, and get explicit results back: a
``ListPage`` (items, count, the window) or a post. What makes them fast — SQL compiled
once per process, cached counts, the search's ranking, the deferred join of deep pages,
the database-specific plans — stays behind them: nothing travels on QuerySet attributes,
and no caller knows which plan answered.

A post in a list is the same row for every face (``_LISTING_FIELDS``, the author with
their avatar, the category and the cover image joined) with its tags as
``post.tag_list`` (``TagRef``s, by slug): showing a cover or an avatar costs no query
per post.
"""

import contextlib
import functools
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NamedTuple

from django.conf import settings
from django.contrib.postgres.expressions import ArraySubquery
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.search import SearchRank
from django.db import DatabaseError, connection, connections, router, transaction
from django.db.models import (
    Case,
    CharField,
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

from accounts.models import Follow, User
from config.pagination import ListPage, Window
from config.prepared import PreparedQuery
from posts import caching, search
from posts.models import Category, Comment, Like, Post, Tag, Tagging

ORDERING_KEYS = ("published_at", "title", "like_count", "comment_count")
# A search ranks its newest matches by relevance, this many at most (see _search_page).
RANKED_MATCHES = 1000

_LISTING_FIELDS = (
    "id", "slug", "title", "excerpt", "status", "published_at", "created_at", "updated_at",
    "comment_count", "like_count", "reading_time", "author__username", "author__display_name",
    "author__bio", "author__image",
    "author__avatar__id", "author__avatar__file", "author__avatar__width", "author__avatar__height",
    "author__avatar__renditions",
    "category__slug", "category__name",
    "cover_image__id", "cover_image__file", "cover_image__width", "cover_image__height",
    "cover_image__alt", "cover_image__renditions",
)  # fmt: skip
# What is joined to every post read: its author (with their avatar), category and cover.
_JOINED = ("author__avatar", "category", "cover_image")
_DETAIL_FIELDS = (*_LISTING_FIELDS, "body", "body_html")
# From this offset on a page selects its ids first, then loads those rows: OFFSET n makes
# PostgreSQL build every skipped row in full (joins, tag arrays) only to throw it away.
_DEEP_OFFSET = 100
# Stand-ins that compiled queries are built with (see config.prepared).
_SLUG_PLACEHOLDER = "\x00slug"
_NOW_PLACEHOLDER = datetime(1, 1, 1, 0, 0, 1, 234567, tzinfo=UTC)
_COMPILED_MAX = 256


class TagRef(NamedTuple):
    slug: str
    name: str


@dataclass(frozen=True)
class PostFilters:
    """What a reader asked a post list for, already validated. Empty means no filter."""

    author: str = ""  # a username, any case
    tags: tuple[str, ...] = ()  # tag slugs: posts with any of them
    category: str = ""  # a category slug
    published_after: datetime | None = None  # inclusive
    published_before: datetime | None = None  # exclusive
    liked_by: str = ""  # a username, any case
    status: str = ""  # draft, scheduled or published (public now); own_posts only
    search: str = ""  # see posts.search; relevance order unless ``ordering``
    ordering: tuple[str, ...] = field(default=())  # keys of ORDERING_KEYS, "-" for descending

    @property
    def narrows(self) -> bool:
        """Whether these filters leave out any post of the list (the ordering does not)."""
        return any(
            (
                self.author,
                self.tags,
                self.category,
                self.published_after,
                self.published_before,
                self.liked_by,
                self.status,
                self.search,
            )
        )

    def cache_key(self) -> list:
        return [[name, str(value)] for name, value in sorted(vars(self).items()) if value]


NO_FILTERS = PostFilters()


# --- Lists -------------------------------------------------------------------------------


def public_posts(*, filters: PostFilters = NO_FILTERS, window: Window, viewer: Any = None) -> ListPage[Post]:
    """Public posts, newest first unless ``filters.ordering`` says otherwise (or by
    relevance for a search), in ``window``.

    ``viewer`` given (and authenticated), each item also carries ``liked`` and
    ``following_author`` for them. ``count`` is exact as of the last write; on a large
    site it is kept in the cache until the next one (``posts.caching``).
    """
    now = timezone.now()
    if filters.search:
        return _search_page(Post.objects.public(at=now), filters, window, viewer=viewer, shared=True)
    if not filters.narrows:
        count = caching.public_post_count()
        if _is_viewer(viewer) or window.offset >= _DEEP_OFFSET or connection.vendor != "postgresql":
            rows = _ordered(Post.objects.public(at=now), filters.ordering)
            return _page(_with_viewer(_listing(rows), viewer), window, count)
        items = _compiled_public_page(filters.ordering, window, now) if window.offset < count else []
        return ListPage(_with_tag_list(items), count, window)
    narrowing = _one_narrowing(filters)
    if narrowing is not None and connection.vendor == "postgresql":
        return _narrowed_page(narrowing, filters, window, now, viewer)
    rows = _ordered(_filtered(Post.objects.public(at=now), filters), filters.ordering)
    count = caching.filtered_count(filters.cache_key(), rows.count)
    return _page(_with_viewer(_listing(rows), viewer), window, count)


# --- One filter (PostgreSQL) -------------------------------------------------------------
#
# The lists the pages link to (a tag's, an author's, a category's public posts, newest
# first) are read with one query each: the page, and the count when the cache does not
# hold it, from an index of exactly those posts (a tag's links carry their post's status
# and date: ``Tagging``), compiled once per process and window.


def _tag_matches(slug: str, now: datetime) -> QuerySet:
    """The links of the tag ``slug`` to posts public at ``now``."""
    tag_id = Subquery(Tag.objects.filter(slug=slug).values("pk")[:1])
    return Tagging.objects.filter(
        tag_id=tag_id, post_status=Post.Status.PUBLISHED, post_published_at__lte=now
    )


def _tag_rows(slug: str, now: datetime, window: Window, **annotations: Any) -> QuerySet:
    ids = _tag_matches(slug, now).order_by("-post_published_at", "-post_id").values("post_id")
    ids = ids[window.offset : window.offset + window.limit]
    # The posts' own rule again: a link can never show a post that is not public.
    return _listing(_ordered(Post.objects.public(at=now).filter(pk__in=ids), ())).annotate(**annotations)


def _author_matches(username: str, now: datetime) -> QuerySet:
    return Post.objects.public(at=now).filter(author_id=_user_id(username))


def _category_matches(slug: str, now: datetime) -> QuerySet:
    category_id = Subquery(Category.objects.filter(slug=slug).values("pk")[:1])
    return Post.objects.public(at=now).filter(category_id=category_id)


def _posts_rows(matches: Callable[[str, datetime], QuerySet]) -> Callable[..., QuerySet]:
    def rows(value: str, now: datetime, window: Window, **annotations: Any) -> QuerySet:
        # The page's ids from the index alone, then only those rows: OFFSET over the
        # full rows would build every skipped one (see _page).
        ids = _ordered(matches(value, now), ()).values("pk")[window.offset : window.offset + window.limit]
        return _listing(_ordered(Post.objects.filter(pk__in=ids), ())).annotate(**annotations)

    return rows


class _Narrowing(NamedTuple):
    kind: str
    value: str
    matches: Callable[[str, datetime], QuerySet]  # what is counted
    rows: Callable[..., QuerySet]  # a page of posts: (value, now, window, **annotations)
    counted: str  # the column counted: one the index holds, so the count reads only it


def _one_narrowing(filters: PostFilters) -> _Narrowing | None:
    """The one tag, author or category ``filters`` narrow by, if that is all they do."""
    if filters == PostFilters(tags=filters.tags) and len(filters.tags) == 1:
        return _Narrowing("tag", filters.tags[0], _tag_matches, _tag_rows, "post_id")
    if filters == PostFilters(author=filters.author):
        # Lowered here: the compiled query takes the value as User.objects.with_username
        # puts it in the query, already lowered.
        return _Narrowing(
            "author", filters.author.lower(), _author_matches, _posts_rows(_author_matches), "id"
        )
    if filters == PostFilters(category=filters.category):
        return _Narrowing(
            "category", filters.category, _category_matches, _posts_rows(_category_matches), "id"
        )
    return None


_VALUE_PLACEHOLDER = "\x00value"


def _narrowed_page(
    narrowing: _Narrowing, filters: PostFilters, window: Window, now: datetime, viewer: Any
) -> ListPage[Post]:
    key = filters.cache_key()
    count = caching.kept_filtered_count(key)
    if _is_viewer(viewer) or window.offset >= _DEEP_OFFSET:
        # Per-viewer annotations, or a page deep enough to be rare: built for this request.
        if count is None:
            count = caching.filtered_count(key, narrowing.matches(narrowing.value, now).count)
        rows = list(_with_viewer(narrowing.rows(narrowing.value, now, window), viewer))
    else:
        query = _narrowed_query(narrowing, window, counted=count is None)
        rows = query.fetch(value=narrowing.value, now=now)
        if count is None:
            # Past the end there is no row to carry the count: count alone.
            total = rows[0].total if rows else narrowing.matches(narrowing.value, now).count()
            count = caching.keep_filtered_count(key, total, counted_since=now.timestamp())
    if window.offset >= count:
        return ListPage([], count, window)
    return ListPage(_with_tag_list(rows), count, window)


def _narrowed_query(narrowing: _Narrowing, window: Window, *, counted: bool) -> PreparedQuery:
    """The page's query compiled with stand-ins (see ``config.prepared``); ``counted``:
    each row also carries ``total``, how many posts the list has."""
    key = (narrowing.kind, window.offset, window.limit, counted)
    query = _compiled_pages.get(key)
    if query is None:
        if len(_compiled_pages) >= _COMPILED_MAX:
            _compiled_pages.clear()
        annotations = {}
        if counted:
            matches = narrowing.matches(_VALUE_PLACEHOLDER, _NOW_PLACEHOLDER).order_by()
            count = Func(F(narrowing.counted), function="COUNT", output_field=IntegerField())
            annotations["total"] = Subquery(matches.annotate(total=count).values("total"))
        rows = narrowing.rows(_VALUE_PLACEHOLDER, _NOW_PLACEHOLDER, window, **annotations)
        query = _compiled_pages[key] = PreparedQuery(rows, value=_VALUE_PLACEHOLDER, now=_NOW_PLACEHOLDER)
    return query


def own_posts(*, author: User, filters: PostFilters = NO_FILTERS, window: Window) -> ListPage[Post]:
    """``author``'s posts of every status (``filters.status`` narrows): drafts (no date)
    first, then newest first, unless ``filters.ordering`` says otherwise."""
    posts = _filtered(Post.objects.filter(author=author), filters)
    if filters.search:
        return _search_page(posts, filters, window, viewer=None, shared=False)
    if filters.ordering:
        posts = _ordered(posts, filters.ordering)
    else:
        posts = posts.order_by(F("published_at").desc(nulls_first=True), "-created_at", "-id")
    return _page(_listing(posts), window, posts.count())


def followed_posts(
    *, follower: User, filters: PostFilters = NO_FILTERS, window: Window, viewer: Any = None
) -> ListPage[Post]:
    """Public posts by the authors ``follower`` follows, newest first (or as
    ``filters`` say); ``viewer`` as in :func:`public_posts`."""
    followed = Follow.objects.filter(follower=follower).values("followed_id")
    posts = _filtered(Post.objects.public().filter(author_id__in=followed), filters)
    if filters.search:
        return _search_page(posts, filters, window, viewer=viewer, shared=False)
    posts = _ordered(posts, filters.ordering)
    return _page(_with_viewer(_listing(posts), viewer), window, posts.count())


def latest_public_posts(*, limit: int) -> list[Post]:
    """The newest public posts, for the syndication feeds: one query."""
    posts = Post.objects.public().select_related(*_JOINED).only(*_LISTING_FIELDS)
    return list(posts.order_by("-published_at", "-id")[:limit])


# --- One post ----------------------------------------------------------------------------


def post_for(*, slug: str, viewer: Any) -> Post | None:
    """The post ``slug`` if ``viewer`` may see it (public, their own, or any for staff),
    with its body, HTML and ``tag_list``; for an authenticated viewer also ``liked`` and
    ``following_author``. None when there is no such post or they may not see it."""
    if not _is_viewer(viewer) and connection.vendor == "postgresql":
        # The busiest read of the site, and one whose shape never changes.
        rows = _public_detail_query().fetch(slug=slug, now=timezone.now())
    else:
        posts = Post.objects.visible_to(viewer).filter(slug=slug)
        rows = list(_with_viewer(_with_tags(posts).only(*_DETAIL_FIELDS), viewer)[:1])
    return _with_tag_list(rows)[0] if rows else None


def comments_on(*, post: Post, viewer: Any, follows: bool = False) -> QuerySet[Comment]:
    """The comments on ``post`` that ``viewer`` may see (hidden ones only for staff),
    oldest first, with their authors and their avatars; ``follows``: each with
    ``following_author``, whether the viewer follows its author."""
    comments = (
        Comment.objects.visible_to(viewer)
        .filter(post=post)
        .select_related("author__avatar")
        .defer("author__password")
        .order_by("created_at", "id")
    )
    if follows and _is_viewer(viewer):
        following = Follow.objects.filter(follower=viewer, followed=OuterRef("author_id"))
        comments = comments.annotate(following_author=Exists(following))
    return comments


# --- How a list is read --------------------------------------------------------------------


def _is_viewer(viewer: Any) -> bool:
    return viewer is not None and viewer.is_authenticated


def _listing(posts: QuerySet) -> QuerySet:
    return _with_tags(posts).only(*_LISTING_FIELDS)


def _with_tags(posts: QuerySet) -> QuerySet:
    """Author (with avatar), category and cover image joined; on PostgreSQL the tags as an
    array in the same query (``tag_pairs``), elsewhere prefetched."""
    posts = posts.select_related(*_JOINED)
    if connection.vendor != "postgresql":
        return posts.prefetch_related("tags")
    return posts.annotate(tag_pairs=ArraySubquery(_tag_pairs_subquery()))


@functools.cache
def _tag_pairs_subquery() -> QuerySet:
    # Built once: resolving the many-to-many path costs more than the rest of the query;
    # annotate() copies it, so sharing it is safe.
    pair = Func(F("slug"), F("name"), function="ARRAY", template="%(function)s[%(expressions)s]")
    pair.output_field = ArrayField(CharField())
    return Tag.objects.filter(posts=OuterRef("pk")).order_by("slug").values_list(pair)


def _with_tag_list(posts: Sequence[Post]) -> list[Post]:
    for post in posts:
        pairs = post.__dict__.pop("tag_pairs", None)
        if pairs is None:
            post.tag_list = [TagRef(tag.slug, tag.name) for tag in sorted(post.tags.all(), key=_slug)]
        else:
            post.tag_list = [TagRef(slug, name) for slug, name in pairs]
    return list(posts)


def _slug(tag: Tag) -> str:
    return tag.slug


def _with_viewer(posts: QuerySet, viewer: Any) -> QuerySet:
    if not _is_viewer(viewer):
        return posts
    return posts.annotate(
        liked=Exists(Like.objects.filter(post=OuterRef("pk"), user=viewer)),
        following_author=Exists(Follow.objects.filter(followed=OuterRef("author_id"), follower=viewer)),
    )


def _filtered(posts: QuerySet, filters: PostFilters) -> QuerySet:
    # Names become ids in a subquery the planner runs first: compared with a value, not
    # joined, a column's statistics tell a rare author, tag or category from a common one.
    if filters.author:
        posts = posts.filter(author_id=_user_id(filters.author))
    if filters.tags:
        # EXISTS, not a join: a post with two of the tags must appear once.
        tag_ids = Tag.objects.filter(slug__in=filters.tags).order_by().values("pk")
        posts = posts.filter(
            Exists(Post.tags.through.objects.filter(post_id=OuterRef("pk"), tag_id__in=tag_ids))
        )
    if filters.category:
        posts = posts.filter(
            category_id=Subquery(Category.objects.filter(slug=filters.category).values("pk")[:1])
        )
    if filters.published_after is not None:
        posts = posts.filter(published_at__gte=filters.published_after)
    if filters.published_before is not None:
        posts = posts.filter(published_at__lt=filters.published_before)
    if filters.liked_by:
        posts = posts.filter(
            Exists(Like.objects.filter(post=OuterRef("pk"), user_id=_user_id(filters.liked_by)))
        )
    if filters.status:
        posts = posts.with_status(filters.status)
    return posts


def _user_id(username: str) -> Subquery:
    return Subquery(User.objects.with_username(username).values("pk")[:1])


# Drafts have no published_at. PostgreSQL sorts NULLs last ascending and first
# descending, SQLite the other way round; spelling PostgreSQL's rule out makes both agree
# (and leaves PostgreSQL's plan, and its index use, unchanged).
_NULLS_AS_POSTGRESQL = {
    "published_at": F("published_at").asc(nulls_last=True),
    "-published_at": F("published_at").desc(nulls_first=True),
}


def _ordered(posts: QuerySet, ordering: Sequence[str]) -> QuerySet:
    """In ``ordering`` (default newest first); ties break by newest id, so pages never
    overlap."""
    keys = ordering or ("-published_at",)
    return posts.order_by(*(_NULLS_AS_POSTGRESQL.get(key, key) for key in keys), "-id")


def _page(rows: QuerySet, window: Window, count: int) -> ListPage[Post]:
    """``window`` of ``rows`` (ordered), which count ``count`` in all."""
    if window.offset >= count:
        return ListPage([], count, window)
    bottom, top = window.offset, window.offset + window.limit
    if bottom < _DEEP_OFFSET:
        return ListPage(_with_tag_list(rows[bottom:top]), count, window)
    # Past the first pages: the ids alone (an index walk), then only those rows.
    ids = list(rows.values_list("pk", flat=True)[bottom:top])
    return ListPage(_with_tag_list(_in_order(rows, ids)), count, window)


def _in_order(rows: QuerySet, ids: Sequence[int]) -> list[Post]:
    """The rows of ``rows`` with these ids, in the order of ``ids``."""
    by_id = {row.pk: row for row in rows.filter(pk__in=ids).order_by()}
    return [by_id[pk] for pk in ids if pk in by_id]


# --- Compiled queries (PostgreSQL) ---------------------------------------------------------

# (ordering, offset, limit) -> the first pages of the unfiltered public list; each
# PreparedQuery runs on the database the router chooses (a replica, or the primary).
_compiled_pages: dict[tuple, PreparedQuery] = {}


def _compiled_public_page(ordering: tuple[str, ...], window: Window, now: datetime) -> list[Post]:
    """A page of the unfiltered public list from SQL compiled once per process: the list
    depends only on its ordering and the window, and building and compiling the queryset
    cost Django more than PostgreSQL spends answering it (docs/performance.md)."""
    key = (ordering, window.offset, window.limit)
    query = _compiled_pages.get(key)
    if query is None:
        if len(_compiled_pages) >= _COMPILED_MAX:  # the window comes from the client
            _compiled_pages.clear()
        rows = _listing(_ordered(Post.objects.public(at=_NOW_PLACEHOLDER), ordering))
        query = _compiled_pages[key] = PreparedQuery(
            rows[window.offset : window.offset + window.limit], now=_NOW_PLACEHOLDER
        )
    return query.fetch(now=now)


@functools.cache
def _public_detail_query() -> PreparedQuery:
    posts = Post.objects.public(at=_NOW_PLACEHOLDER).filter(slug=_SLUG_PLACEHOLDER)
    return PreparedQuery(
        _with_tags(posts).only(*_DETAIL_FIELDS), slug=_SLUG_PLACEHOLDER, now=_NOW_PLACEHOLDER
    )


# --- Search --------------------------------------------------------------------------------


def _search_page(
    posts: QuerySet, filters: PostFilters, window: Window, *, viewer: Any, shared: bool
) -> ListPage[Post]:
    """``window`` of the posts of ``posts`` that match ``filters.search`` (and the other
    filters), by relevance unless ``filters.ordering``.

    ``shared``: the list is the same for every viewer (the public one), so its count and
    ranking may be kept in the cache until the next write.
    """
    if connection.vendor != "postgresql":
        term = filters.search
        matches = _filtered(posts, filters).filter(
            Q(title__icontains=term) | Q(excerpt__icontains=term) | Q(body__icontains=term)
        )
        rows = _ordered(matches, filters.ordering or ("-published_at",))
        count = caching.search_count(filters.cache_key(), rows.count) if shared else rows.count()
        return _page(_with_viewer(_listing(rows), viewer), window, count)
    parsed = search.parse(filters.search)
    query = search.match_query(parsed)
    if query is None or not parsed.looks_for_something:
        return ListPage([], 0, window)
    # Every query of the search on the database whose planner _index_scans_only sets.
    alias = router.db_for_read(Post)
    posts = posts.using(alias)
    # Stop words drop out of a query ("the -dog" is only "-dog"): PostgreSQL's
    # querytree() says "T" when what remains cannot use the index, and as it only depends
    # on the term, the planner settles it before any row is read.
    indexable = Func(query, function="querytree", output_field=TextField())
    matches = _filtered(posts, filters).filter(search_vector=query).alias(search_indexable=indexable)
    matches = matches.exclude(search_indexable="T")
    with _index_scans_only(alias):
        if filters.ordering:
            rows = _ordered(matches, filters.ordering)
            count = caching.search_count(filters.cache_key(), rows.count) if shared else rows.count()
            return _page(_with_viewer(_listing(rows), viewer), window, count)
        return _ranked_page(matches, search.rank_query(parsed), filters, window, viewer=viewer, shared=shared)


def _ranked_page(
    matches: QuerySet, rank_query: Any, filters: PostFilters, window: Window, *, viewer: Any, shared: bool
) -> ListPage[Post]:
    """Matches by relevance. The newest ``RANKED_MATCHES`` come by rank, then older ones
    newest first: ranking reads and decompresses each match's search vector, which for
    a word found in most posts took seconds. Nothing is left out, so ``count`` is exact.

    A page among the ranked ones is read by id from the ranking (one query for the ids
    and the count, kept in the cache for the public list, and one for the rows).
    """
    newest = matches.order_by("-published_at", "-id").values("pk")[:RANKED_MATCHES]
    head = matches.filter(pk__in=newest).annotate(rank=SearchRank(F("search_vector"), rank_query))
    head = head.order_by("-rank", "-published_at", "-id")
    top = window.offset + window.limit
    if top <= RANKED_MATCHES:

        def ranking() -> tuple[int, list[int]]:
            total = matches.order_by().annotate(
                total=Func(F("pk"), function="COUNT", output_field=IntegerField())
            )
            rows = list(head.annotate(total=Subquery(total.values("total"))).values_list("pk", "total"))
            return (rows[0][1] if rows else 0), [pk for pk, _ in rows]

        count, ids = caching.search_ranking(filters.cache_key(), ranking) if shared else ranking()
        if window.offset >= count:
            return ListPage([], count, window)
        rows = _in_order(_with_viewer(_listing(matches), viewer), ids[window.offset : top])
        return ListPage(_with_tag_list(rows), count, window)
    bounded = Case(
        When(pk__in=newest, then=SearchRank(F("search_vector"), rank_query)),
        default=Value(-1.0),
        output_field=FloatField(),
    )
    ranked = matches.annotate(rank=bounded).order_by("-rank", "-published_at", "-id")
    count = caching.search_count(filters.cache_key(), matches.count) if shared else matches.count()
    return _page(_with_viewer(_listing(ranked), viewer), window, count)


@contextlib.contextmanager
def _index_scans_only(alias: str) -> Iterator[None]:
    """PostgreSQL prices the ``@@`` match as nearly free per row, so for a word found in
    most posts it scans the table and decompresses every post's search vector; the GIN
    index answers the same match in a tenth of the time. Set and reset around the
    search's queries, on ``alias``, the database they run on (a transaction for SET LOCAL
    would cost two more round trips).

    Behind pgbouncer's transaction pooling, a statement outside a transaction may reach
    another server connection than the SET did, and a SET would stay on that connection
    for its next client: there the SET is LOCAL, inside a transaction, which keeps the
    connection ours until it ends; the RESET ends it sooner when that transaction is a
    caller's."""
    pooled = settings.DATABASE_PGBOUNCER
    scope = transaction.atomic(using=alias, savepoint=False) if pooled else contextlib.nullcontext()
    with scope, connections[alias].cursor() as cursor:
        cursor.execute(f"SET {'LOCAL ' if pooled else ''}enable_seqscan = off")
        try:
            yield
        finally:
            # In an aborted transaction RESET fails, but the rollback undoes the SET.
            with contextlib.suppress(DatabaseError):
                cursor.execute("RESET enable_seqscan")
