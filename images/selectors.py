"""Reads of images that more than one face needs."""

import re
from datetime import datetime

from django.apps import apps
from django.db.models import Exists, OuterRef, QuerySet

from images.models import Image

# The random part of every stored name (images.services.store): how a post body's
# Markdown refers to an image, whatever URL (site, SITE_URL, object storage) it used.
STORED_NAME = re.compile(r"images/\d{4}/\d{2}/([0-9a-f]{32})")


def images_visible_to(user) -> QuerySet[Image]:
    """The images ``user`` may see and manage: their own, or everyone's for staff."""
    images = Image.objects.all()
    return images if user.is_staff else images.filter(owner_id=user.pk)


def referencing_foreign_keys() -> list[tuple[type, str]]:
    """(model, field name) of every foreign key to Image: a post's cover, a user's
    avatar, and whatever comes to point at images later."""
    found = []
    for model in apps.get_models():
        for field in model._meta.get_fields():
            if (field.many_to_one or field.one_to_one) and field.concrete and field.related_model is Image:
                found.append((model, field.name))
    return found


def stems_in_post_bodies() -> set[str]:
    """The random stems of every stored name that some post body (any status) mentions.
    One pass over the bodies that may mention one, rather than a search per image."""
    post_model = apps.get_model("posts", "Post")
    bodies = post_model.objects.filter(body__contains="images/").values_list("body", flat=True)
    stems: set[str] = set()
    for body in bodies.iterator(chunk_size=2000):
        stems.update(STORED_NAME.findall(body))
    return stems


def stem_of(name: str) -> str | None:
    match = STORED_NAME.search(name)
    return match.group(1) if match else None


def unreferenced_images(*, created_before: datetime) -> list[Image]:
    """Images created before ``created_before`` that no foreign key and no post body
    refers to, oldest first."""
    candidates = Image.objects.filter(created_at__lt=created_before)
    for model, field in referencing_foreign_keys():
        candidates = candidates.exclude(Exists(model._base_manager.filter(**{field: OuterRef("pk")})))
    candidates = list(candidates.select_related("owner").order_by("created_at", "id"))
    if not candidates:
        return []
    mentioned = stems_in_post_bodies()
    return [image for image in candidates if stem_of(image.file) not in mentioned]
