"""The blog's JSON API: posts, likes, comments, tags, categories, my posts and the feed.

Reads come from ``posts.selectors``, writes go through ``posts.services``; the views
translate between HTTP and them.
"""

from django.db.models import Exists, OuterRef, QuerySet
from django.http import Http404
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import generics, mixins, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.permissions import IsAuthenticated, IsAuthenticatedOrReadOnly
from rest_framework.request import Request
from rest_framework.response import Response

from config.pagination import ListPage, Window
from posts import caching, selectors, services
from posts.filters import (
    POST_LIST_PARAMS,
    MyPostFilter,
    PostFilter,
    PostOrderingFilter,
    PostSearchFilter,
    read_post_filters,
)
from posts.models import Category, Comment, Like, Post, Tag
from posts.permissions import CommentPermission, IsAuthorOrStaffOrReadOnly, IsStaffOrReadOnly
from posts.selectors import PostFilters
from posts.serializers import (
    CategorySerializer,
    CommentSerializer,
    LikeStateSerializer,
    PostDetailSerializer,
    PostListSerializer,
    PostWriteSerializer,
    TagSerializer,
)


class PostListMixin:
    """A list of posts that a selector answers: ``read_page`` says which."""

    # These describe the list's parameters to the schema; ``list`` reads the same
    # parameters with ``read_post_filters`` and the selector applies them.
    filter_backends = [DjangoFilterBackend, PostOrderingFilter, PostSearchFilter]
    filterset_class = PostFilter
    serializer_class = PostListSerializer

    def read_page(self, filters: PostFilters, window: Window) -> ListPage[Post]:
        raise NotImplementedError

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        return queryset  # the list's parameters mean nothing for the one post a write finds

    def list(self, request: Request, *args, **kwargs) -> Response:
        filters = read_post_filters(request, self.filterset_class)
        page = self.read_page(filters, self.paginator.window(request))
        return self.paginator.page_response(page, self.get_serializer(page.items, many=True).data)


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
    list_query_params = POST_LIST_PARAMS

    def get_queryset(self) -> QuerySet:
        """The posts the caller may see, whole: what a write starts from."""
        user = self.request.user
        posts = Post.objects.visible_to(user)
        if user.is_authenticated:
            posts = posts.annotate(liked=Exists(Like.objects.filter(post=OuterRef("pk"), user=user)))
        return posts

    def read_page(self, filters: PostFilters, window: Window) -> ListPage[Post]:
        return selectors.public_posts(filters=filters, window=window)

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, services.PostGone):  # deleted after get_object() found it
            exc = NotFound("No Post matches the given query.")
        return super().handle_exception(exc)

    def get_object(self) -> Post:
        """A post to read comes from the selector (what the detail shows, for this
        viewer); a post to change, whole, from the queryset."""
        if self.action != "retrieve":
            return super().get_object()
        post = selectors.post_for(slug=self.kwargs[self.lookup_field], viewer=self.request.user)
        if post is None:
            raise Http404("No Post matches the given query.")  # as get_object_or_404 says it
        self.check_object_permissions(self.request, post)
        return post

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
        page = self.paginate_queryset(selectors.comments_on(post=post, viewer=request.user))
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

    def perform_update(self, serializer: CommentSerializer) -> None:
        body = serializer.validated_data.get("body", serializer.instance.body)
        serializer.instance = services.update_comment(comment=serializer.instance, body=body)

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
    queryset = Post.objects.none()  # for the schema: the selector reads the posts

    def read_page(self, filters: PostFilters, window: Window) -> ListPage[Post]:
        return selectors.own_posts(author=self.request.user, filters=filters, window=window)


@extend_schema(tags=["users"])
class FeedView(PostListMixin, generics.ListAPIView):
    """Public posts by the authors the caller follows, newest first."""

    permission_classes = [IsAuthenticated]
    queryset = Post.objects.none()  # for the schema: the selector reads the posts

    def read_page(self, filters: PostFilters, window: Window) -> ListPage[Post]:
        return selectors.followed_posts(follower=self.request.user, filters=filters, window=window)
