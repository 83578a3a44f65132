"""Images for tests of other apps (covers, avatars): real uploads through the service,
with real files in the (test) storage."""

from django.core.files.uploadedfile import SimpleUploadedFile

from images import services
from images.models import Image
from images.tests import files


def make_image(owner, *, width: int = 1200, height: int = 800, alt: str = "") -> Image:
    """An uploaded JPEG of ``owner``'s (with renditions when wider than 600 pixels)."""
    upload = SimpleUploadedFile("photo.jpg", files.jpeg(width, height), content_type="image/jpeg")
    return services.upload_image(owner=owner, file=upload, alt=alt)
