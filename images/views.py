"""The media library API (/api/v1/media/) and the view serving stored files (/media/).

Writes go through ``images.services``; the views translate between HTTP and them.
"""

import re

from csp.decorators import csp_exempt
from django.core.exceptions import SuspiciousFileOperation
from django.core.files.storage import FileSystemStorage, default_storage
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpRequest
from django.views.decorators.http import require_safe
from drf_spectacular.utils import OpenApiRequest, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, parsers, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from images import selectors, services
from images.models import Image
from images.permissions import IsOwnerOrStaff
from images.serializers import ImageSerializer, ImageUploadSerializer
from images.throttles import MediaUploadThrottle

UPLOAD_DESCRIPTION = (
    "Upload an image as `multipart/form-data` (`file`, and optionally `alt`). JPEG, PNG, GIF and "
    "WebP are accepted, recognised by their content; anything else (SVG, HTML, PDF, a truncated "
    "or corrupt image, more than 40 megapixels, a file over `DJANGO_MEDIA_MAX_BYTES`, an upload "
    "past the owner's quota) is a 400 naming `file`, and nothing is stored. What is stored is "
    "re-encoded from the pixels: upright (EXIF orientation applied), without any metadata; "
    "an animated image keeps its first frame, and a GIF is stored as PNG. Renditions are WebP "
    "at 600, 1000, 1600 and 2400 pixels wide, those narrower than the image. Throttled per "
    "user (`DJANGO_MEDIA_UPLOAD_RATE`)."
)


ACCEPTED_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp")


@extend_schema_view(
    list=extend_schema(
        summary="My images",
        description="The caller's images (staff: everyone's), newest first.",
    ),
    create=extend_schema(
        summary="Upload an image",
        description=UPLOAD_DESCRIPTION,
        request={
            "multipart/form-data": OpenApiRequest(
                ImageUploadSerializer,
                # What the file part must be; its declared type is not trusted (the bytes decide).
                encoding={"file": {"contentType": ", ".join(ACCEPTED_TYPES)}},
            )
        },
        responses={
            201: ImageSerializer,
            413: OpenApiResponse(
                description=(
                    "Request body over `DJANGO_MEDIA_MAX_BYTES` plus 64 KiB for the multipart "
                    "envelope, refused before it is read."
                ),
            ),
            415: OpenApiResponse(description="The body is not `multipart/form-data`."),
            429: OpenApiResponse(description="Too many uploads; see the `Retry-After` header."),
        },
    ),
    retrieve=extend_schema(
        summary="An image", description="The owner's or, for staff, anyone's; others 404."
    ),
    partial_update=extend_schema(
        summary="Change an image's alt text",
        description="Only `alt` can change (JSON).",
    ),
    destroy=extend_schema(
        summary="Delete an image",
        description=(
            "Deletes the image and all its files: its URLs answer 404 afterwards. Posts and "
            "profiles that showed it lose their cover or avatar."
        ),
    ),
)
class ImageViewSet(
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """The caller's media library: upload, list, read, change the alt text, delete."""

    serializer_class = ImageSerializer
    permission_classes = [IsAuthenticated, IsOwnerOrStaff]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    filter_backends = []

    def get_queryset(self) -> QuerySet[Image]:
        return selectors.images_visible_to(self.request.user).order_by("-created_at", "-id")

    def get_parsers(self) -> list:
        # Only an upload is multipart; everything else is JSON, like the rest of the API.
        request = getattr(self, "request", None)
        if request is not None and request.method == "POST":
            return [parsers.MultiPartParser()]
        return super().get_parsers()

    def get_throttles(self) -> list:
        if self.action == "create":
            return [MediaUploadThrottle()]
        return super().get_throttles()

    def get_serializer_class(self):
        if self.action == "create":
            return ImageUploadSerializer
        return super().get_serializer_class()

    def create(self, request: Request, *args, **kwargs) -> Response:
        upload = ImageUploadSerializer(data=request.data)
        upload.is_valid(raise_exception=True)
        try:
            image = services.upload_image(
                owner=request.user,
                file=upload.validated_data["file"],
                alt=upload.validated_data["alt"],
            )
        except services.ImageRejected as exc:
            raise ValidationError({"file": [exc.message]}) from exc
        return Response(ImageSerializer(image, context=self.get_serializer_context()).data, status=201)

    def perform_update(self, serializer: ImageSerializer) -> None:
        image = serializer.instance
        services.set_alt(image=image, alt=serializer.validated_data.get("alt", image.alt))

    def perform_destroy(self, instance: Image) -> None:
        services.delete_image(image=instance)


# What /media/ may serve: the names images.services gives, nothing else.
SERVABLE_NAME = re.compile(r"images/\d{4}/\d{2}/[0-9a-f]{32}(?:-\d{1,5})?\.(jpg|png|webp|gif)")
CONTENT_TYPES = {"jpg": "image/jpeg", "png": "image/png", "webp": "image/webp", "gif": "image/gif"}
MEDIA_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    # Names are random and never reused: a file at a URL never changes.
    "Cache-Control": "public, max-age=31536000, immutable",
    # Should a stored file ever be opened as a document, it may run nothing.
    "Content-Security-Policy": "default-src 'none'; sandbox",
}


@csp_exempt()
@require_safe
def serve_media(request: HttpRequest, name: str) -> FileResponse:
    """A stored image from the file system storage, as nginx would serve it: the app is a
    whole site on its own, with DEBUG off too. With object storage the URLs are the
    bucket's, and this answers 404."""
    match = SERVABLE_NAME.fullmatch(name)
    if match is None or not isinstance(default_storage, FileSystemStorage):
        raise Http404("No such file.")
    try:
        path = default_storage.path(name)
        handle = open(path, "rb")  # noqa: SIM115 - FileResponse closes it
    except (SuspiciousFileOperation, OSError) as exc:
        raise Http404("No such file.") from exc
    response = FileResponse(handle, content_type=CONTENT_TYPES[match.group(1)])
    for header, value in MEDIA_HEADERS.items():
        response[header] = value
    return response
