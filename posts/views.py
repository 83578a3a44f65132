"""The blog's JSON API: posts, likes, comments, tags, categories, my posts and the feed."""

import contextlib
import functools
from datetime import UTC, datetime

from django.db import DatabaseError, connection
from django.db.models import Exists, F, OuterRef, QuerySet
from django.http import Http404
from django.utils import timezone
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import generics, mixins, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.permissions import IsAuthenticated, IsAuthenticatedOrReadOnly
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.models import Follow
from config import pagination
from config.pagination import with_prepared_pages
from config.prepared import PreparedQuery
from posts import caching, services
from posts.filters import MyPostFilter, PostFilter, PostFilterBackend, PostOrderingFilter, PostSearchFilter
from posts.models import Category, Comment, Like, Post, Tag
from posts.permissions import CommentPermission, IsAuthorOrStaffOrReadOnly, IsStaffOrReadOnly
from posts.querysets import LISTING_FIELDS
from posts.serializers import (
    CategorySerializer,
    CommentSerializer,
    LikeStateSerializer,
    PostDetailSerializer,
    PostListSerializer,
    PostWriteSerializer,
    TagSerializer,
)

DETAIL_FIELDS = (*LISTING_FIELDS, "body", "body_html")
# Stand-ins the anonymous detail's query is compiled with (see ``public_post_by_slug``).
_SLUG_PLACEHOLDER = "\x00slug"
_NOW_PLACEHOLDER = datetime(1, 1, 1, 0, 0, 1, 234567, tzinfo=UTC)
POST_FILTER_BACKENDS = [PostFilterBackend, PostOrderingFilter, PostSearchFilter]
# Query parameters that narrow the post list (and so need an exact count).
LIST_FILTER_PARAMS = (*PostFilter.base_filters, PostSearchFilter.search_param)


# (database, "posts:public", ordering) -> the unfiltered public list, built with _NOW_PLACEHOLDER.
_listing_templates: dict[tuple, QuerySet] = {}


@functools.cache
def _public_detail_query(db: str) -> PreparedQuery:
    posts = Post.objects.using(db).public(at=_NOW_PLACEHOLDER).with_tag_slugs().only(*DETAIL_FIELDS)
    return PreparedQuery(posts.filter(slug=_SLUG_PLACEHOLDER), slug=_SLUG_PLACEHOLDER, now=_NOW_PLACEHOLDER)


def public_post_by_slug(slug: str) -> Post | None:
    """The public post ``slug`` as an anonymous reader's detail shows it, or None.

    The busiest query of the site, and one whose shape never changes: its SQL is
    compiled once per process (``config.prepared``), which halves the CPU of the
    request. PostgreSQL only (elsewhere the tags are prefetched, a second query).
    """
    rows = _public_detail_query(Post.objects.db).fetch(slug=slug, now=timezone.now())
    return rows[0] if rows else None


class PostListMixin:
    """Filtering, ordering, search and the list representation shared by post lists."""

    filter_backends = POST_FILTER_BACKENDS
    filterset_class = PostFilter
    ordering = ["-published_at"]
    serializer_class = PostListSerializer

    def list(self, request: Request, *args, **kwargs) -> Response:
        if connection.vendor != "postgresql" or not request.query_params.get("search", "").strip():
            return super().list(request, *args, **kwargs)
        # PostgreSQL prices the @@ match as nearly free per row, so for a word found in
        # most posts it scans the table and decompresses every post's search vector
        # (about a second at 100,000 posts); the GIN index answers the same match in a
        # tenth of that. Set and reset around this request's queries (a transaction for
        # SET LOCAL would cost two more round trips than the list's query budget has).
        with connection.cursor() as cursor:
            cursor.execute("SET enable_seqscan = off")
            try:
                return super().list(request, *args, **kwargs)
            finally:
                # In an aborted transaction RESET fails, but the rollback undoes the SET.
                with contextlib.suppress(DatabaseError):
                    cursor.execute("RESET enable_seqscan")


