"""Images as clients see them: whole (the media library) or as a reference (a post's
cover, a user's avatar)."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from config import fields as api_fields
from images.models import Image


class RenditionSerializer(serializers.Serializer):
    width = serializers.IntegerField()
    url = serializers.URLField()
    content_type = serializers.CharField()


class ImageRefSerializer(api_fields.ModelSerializer):
    """An image where something shows it: a post's cover, a user's avatar."""

    url = serializers.SerializerMethodField(help_text="Absolute URL of the re-encoded original.")
    renditions = serializers.SerializerMethodField(
        help_text="WebP at 600, 1000, 1600 and 2400 pixels wide, those narrower than the image, ascending."
    )

    class Meta:
        model = Image
        fields = ["id", "url", "width", "height", "alt", "renditions"]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, image: Image) -> str:
        return image.url(self.context.get("request"))

    @extend_schema_field(RenditionSerializer(many=True))
    def get_renditions(self, image: Image) -> list[dict]:
        return image.rendition_urls(self.context.get("request"))

    def to_representation(self, image: Image) -> dict:
        # Built directly: lists show one per post, and the field machinery would cost
        # more than the work itself.
        request = self.context.get("request")
        return {
            "id": image.pk,
            "url": image.url(request),
            "width": image.width,
            "height": image.height,
            "alt": image.alt,
            "renditions": image.rendition_urls(request),
        }


class ImageSerializer(ImageRefSerializer):
    """An image of the media library, whole. Only ``alt`` can change."""

    class Meta:
        model = Image
        fields = ["id", "url", "width", "height", "content_type", "size", "alt", "renditions", "created_at"]
        read_only_fields = [name for name in fields if name != "alt"]
        extra_kwargs = {
            "content_type": {"help_text": "image/jpeg, image/png or image/webp (GIFs are stored as PNG)."},
            "size": {"help_text": "Bytes of the stored original (what the quota counts)."},
        }

    def to_representation(self, image: Image) -> dict:
        return serializers.ModelSerializer.to_representation(self, image)


class ImageUploadSerializer(serializers.Serializer):
    """``multipart/form-data``: the file, and optionally its alt text."""

    file = serializers.FileField(
        help_text=(
            "A JPEG, PNG, GIF or WebP image, recognised by its content. Stored re-encoded, "
            "upright, without metadata; an animated image keeps its first frame (a GIF is "
            "stored as PNG). At most `DJANGO_MEDIA_MAX_BYTES` (10 MiB unless configured) and "
            "40 megapixels."
        )
    )
    alt = api_fields.CharField(max_length=300, required=False, allow_blank=True, default="")

    def to_internal_value(self, data):
        # A form may repeat a field; DRF would keep the last value silently. Each field is
        # one value here, so a repeated one is refused rather than half-read.
        if hasattr(data, "getlist"):
            repeated = {name: ["Send one value."] for name in self.fields if len(data.getlist(name)) > 1}
            if repeated:
                raise serializers.ValidationError(repeated)
        return super().to_internal_value(data)
