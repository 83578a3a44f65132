"""Representations of posts, comments, tags and categories, and what clients may write."""

import datetime
import re
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.reverse import reverse
from rest_framework.settings import ISO_8601, api_settings

from accounts.models import User
from config import fields as api_fields
from images import services as image_services
from images.models import Image
from images.serializers import ImageRefSerializer
from posts import services
from posts.models import BODY_MAX_LENGTH, COMMENT_MAX_LENGTH, TITLE_MAX_LENGTH, Category, Comment, Post, Tag


class AuthorSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["username", "display_name"]
        read_only_fields = fields


class CategoryRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Category
        fields = ["slug", "name"]
        read_only_fields = fields


class PostListSerializer(serializers.ModelSerializer):
    """A post in a list: everything but the body."""

    author = AuthorSerializer(read_only=True)
    category = CategoryRefSerializer(read_only=True, allow_null=True)
    tags = serializers.SlugRelatedField(many=True, read_only=True, slug_field="slug")
    status = serializers.SerializerMethodField(
        help_text="`draft`, `scheduled` (published with a future `published_at`) or `published`."
    )
    reading_time = serializers.IntegerField(read_only=True, help_text="Minutes, at least 1.")
    cover_image = ImageRefSerializer(read_only=True, allow_null=True, help_text="The cover image, or null.")
    url = serializers.HyperlinkedIdentityField(view_name="post-detail", lookup_field="slug")

    class Meta:
        model = Post
        fields = [
            "id",
            "slug",
            "title",
            "excerpt",
            "author",
            "category",
            "tags",
            "status",
            "published_at",
            "created_at",
            "updated_at",
            "comment_count",
            "like_count",
            "reading_time",
            "cover_image",
            "url",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ChoiceField(choices=["draft", "scheduled", "published"]))
    def get_status(self, post: Post) -> str:
        return post.display_status

    def to_representation(self, post: Post) -> dict[str, Any]:
        # Lists are the hot path: building the fields and walking them costs many times
        # this dict (docs/performance.md). The declared fields still describe the schema,
        # and a test checks that both give the same JSON.
        # Subclasses (other fields) take the generic path.
        if type(self) is not PostListSerializer:
            return super().to_representation(post)
        return self._list_item(post)

    def _list_item(self, post: Post) -> dict[str, Any]:
        author, category = post.author, post.category
        return {
            "id": post.id,
            "slug": post.slug,
            "title": post.title,
            "excerpt": post.excerpt,
            "author": {"username": author.username, "display_name": author.display_name},
            "category": {"slug": category.slug, "name": category.name} if category is not None else None,
            "tags": tag_slugs(post),
            "status": post.display_status,
            "published_at": self._datetime(post.published_at),
            "created_at": self._datetime(post.created_at),
            "updated_at": self._datetime(post.updated_at),
            "comment_count": post.comment_count,
            "like_count": post.like_count,
            "reading_time": post.reading_time,
            "cover_image": self._cover_image(post.cover_image),
            "url": self._post_url(post),
        }

    def _cover_image(self, image: Image | None) -> dict[str, Any] | None:
        # Joined by the selectors (no query per post); ImageRefSerializer builds its dict
        # directly, so creating one per serializer, not per post, is all it costs.
        if image is None:
            return None
        serializer = getattr(self, "_image_serializer", None)
        if serializer is None:
            serializer = self._image_serializer = ImageRefSerializer(context=self.context)
        return serializer.to_representation(image)

    def _datetime(self, value: datetime.datetime | None) -> str | None:
        """What DRF's DateTimeField gives with the ISO 8601 format: the current time zone,
        ``Z`` for UTC."""
        if value is None:
            return None
        if api_settings.DATETIME_FORMAT != ISO_8601:
            return serializers.DateTimeField().to_representation(value)
        zone = getattr(self, "_zone", None)
        if zone is None:
            zone = self._zone = timezone.get_current_timezone()
        text = value.astimezone(zone).isoformat() if timezone.is_aware(value) else value.isoformat()
        return f"{text[:-6]}Z" if text.endswith("+00:00") else text

    def _post_url(self, post: Post) -> str:
        """The detail URL, reversed once per serializer rather than once per post."""
        if not _PLAIN_SLUG.fullmatch(post.slug) or self.context.get("format"):
            return PostListSerializer._declared_fields["url"].get_url(
                post, "post-detail", self.context.get("request"), self.context.get("format")
            )
        template = getattr(self, "_url_template", None)
        if template is None:
            request = self.context.get("request")
            template = reverse("post-detail", kwargs={"slug": _SLUG_MARK}, request=request).split(_SLUG_MARK)
            self._url_template = template
        return f"{template[0]}{post.slug}{template[1]}"