@extend_schema_view(
    list=extend_schema(summary="Public posts", description="Public posts, newest first by default."),
    create=extend_schema(request=PostWriteSerializer, responses={201: PostDetailSerializer}),
    retrieve=extend_schema(responses=PostDetailSerializer),
    update=extend_schema(request=PostWriteSerializer, responses=PostDetailSerializer),
    partial_update=extend_schema(request=PostWriteSerializer, responses=PostDetailSerializer),
)
class PostViewSet(caching.AnonymousResponseCacheMixin, PostListMixin, viewsets.ModelViewSet):
    """Posts. Anyone reads public posts; authors and staff also reach their non-public
    ones (404 for everyone else); only the author or staff may change a post."""

    lookup_field = "slug"
    lookup_value_regex = "[^/]+"
    permission_classes = [IsAuthenticatedOrReadOnly, IsAuthorOrStaffOrReadOnly]
    list_query_params = (*LIST_FILTER_PARAMS, PostOrderingFilter.ordering_param)

    def get_queryset(self) -> QuerySet:
        user = self.request.user
        if self.action == "list":
            self.listed_at = timezone.now()
            if self._prepared_listing():
                return self._listing_template()
            return Post.objects.public(at=self.listed_at).for_listing()
        posts = Post.objects.visible_to(user).with_tag_slugs()
        if self.action == "retrieve":
            # Only what the detail shows: the search vector (often larger than the body) and
            # the author's password hash and profile would be read, converted and dropped.
            posts = posts.only(*DETAIL_FIELDS)
        if user.is_authenticated:
            posts = posts.annotate(liked=Exists(Like.objects.filter(post=OuterRef("pk"), user=user)))
        return posts

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, services.PostGone):  # deleted after get_object() found it
            exc = NotFound("No Post matches the given query.")
        return super().handle_exception(exc)

    def get_object(self) -> Post:
        """An anonymous reader's post comes from the prepared query (same rows, same
        404); everyone else's through the queryset, which depends on who asks."""
        anonymous = not self.request.user.is_authenticated
        if self.action != "retrieve" or not anonymous or connection.vendor != "postgresql":
            return super().get_object()
        post = public_post_by_slug(self.kwargs[self.lookup_field])
        if post is None:
            raise Http404("No Post matches the given query.")  # as get_object_or_404 says it
        self.check_object_permissions(self.request, post)
        return post

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        # List filters mean nothing for one post (and building the FilterSet costs
        # about a millisecond of a detail request).
        if self.detail:
            return queryset
        if getattr(queryset, "prepared_pages", None) is not None:
            return queryset  # the listing template: filtered and ordered when it was built
        queryset = super().filter_queryset(queryset)
        if self.action == "list" and connection.vendor == "postgresql" and not self.list_filters:
            # No filter: the SQL of a page depends only on the ordering asked for (and the
            # page), so it is compiled once per process (``config.prepared``).
            queryset = with_prepared_pages(queryset, self._listing_key(), now=self.listed_at)
        return queryset

    def _listing_key(self) -> tuple[str, str]:
        return ("posts:public", self.request.query_params.get(PostOrderingFilter.ordering_param, ""))

    def _prepared_listing(self) -> bool:
        """Whether this list request is unfiltered (on PostgreSQL) and asks for a page
        that ``KnownCountPaginator`` answers from compiled SQL, which never runs the
        queryset itself: then the queryset need not be built for it either."""
        if connection.vendor != "postgresql" or self.list_filters:
            return False
        try:
            number = int(self.request.query_params.get(self.paginator.page_query_param, 1))
        except ValueError:
            return False
        bottom = (number - 1) * self.paginator.get_page_size(self.request)
        return 0 <= bottom < pagination.DEEP_OFFSET

    def _listing_template(self) -> QuerySet:
        """The unfiltered public list in the order asked for, built (and filtered) once
        per process with a stand-in time and marked to be paged with this request's."""
        key = (connection.alias, *self._listing_key())
        template = _listing_templates.get(key)
        if template is None:
            if len(_listing_templates) >= pagination.PREPARED_PAGES_MAX:
                _listing_templates.clear()
            base = Post.objects.public(at=_NOW_PLACEHOLDER).for_listing()
            template = _listing_templates[key] = super().filter_queryset(base)
        return with_prepared_pages(
            template._chain(), self._listing_key(), built_with={"now": _NOW_PLACEHOLDER}, now=self.listed_at
        )

    @functools.cached_property
    def list_filters(self) -> dict[str, list[str]]:
        """The filter and search parameters of this list request that have a value."""
        params = {
            name: [value.strip() for value in self.request.query_params.getlist(name)]
            for name in LIST_FILTER_PARAMS
        }
        return {name: values for name, values in params.items() if any(values)}

    def get_list_count(self, queryset: QuerySet) -> int | None:
        """The paginator's count for the unfiltered public list and for searches (cached
        on large sites and for searches matching as many posts: see ``posts.caching``);
        None (count exactly) for anything else."""
        if self.action != "list":
            return None
        filters = self.list_filters
        if not filters:
            return caching.public_post_count()
        if PostSearchFilter.search_param in filters:
            head = getattr(queryset, "paginator_head", None)
            if head is None:  # ordered by the client
                return caching.search_count(filters, queryset.count)
            count, head.ids = caching.search_ranking(filters, lambda: PostSearchFilter.ranked_matches(head))
            return count
        return None

    def get_serializer_class(self):
        if self.action in {"create", "update", "partial_update"}:
            return PostWriteSerializer
        if self.action == "retrieve":
            return PostDetailSerializer
        return super().get_serializer_class()

    def perform_create(self, serializer: PostWriteSerializer) -> None:
        post = serializer.save()
        post.liked = False

    def perform_destroy(self, instance: Post) -> None:
        services.delete_post(post=instance)

    def perform_update(self, serializer: PostWriteSerializer) -> None:
        liked = getattr(serializer.instance, "liked", False)
        post = serializer.save()
        post.liked = liked

    @extend_schema(request=None, responses={200: LikeStateSerializer})
    @action(detail=True, methods=["post", "delete"], permission_classes=[IsAuthenticated])
    def like(self, request: Request, slug: str | None = None) -> Response:
        """Like (POST) or unlike (DELETE) a post the caller may see. Idempotent."""
        post = self.get_object()
        if request.method == "POST":
            count, liked = services.like_post(user=request.user, post=post), True
        else:
            count, liked = services.unlike_post(user=request.user, post=post), False
        return Response(LikeStateSerializer({"liked": liked, "like_count": count}).data)

    @extend_schema(
        methods=["GET"], responses=CommentSerializer(many=True), summary="Comments on a post, oldest first"
    )
    @extend_schema(methods=["POST"], request=CommentSerializer, responses={201: CommentSerializer})
    @action(
        detail=True,
        methods=["get", "post"],
        filter_backends=[],
        serializer_class=CommentSerializer,
        permission_classes=[IsAuthenticatedOrReadOnly],
    )
    def comments(self, request: Request, slug: str | None = None) -> Response:
        """List (anyone who may see the post) or add (authenticated) comments."""
        post = self.get_object()
        if request.method == "POST":
            serializer = CommentSerializer(data=request.data, context=self.get_serializer_context())
            serializer.is_valid(raise_exception=True)
            comment = services.add_comment(
                post=post, author=request.user, body=serializer.validated_data["body"]
            )
            return Response(
                CommentSerializer(comment, context=self.get_serializer_context()).data, status=201
            )
        comments = (
            Comment.objects.visible_to(request.user)
            .filter(post=post)
            .select_related("author")
            .order_by("created_at", "id")
        )
        page = self.paginate_queryset(comments)
        for comment in page:
            comment.post = post  # all share it: no query per comment for the slug
        return self.get_paginated_response(CommentSerializer(page, many=True).data)


