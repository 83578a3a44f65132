"""The nginx configuration: the compose template renders for a local nginx and `nginx -t`
accepts it, in plain HTTP (as `make scale-test` runs it) and with TLS (as compose does).

The renderer must keep every proxy setting of the template, so that what the scale test
proves holds for the compose stack too. The micro-cache is proven with the rendering in a
real nginx in front of a stand-in app (127.0.0.1:8160-8162): hits for strangers, never
for a request with credentials or for a private or cookie-setting answer, fresh within
the entry's lifetime, and conditional requests answered right.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
RENDER = ROOT / "scripts" / "render_nginx_conf.py"
TEMPLATE = (ROOT / "docker" / "nginx" / "templates" / "default.conf.template").read_text()
NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
UPSTREAMS = ["--upstream", "app1=127.0.0.1:8141", "--upstream", "app2=127.0.0.1:8142"]
VARIABLES = [
    "--var", "NGINX_SERVER_NAME=127.0.0.1",
    "--var", f"NGINX_STATIC_ROOT={ROOT / 'staticfiles'}",
    "--var", f"NGINX_MEDIA_ROOT={ROOT / 'media'}",
]  # fmt: skip

# CI sets BLOG_REQUIRE_NGINX=1 (and installs nginx), so a missing nginx fails there instead
# of skipping these tests quietly.
needs_nginx = pytest.mark.skipif(
    NGINX is None and os.environ.get("BLOG_REQUIRE_NGINX") != "1",
    reason="nginx is not installed (apt-get install nginx)",
)


def render(out: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 - our own script and nginx
        [sys.executable, str(RENDER), "--out", str(out), *args],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def nginx_test(out: Path) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 - our own script and nginx
        [NGINX, "-t", "-p", str(out), "-c", str(out / "nginx.conf")],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def directives(text: str) -> list[str]:
    """The template's directive lines, stripped of comments and markers."""
    lines = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            lines.append(line)
    return lines


@needs_nginx
def test_nginx_accepts_the_plain_http_rendering(tmp_path):
    result = render(tmp_path, "--mode", "plain", "--port", "8140", *UPSTREAMS, *VARIABLES)
    assert result.returncode == 0, result.stderr
    checked = nginx_test(tmp_path)
    assert checked.returncode == 0, checked.stderr
    assert "test is successful" in checked.stderr


