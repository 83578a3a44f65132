"""Serializers for sign-up, profiles, passwords and JWT rotation."""

from typing import Any

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from rest_framework import serializers
from rest_framework_simplejwt import serializers as jwt_serializers
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.tokens import RefreshToken

from accounts import services
from accounts.authentication import user_for_access_token
from accounts.models import User
from config import fields as api_fields
from images import services as image_services
from images.models import Image
from images.serializers import ImageRefSerializer, ImageSerializer
from posts.serializers import PostDetailSerializer

USERNAME_TAKEN = "A user with that username already exists."
EMAIL_TAKEN = "A user with that email already exists."
TAKEN = {"username": USERNAME_TAKEN, "email": EMAIL_TAKEN}
IMAGE_ID_MAX = 2**63 - 1  # a bigint: larger ids are a 400, never a database error
NOT_YOUR_IMAGE = "No image of yours has this id."


class OwnImageField(serializers.Field):
    """One of the caller's images: written as its id, read as the image
    (``ImageRefSerializer``). Anyone else's id, or an unknown one, is invalid."""

    default_error_messages = {
        "invalid": "A valid image id is required.",
        "not_yours": NOT_YOUR_IMAGE,
    }

    def to_internal_value(self, data: Any) -> Image:
        # An integer, as the schema says: not a string of digits, not a boolean.
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        pk = data
        if not 1 <= pk <= IMAGE_ID_MAX:
            self.fail("not_yours")
        try:
            return image_services.owned_image(owner=self.context["request"].user, image_id=pk)
        except image_services.NotYourImage:
            self.fail("not_yours")

    def to_representation(self, image: Image) -> dict[str, Any]:
        return ImageRefSerializer(context=self.context).to_representation(image)


class OwnImageFieldSchema(OpenApiSerializerFieldExtension):
    """An image id in requests, the image in responses."""

    target_class = OwnImageField

    def map_serializer_field(self, auto_schema, direction):
        if direction == "request":
            return {
                "type": "integer",
                "minimum": 1,
                "maximum": IMAGE_ID_MAX,
                "format": "int64",
                "description": "The id of one of your images, or null.",
            }
        return auto_schema.resolve_serializer(ImageRefSerializer, direction).ref


class PrivateProfileSerializer(api_fields.ModelSerializer):
    """The caller's own profile. Identity and role fields are read-only."""

    email = api_fields.EmailField(max_length=254)
    avatar = OwnImageField(
        required=False, allow_null=True, help_text="Write the id of one of your images, or null for none."
    )

    class Meta:
        model = User
        fields = [
            "id",
            "username",
            "email",
            "email_verified",
            "display_name",
            "bio",
            "avatar",
            "date_joined",
            "is_staff",
            "notify_comments",
            "notify_followed_posts",
        ]
        read_only_fields = ["id", "username", "email_verified", "date_joined", "is_staff"]
        extra_kwargs = {
            "email_verified": {
                "help_text": "Whether the link mailed to `email` was followed. A new email is unverified."
            },
        }

    def validate_email(self, value: str) -> str:
        value = User.objects.normalize_email(value)
        if not services.email_available(value, for_user=self.instance):
            raise serializers.ValidationError(EMAIL_TAKEN)
        return value

    def update(self, instance: User, validated_data: dict[str, Any]) -> User:
        try:
            return services.update_account(user=instance, **validated_data)
        except services.AccountConflict as exc:  # taken between validation and save
            raise serializers.ValidationError({exc.field: [TAKEN[exc.field]]}) from exc
        except image_services.NotYourImage as exc:  # deleted between validation and save
            raise serializers.ValidationError({"avatar": [NOT_YOUR_IMAGE]}) from exc


