"""Writes to images: upload, alt text, deletion, pruning. Every face (the API, the
admin, the operators' command) goes through these.

Files are written before the row and deleted after it: a row always names files that
exist, and a failure between the two leaves no file behind (the upload deletes what it
wrote; a deletion removes the files once the row's deletion has committed, see
``images.signals``).
"""

import logging
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import IO, TYPE_CHECKING

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from images import processing, selectors
from images.models import Image, Rendition
from images.processing import ImageRejected
from posts import caching

if TYPE_CHECKING:
    from accounts.models import User

__all__ = [
    "ImageRejected",
    "NotYourImage",
    "PrunedImage",
    "delete_files",
    "delete_image",
    "owned_image",
    "prune_images",
    "set_alt",
    "upload_image",
]

logger = logging.getLogger(__name__)


class NotYourImage(Exception):
    """The image id names no image of the given owner (none at all, or someone else's)."""


def quota_message() -> str:
    return (
        "You have used your storage quota "
        f"({processing.mebibytes(settings.MEDIA_QUOTA_BYTES)}): delete some images first."
    )


def used_bytes(owner: "User") -> int:
    return Image.objects.filter(owner=owner).aggregate(total=Sum("size"))["total"] or 0


def upload_image(*, owner: "User", file: IO[bytes], alt: str = "") -> Image:
    """Store a new image of ``owner`` from an uploaded file: re-encoded, with its
    renditions. ``ImageRejected`` for a file we do not accept or past the quota; nothing
    is stored then."""
    # A full quota is refused before spending a decode on it; the exact check, with the
    # stored size, is made again below under the owner's row lock.
    if used_bytes(owner) >= settings.MEDIA_QUOTA_BYTES:
        raise ImageRejected(quota_message())
    processed = processing.process_upload(
        file, max_bytes=settings.MEDIA_MAX_BYTES, max_pixels=settings.MEDIA_MAX_PIXELS
    )
    written: list[str] = []
    try:
        original_name, renditions = store(processed, written=written)
        with transaction.atomic():
            # Two uploads of one owner at once must not both fit in the last free bytes.
            if not get_user_model().objects.select_for_update().filter(pk=owner.pk).exists():
                from accounts.services import AccountGone  # accounts depends on images

                raise AccountGone()  # deleted while the file was processed
            if used_bytes(owner) + len(processed.original.data) > settings.MEDIA_QUOTA_BYTES:
                raise ImageRejected(quota_message())
            return Image.objects.create(
                owner=owner,
                file=original_name,
                width=processed.width,
                height=processed.height,
                content_type=processed.content_type,
                size=len(processed.original.data),
                alt=alt,
                renditions=renditions,
            )
    except BaseException:
        delete_files(written)
        raise


def store(processed: processing.ProcessedImage, *, written: list[str]) -> tuple[str, list[Rendition]]:
    """Save every file of ``processed`` under one fresh random stem, appending each name
    to ``written`` as soon as it exists (so that a failure can remove them)."""
    now = timezone.now()
    # 128 random bits: names never repeat, and nothing the client sent is in them.
    stem = f"images/{now:%Y/%m}/{secrets.token_hex(16)}"

    def save(name: str, encoded: processing.EncodedImage) -> str:
        content = ContentFile(encoded.data)
        # Object storage records it on the object (the file system goes by the name).
        content.content_type = encoded.content_type
        stored = default_storage.save(name, content)
        written.append(stored)
        return stored

    original = save(f"{stem}.{processed.original.extension}", processed.original)
    renditions: list[Rendition] = [
        {
            "width": each.width,
            "height": each.height,
            "name": save(f"{stem}-{each.width}.{each.extension}", each),
            "content_type": each.content_type,
        }
        for each in processed.renditions
    ]
    return original, renditions


def delete_files(names: Iterable[str]) -> None:
    """Delete stored files, logging (not raising) what the storage refuses: a file left
    behind costs space, an exception here would hide the error that led to it."""
    for name in names:
        try:
            default_storage.delete(name)
        except Exception:
            logger.exception("Could not delete stored file %s", name)


def delete_image(*, image: Image) -> None:
    """Delete the image and every file stored for it. Covers and avatars that show it
    become empty (their foreign keys are SET_NULL), and cached post pages that showed it
    are invalidated. An image deleted already (by a concurrent request) is left alone."""
    locked_delete(image, keep_if_shown=False)


def locked_delete(image: Image, *, keep_if_shown: bool) -> bool:
    """Delete ``image`` under its row lock; False when it is gone already, or when
    ``keep_if_shown`` and a cover or an avatar shows it."""
    with transaction.atomic():
        # Locked before anything else: a cover or an avatar being set to this image at the
        # same moment locks it too (posts.services, accounts.services), so that write
        # either commits first, and is seen below, or waits and finds the image gone.
        # Unlocked, that write's deferred foreign key would fail at commit.
        if not Image.objects.select_for_update().filter(pk=image.pk).exists():
            return False
        shown = shown_by_foreign_key(image)
        if shown and keep_if_shown:
            return False
        # The files go when the deletion commits (images.signals), as for cascades.
        image.delete()
        if shown:
            caching.bump()
    return True


def shown_by_foreign_key(image: Image) -> bool:
    """Whether a post's cover or a user's avatar (any foreign key to images) is ``image``:
    then a cached post list or detail may show it. Deleting an image nothing shows (what
    ``prune_images`` deletes) keeps the cache."""
    return any(
        model._base_manager.filter(**{field: image.pk}).exists()
        for model, field in selectors.referencing_foreign_keys()
    )


def set_alt(*, image: Image, alt: str) -> Image:
    """Change the image's alt text, which covers and avatars that show it show too."""
    with transaction.atomic():
        image.alt = alt
        image.save(update_fields=["alt"])
        if shown_by_foreign_key(image):
            caching.bump()
    return image


def owned_image(*, owner: "User", image_id: object) -> Image:
    """The image ``image_id`` if ``owner`` owns it, else ``NotYourImage``: for the writes
    that let a user pick one of their images (a post's cover, an avatar)."""
    try:
        pk = int(image_id)
    except (TypeError, ValueError) as exc:
        raise NotYourImage(image_id) from exc
    image = Image.objects.filter(owner_id=owner.pk, pk=pk).first()
    if image is None:
        raise NotYourImage(image_id)
    return image


@dataclass(frozen=True)
class PrunedImage:
    """What an operator needs to know of an image ``prune_images`` removed (or would)."""

    id: int
    file: str
    owner: str
    size: int
    created_at: datetime


def prune_images(*, created_before: datetime, dry_run: bool = False) -> list[PrunedImage]:
    """Delete (or, with ``dry_run``, only list) the images created before
    ``created_before`` that nothing references: no foreign key (cover, avatar), no post
    body."""
    pruned = []
    for image in selectors.unreferenced_images(created_before=created_before):
        entry = PrunedImage(image.pk, image.file, image.owner.username, image.size, image.created_at)
        # One chosen as a cover or an avatar since it was listed is kept: checked again
        # under the row lock that such a write takes too.
        if dry_run or locked_delete(image, keep_if_shown=True):
            pruned.append(entry)
    return pruned
