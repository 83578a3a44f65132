"""Uploaded images: one row per upload, naming the files the storage holds for it.

Only re-encoded pixels are ever stored (``images.processing``): the stored original and
its WebP renditions. Their names are random and never reused, which is what lets them be
served with a year-long ``Cache-Control``.
"""

from typing import TypedDict

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import models
from django.http import HttpRequest
from django.utils import timezone


class Rendition(TypedDict):
    """One entry of ``Image.renditions``, as stored."""

    width: int
    height: int
    name: str
    content_type: str


class RenditionLink(TypedDict):
    """One rendition as clients see it."""

    width: int
    url: str
    content_type: str


def media_url(name: str, request: HttpRequest | None = None) -> str:
    """The URL of a stored file: the storage's own when it is absolute (object storage),
    else on ``SITE_URL`` when set, else on the request's host; relative with neither."""
    url = default_storage.url(name)
    if url.startswith(("http://", "https://", "//")):
        return url
    if settings.SITE_URL:
        return settings.SITE_URL.rstrip("/") + url
    if request is not None:
        return request.build_absolute_uri(url)
    return url


class Image(models.Model):
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="images")
    # The storage name of the re-encoded original, e.g. images/2026/11/<32 hex>.jpg.
    file = models.CharField(max_length=200, unique=True)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    content_type = models.CharField(max_length=30)
    # Bytes of the stored original: what the quota counts.
    size = models.PositiveIntegerField()
    alt = models.CharField(max_length=300, blank=True)
    # [{"width", "height", "name", "content_type"}], ascending by width.
    renditions = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["owner", "-created_at"], name="images_owner_created")]

    def __str__(self) -> str:
        return self.file

    def url(self, request: HttpRequest | None = None) -> str:
        """Absolute URL of the stored original (see ``media_url``)."""
        return media_url(self.file, request)

    def rendition_urls(self, request: HttpRequest | None = None) -> list[RenditionLink]:
        return [
            {
                "width": each["width"],
                "url": media_url(each["name"], request),
                "content_type": each["content_type"],
            }
            for each in self.renditions
        ]

    @property
    def stored_names(self) -> list[str]:
        """Every file the storage holds for this image."""
        return [self.file, *(each["name"] for each in self.renditions)]

    @property
    def smallest(self) -> tuple[str, int, int]:
        """(storage name, width, height) of the smallest stored version: for thumbnails."""
        if self.renditions:
            first = self.renditions[0]
            return first["name"], first["width"], first["height"]
        return self.file, self.width, self.height
