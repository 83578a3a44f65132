"""``manage.py recount_posts``: recompute ``comment_count`` and ``like_count`` from the rows.

The API keeps the counters exact; this repairs them after writes that bypassed the
services (manual SQL, a partial restore). Batches keep each UPDATE's locks short.
"""

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

from posts import services
from posts.models import Post


class Command(BaseCommand):
    help = "Recompute posts' comment and like counters from their comments and likes."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--post", type=int, action="append", dest="post_ids", help="a post id (repeatable)"
        )
        parser.add_argument("--batch-size", type=int, default=5000, help="posts per UPDATE (default 5000)")

    def handle(self, *args: Any, post_ids: list[int] | None, batch_size: int, **options: Any) -> None:
        ids = post_ids or list(Post.objects.order_by("id").values_list("id", flat=True))
        updated = 0
        for start in range(0, len(ids), max(1, batch_size)):
            with transaction.atomic():
                updated += services.recount(ids[start : start + batch_size])
        self.stdout.write(self.style.SUCCESS(f"Recounted {updated} post(s)."))
