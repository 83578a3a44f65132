"""Sign-up, JWT tokens, the caller's profile, its export and deletion, password resets,
address verification, public profiles and follows."""

from django.contrib.auth import logout, update_session_auth_hash
from django.http import Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import generics, serializers, status
from rest_framework.authentication import SessionAuthentication
from rest_framework.exceptions import AuthenticationFailed, ValidationError
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle
from rest_framework.views import APIView
from rest_framework_simplejwt import views as jwt_views

from accounts import selectors, services
from accounts.models import Follow, User
from accounts.serializers import (
    AccessTokenVerifySerializer,
    AccountDeleteSerializer,
    AccountExportSerializer,
    FollowStateSerializer,
    LogoutSerializer,
    PasswordChangeSerializer,
    PasswordResetConfirmSerializer,
    PasswordResetSerializer,
    PrivateProfileSerializer,
    PublicProfileSerializer,
    RegisterSerializer,
    TokenObtainPairSerializer,
    VerifyEmailSerializer,
)
from accounts.throttles import (
    AuthRateThrottle,
    EmailRateThrottle,
    LoginLockedOut,
    LoginRateThrottle,
    PasswordResetRateThrottle,
    VerificationMailThrottle,
)
from config.renderers import ORJSONRenderer

INVALID_RESET_LINK = (
    "This password reset link is not valid: it was used already, has expired, or is incomplete."
)

TOKEN_PAIR = inline_serializer(
    "TokenPair", {"access": serializers.CharField(), "refresh": serializers.CharField()}
)


@extend_schema(tags=["auth"], responses={201: PrivateProfileSerializer})
class RegisterView(generics.CreateAPIView):
    """Create an account. Usernames and emails are unique case-insensitively."""

    serializer_class = RegisterSerializer
    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes = [AuthRateThrottle]
    throttle_scope = "register"


@extend_schema(tags=["auth"], responses={200: TOKEN_PAIR})
class TokenObtainView(jwt_views.TokenObtainPairView):
    """Exchange a username (any case) and password for an access and a refresh token."""

    serializer_class = TokenObtainPairSerializer
    throttle_classes = [LoginRateThrottle]

    def post(self, request: Request, *args, **kwargs) -> Response:
        try:
            return super().post(request, *args, **kwargs)
        except AuthenticationFailed:
            # Axes flags the DRF request it was given; Django's AxesMiddleware never sees it.
            if getattr(request, "axes_locked_out", False):
                raise LoginLockedOut() from None
            raise


@extend_schema(tags=["auth"], responses={200: TOKEN_PAIR})
class TokenRefreshView(jwt_views.TokenRefreshView):
    """Trade a refresh token for a new pair. The refresh token sent is dead afterwards."""

    throttle_classes = [AuthRateThrottle]
    throttle_scope = "token-refresh"


@extend_schema(tags=["auth"], responses={200: inline_serializer("TokenVerified", {})})
class TokenVerifyView(jwt_views.TokenVerifyView):
    """200 ``{}`` for a token the API accepts as credentials: an unexpired access token of
    an active user. 401 otherwise (a refresh token, a logged-out one, a deactivated or
    deleted user's token, anything forged or expired)."""

    serializer_class = AccessTokenVerifySerializer


@extend_schema(
    tags=["auth"],
    request=LogoutSerializer,
    responses={205: OpenApiResponse(description="Logged out: the refresh token is dead.")},
)
class LogoutView(APIView):
    """Blacklist a refresh token. Needs no access token: the refresh token is the proof."""

    permission_classes = [AllowAny]
    authentication_classes: list = []

    def get_authenticate_header(self, request: Request) -> str:
        # A dead or forged refresh token is a 401 with a Bearer challenge, not a 403.
        return 'Bearer realm="api"'

    def post(self, request: Request) -> Response:
        serializer = LogoutSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        serializer.save()
        return Response(status=status.HTTP_205_RESET_CONTENT)


INCORRECT_PASSWORD = "The password is not correct."  # noqa: S105 (a message, not a password)


class BodyOnDeleteSchema(AutoSchema):
    """drf-spectacular documents no request body for DELETE; the account's deletion
    takes one (``{password}``), as the contract says."""

    def _get_request_body(self, direction: str = "request"):
        if self.method != "DELETE":
            return super()._get_request_body(direction)
        # The body as POST's would be documented, with the serializer given for DELETE
        # (read while the method still says so: the overrides are per method).
        serializer = self.get_request_serializer()
        self.method, self.get_request_serializer = "POST", lambda: serializer
        try:
            return super()._get_request_body(direction)
        finally:
            self.method = "DELETE"
            del self.get_request_serializer


