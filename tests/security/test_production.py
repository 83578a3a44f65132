"""Production settings: deployment checks clean, hardened headers and cookies, no
traceback in a 500, and no password or token in the logs."""

import importlib
import logging
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.test import Client
from pythonjsonlogger.json import JsonFormatter
from rest_framework.test import APIClient

from accounts.tests.factories import UserFactory
from config.logging import JSON_FIELDS, PLAIN_FORMAT, RequestIdFilter

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION_ENV = {
    # Made here, never written down: production refuses every key the repository holds.
    "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
    "DJANGO_ALLOWED_HOSTS": "blog.example.com,testserver",
}


@pytest.fixture
def production(monkeypatch):
    """The production settings module, imported with its required environment."""
    for name, value in PRODUCTION_ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("DJANGO_SECURE_SSL_REDIRECT", raising=False)
    monkeypatch.delenv("DJANGO_DEBUG", raising=False)
    module = importlib.import_module("config.settings.production")
    return importlib.reload(module)


@pytest.fixture
def production_settings(production, settings):
    """The test settings with production's transport and cookie hardening applied."""
    for name in (
        "DEBUG",
        "SECURE_PROXY_SSL_HEADER",
        "SECURE_SSL_REDIRECT",
        "SECURE_REDIRECT_EXEMPT",
        "SECURE_HSTS_SECONDS",
        "SECURE_HSTS_INCLUDE_SUBDOMAINS",
        "SECURE_HSTS_PRELOAD",
        "SESSION_COOKIE_SECURE",
        "CSRF_COOKIE_SECURE",
        "SESSION_COOKIE_HTTPONLY",
        "SECURE_CONTENT_TYPE_NOSNIFF",
        "SECURE_REFERRER_POLICY",
        "X_FRAME_OPTIONS",
    ):
        setattr(settings, name, getattr(production, name))
    return settings


def run_python(args: list[str], env: dict[str, str], *, check: bool = False) -> subprocess.CompletedProcess:
    """Python with ``args`` in a fresh process at the repository's root, with only ``env``."""
    return subprocess.run(  # noqa: S603 (the test's own arguments)
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=check
    )


