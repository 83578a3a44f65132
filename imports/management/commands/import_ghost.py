from typing import Any

from imports import services
from imports.management.commands._importing import ImportCommand


class Command(ImportCommand):
    help = (
        "Import a Ghost export (Ghost 1-5, or export_blog's): staff users, tags, posts and old links. "
        "One transaction; a second run adds nothing."
    )
    file_help = "the .json file from Ghost's Settings > Labs > Export (or from export_blog)"

    def run_import(self, **options: Any) -> services.Summary:
        return services.import_ghost(**options)
