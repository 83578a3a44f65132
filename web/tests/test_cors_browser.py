"""CORS as a browser sees it: a tiny page served from a second origin on 127.0.0.1 (a
``ThreadingHTTPServer`` in a thread) calls the API on pytest-django's live server with a
bearer token and writes what it got into the page. From an allowed origin the calls
succeed; from any other the browser blocks them, and with cookies instead of a token
it blocks them even from an allowed origin (no credentials across origins).

Skipped only when /usr/bin/chromium is missing (CI requires it: BLOG_REQUIRE_BROWSER=1).
"""

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlencode

import pytest
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.tests.factories import UserFactory
from posts.models import Post
from web.tests.browser import require_chromium

TIMEOUT_MS = 15_000

require_chromium()


pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PAGE = b"""<!doctype html>
<html><head><meta charset="utf-8"><title>Another site</title></head>
<body><h1>Another site</h1><pre id="result">waiting</pre><script src="/app.js"></script></body></html>
"""

# Reads the API's address, a token and a mode from the fragment, calls the API and writes
# the outcome (or the browser's error) into #result.
SCRIPT = b"""
const params = new URLSearchParams(location.hash.slice(1));
const api = params.get("api");
const out = document.getElementById("result");

async function withToken() {
  const auth = {Authorization: "Bearer " + params.get("token")};
  const me = await (await fetch(api + "/api/v1/auth/me/", {headers: auth})).json();
  const created = await fetch(api + "/api/v1/posts/", {
    method: "POST",
    headers: {...auth, "Content-Type": "application/json"},
    body: JSON.stringify({title: "Sent from another site", body: "Hello"}),
  });
  const post = await created.json();
  return {username: me.username, status: created.status, title: post.title};
}

async function withCookies() {
  const response = await fetch(api + "/api/v1/auth/me/", {credentials: "include"});
  return {status: response.status};
}

(params.get("mode") === "cookies" ? withCookies() : withToken())
  .then((result) => { out.textContent = JSON.stringify(result); })
  .catch((error) => { out.textContent = "fetch error: " + error; })
  .finally(() => { out.dataset.done = "yes"; });
"""


@pytest.fixture(autouse=True, scope="module")
def _allow_orm_beside_playwright():
    # Playwright's sync API runs an event loop in this thread; the test's ORM calls are
    # still plain synchronous code (as in test_browser.py).
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        yield


@pytest.fixture
def other_site() -> Iterator[str]:
    """The origin (``http://127.0.0.1:<port>``) of a server that serves the page and its
    script, and nothing else."""
    files = {"/page.html": ("text/html", PAGE), "/app.js": ("text/javascript", SCRIPT)}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            content_type, body = files.get(self.path.split("?")[0], ("text/plain", b""))
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def visit(chromium, live_server, other_site):
    """``visit(mode, token)``: open the other site's page in a fresh browser context and
    return what it wrote once its calls are done."""
    contexts = []

    def _visit(mode: str = "token", token: str = "") -> str:
        context = chromium.new_context()
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        fragment = urlencode({"api": live_server.url, "token": token, "mode": mode})
        page.goto(f"{other_site}/page.html#{fragment}")
        page.wait_for_selector("#result[data-done]")
        return page.text_content("#result")

    yield _visit
    for context in contexts:
        context.close()


@pytest.fixture
def token():
    user = UserFactory(username="faraway")
    return str(RefreshToken.for_user(user).access_token)


def test_a_page_on_an_allowed_origin_calls_the_api_with_a_bearer_token(settings, other_site, visit, token):
    settings.CORS_ALLOWED_ORIGINS = [other_site]

    shown = visit(token=token)

    assert json.loads(shown) == {"username": "faraway", "status": 201, "title": "Sent from another site"}
    assert Post.objects.filter(title="Sent from another site", author__username="faraway").exists()


def test_a_page_on_any_other_origin_is_blocked_by_the_browser(settings, visit, token):
    settings.CORS_ALLOWED_ORIGINS = ["http://127.0.0.1:1", "https://app.example.com"]

    shown = visit(token=token)

    assert shown.startswith("fetch error: TypeError"), shown
    # The preflight failed, so the POST was never even sent.
    assert not Post.objects.exists()


def test_a_call_with_credentials_is_refused_even_from_an_allowed_origin(settings, other_site, visit):
    # No Access-Control-Allow-Credentials: cookies never carry a session across origins.
    settings.CORS_ALLOWED_ORIGINS = [other_site]

    shown = visit(mode="cookies")

    assert shown.startswith("fetch error: TypeError"), shown
