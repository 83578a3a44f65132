"""RealWorld's representations of our users, posts and comments, and what clients may write.

Messages follow the RealWorld reference (``can't be blank``, ``has already been taken``,
``is invalid``); a taken username or email carries the code ``taken`` so that sign-up can
answer 409 rather than 422.
"""

from typing import Any

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from accounts import services as account_services
from accounts.models import User
from conduit.exceptions import BLANK, TAKEN
from posts import services
from posts.models import BODY_MAX_LENGTH, COMMENT_MAX_LENGTH, TITLE_MAX_LENGTH, Comment, Post

EXCERPT_MAX_LENGTH = Post._meta.get_field("excerpt").max_length
BIO_MAX_LENGTH = User._meta.get_field("bio").max_length
IMAGE_MAX_LENGTH = User._meta.get_field("image").max_length
PASSWORD_MAX_LENGTH = 128

# The spec's policy (NIST SP 800-63B 5.1.1.2): at least 8 characters, no composition
# rules, no breached-password list; so our CommonPasswordValidator does not apply here.
PASSWORD_VALIDATORS = password_validation.get_password_validators(
    [
        {
            "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
            "OPTIONS": {"min_length": 8},
        },
        {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    ]
)


def messages(**extra: str) -> dict[str, str]:
    return {
        "required": BLANK,
        "blank": BLANK,
        "null": BLANK,
        "invalid": "is invalid",
        "max_length": "is too long (maximum is {max_length} characters)",
        **extra,
    }


def text(max_length: int, **kwargs: Any) -> serializers.CharField:
    return serializers.CharField(max_length=max_length, error_messages=messages(), **kwargs)


# --- Representations ---------------------------------------------------------------------


def profile_image(user: User, request: Any = None) -> str | None:
    """The user's RealWorld ``image``: the URL they set here, else their avatar's (an
    upload, its absolute URL), else null. The readers join the avatar (no query)."""
    if user.image:
        return user.image
    if user.avatar_id is None:
        return None
    return user.avatar.url(request)


class ProfileSerializer(serializers.Serializer):
    """A user as RealWorld shows anyone: ``following`` says whether the caller follows them."""

    username = serializers.CharField()
    bio = serializers.SerializerMethodField()
    image = serializers.SerializerMethodField()
    following = serializers.SerializerMethodField()

    def get_bio(self, user: User) -> str | None:
        return user.bio or None

    def get_image(self, user: User) -> str | None:
        return profile_image(user, self.context.get("request"))

    def get_following(self, user: User) -> bool:
        return bool(self.context.get("following", getattr(user, "following", False)))


def author_of(obj: Post | Comment, request: Any = None) -> dict[str, Any]:
    """The author's profile; the viewer's follow is annotated on the post or comment."""
    context = {"following": getattr(obj, "following_author", False), "request": request}
    return ProfileSerializer(obj.author, context=context).data


class ArticleListSerializer(serializers.Serializer):
    """An article in a list: everything but the body."""

    slug = serializers.CharField()
    title = serializers.CharField()
    description = serializers.CharField(source="excerpt")
    tagList = serializers.SerializerMethodField()  # camelCase: the spec's field names
    createdAt = serializers.DateTimeField(source="created_at")
    updatedAt = serializers.DateTimeField(source="updated_at")
    favorited = serializers.SerializerMethodField()
    favoritesCount = serializers.IntegerField(source="like_count")
    author = serializers.SerializerMethodField()

    def get_tagList(self, post: Post) -> list[str]:
        return [tag.name for tag in post.tag_list]

    def get_favorited(self, post: Post) -> bool:
        return bool(getattr(post, "liked", False))

    def get_author(self, post: Post) -> dict[str, Any]:
        return author_of(post, self.context.get("request"))


class ArticleSerializer(ArticleListSerializer):
    body = serializers.CharField()


class CommentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    createdAt = serializers.DateTimeField(source="created_at")
    updatedAt = serializers.DateTimeField(source="updated_at")
    body = serializers.CharField()
    author = serializers.SerializerMethodField()

    def get_author(self, comment: Comment) -> dict[str, Any]:
        return author_of(comment, self.context.get("request"))


class UserSerializer(serializers.Serializer):
    """The caller: a profile with the email and a token (``context["token"]``). ``image``
    is the URL they set here, without the avatar that profiles fall back to: what they
    read is what ``PUT /api/user`` writes, so sending it back changes nothing."""

    email = serializers.EmailField()
    token = serializers.SerializerMethodField()
    username = serializers.CharField()
    bio = serializers.SerializerMethodField()
    image = serializers.SerializerMethodField()

    def get_token(self, user: User) -> str:
        return str(self.context["token"])

    def get_bio(self, user: User) -> str | None:
        return user.bio or None

    def get_image(self, user: User) -> str | None:
        return user.image or None


# --- Users -----------------------------------------------------------------------------------


class AccountFieldsMixin(serializers.Serializer):
    """Username, email and password rules shared by sign-up and profile updates."""

    username = text(150)
    email = serializers.EmailField(max_length=254, error_messages=messages())
    password = text(PASSWORD_MAX_LENGTH, trim_whitespace=False, write_only=True)

    def validate_username(self, value: str) -> str:
        try:
            User.username_validator(value)
        except DjangoValidationError as exc:
            raise serializers.ValidationError("is invalid") from exc
        # Also a name another account held before renaming itself (accounts.services).
        if not account_services.username_available(value, for_user=self.instance):
            raise serializers.ValidationError(TAKEN, code="taken")
        return value

    def validate_email(self, value: str) -> str:
        value = User.objects.normalize_email(value)
        if not account_services.email_available(value, for_user=self.instance):
            raise serializers.ValidationError(TAKEN, code="taken")
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if "password" in attrs:
            current = self.instance or User()
            candidate = User(
                username=attrs.get("username", current.username),
                email=attrs.get("email", current.email),
            )
            try:
                password_validation.validate_password(
                    attrs["password"], user=candidate, password_validators=PASSWORD_VALIDATORS
                )
            except DjangoValidationError as exc:
                raise serializers.ValidationError({"password": list(exc.messages)}) from exc
        return attrs


def _conflict(exc: account_services.AccountConflict) -> serializers.ValidationError:
    """A concurrent request took the username or the email between validation and save."""
    return serializers.ValidationError({exc.field: [serializers.ErrorDetail(TAKEN, code="taken")]})


class RegistrationSerializer(AccountFieldsMixin):
    def create(self, validated_data: dict[str, Any]) -> User:
        try:
            return account_services.register(**validated_data)
        except account_services.AccountConflict as exc:
            raise _conflict(exc) from exc


class LoginSerializer(serializers.Serializer):
    email = text(254)
    password = text(PASSWORD_MAX_LENGTH, trim_whitespace=False)


class UserUpdateSerializer(AccountFieldsMixin):
    """Partial update of the caller. A blank or null ``bio``/``image`` clears it; a new
    password revokes every refresh token issued before, as /api/v1/ does."""

    bio = text(BIO_MAX_LENGTH, allow_blank=True, allow_null=True, trim_whitespace=False)
    image = serializers.URLField(
        max_length=IMAGE_MAX_LENGTH, allow_blank=True, allow_null=True, error_messages=messages()
    )

    def validate_bio(self, value: str | None) -> str:
        return value or ""

    def validate_image(self, value: str | None) -> str | None:
        return value or None

    def update(self, instance: User, validated_data: dict[str, Any]) -> User:
        try:
            return account_services.update_account(user=instance, **validated_data)
        except account_services.AccountConflict as exc:
            raise _conflict(exc) from exc


# --- Articles and comments --------------------------------------------------------------------


class ArticleWriteSerializer(serializers.Serializer):
    """Create (all but ``tagList`` required) or, with ``partial=True``, update an article.

    Articles are our posts, published at once: ``description`` is the excerpt, ``tagList``
    our tag names (normalised to slugs by ``posts.services.set_tags``); the slug is made
    from the title once and never changes.
    """

    title = text(TITLE_MAX_LENGTH)
    description = text(EXCERPT_MAX_LENGTH)
    body = text(BODY_MAX_LENGTH, trim_whitespace=False)
    tagList = serializers.ListField(
        child=text(services.TAG_MAX_LENGTH),
        max_length=services.MAX_TAGS_PER_POST,
        required=False,
        error_messages=messages(
            not_a_list="must be an array of strings",
            max_length="is too long (maximum is {max_length} tags)",
        ),
    )

    def validate_body(self, value: str) -> str:
        if not value.strip():
            raise serializers.ValidationError(BLANK, code="blank")
        return value

    def _post_fields(self) -> tuple[dict[str, Any], list[str] | None]:
        data = dict(self.validated_data)
        tags = data.pop("tagList", None)
        if "description" in data:
            data["excerpt"] = data.pop("description")
        return data, tags

    def create(self, validated_data: dict[str, Any]) -> Post:
        fields, tags = self._post_fields()
        return services.create_post(
            author=self.context["author"], tags=tags or [], status=Post.Status.PUBLISHED, **fields
        )

    def update(self, instance: Post, validated_data: dict[str, Any]) -> Post:
        fields, tags = self._post_fields()
        return services.update_post(post=instance, tags=tags, **fields)


class CommentWriteSerializer(serializers.Serializer):
    body = text(COMMENT_MAX_LENGTH)
