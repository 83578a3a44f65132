import pytest

from web.tests.browser import CHROMIUM, CHROMIUM_ARGS


@pytest.fixture(scope="module")
def chromium():
    """A headless Chromium for one test module (``web.tests.browser``)."""
    from playwright import sync_api  # only the browser modules, which skip without Chromium

    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()
