import io
from pathlib import Path

import pytest

from imports import services

# Copied from ../shared/ghost-exports/ (Ghost's own test fixtures, MIT: LICENSE beside them).
GHOST_EXPORTS = Path(__file__).parent / "ghost_exports"


@pytest.fixture
def wordpress_import(db):
    """``wordpress_import(data, **options)``: import WXR bytes, return the summary."""

    def run(data: bytes, **options) -> services.Summary:
        return services.import_wordpress(source=io.BytesIO(data), **options)

    return run


@pytest.fixture
def ghost_import(db):
    """``ghost_import(data_or_path, **options)``: import a Ghost export, return the summary."""

    def run(data: bytes | Path, **options) -> services.Summary:
        if isinstance(data, Path):
            with data.open("rb") as source:
                return services.import_ghost(source=source, **options)
        return services.import_ghost(source=io.BytesIO(data), **options)

    return run


@pytest.fixture
def ghost_export():
    """The path of one of the real Ghost exports (Ghost's own test fixtures)."""

    def path(name: str) -> Path:
        return GHOST_EXPORTS / name

    return path
