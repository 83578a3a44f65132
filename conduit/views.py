"""The RealWorld (Conduit) API over our accounts and posts: same rows, same rules.

Articles are posts, favorites are likes, the feed is our feed and profiles are our users;
writes go through ``posts.services`` and ``accounts.services``, as /api/v1/'s do, and the
permission classes of ``posts``. Every view answers RealWorld's envelopes and
``{"errors": {...}}`` bodies (see ``conduit.exceptions``), the services' domain errors too.
"""

from typing import Any

from django.contrib.auth import authenticate
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import AllowAny, IsAuthenticated, IsAuthenticatedOrReadOnly
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.tokens import AccessToken

from accounts import services as account_services
from accounts.models import User
from accounts.throttles import AuthRateThrottle, LoginLockedOut, LoginRateThrottle
from conduit import querysets
from conduit.authentication import ConduitTokenAuthentication
from conduit.exceptions import (
    Conflict,
    InvalidCredentials,
    Unprocessable,
    conduit_exception_handler,
    forbidden,
    not_found,
)
from conduit.pagination import page_window
from conduit.serializers import (
    ArticleListSerializer,
    ArticleSerializer,
    ArticleWriteSerializer,
    CommentSerializer,
    CommentWriteSerializer,
    LoginSerializer,
    ProfileSerializer,
    RegistrationSerializer,
    UserSerializer,
    UserUpdateSerializer,
)
from config.pagination import ListPage
from posts import selectors, services
from posts.models import Comment, Post
from posts.permissions import CommentPermission, IsAuthorOrStaffOrReadOnly
from posts.selectors import PostFilters
from posts.services import normalise_tag_names


class ConduitView(APIView):
    """Base: ``Token`` auth only (no session, so no CSRF), the project's JSON parser, JSON
    out (no browsable API), RealWorld errors.

    Left out of the /api/v1/ OpenAPI schema: RealWorld publishes its own.
    """

    authentication_classes = [ConduitTokenAuthentication]
    permission_classes = [IsAuthenticatedOrReadOnly]
    renderer_classes = [JSONRenderer]
    schema = None

    def get_exception_handler(self):
        return conduit_exception_handler

    def envelope(self, key: str) -> dict[str, Any]:
        """The object under ``key`` in the request body (``{"user": {...}}``), or a 422."""
        data = self.request.data
        inner = data.get(key) if isinstance(data, dict) else None
        if not isinstance(inner, dict):
            raise Unprocessable({key: ["is missing"]})
        return inner


def _valid(serializer) -> Any:
    if not serializer.is_valid():
        raise Unprocessable(serializer.errors)
    return serializer


def _user_response(user: User, token: Any, status_code: int = status.HTTP_200_OK) -> Response:
    return Response({"user": UserSerializer(user, context={"token": token}).data}, status=status_code)


# --- Users and profiles -----------------------------------------------------------------------


class RegistrationView(ConduitView):
    """``POST /api/users``: sign up. 409 when the username or email is taken (any case)."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [AuthRateThrottle]
    throttle_scope = "conduit-register"

    def post(self, request: Request) -> Response:
        serializer = RegistrationSerializer(data=self.envelope("user"))
        if not serializer.is_valid():
            errors = serializer.errors
            codes = {getattr(detail, "code", None) for details in errors.values() for detail in details}
            raise Conflict(errors) if codes == {"taken"} else Unprocessable(errors)
        try:
            user = serializer.save()
        except ValidationError as exc:  # lost a race for the username or email
            raise Conflict(exc.detail) from exc
        return _user_response(user, AccessToken.for_user(user), status.HTTP_201_CREATED)


class LoginView(ConduitView):
    """``POST /api/users/login``: email (any case) and password for a token; 401 otherwise."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [LoginRateThrottle]

    def get_authenticate_header(self, request: Request) -> str:
        # Bad credentials are a 401 with a challenge; without one DRF would answer 403.
        return ConduitTokenAuthentication().authenticate_header(request)

    def post(self, request: Request) -> Response:
        credentials = _valid(LoginSerializer(data=self.envelope("user"))).validated_data
        email, password = credentials["email"], credentials["password"]
        # Through authenticate(), so the brute-force lockout (django-axes) counts these
        # attempts as it does /api/v1/'s; an unknown email still costs a password hash.
        match = User.objects.with_email(email).values_list("username", flat=True).first()
        user = authenticate(request, username=match or email, password=password)
        if user is None or user.email.casefold() != email.casefold():
            if getattr(request, "axes_locked_out", False):
                raise LoginLockedOut()
            raise InvalidCredentials()
        return _user_response(user, AccessToken.for_user(user))