class RegisterSerializer(api_fields.ModelSerializer):
    """Sign-up: ``{username, email, password, display_name?}``; answers the private profile."""

    email = api_fields.EmailField(max_length=254)
    password = api_fields.CharField(write_only=True, trim_whitespace=False, max_length=128)
    display_name = api_fields.CharField(max_length=100, required=False, allow_blank=True)

    class Meta:
        model = User
        fields = ["username", "email", "password", "display_name"]
        extra_kwargs = {"username": {"validators": [User.username_validator]}}

    def validate_username(self, value: str) -> str:
        if not services.username_available(value):
            raise serializers.ValidationError(USERNAME_TAKEN)
        return value

    def validate_email(self, value: str) -> str:
        value = User.objects.normalize_email(value)
        if not services.email_available(value):
            raise serializers.ValidationError(EMAIL_TAKEN)
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        candidate = User(username=attrs["username"], email=attrs["email"])
        try:
            password_validation.validate_password(attrs["password"], user=candidate)
        except DjangoValidationError as exc:
            raise serializers.ValidationError({"password": list(exc.messages)}) from exc
        return attrs

    def create(self, validated_data: dict[str, Any]) -> User:
        try:
            return services.register(**validated_data)
        except services.AccountConflict as exc:  # a concurrent request won the race for it
            raise serializers.ValidationError({exc.field: [TAKEN[exc.field]]}) from exc

    def to_representation(self, instance: User) -> dict[str, Any]:
        return PrivateProfileSerializer(instance, context=self.context).data


class PublicProfileSerializer(serializers.ModelSerializer):
    """What anyone may see of a user: never the email."""

    post_count = serializers.IntegerField(read_only=True)
    follower_count = serializers.IntegerField(read_only=True)
    following_count = serializers.IntegerField(read_only=True)
    following = serializers.BooleanField(read_only=True, help_text="Whether the caller follows this user.")
    avatar = ImageRefSerializer(read_only=True, allow_null=True)

    class Meta:
        model = User
        fields = [
            "username",
            "display_name",
            "bio",
            "avatar",
            "date_joined",
            "post_count",
            "follower_count",
            "following_count",
            "following",
        ]
        read_only_fields = fields


class FollowStateSerializer(serializers.Serializer):
    following = serializers.BooleanField()
    follower_count = serializers.IntegerField()


class PasswordChangeSerializer(serializers.Serializer):
    old_password = api_fields.CharField(write_only=True, trim_whitespace=False, max_length=128)
    new_password = api_fields.CharField(write_only=True, trim_whitespace=False, max_length=128)

    def validate_old_password(self, value: str) -> str:
        if not self.context["request"].user.check_password(value):
            raise serializers.ValidationError("The current password is not correct.")
        return value

    def validate_new_password(self, value: str) -> str:
        try:
            password_validation.validate_password(value, user=self.context["request"].user)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(list(exc.messages)) from exc
        return value


class PasswordResetSerializer(serializers.Serializer):
    email = api_fields.EmailField(max_length=254)


class PasswordResetConfirmSerializer(serializers.Serializer):
    uid = api_fields.CharField(
        max_length=services.UID_MAX_LENGTH, help_text="From the link `/reset/{uid}/{token}/`."
    )
    token = api_fields.CharField(max_length=100, help_text="From the link `/reset/{uid}/{token}/`.")
    new_password = api_fields.CharField(write_only=True, trim_whitespace=False, max_length=128)


class VerifyEmailSerializer(serializers.Serializer):
    key = api_fields.CharField(max_length=500, help_text="From the link `/verify-email/{key}/`.")


class TokenObtainPairSerializer(jwt_serializers.TokenObtainPairSerializer):
    """A username (any case) and its password, exactly as it was set."""

    # simplejwt's, with the API's strings (JSON strings only, no NUL) and the password
    # untrimmed: simplejwt trimmed it, so a password that sign-up kept with a leading or
    # trailing space could never log in here.
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields[self.username_field] = api_fields.CharField(write_only=True)
        self.fields["password"] = api_fields.CharField(
            write_only=True, trim_whitespace=False, style={"input_type": "password"}
        )


def _spend(token: RefreshToken) -> None:
    try:
        services.spend_refresh_token(token=token)
    except services.RefreshTokenSpent as exc:
        raise InvalidToken(str(exc)) from exc


def _active_user_for(token: RefreshToken) -> User:
    user_id = token.payload.get(jwt_settings.USER_ID_CLAIM)
    try:
        user = User.objects.filter(**{jwt_settings.USER_ID_FIELD: user_id}).first()
    except (ValueError, TypeError, OverflowError) as exc:  # a claim that is no user id
        raise InvalidToken("No active account found for the given token.") from exc
    if user is None or not jwt_settings.USER_AUTHENTICATION_RULE(user):
        raise InvalidToken("No active account found for the given token.")
    return user


