"""Each test of images starts with an empty storage of its own, so that "nothing was
stored" can be checked by listing it."""

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT
