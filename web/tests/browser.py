"""Debian's Chromium for the browser tests: where it is, how it is launched here (as root
on a closed network), and the skip a machine without it takes, unless
BLOG_REQUIRE_BROWSER=1 (CI) makes its absence a failure. The ``chromium`` fixture that
launches it is in ``web/tests/conftest.py``."""

import os
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


def require_chromium() -> None:
    """Skip the calling test module when there is no Chromium and none is required."""
    if not Path(CHROMIUM).exists() and os.environ.get("BLOG_REQUIRE_BROWSER") != "1":
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)", allow_module_level=True)