class CurrentUserView(ConduitView):
    """``GET``/``PUT /api/user``: the caller, with the token they sent."""

    permission_classes = [IsAuthenticated]
    throttle_scope = "conduit-user-update"

    def get_throttles(self) -> list:
        # Changing the password needs no old password in RealWorld: throttle the writes.
        return [AuthRateThrottle()] if self.request.method == "PUT" else []

    def get(self, request: Request) -> Response:
        return _user_response(request.user, request.auth)

    def put(self, request: Request) -> Response:
        serializer = _valid(UserUpdateSerializer(request.user, data=self.envelope("user"), partial=True))
        user = serializer.save()
        return _user_response(user, request.auth)


def _profile(request: Request, username: str) -> User:
    user = querysets.profiles_for(request.user).with_username(username).first()
    if user is None:
        raise not_found("profile")
    return user


def _profile_response(request: Request, user: User, *, following: bool | None = None) -> Response:
    context: dict[str, Any] = {"request": request}
    if following is not None:
        context["following"] = following
    return Response({"profile": ProfileSerializer(user, context=context).data})


class ProfileView(ConduitView):
    """``GET /api/profiles/{username}``: anyone's public profile (username in any case)."""

    permission_classes = [AllowAny]

    def get(self, request: Request, username: str) -> Response:
        return _profile_response(request, _profile(request, username))


class FollowView(ConduitView):
    """``POST``/``DELETE /api/profiles/{username}/follow``. Idempotent; never oneself."""

    permission_classes = [IsAuthenticated]

    def post(self, request: Request, username: str) -> Response:
        target = _profile(request, username)
        try:
            account_services.follow(follower=request.user, followed=target)
        except account_services.CannotFollowSelf as exc:
            raise Unprocessable({"profile": ["cannot follow yourself"]}) from exc
        return _profile_response(request, target, following=True)

    def delete(self, request: Request, username: str) -> Response:
        target = _profile(request, username)
        account_services.unfollow(follower=request.user, followed=target)
        return _profile_response(request, target, following=False)


# --- Articles ------------------------------------------------------------------------------------


def _article(request: Request, slug: str) -> Post:
    """The post ``slug`` if the caller may see it (public, or their own, or staff)."""
    post = selectors.post_for(slug=slug, viewer=request.user)
    if post is None:
        raise not_found("article")
    return post


def _article_response(request: Request, slug: str, status_code: int = status.HTTP_200_OK) -> Response:
    article = ArticleSerializer(_article(request, slug), context={"request": request}).data
    return Response({"article": article}, status=status_code)


def _articles_response(request: Request, page: ListPage[Post]) -> Response:
    articles = ArticleListSerializer(page.items, many=True, context={"request": request}).data
    return Response({"articles": articles, "articlesCount": page.count})


