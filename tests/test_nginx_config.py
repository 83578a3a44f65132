"""The nginx configuration: the compose template renders for a local nginx and `nginx -t`
accepts it, in plain HTTP (as `make scale-test` runs it) and with TLS (as compose does).

The renderer must keep every proxy setting of the template, so that what the scale test
proves holds for the compose stack too.
"""

import os
import re
import shutil
import subprocess
import sys
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
