"""Uploading through the API and looking at what the storage holds."""

import io
from pathlib import Path

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

MEDIA_LIST = "/api/v1/media/"


def stored_files(root: Path) -> list[Path]:
    return sorted(path for path in root.rglob("*") if path.is_file()) if root.exists() else []


def upload(client, data: bytes, *, name: str = "photo.jpg", content_type: str = "image/jpeg", **fields):
    """POST one file to the media endpoint as a browser's form would."""
    file = SimpleUploadedFile(name, data, content_type=content_type)
    return client.post(MEDIA_LIST, {"file": file, **fields}, format="multipart")


def media_path(url: str) -> str:
    """The path of a media URL (the API gives absolute ones)."""
    return "/media/" + url.split("/media/", 1)[1]


def served(client, url: str):
    """GET a media URL from the app, as a browser would."""
    return client.get(media_path(url))


def content(response) -> bytes:
    return b"".join(response.streaming_content)


def opened(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image