@needs_nginx
def test_nginx_accepts_the_tls_rendering_with_a_self_signed_pair(tmp_path):
    certs = tmp_path / "certs"
    made = subprocess.run(  # noqa: S603 - our own script
        [str(ROOT / "docker" / "make-selfsigned-cert.sh"), str(certs), "blog.test"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert made.returncode == 0, made.stderr
    assert (certs / "tls.key").stat().st_mode & 0o077 == 0  # the private key is private
    out = tmp_path / "nginx"
    result = render(
        out,
        "--mode", "tls", "--port", "8143", "--http-port", "8144",
        "--cert", str(certs / "tls.crt"), "--key", str(certs / "tls.key"),
        *UPSTREAMS, *VARIABLES,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    checked = nginx_test(out)
    assert checked.returncode == 0, checked.stderr
    conf = (out / "blog.conf").read_text()
    assert "return 301 https://$host$request_uri;" in conf
    assert "listen 8143 ssl default_server;" in conf


def test_the_plain_rendering_keeps_every_proxy_setting(tmp_path):
    result = render(tmp_path, "--mode", "plain", "--port", "8140", *UPSTREAMS, *VARIABLES)
    assert result.returncode == 0, result.stderr
    rendered = directives((tmp_path / "blog.conf").read_text())
    start, end = TEMPLATE.index("# BEGIN http-redirect"), TEMPLATE.index("# END http-redirect")
    without_redirect = TEMPLATE[:start] + TEMPLATE[end:]
    expected = [
        directive
        for line in without_redirect.splitlines()
        if not re.search(r"#\s*tls\b", line)
        for directive in directives(line)
    ]
    substituted = [
        line.replace("app1:8000", "127.0.0.1:8141")
        .replace("app2:8000", "127.0.0.1:8142")
        .replace("${NGINX_SERVER_NAME}", "127.0.0.1")
        .replace("${NGINX_STATIC_ROOT}", str(ROOT / "staticfiles"))
        .replace("${NGINX_MEDIA_ROOT}", str(ROOT / "media"))
        .replace("proxy_cache_path /var/cache/nginx/blog ", f"proxy_cache_path {tmp_path / 'cache'} ")
        for line in expected
    ]
    missing = [line for line in substituted if line not in rendered]
    assert not missing
    for setting in [
        "proxy_next_upstream error timeout http_502 http_503 http_504;",
        "proxy_set_header X-Request-ID $blog_request_id;",
        "proxy_set_header X-Forwarded-Proto $scheme;",
        "client_max_body_size 2560k;",
        "listen 8140 default_server;",
    ]:
        assert setting in rendered
    assert not [line for line in rendered if line.startswith("ssl_") or "443" in line]
    assert "return 301 https://$host$request_uri;" not in rendered


def test_retries_never_repeat_a_write():
    # "non_idempotent" would let nginx resend a POST that an app server may have applied.
    retry = re.search(r"proxy_next_upstream ([^;]+);", TEMPLATE).group(1)
    assert "non_idempotent" not in retry.split()
    assert "error" in retry.split()


def test_an_unknown_upstream_or_a_missing_variable_is_refused(tmp_path):
    unknown = render(
        tmp_path, "--mode", "plain", "--port", "8140", "--upstream", "app9=127.0.0.1:1", *VARIABLES
    )
    assert unknown.returncode != 0
    assert "app9" in unknown.stderr
    missing = render(tmp_path, "--mode", "plain", "--port", "8140", *UPSTREAMS)
    assert missing.returncode != 0
    assert "NGINX_SERVER_NAME" in missing.stderr


def location_block(text: str, opening: str) -> str:
    """The body of the location block that starts with ``opening``."""
    start = text.index(opening)
    depth = 0
    for end in range(text.index("{", start), len(text)):
        depth += {"{": 1, "}": -1}.get(text[end], 0)
        if depth == 0:
            return text[start:end]
    raise AssertionError(f"unclosed block: {opening}")


def test_media_is_served_from_the_volume_with_headers_that_let_nothing_run():
    media = location_block(TEMPLATE, "location /media/ {")
    assert "alias ${NGINX_MEDIA_ROOT}/;" in media
    assert 'add_header X-Content-Type-Options "nosniff" always;' in media
    assert 'add_header Cache-Control "public, max-age=31536000, immutable" always;' in media
    assert "add_header Content-Security-Policy \"default-src 'none'; sandbox\" always;" in media
    # add_header in a location drops the server's: the request id must be added again.
    assert "add_header X-Request-ID $blog_request_id always;" in media
    # The content type comes from the extension, and only image types have one.
    types = re.search(r"types \{([^}]*)\}", media).group(1)
    assert sorted(line.split()[0] for line in types.strip().splitlines()) == [
        "image/gif", "image/jpeg", "image/png", "image/webp",
    ]  # fmt: skip
    assert "default_type application/octet-stream;" in media


def test_the_upload_endpoint_takes_an_image_as_large_as_the_app_does():
    from django.conf import settings

    from config.middleware import MULTIPART_ALLOWANCE

    upload = location_block(TEMPLATE, "location = /api/v1/media/ {")
    kib = int(re.search(r"client_max_body_size (\d+)k;", upload).group(1))
    limit = settings.MEDIA_MAX_BYTES + MULTIPART_ALLOWANCE
    assert kib * 1024 == limit
    assert "proxy_pass http://blog_app;" in upload
    assert "error_page 413 = @media_too_large;" in upload
    assert f"the limit is {limit} bytes" in location_block(TEMPLATE, "location @media_too_large {")


# --- The micro-cache, with a real nginx in front of a stand-in app ---------------------------

NGINX_PORT, APP_PORTS = 8160, (8161, 8162)


class StandInApp:
    """Two app servers on 127.0.0.1 answering as the blog does: ``/posts/`` public with a
    weak ETag of the current version (a 304 when ``If-None-Match`` names it), and answers
    that must never be stored: ``/private/``, ``/no-store/``, ``/sets-cookie/``. Counts
    what reaches it, and the ``If-None-Match`` each request brought."""

    ANSWERS = {
        "/posts/": {"Cache-Control": "public, no-cache", "Vary": "Accept, Authorization, Cookie"},
        "/private/": {"Cache-Control": "private, no-cache", "Vary": "Accept, Authorization, Cookie"},
        "/no-store/": {"Cache-Control": "no-store"},
        "/sets-cookie/": {"Cache-Control": "public, no-cache", "Set-Cookie": "csrftoken=abc; Path=/"},
    }

    def __init__(self) -> None:
        self.version = 1
        self.requests: list[tuple[str, str | None]] = []
        self.lock = threading.Lock()
        app = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                path = self.path.split("?")[0]
                with app.lock:
                    app.requests.append((path, self.headers.get("If-None-Match")))
                    version = app.version
                headers = app.ANSWERS.get(path)
                if headers is None:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                etag = f'W/"v{version}"'
                if self.headers.get("If-None-Match") == etag:
                    self.send_response(304)
                    self.send_header("ETag", etag)
                    self.end_headers()
                    return
                body = json.dumps({"path": path, "version": version}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("ETag", etag)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            do_HEAD = do_GET

            def log_message(self, *args) -> None:
                pass

        self.servers = [ThreadingHTTPServer(("127.0.0.1", port), Handler) for port in APP_PORTS]
        self.threads = [threading.Thread(target=server.serve_forever, daemon=True) for server in self.servers]
        for thread in self.threads:
            thread.start()

    def reached(self, path: str) -> int:
        with self.lock:
            return sum(1 for seen, _ in self.requests if seen == path)

    def stop(self) -> None:
        for server in self.servers:
            server.shutdown()
            server.server_close()


@pytest.fixture
def proxied(tmp_path):
    """nginx with the plain rendering on NGINX_PORT in front of the stand-in app: a
    function ``get(path, **headers)`` answering (status, headers, body), and the app."""
    app = StandInApp()
    # nginx's workers run as nobody: they must reach the cache directory.
    out = Path(tempfile.mkdtemp(prefix="blog-nginx-"))
    out.chmod(0o755)
    upstreams = [f"--upstream=app{n}=127.0.0.1:{port}" for n, port in enumerate(APP_PORTS, start=1)]
    rendered = render(out, "--mode", "plain", "--port", str(NGINX_PORT), *upstreams, *VARIABLES)
    assert rendered.returncode == 0, rendered.stderr
    server = subprocess.Popen(  # noqa: S603 - nginx with our own configuration
        [NGINX, "-p", str(out), "-c", str(out / "nginx.conf")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    def get(path: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
        request = urllib.request.Request(f"http://127.0.0.1:{NGINX_PORT}{path}", headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310 - 127.0.0.1
                return response.status, dict(response.headers.items()), response.read()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers.items()), error.read()

    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                get("/nginx-healthz")
                break
            except OSError:
                assert server.poll() is None, (out / "error.log").read_text()
                assert time.monotonic() < deadline, "nginx did not start"
                time.sleep(0.1)
        yield get, app
    finally:
        server.terminate()
        server.wait(timeout=10)
        app.stop()
        shutil.rmtree(out, ignore_errors=True)


def cache_status(answer: tuple[int, dict[str, str], bytes]) -> str | None:
    return answer[1].get("X-Cache-Status")


@needs_nginx
def test_a_second_anonymous_read_is_a_hit_that_never_reaches_the_app(proxied):
    get, app = proxied
    first, second = get("/posts/"), get("/posts/")
    assert (first[0], cache_status(first)) == (200, "MISS")
    assert (second[0], cache_status(second)) == (200, "HIT")
    assert second[2] == first[2]
    assert app.reached("/posts/") == 1
    # Another format is another entry.
    assert cache_status(get("/posts/", Accept="text/html")) == "MISS"


@needs_nginx
@pytest.mark.parametrize(
    "credentials",
    [
        {"Authorization": "Bearer some.jwt.token"},
        {"Authorization": "Token some.jwt.token"},
        {"Cookie": "sessionid=abc123"},
        {"Cookie": "csrftoken=x; sessionid=abc123"},
        {"Cookie": "primary_until=1"},
    ],
    ids=["bearer", "conduit-token", "session", "session-among-others", "replica-pin"],
)
def test_a_request_with_credentials_is_never_answered_from_the_cache(proxied, credentials):
    get, app = proxied
    get("/posts/")  # an anonymous reader filled the entry
    answers = [get("/posts/", **credentials) for _ in range(2)]
    assert [cache_status(answer) for answer in answers] == ["BYPASS", "BYPASS"]
    assert app.reached("/posts/") == 3
    # ... nor stored for strangers: they still get the entry from before.
    assert cache_status(get("/posts/")) == "HIT"


@needs_nginx
@pytest.mark.parametrize("path", ["/private/", "/no-store/", "/sets-cookie/"])
def test_private_no_store_and_cookie_setting_answers_are_never_stored(proxied, path):
    get, app = proxied
    answers = [get(path) for _ in range(3)]
    assert [answer[0] for answer in answers] == [200, 200, 200]
    assert "HIT" not in [cache_status(answer) for answer in answers]
    assert app.reached(path) == 3


@needs_nginx
def test_a_write_shows_within_the_cache_lifetime(proxied):
    get, app = proxied
    assert json.loads(get("/posts/")[2])["version"] == 1
    app.version = 2  # a write
    started = time.monotonic()
    seen = 1
    # nginx counts in whole seconds: an entry stored for 1 s lives 1 to 2 s.
    while seen == 1 and time.monotonic() - started < 3:
        answer = get("/posts/")
        seen = json.loads(answer[2])["version"]
        time.sleep(0.05)
    assert seen == 2
    assert time.monotonic() - started <= 2.5
    # The expired entry was revalidated with its ETag, which the app no longer has.
    assert app.requests[-1] == ("/posts/", 'W/"v1"')


@needs_nginx
def test_an_unchanged_entry_is_revalidated_with_a_304(proxied):
    get, app = proxied
    get("/posts/")
    time.sleep(2.3)  # an entry stored for 1 s lives at most 2 s (whole seconds)
    answer = get("/posts/")
    assert (answer[0], cache_status(answer)) == (200, "REVALIDATED")
    assert app.requests[-1] == ("/posts/", 'W/"v1"')


@needs_nginx
def test_if_none_match_is_answered_from_the_cache_or_by_the_app(proxied):
    get, app = proxied
    etag = get("/posts/")[1]["ETag"]
    anonymous = get("/posts/", **{"If-None-Match": etag})
    assert (anonymous[0], anonymous[2]) == (304, b"")
    assert app.reached("/posts/") == 1  # nginx answered it from the entry
    personal = get("/posts/", **{"If-None-Match": etag, "Authorization": "Bearer t"})
    assert (personal[0], cache_status(personal)) == (304, "BYPASS")
    assert app.requests[-1] == ("/posts/", etag)  # the app saw it and answered 304