def _parse_refresh(raw: str) -> RefreshToken:
    try:
        return RefreshToken(raw)
    except TokenError as exc:
        raise InvalidToken(str(exc)) from exc


class RotatingRefreshSerializer(serializers.Serializer):
    """Refresh with rotation: the given refresh token dies, a new pair is returned.

    Unlike simplejwt's own serializer this is safe under concurrency (see
    ``accounts.services.spend_refresh_token``) and answers 401, not 500, for a deleted user.
    """

    refresh = api_fields.CharField()
    access = serializers.CharField(read_only=True)

    def validate(self, attrs: dict[str, Any]) -> dict[str, str]:
        old = _parse_refresh(attrs["refresh"])
        user = _active_user_for(old)
        _spend(old)
        try:
            with transaction.atomic():
                # The new token's row references the account: not one deleted meanwhile.
                services.hold_account(user_id=user.pk)
                new = RefreshToken.for_user(user)
        except services.AccountGone as exc:
            raise InvalidToken("No active account found for the given token.") from exc
        return {"access": str(new.access_token), "refresh": str(new)}


class AccessTokenVerifySerializer(serializers.Serializer):
    """Valid means what the API accepts as credentials (``user_for_access_token``).

    simplejwt's own verify checks only the signature and expiry: it said 200 for refresh
    tokens and for the tokens of deactivated or deleted users, and 400 for a blacklisted
    refresh token.
    """

    token = api_fields.CharField(write_only=True)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        user_for_access_token(attrs["token"])
        return {}


class LogoutSerializer(serializers.Serializer):
    refresh = api_fields.CharField()

    def save(self, **kwargs: Any) -> None:
        _spend(_parse_refresh(self.validated_data["refresh"]))


class AccountDeleteSerializer(serializers.Serializer):
    password = serializers.CharField(
        write_only=True,
        trim_whitespace=False,
        max_length=128,
        help_text="The account's current password, to confirm the deletion.",
    )


# --- The export (GET /api/v1/auth/me/export/) --------------------------------------------


class ExportPostSerializer(PostDetailSerializer):
    """A post as the API's detail shows it, without ``liked``."""

    liked = None

    class Meta(PostDetailSerializer.Meta):
        fields = [name for name in PostDetailSerializer.Meta.fields if name != "liked"]
        read_only_fields = fields

    def to_representation(self, post: Any) -> dict[str, Any]:
        data = self._list_item(post)
        data.update(body=post.body, body_html=post.body_html)
        return data


class ExportCommentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    post = serializers.CharField(
        source="post_slug",
        allow_null=True,
        help_text="The post's slug; null when you may no longer see the post (its author withdrew it).",
    )
    body = serializers.CharField()
    hidden = serializers.BooleanField(
        source="is_hidden", help_text="Hidden by a moderator: shown to nobody but staff."
    )
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class ExportLikeSerializer(serializers.Serializer):
    post = serializers.CharField(
        source="post_slug",
        allow_null=True,
        help_text="The post's slug; null when you may no longer see the post (its author withdrew it).",
    )
    created_at = serializers.DateTimeField()


class ExportPersonSerializer(serializers.Serializer):
    username = serializers.CharField()
    display_name = serializers.CharField()
    created_at = serializers.DateTimeField(help_text="Since when.")


class ExportFollowsSerializer(serializers.Serializer):
    following = ExportPersonSerializer(many=True, help_text="The accounts you follow.")
    followers = ExportPersonSerializer(many=True, help_text="The accounts that follow you.")


class AccountExportSerializer(serializers.Serializer):
    """Everything the caller owns, each list oldest first."""

    exported_at = serializers.DateTimeField()
    profile = PrivateProfileSerializer(help_text="The private profile, notification choices included.")
    posts = ExportPostSerializer(many=True, help_text="Every status, with the Markdown body and its HTML.")
    comments = ExportCommentSerializer(many=True, help_text="Hidden ones too.")
    likes = ExportLikeSerializer(many=True)
    follows = ExportFollowsSerializer()
    uploads = ImageSerializer(many=True, help_text="The media library: every image uploaded, with its URLs.")