@extend_schema_view(
    partial_update=extend_schema(request=CommentSerializer, responses=CommentSerializer),
)
class CommentViewSet(
    mixins.RetrieveModelMixin, mixins.UpdateModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet
):
    """A comment by id. Its author edits it; its author, the post's author or staff delete it."""

    serializer_class = CommentSerializer
    permission_classes = [IsAuthenticatedOrReadOnly, CommentPermission]
    http_method_names = ["get", "patch", "delete", "head", "options"]

    def get_queryset(self) -> QuerySet:
        return Comment.objects.visible_to(self.request.user).select_related("author", "post")

    def perform_destroy(self, instance: Comment) -> None:
        services.delete_comment(comment=instance)


class TagViewSet(viewsets.ReadOnlyModelViewSet):
    """Tags with at least one public post, most used first."""

    serializer_class = TagSerializer
    lookup_field = "slug"
    permission_classes = [IsAuthenticatedOrReadOnly]

    def get_queryset(self) -> QuerySet:
        return Tag.objects.in_use()


class CategoryViewSet(viewsets.ModelViewSet):
    """Categories with their public post counts. Staff create, edit and delete them."""

    serializer_class = CategorySerializer
    lookup_field = "slug"
    # IsAuthenticatedOrReadOnly first: anonymous writes are 401, and the schema shows reads as public.
    permission_classes = [IsAuthenticatedOrReadOnly, IsStaffOrReadOnly]

    def get_queryset(self) -> QuerySet:
        return Category.objects.with_post_counts().order_by("name")

    def perform_create(self, serializer: CategorySerializer) -> None:
        category = serializer.save()
        category.post_count = 0

    def perform_destroy(self, instance: Category) -> None:
        services.delete_categories(categories=Category.objects.filter(pk=instance.pk))


@extend_schema(tags=["auth"])
class MyPostsView(PostListMixin, generics.ListAPIView):
    """The caller's own posts of every status; ``status`` filters by draft, scheduled or
    published (public now). Drafts (no date) come first, then newest first."""

    filterset_class = MyPostFilter
    permission_classes = [IsAuthenticated]
    # No default for the ordering backend: it would replace the drafts-first order of
    # get_queryset (and SQLite sorts NULLs last on a descending key).
    ordering = None

    def get_queryset(self) -> QuerySet:
        if getattr(self, "swagger_fake_view", False):
            return Post.objects.none()
        return (
            Post.objects.filter(author=self.request.user)
            .for_listing()
            .order_by(F("published_at").desc(nulls_first=True), "-created_at", "-id")
        )


@extend_schema(tags=["users"])
class FeedView(PostListMixin, generics.ListAPIView):
    """Public posts by the authors the caller follows, newest first."""

    permission_classes = [IsAuthenticated]

    def get_queryset(self) -> QuerySet:
        if getattr(self, "swagger_fake_view", False):
            return Post.objects.none()
        followed = Follow.objects.filter(follower=self.request.user).values("followed_id")
        return Post.objects.public().filter(author_id__in=followed).for_listing()
