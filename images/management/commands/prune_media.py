"""``manage.py prune_media --older-than DAYS [--dry-run]``: delete the images nothing uses.

An image is in use while anything points at it: a post's cover, a user's avatar (any
foreign key to it), or a post body of any status that mentions its stored name. Only
images older than DAYS go, so that one uploaded for a post still being written survives.
"""

import argparse
from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from images import services


def days(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        number = -1
    if number < 0:
        raise argparse.ArgumentTypeError(f"expected a number of days (0 or more), got {value!r}")
    return number


class Command(BaseCommand):
    help = "Delete images that no post (cover or body) and no avatar uses, older than --older-than days."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--older-than",
            type=days,
            required=True,
            metavar="DAYS",
            help="only images uploaded before this many days ago",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="list what would be deleted; delete nothing"
        )

    def handle(self, *args: Any, older_than: int, dry_run: bool, **options: Any) -> None:
        cutoff = timezone.now() - timedelta(days=older_than)
        pruned = services.prune_images(created_before=cutoff, dry_run=dry_run)
        verb = "Would delete" if dry_run else "Deleted"
        for image in pruned:
            self.stdout.write(
                f"{verb} image {image.id} {image.file} (owner {image.owner}, "
                f"{image.size} bytes, uploaded {image.created_at:%Y-%m-%d})"
            )
        summary = f"{verb} {len(pruned)} unused image(s), {sum(image.size for image in pruned)} bytes."
        self.stdout.write(self.style.SUCCESS(summary) if not dry_run else summary)