def test_check_deploy_is_clean_at_warning_level():
    env = {**os.environ, **PRODUCTION_ENV, "DJANGO_SETTINGS_MODULE": "config.settings.production"}
    # Test-run leftovers (the browser tests' live server sets DJANGO_ALLOW_ASYNC_UNSAFE).
    for name in ("DJANGO_SECURE_SSL_REDIRECT", "DJANGO_ALLOW_ASYNC_UNSAFE", "DJANGO_DEBUG"):
        env.pop(name, None)
    result = run_python(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_its_secrets(monkeypatch):
    from django.core.exceptions import ImproperlyConfigured

    monkeypatch.delenv("DJANGO_SECRET_KEY", raising=False)
    monkeypatch.setenv("DJANGO_ALLOWED_HOSTS", "blog.example.com")
    with pytest.raises(ImproperlyConfigured):
        importlib.reload(importlib.import_module("config.settings.production"))


def example_secret_key() -> str:
    """The placeholder docker/.env.example tells operators to replace."""
    (key,) = re.findall(r"^DJANGO_SECRET_KEY=(.*)$", (ROOT / "docker/.env.example").read_text(), re.MULTILINE)
    return key


def development_secret_key() -> str:
    """The key the settings fall back on when DJANGO_SECRET_KEY is not set."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_SECRET_KEY")}
    code = "from config.settings import base; print(base.SECRET_KEY)"
    return run_python(["-c", code], env, check=True).stdout.strip()


def start_production(monkeypatch, key: str, fallbacks: str = "") -> None:
    monkeypatch.setenv("DJANGO_SECRET_KEY", key)
    monkeypatch.setenv("DJANGO_SECRET_KEY_FALLBACKS", fallbacks)
    monkeypatch.setenv("DJANGO_ALLOWED_HOSTS", "blog.example.com")
    importlib.reload(importlib.import_module("config.settings.production"))


GUESSABLE_KEYS = {
    "the example's placeholder": example_secret_key,
    "the development default": development_secret_key,
    "the test suite's key": lambda: settings.SECRET_KEY,
    "short": lambda: secrets.token_urlsafe(30),
    "few distinct characters": lambda: "ab" * 40,
    "marked insecure by Django": lambda: "django-insecure-" + secrets.token_urlsafe(50),
}


@pytest.mark.parametrize("kind", GUESSABLE_KEYS)
@pytest.mark.parametrize("where", ["DJANGO_SECRET_KEY", "DJANGO_SECRET_KEY_FALLBACKS"])
def test_production_refuses_to_start_with_a_guessable_key(monkeypatch, kind, where):
    guessable = GUESSABLE_KEYS[kind]()
    strong = secrets.token_urlsafe(50)
    key, fallbacks = (guessable, "") if where == "DJANGO_SECRET_KEY" else (strong, guessable)
    with pytest.raises(ImproperlyConfigured) as refused:
        start_production(monkeypatch, key, fallbacks)
    message = str(refused.value)
    assert where in message
    assert guessable not in message  # the error reaches logs: it names the variable, never the key


def test_production_starts_with_a_random_key(monkeypatch):
    start_production(monkeypatch, secrets.token_urlsafe(50), secrets.token_urlsafe(50))


NOT_THE_REPOSITORY = {".git", ".venv", "node_modules", "staticfiles", ".bench", "__pycache__", ".ruff_cache"}


def secret_keys_written_in_the_repository() -> dict[str, str]:
    """Every literal value given to DJANGO_SECRET_KEY(_FALLBACKS) in the repository's text
    files (scripts, Makefile, Dockerfile, compose and env files, settings, docs, tests)."""
    # NAME=value and ${NAME:-value} (shell, env files, Dockerfile), "NAME", "value" and
    # "NAME": "value" (Python); a value made at run time ($...) or a <placeholder> is no key.
    assignment = re.compile(
        r"DJANGO_SECRET_KEY(?:_FALLBACKS)?(?:=|:-|[\"'][ \t]*[:,][ \t]*(?=[\"']))[\"']?([^\s\"'`$<>{}()]+)"
    )
    found = {}
    for path in ROOT.rglob("*"):
        relative = path.relative_to(ROOT)
        if NOT_THE_REPOSITORY & set(relative.parts) or not path.is_file() or path.stat().st_size > 1_000_000:
            continue
        for value in assignment.findall(path.read_text(errors="ignore")):
            if not re.fullmatch(r"[A-Z_]+", value):  # another variable's name, in a list of them
                found.setdefault(value, str(relative))
    return found


def test_no_key_written_in_the_repository_is_accepted_by_production(monkeypatch):
    # Scripts that run production settings (make fuzz, realworld, scale-test, bench, the
    # image's collectstatic) make a throwaway key when they start instead.
    written = secret_keys_written_in_the_repository()
    assert example_secret_key() in written  # the scan does see the files
    accepted = []
    for key, where in written.items():
        try:
            start_production(monkeypatch, key)
        except ImproperlyConfigured:
            continue
        accepted.append(where)
    assert accepted == [], f"production accepts a key written in: {accepted}"


@pytest.mark.parametrize("key", ["unset", "the example's placeholder"])
@pytest.mark.parametrize("settings_module", [None, "config.settings.local"])
def test_a_server_with_debug_off_refuses_to_start_with_a_published_key(settings_module, key):
    # `gunicorn config.wsgi` with DJANGO_DEBUG=0: it signed with the development key.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_SECRET_KEY", "DJANGO_SETTINGS"))}
    env.update(DJANGO_DEBUG="0", DJANGO_ALLOWED_HOSTS="localhost")  # only the key is missing
    if settings_module:
        env["DJANGO_SETTINGS_MODULE"] = settings_module
    if key != "unset":
        env["DJANGO_SECRET_KEY"] = example_secret_key()
    result = run_python(["-c", "import config.wsgi"], env)
    assert result.returncode != 0, "the server started"
    assert "ImproperlyConfigured" in result.stderr and "DJANGO_SECRET_KEY" in result.stderr


def test_local_development_with_debug_on_needs_no_key():
    # What `make run` relies on: runserver with the local settings and nothing configured.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL"))}
    result = run_python(["manage.py", "check"], env)
    assert result.returncode == 0, result.stdout + result.stderr


def test_production_settings_are_hardened(production):
    assert production.DEBUG is False
    assert production.SECURE_SSL_REDIRECT is True
    assert production.SECURE_HSTS_SECONDS >= 31_536_000
    assert production.SECURE_HSTS_INCLUDE_SUBDOMAINS and production.SECURE_HSTS_PRELOAD
    assert production.SESSION_COOKIE_SECURE and production.CSRF_COOKIE_SECURE
    assert production.SESSION_COOKIE_HTTPONLY
    assert production.SECURE_CONTENT_TYPE_NOSNIFF
    assert production.X_FRAME_OPTIONS == "DENY"
    assert production.SECURE_REFERRER_POLICY
    assert production.SIMPLE_JWT["SIGNING_KEY"] == PRODUCTION_ENV["DJANGO_SECRET_KEY"]
    assert "argon2" in production.PASSWORD_HASHERS[0].lower()


@pytest.mark.django_db
class TestProductionResponses:
    def test_plain_http_is_redirected_except_probes(self, production_settings, client):
        response = client.get("/", HTTP_HOST="blog.example.com")
        assert response.status_code == 301 and response["Location"].startswith("https://")
        assert client.get("/healthz", HTTP_HOST="blog.example.com").status_code == 200

    @pytest.mark.parametrize("url", ["/", "/login/", "/api/v1/posts/", "/api/v1/no-such/"])
    def test_security_headers_on_every_response(self, production_settings, client, url):
        response = client.get(url, secure=True, HTTP_HOST="blog.example.com")
        assert response.status_code in {200, 404}
        hsts = response["Strict-Transport-Security"]
        assert "max-age=31536000" in hsts and "includeSubDomains" in hsts and "preload" in hsts
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["X-Frame-Options"] == "DENY"
        assert response["Referrer-Policy"] == "strict-origin-when-cross-origin"

    def test_session_and_csrf_cookies_are_secure(self, production_settings, client, author):
        client.get("/login/", secure=True, HTTP_HOST="blog.example.com")
        response = client.post(
            "/login/",
            {"username": "author", "password": "a-long-test-password-42"},
            secure=True,
            HTTP_HOST="blog.example.com",
        )
        assert response.status_code in {200, 302}
        session = client.cookies["sessionid"]
        assert session["secure"] and session["httponly"] and session["samesite"]
        assert client.cookies["csrftoken"]["secure"]


@pytest.mark.django_db
@pytest.mark.urls("tests.security.boom_urls")
@pytest.mark.parametrize("url", ["/api/v1/boom/", "/boom/"])
def test_a_forced_500_shows_no_traceback(url):
    response = Client(raise_request_exception=False).get(url)
    assert response.status_code == 500
    text = response.content.decode()
    for leak in (
        "Traceback",
        "SECRET-DETAIL-42",
        "hunter2",
        "RuntimeError",
        "boom_urls",
        "/work/",
        "SECRET_KEY",
    ):
        assert leak not in text, leak
    if url.startswith("/api/"):
        assert response.json() == {"detail": "A server error occurred."}


def formatted(records: list[logging.LogRecord]) -> str:
    """Every record as the project's handlers would write it (plain and JSON), plus its
    attributes, so secrets in extras are caught too."""
    plain = logging.Formatter(PLAIN_FORMAT)
    json_formatter = JsonFormatter(JSON_FIELDS)
    request_ids = RequestIdFilter()
    lines = []
    for record in records:
        request_ids.filter(record)
        lines += [plain.format(record), json_formatter.format(record), repr(record.__dict__)]
    return "\n".join(lines)


@pytest.mark.django_db
@pytest.mark.urls("tests.security.boom_urls")
def test_passwords_and_tokens_never_reach_the_logs(caplog, settings):
    settings.AXES_FAILURE_LIMIT = 3
    caplog.set_level(logging.DEBUG)
    api = APIClient(REMOTE_ADDR="198.51.100.7")
    password, new_password, wrong = (
        "Corr3ct-Horse-Battery-1",
        "N3w-Staple-Horse-Battery-2",
        "Wr0ng-Guess-Secret-3",
    )
    secrets = [password, new_password, wrong]

    api.post("/api/v1/auth/register/", {"username": "logger", "email": "l@example.com", "password": password})
    api.post("/api/v1/auth/register/", {"username": "logger", "email": "l@example.com", "password": password})
    api.post("/api/v1/auth/register/", {"username": "weak", "email": "w@example.com", "password": "123"})
    assert api.post("/api/v1/auth/token/", {"username": "logger", "password": wrong}).status_code == 401
    pair = api.post("/api/v1/auth/token/", {"username": "logger", "password": password}).json()
    rotated = api.post("/api/v1/auth/token/refresh/", {"refresh": pair["refresh"]}).json()
    assert api.post("/api/v1/auth/token/refresh/", {"refresh": pair["refresh"]}).status_code == 401
    api.post("/api/v1/auth/token/verify/", {"token": pair["access"]})
    secrets += [pair["access"], pair["refresh"], rotated["access"], rotated["refresh"]]

    authed = APIClient(HTTP_AUTHORIZATION=f"Bearer {rotated['access']}")
    authed.get("/api/v1/auth/me/")
    authed.post("/api/v1/auth/password/", {"old_password": wrong, "new_password": new_password})
    authed.post("/api/v1/auth/password/", {"old_password": password, "new_password": new_password})
    authed.post("/api/v1/boom/", {"password": password, "refresh": rotated["refresh"]})  # a 500 mid-request
    Client(raise_request_exception=False).post(
        "/api/v1/boom/", {"password": password}, HTTP_AUTHORIZATION=f"Bearer {rotated['access']}"
    )
    api.post("/api/v1/auth/logout/", {"refresh": rotated["refresh"]})
    for _ in range(4):  # into the lockout
        api.post("/api/v1/auth/token/", {"username": "logger", "password": wrong})
    UserFactory(username="webuser")
    Client().post("/login/", {"username": "webuser", "password": wrong})

    logs = formatted(caplog.records)
    assert "Internal Server Error" in logs and "Unauthorized" in logs  # the flows did log
    for secret in secrets:
        assert secret not in logs, f"a secret reached the logs: {secret[:12]}..."
        # Nor any large piece of a token (its signature, say).
        for piece in secret.split("."):
            if len(piece) > 20:
                assert piece not in logs


def test_postgres_connections_are_health_checked_and_fail_fast(monkeypatch):
    # What lets the service ride out a database restart (make chaos shows it live).
    monkeypatch.setenv("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/blog")
    base = importlib.import_module("config.settings.base")
    try:
        database = importlib.reload(base).DATABASES["default"]
        assert database["CONN_MAX_AGE"] > 0
        assert database["CONN_HEALTH_CHECKS"] is True
        assert database["OPTIONS"]["connect_timeout"] == 3
    finally:
        monkeypatch.undo()
        importlib.reload(base)


@pytest.mark.parametrize("entry", ["config.wsgi", "config.asgi"])
def test_a_server_started_without_a_settings_module_runs_production_settings(entry):
    # Importing the ``config`` package loads the Celery app first; its default must not
    # turn a server into a DEBUG one signed with the public development key.
    env = {name: value for name, value in os.environ.items() if not name.startswith("DJANGO_")}
    result = run_python(["-c", f"import {entry}"], env)
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr  # production's refusal, not local's DEBUG
    started = run_python(
        [
            "-c",
            f"import {entry}; from django.conf import settings as s; print(s.SETTINGS_MODULE, s.DEBUG)",
        ],
        {**env, **PRODUCTION_ENV},
    )
    assert started.stdout.split() == ["config.settings.production", "False"], started.stderr