class ArticlesView(ConduitView):
    """``GET /api/articles``: public posts, newest first, filtered by ``tag``, ``author`` or
    ``favorited`` (a username); ``POST``: publish a new article."""

    def get(self, request: Request) -> Response:
        params = request.query_params
        window = page_window(request)
        tags: tuple[str, ...] = ()
        if tag := params.get("tag"):
            tags = tuple(normalise_tag_names([tag]))
            if not tags:  # a name that makes no slug names no tag
                return _articles_response(request, ListPage([], 0, window))
        filters = PostFilters(
            tags=tags, author=params.get("author", ""), liked_by=params.get("favorited", "")
        )
        return _articles_response(
            request, selectors.public_posts(filters=filters, window=window, viewer=request.user)
        )

    def post(self, request: Request) -> Response:
        serializer = _valid(
            ArticleWriteSerializer(data=self.envelope("article"), context={"author": request.user})
        )
        post = serializer.save()
        return _article_response(request, post.slug, status.HTTP_201_CREATED)


class FeedView(ConduitView):
    """``GET /api/articles/feed``: public posts by the authors the caller follows."""

    permission_classes = [IsAuthenticated]

    def get(self, request: Request) -> Response:
        page = selectors.followed_posts(
            follower=request.user, window=page_window(request), viewer=request.user
        )
        return _articles_response(request, page)


class ArticleView(ConduitView):
    """``GET``/``PUT``/``DELETE /api/articles/{slug}``. Only the author or staff may change it."""

    def _changeable(self, request: Request, slug: str) -> Post:
        post = _article(request, slug)
        if not IsAuthorOrStaffOrReadOnly().has_object_permission(request, self, post):
            raise forbidden("article")
        return post

    def get(self, request: Request, slug: str) -> Response:
        return _article_response(request, slug)

    def put(self, request: Request, slug: str) -> Response:
        post = self._changeable(request, slug)
        _valid(ArticleWriteSerializer(post, data=self.envelope("article"), partial=True)).save()
        return _article_response(request, slug)

    def delete(self, request: Request, slug: str) -> Response:
        services.delete_post(post=self._changeable(request, slug))
        return Response(status=status.HTTP_204_NO_CONTENT)


class FavoriteView(ConduitView):
    """``POST``/``DELETE /api/articles/{slug}/favorite``: like or unlike. Idempotent."""

    permission_classes = [IsAuthenticated]

    def post(self, request: Request, slug: str) -> Response:
        services.like_post(user=request.user, post=_article(request, slug))
        return _article_response(request, slug)

    def delete(self, request: Request, slug: str) -> Response:
        services.unlike_post(user=request.user, post=_article(request, slug))
        return _article_response(request, slug)


# --- Comments and tags -------------------------------------------------------------------------


class CommentsView(ConduitView):
    """``GET /api/articles/{slug}/comments`` (oldest first) and ``POST`` (authenticated)."""

    def get(self, request: Request, slug: str) -> Response:
        comments = selectors.comments_on(post=_article(request, slug), viewer=request.user, follows=True)
        data = CommentSerializer(comments, many=True, context={"request": request}).data
        return Response({"comments": data})

    def post(self, request: Request, slug: str) -> Response:
        post = _article(request, slug)
        body = _valid(CommentWriteSerializer(data=self.envelope("comment"))).validated_data["body"]
        comment = services.add_comment(post=post, author=request.user, body=body)
        comment_data = CommentSerializer(comment, context={"request": request}).data
        return Response({"comment": comment_data}, status=status.HTTP_201_CREATED)


class CommentView(ConduitView):
    """``DELETE /api/articles/{slug}/comments/{id}``: by the comment's author, the
    article's author (moderation) or staff."""

    permission_classes = [IsAuthenticated]

    def delete(self, request: Request, slug: str, pk: int) -> Response:
        post = _article(request, slug)
        comment = Comment.objects.visible_to(request.user).filter(post=post, pk=pk).first()
        if comment is None:
            raise not_found("comment")
        comment.post = post
        if not CommentPermission().has_object_permission(request, self, comment):
            raise forbidden("comment")
        services.delete_comment(comment=comment)
        return Response(status=status.HTTP_204_NO_CONTENT)


class TagsView(ConduitView):
    """``GET /api/tags``: the names of tags on public posts, most used first."""

    permission_classes = [AllowAny]

    def get(self, request: Request) -> Response:
        return Response({"tags": list(querysets.tag_names())})
