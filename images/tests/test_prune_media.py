"""``manage.py prune_media``: unused images older than the given age go, files and all;
anything a post or a profile uses stays."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from images.models import Image
from images.tests.factories import make_image
from images.tests.helpers import stored_files
from posts.tests.factories import PostFactory

pytestmark = pytest.mark.django_db


def aged(image: Image, days: int) -> Image:
    Image.objects.filter(pk=image.pk).update(created_at=timezone.now() - timedelta(days=days))
    image.refresh_from_db()
    return image


def prune(*args: str) -> str:
    out = StringIO()
    call_command("prune_media", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def library(author, other_user):
    """Old images: one unused, and one used each way; and a recent unused one."""
    unused = aged(make_image(author, width=100, height=100), days=40)
    cover = aged(make_image(author, width=100, height=100), days=40)
    avatar = aged(make_image(other_user, width=100, height=100), days=40)
    in_body = aged(make_image(author, width=700, height=100), days=40)
    in_draft = aged(make_image(author, width=100, height=100), days=40)
    recent = aged(make_image(author, width=100, height=100), days=2)
    PostFactory(author=author, cover_image=cover, body="No pictures here.")
    PostFactory(author=author, body=f"Look:\n\n![A harbour]({in_body.url()})\n")
    PostFactory(author=author, draft=True, body=f"![x](/media/{in_draft.file})")
    other_user.avatar = avatar
    other_user.save(update_fields=["avatar"])
    return {
        "unused": unused,
        "cover": cover,
        "avatar": avatar,
        "in_body": in_body,
        "in_draft": in_draft,
        "recent": recent,
    }


def test_a_dry_run_lists_the_unused_old_images_and_deletes_nothing(library, media_root):
    files_before = stored_files(media_root)

    output = prune("--older-than", "30", "--dry-run")

    assert f"Would delete image {library['unused'].pk} {library['unused'].file}" in output
    assert "Would delete 1 unused image(s)" in output
    assert Image.objects.count() == 6
    assert stored_files(media_root) == files_before


def test_unused_old_images_are_deleted_with_their_files(
    library, media_root, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        output = prune("--older-than", "30")

    assert f"Deleted image {library['unused'].pk}" in output
    assert "Deleted 1 unused image(s)" in output
    kept = {name for name, image in library.items() if Image.objects.filter(pk=image.pk).exists()}
    assert kept == {"cover", "avatar", "in_body", "in_draft", "recent"}
    stored = {path.relative_to(media_root).as_posix() for path in stored_files(media_root)}
    assert library["unused"].file not in stored
    assert library["cover"].file in stored


def test_a_younger_age_reaches_recent_images_too(library, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        prune("--older-than", "1")

    assert not Image.objects.filter(pk__in=[library["unused"].pk, library["recent"].pk]).exists()
    assert Image.objects.count() == 4


def test_the_age_is_required_and_must_be_a_number_of_days():
    with pytest.raises(CommandError):
        call_command("prune_media")
    with pytest.raises(CommandError):
        call_command("prune_media", "--older-than", "-3")
