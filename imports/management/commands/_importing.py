"""What the two import commands share: arguments, opening the file, the summary."""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from imports.progress import bars
from imports.services import ImportFailed, Summary


class ImportCommand(BaseCommand):
    file_help = ""

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help=self.file_help)
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="read and write everything, print the summary, then roll it all back",
        )
        parser.add_argument(
            "--restricted-as-drafts",
            action="store_true",
            help=(
                "import password-protected (WordPress) and members-only (Ghost) posts as drafts; "
                "by default they keep their status, and so become public"
            ),
        )

    def run_import(self, **options: Any) -> Summary:
        raise NotImplementedError

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        try:
            source = path.open("rb")
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror or exc}") from exc
        with source:
            try:
                summary = self.run_import(
                    source=source,
                    dry_run=options["dry_run"],
                    restricted_as_drafts=options["restricted_as_drafts"],
                    progress=bars(options["verbosity"]),
                )
            except ImportFailed as exc:
                raise CommandError(f"{exc} Nothing was imported.") from exc
        for line in summary.lines():
            self.stdout.write(line)
