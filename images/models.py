"""Uploaded images: one row per upload, naming the files the storage holds for it.

Only re-encoded pixels are ever stored (``images.processing``): the stored original and
its WebP renditions. Their names are random and never reused, which is what lets them be
served with a year-long ``Cache-Control``.
"""

import functools
import re
from typing import TypedDict

from django.conf import settings
from django.core.files.storage import FileSystemStorage, default_storage, storages
from django.core.signals import setting_changed
from django.db import models
from django.dispatch import receiver
from django.http import HttpRequest
from django.utils import timezone

_PLAIN_NAME = re.compile(r"[A-Za-z0-9_./-]+")


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


@functools.cache
def _local_base_url() -> str | None:
    """The file system storage's base URL, or None for another storage (object storage
    builds its own URLs). A list shows a URL per rendition, four or five per cover, and
    ``FileSystemStorage.url`` re-joins the base each time."""
    storage = storages["default"]
    return storage.base_url if type(storage) is FileSystemStorage else None


@receiver(setting_changed)
def _forget_base_url(*, setting: str, **kwargs: object) -> None:
    if setting in {"STORAGES", "MEDIA_URL", "MEDIA_ROOT"}:
        _local_base_url.cache_clear()


def media_url(name: str, request: HttpRequest | None = None) -> str:
    """The URL of a stored file: the storage's own when it is absolute (object storage),
    else on ``SITE_URL`` when set, else on the request's host; relative with neither."""
    base = _local_base_url()
    # Our stored names are random hex under dated folders: nothing in them needs quoting.
    url = base + name if base is not None and _PLAIN_NAME.fullmatch(name) else default_storage.url(name)
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