@extend_schema(tags=["auth"])
@extend_schema(
    methods=["DELETE"],
    request=AccountDeleteSerializer,
    responses={
        204: OpenApiResponse(description="The account and everything it owned are gone."),
        400: OpenApiResponse(description='The password is missing or wrong: `{"password": [...]}`.'),
        413: OpenApiResponse(description="Request body over the 2.5 MB limit."),
        415: OpenApiResponse(description="The body is not JSON."),
        429: OpenApiResponse(description="Throttled; see the `Retry-After` header."),
    },
    description=(
        "Delete the caller's account, confirmed by its password: its posts (each sent to "
        "webhooks as `post.deleted`), comments, likes, follows both ways and uploads (with "
        "their files) go with it. Its tokens are dead at once: the access token answers 401 "
        "on the next request and the refresh token 401 on refresh. A missing or wrong "
        "password is a 400 naming `password` (DRF's answer to an invalid field, as for "
        "`old_password` of a password change), and deletes nothing. Throttled per client "
        "address (`DJANGO_AUTH_THROTTLE_RATE`). Not undoable."
    ),
)
class MeView(generics.RetrieveUpdateDestroyAPIView):
    """The caller's private profile. ``id``, ``username``, ``is_staff`` and ``date_joined``
    are read-only; other unknown fields are ignored."""

    serializer_class = PrivateProfileSerializer
    permission_classes = [IsAuthenticated]
    http_method_names = ["get", "patch", "delete", "head", "options"]
    throttle_scope = "delete-account"
    schema = BodyOnDeleteSchema()

    def get_object(self) -> User:
        return self.request.user

    def get_throttles(self) -> list[BaseThrottle]:
        # Only the deletion: it checks a password, which a stolen access token must not
        # let anyone guess at leisure.
        if self.request.method == "DELETE":
            return [AuthRateThrottle()]
        return super().get_throttles()

    def destroy(self, request: Request, *args, **kwargs) -> Response:
        serializer = AccountDeleteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            services.delete_account(user=request.user, password=serializer.validated_data["password"])
        except services.WrongPassword as exc:
            raise ValidationError({"password": [INCORRECT_PASSWORD]}) from exc
        if isinstance(request.successful_authenticator, SessionAuthentication):
            logout(request._request)  # the browser's session ends with the account
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(
    tags=["auth"],
    responses={
        200: OpenApiResponse(
            AccountExportSerializer, description="Everything the caller owns, as a JSON download."
        )
    },
    parameters=[
        OpenApiParameter(
            "Content-Disposition",
            OpenApiTypes.STR,
            OpenApiParameter.HEADER,
            response=[200],
            description='`attachment; filename="blog-export-{username}-{YYYY-MM-DD}.json"`',
        )
    ],
)
class ExportView(APIView):
    """Everything the caller owns, as one JSON document to keep or to take elsewhere: the
    private profile (with the notification choices), posts of every status with their
    Markdown and HTML bodies, comments (hidden ones too), likes, whom the caller follows
    and who follows them, and every upload with its URLs. Each list is oldest first. A
    comment's or like's `post` is null when the caller may no longer see that post.

    Not paginated: one person's data is bounded by what one person writes, and one
    document is what moving out needs. Read in a fixed number of queries, however much
    there is. `Cache-Control: private, no-store`."""

    permission_classes = [IsAuthenticated]
    # JSON only: the browsable API's page would be the download otherwise.
    renderer_classes = [ORJSONRenderer]

    def get(self, request: Request) -> Response:
        export = selectors.account_export(user=request.user)
        data = AccountExportSerializer(export, context={"request": request}).data
        name = f"blog-export-{export.profile.username}-{export.exported_at.date().isoformat()}.json"
        response = Response(data)
        # Usernames are ASCII letters, digits and @.+-_: nothing to quote or encode.
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        response["Cache-Control"] = "private, no-store"
        return response


