from typing import Any

from imports import services
from imports.management.commands._importing import ImportCommand


class Command(ImportCommand):
    help = (
        "Import a WordPress export (WXR 1.0-1.2): authors, categories, tags, posts, comments, "
        "attachments' URLs and old links. One transaction; a second run adds nothing."
    )
    file_help = "the .xml file from WordPress' Tools > Export"

    def run_import(self, **options: Any) -> services.Summary:
        return services.import_wordpress(**options)