def tag_slugs(post: Post) -> list[str]:
    """The post's tag slugs: from its ``tag_list`` when a selector read it, otherwise
    (a post just written) from its tags, in their order (by slug)."""
    tags = getattr(post, "tag_list", None)
    if tags is not None:
        return [tag.slug for tag in tags]
    return [tag.slug for tag in post.tags.all()]


_SLUG_MARK = "post-slug-placeholder"
IMAGE_ID_MAX = 2**63 - 1  # a bigint: larger ids are a 400, never a database error
NOT_YOUR_IMAGE = "No image of yours has this id."
_PLAIN_SLUG = re.compile(r"[-a-zA-Z0-9_]+")


class PostDetailSerializer(PostListSerializer):
    """A whole post: Markdown source, sanitised HTML and whether the caller likes it."""

    body_html = serializers.CharField(read_only=True, help_text="Rendered and sanitised HTML.")
    liked = serializers.SerializerMethodField()

    class Meta(PostListSerializer.Meta):
        fields = [*PostListSerializer.Meta.fields, "body", "body_html", "liked"]
        read_only_fields = fields

    def get_liked(self, post: Post) -> bool:
        return bool(getattr(post, "liked", False))

    def to_representation(self, post: Post) -> dict[str, Any]:
        if type(self) is not PostDetailSerializer:
            return super(PostListSerializer, self).to_representation(post)
        data = self._list_item(post)
        data.update(body=post.body, body_html=post.body_html, liked=self.get_liked(post))
        return data


class CategorySlugField(serializers.SlugRelatedField):
    """A category slug, or null for none. A value that is not a string, or holds a NUL
    (which PostgreSQL cannot compare), is invalid before it reaches the database; an empty
    string is too (DRF would read it as null: the schema says a slug or null)."""

    def run_validation(self, data: Any = serializers.empty) -> Category | None:
        if data == "":
            self.fail("invalid")
        return super().run_validation(data)

    def to_internal_value(self, data: Any) -> Category:
        if not isinstance(data, str) or "\x00" in data:
            self.fail("invalid")
        return super().to_internal_value(data)


