import os
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from imports import services
from imports.progress import bars


class Command(BaseCommand):
    help = (
        "Export the whole site as a Ghost export (JSON): authors, tags, categories and posts of "
        "every status. import_ghost (here, or Ghost itself) reads it back."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="where to write the .json file (replaced if it exists)")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        # Written beside it and renamed when complete: a failed export leaves no half file.
        partial = path.with_name(f".{path.name}.partial")
        try:
            with partial.open("w", encoding="utf-8") as out:
                summary = services.export_blog(
                    destination=out, progress=bars(options["verbosity"], unit=" rows")
                )
            os.replace(partial, path)
        except OSError as exc:
            partial.unlink(missing_ok=True)
            raise CommandError(f"Cannot write {path}: {exc.strerror or exc}") from exc
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        for line in summary.lines():
            self.stdout.write(line)
        self.stdout.write(f"Wrote {path}.")