@extend_schema(tags=["auth"], request=PasswordChangeSerializer, responses={204: None})
class PasswordChangeView(APIView):
    """Change the caller's password. Every refresh token issued before is revoked."""

    permission_classes = [IsAuthenticated]
    throttle_classes = [AuthRateThrottle]
    throttle_scope = "password"

    def post(self, request: Request) -> Response:
        serializer = PasswordChangeSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        user = services.update_account(user=request.user, password=serializer.validated_data["new_password"])
        if isinstance(request.successful_authenticator, SessionAuthentication):
            # Keep the browser's own session; every other session of the user ends. Only
            # for session callers: for a JWT caller this would create a session for nothing.
            update_session_auth_hash(request._request, user)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(
    tags=["auth"],
    request=PasswordResetSerializer,
    responses={204: OpenApiResponse(description="Whether or not an account has this address.")},
)
class PasswordResetView(APIView):
    """Mail a link to ``/reset/{uid}/{token}/`` to the account with this email, if any.

    The answer is the same 204, after the same work, for an address with no account, so
    that it tells nobody who has an account. Throttled per client address and per email."""

    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes = [PasswordResetRateThrottle, EmailRateThrottle]

    def post(self, request: Request) -> Response:
        serializer = PasswordResetSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.request_password_reset(email=serializer.validated_data["email"])
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(
    tags=["auth"],
    request=PasswordResetConfirmSerializer,
    responses={204: OpenApiResponse(description="The password is changed; every refresh token is dead.")},
)
class PasswordResetConfirmView(APIView):
    """Set a new password with the ``uid`` and ``token`` of a reset link. The link works
    once and for ``DJANGO_PASSWORD_RESET_TIMEOUT`` seconds; a bad one is a 400 naming
    ``token``, a password the validators refuse a 400 naming ``new_password``. Every
    refresh token of the account is revoked."""

    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes = [AuthRateThrottle]
    throttle_scope = "password-reset-confirm"

    def post(self, request: Request) -> Response:
        serializer = PasswordResetConfirmSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            services.reset_password(**serializer.validated_data)
        except services.InvalidResetLink as exc:
            raise ValidationError({"token": [INVALID_RESET_LINK]}) from exc
        except services.PasswordRejected as exc:
            raise ValidationError({"new_password": exc.messages}) from exc
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(
    tags=["auth"],
    request=VerifyEmailSerializer,
    responses={204: OpenApiResponse(description="The address is verified.")},
)
class VerifyEmailView(APIView):
    """Verify an address with the ``key`` of the link mailed after sign-up or an email
    change. A bad, expired or used key, or one for an address the account no longer has,
    is a 400 naming ``key``. Needs no login: the key is the proof."""

    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes = [AuthRateThrottle]
    throttle_scope = "verify-email"

    def post(self, request: Request) -> Response:
        serializer = VerifyEmailSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            services.verify_email(key=serializer.validated_data["key"])
        except services.InvalidVerificationKey as exc:
            raise ValidationError({"key": [exc.reason]}) from exc
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(
    tags=["auth"],
    request=None,
    responses={
        204: OpenApiResponse(
            description="Mailed again, unless the address is verified already or there is none."
        )
    },
)
class VerifyEmailResendView(APIView):
    """Mail the caller's verification link again. Throttled per account and per client
    address (``DJANGO_EMAIL_THROTTLE_RATE``)."""

    permission_classes = [IsAuthenticated]
    throttle_classes = [AuthRateThrottle, VerificationMailThrottle]
    throttle_scope = "verify-email-resend"

    def post(self, request: Request) -> Response:
        services.resend_verification(user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


def get_user_or_404(username: str) -> User:
    return get_object_or_404(User.objects.filter(is_active=True).with_username(username))


@extend_schema(tags=["users"])
class UserDetailView(generics.RetrieveAPIView):
    """A user's public profile; the username is matched case-insensitively."""

    serializer_class = PublicProfileSerializer
    permission_classes = [AllowAny]

    def get_object(self) -> User:
        profile = selectors.public_profile(username=self.kwargs["username"], viewer=self.request.user)
        if profile is None:
            raise Http404("No User matches the given query.")
        return profile


@extend_schema(tags=["users"], request=None, responses={200: FollowStateSerializer})
class FollowView(APIView):
    """Follow (POST) or unfollow (DELETE) a user. Both are idempotent."""

    permission_classes = [IsAuthenticated]

    def post(self, request: Request, username: str) -> Response:
        target = get_user_or_404(username)
        try:
            services.follow(follower=request.user, followed=target)
        except services.CannotFollowSelf as exc:
            raise ValidationError({"detail": "You cannot follow yourself."}) from exc
        return self._state(target, following=True)

    def delete(self, request: Request, username: str) -> Response:
        target = get_user_or_404(username)
        services.unfollow(follower=request.user, followed=target)
        return self._state(target, following=False)

    def _state(self, target: User, *, following: bool) -> Response:
        count = Follow.objects.filter(followed=target).count()
        return Response(FollowStateSerializer({"following": following, "follower_count": count}).data)