class PostWriteSerializer(api_fields.ModelSerializer):
    """Create or edit a post. The author is the caller; the slug, counters and dates other
    than ``published_at`` are the server's. Unknown fields are ignored."""

    title = api_fields.CharField(max_length=TITLE_MAX_LENGTH)
    body = api_fields.UntrimmedTextField(max_length=BODY_MAX_LENGTH)
    excerpt = api_fields.CharField(max_length=500, required=False, allow_blank=True)
    category = CategorySlugField(
        slug_field="slug", queryset=Category.objects.all(), required=False, allow_null=True
    )
    tags = serializers.ListField(
        child=api_fields.CharField(max_length=services.TAG_MAX_LENGTH),
        max_length=services.MAX_TAGS_PER_POST,
        required=False,
        help_text="Tag names; unknown tags are created, names normalised to slugs.",
    )
    status = serializers.ChoiceField(
        choices=Post.Status.choices,
        required=False,
        help_text="`draft` (default for a new post) or `published`. Left as it is when omitted on an edit.",
    )
    published_at = serializers.DateTimeField(
        required=False,
        allow_null=True,
        help_text="When the post becomes public. Defaults to now on first publication; "
        "a future time schedules it.",
    )
    cover_image = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        max_value=IMAGE_ID_MAX,
        help_text="The id of one of your images (`/api/v1/media/`), or null for no cover. "
        "Staff editing someone's post may also pick one of its author's images.",
    )

    class Meta:
        model = Post
        fields = ["title", "body", "excerpt", "category", "tags", "status", "published_at", "cover_image"]

    def validate_cover_image(self, value: int | None) -> Image | None:
        if value is None:
            return None
        caller = self.context["request"].user
        owners = [caller]
        if self.instance is not None and self.instance.author_id != caller.pk:
            # Staff editing someone's post: its author's images too.
            owners.append(self.instance.author)
        for owner in owners:
            try:
                return image_services.owned_image(owner=owner, image_id=value)
            except image_services.NotYourImage:
                continue
        raise serializers.ValidationError(NOT_YOUR_IMAGE)

    def create(self, validated_data: dict[str, Any]) -> Post:
        tags = validated_data.pop("tags", [])
        validated_data.setdefault("status", Post.Status.DRAFT)
        try:
            return services.create_post(author=self.context["request"].user, tags=tags, **validated_data)
        except image_services.NotYourImage as exc:  # deleted between validation and save
            raise serializers.ValidationError({"cover_image": [NOT_YOUR_IMAGE]}) from exc

    def update(self, instance: Post, validated_data: dict[str, Any]) -> Post:
        tags = validated_data.pop("tags", None)
        try:
            return services.update_post(post=instance, tags=tags, **validated_data)
        except image_services.NotYourImage as exc:
            raise serializers.ValidationError({"cover_image": [NOT_YOUR_IMAGE]}) from exc

    def to_representation(self, instance: Post) -> dict[str, Any]:
        return PostDetailSerializer(instance, context=self.context).data


class LikeStateSerializer(serializers.Serializer):
    liked = serializers.BooleanField()
    like_count = serializers.IntegerField()


class CommentSerializer(api_fields.ModelSerializer):
    post = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    author = AuthorSerializer(read_only=True)
    body = api_fields.CharField(max_length=COMMENT_MAX_LENGTH)

    class Meta:
        model = Comment
        fields = ["id", "post", "author", "body", "created_at", "updated_at"]
        read_only_fields = ["id", "post", "author", "created_at", "updated_at"]


class TagSerializer(serializers.ModelSerializer):
    post_count = serializers.IntegerField(read_only=True, help_text="Public posts with this tag.")

    class Meta:
        model = Tag
        fields = ["name", "slug", "post_count"]
        read_only_fields = fields


class CategorySerializer(api_fields.ModelSerializer):
    """Categories; staff write ``{name, slug?, description?}`` (slug made from the name)."""

    slug = api_fields.SlugField(max_length=120, required=False)
    post_count = serializers.IntegerField(read_only=True, help_text="Public posts in this category.")

    class Meta:
        model = Category
        fields = ["name", "slug", "description", "post_count"]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs.get("slug") and "name" in attrs and (self.instance is None):
            attrs["slug"] = services.slug_base(attrs["name"], fallback="category", max_length=120)
        slug = attrs.get("slug")
        if slug:
            clash = Category.objects.filter(slug=slug)
            if self.instance is not None:
                clash = clash.exclude(pk=self.instance.pk)
            if clash.exists():
                raise serializers.ValidationError({"slug": ["A category with this slug already exists."]})
        return attrs

    def create(self, validated_data: dict[str, Any]) -> Category:
        return services.save_category(category=Category(**validated_data))

    def update(self, instance: Category, validated_data: dict[str, Any]) -> Category:
        for name, value in validated_data.items():
            setattr(instance, name, value)
        return services.save_category(category=instance)

    def save(self, **kwargs: Any) -> Category:
        try:
            with transaction.atomic():
                return super().save(**kwargs)
        except IntegrityError as exc:
            raise serializers.ValidationError(
                {"name": ["A category with this name or slug already exists."]}
            ) from exc
