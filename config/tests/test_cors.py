"""CORS (django-cors-headers): the origins in ``DJANGO_CORS_ALLOWED_ORIGINS`` may call /api/
from a browser with a bearer token, never with cookies; other origins, and every path
outside /api/, get no CORS headers. The browser's own verdict: web/tests/test_cors_browser.py."""

import runpy
from pathlib import Path

import pytest
from django.test import Client

from accounts.tests.factories import UserFactory
from conftest import client_for

pytestmark = pytest.mark.django_db

ALLOWED = "https://app.example.com"
ELSEWHERE = "https://evil.example.net"
BASE_SETTINGS = Path(__file__).resolve().parents[1] / "settings" / "base.py"


@pytest.fixture(autouse=True)
def allowed(settings):
    settings.CORS_ALLOWED_ORIGINS = [ALLOWED]
    return settings


def cors_headers(response) -> dict[str, str]:
    return {
        name.lower(): value for name, value in response.items() if name.lower().startswith("access-control-")
    }


def preflight(origin: str, path: str = "/api/v1/posts/", method: str = "POST"):
    return Client().options(
        path,
        HTTP_ORIGIN=origin,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD=method,
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization, content-type",
    )


def test_an_allowed_origin_reads_the_api_without_credentials():
    response = Client().get("/api/v1/posts/", HTTP_ORIGIN=ALLOWED)

    assert response.status_code == 200
    assert cors_headers(response)["access-control-allow-origin"] == ALLOWED
    assert "access-control-allow-credentials" not in cors_headers(response)
    assert "Origin" in response["Vary"] or "origin" in response["Vary"]
    exposed = cors_headers(response)["access-control-expose-headers"].lower()
    assert {"retry-after", "x-request-id", "content-disposition", "etag"} <= set(exposed.split(", "))


def test_the_preflight_of_an_allowed_origin_allows_authorization_and_json():
    response = preflight(ALLOWED)

    assert response.status_code == 200
    headers = cors_headers(response)
    assert headers["access-control-allow-origin"] == ALLOWED
    allowed_headers = {h.strip() for h in headers["access-control-allow-headers"].split(",")}
    assert {"authorization", "content-type"} <= allowed_headers
    assert {"GET", "POST", "PATCH", "PUT", "DELETE"} <= set(
        headers["access-control-allow-methods"].split(", ")
    )
    assert int(headers["access-control-max-age"]) > 0
    assert "access-control-allow-credentials" not in headers


def test_a_bearer_call_from_an_allowed_origin_is_answered_with_cors_headers():
    user = UserFactory(username="caller")
    client = client_for(user)

    response = client.post(
        "/api/v1/posts/", {"title": "From afar", "body": "Hi"}, format="json", HTTP_ORIGIN=ALLOWED
    )

    assert response.status_code == 201
    assert cors_headers(response)["access-control-allow-origin"] == ALLOWED


@pytest.mark.parametrize(
    "origin",
    [ELSEWHERE, "http://app.example.com", "https://app.example.com:8443", "null", "https://example.com"],
)
def test_other_origins_get_no_cors_headers(origin):
    assert cors_headers(Client().get("/api/v1/posts/", HTTP_ORIGIN=origin)) == {}
    assert cors_headers(preflight(origin)) == {}


@pytest.mark.parametrize("path", ["/", "/feed/", "/login/", "/settings/", "/healthz", "/admin/login/"])
def test_nothing_outside_the_api_gets_cors_headers(path):
    assert cors_headers(Client().get(path, HTTP_ORIGIN=ALLOWED)) == {}
    assert cors_headers(preflight(ALLOWED, path=path)) == {}


def test_conduits_api_is_under_api_too():
    response = Client().get("/api/tags", HTTP_ORIGIN=ALLOWED)
    assert cors_headers(response)["access-control-allow-origin"] == ALLOWED


def test_refusals_made_before_any_view_carry_the_headers_too():
    # The middleware sits above the body limit and the NUL check, so a page on an allowed
    # origin can read why it was refused.
    too_large = Client().generic(
        "POST",
        "/api/v1/posts/",
        b"",
        CONTENT_TYPE="application/json",
        CONTENT_LENGTH="999999999",
        HTTP_ORIGIN=ALLOWED,
    )
    nul = Client().get("/api/v1/posts/?search=%00", HTTP_ORIGIN=ALLOWED)
    unknown = Client().get("/api/v1/nothing-here/", HTTP_ORIGIN=ALLOWED)

    for response, status in ((too_large, 413), (nul, 400), (unknown, 404)):
        assert response.status_code == status
        assert cors_headers(response)["access-control-allow-origin"] == ALLOWED


def test_cookies_never_authenticate_a_cross_origin_call(settings):
    # No Access-Control-Allow-Credentials: a browser sends no cookie with fetch(...,
    # {credentials: "include"}) to us, or withholds the answer. The session still
    # works for the site's own pages (same origin).
    assert settings.CORS_ALLOW_CREDENTIALS is False
    client = Client()
    client.force_login(UserFactory(username="cookie"))
    response = client.get("/api/v1/auth/me/", HTTP_ORIGIN=ALLOWED)
    assert "access-control-allow-credentials" not in cors_headers(response)


def test_no_origin_is_allowed_unless_configured(monkeypatch):
    monkeypatch.delenv("DJANGO_CORS_ALLOWED_ORIGINS", raising=False)
    assert runpy.run_path(str(BASE_SETTINGS))["CORS_ALLOWED_ORIGINS"] == []


def test_the_variable_is_a_comma_separated_list_of_origins(monkeypatch):
    monkeypatch.setenv("DJANGO_CORS_ALLOWED_ORIGINS", "https://a.example.com/,http://localhost:5173")
    base = runpy.run_path(str(BASE_SETTINGS))
    assert base["CORS_ALLOWED_ORIGINS"] == ["https://a.example.com", "http://localhost:5173"]
    assert base["CORS_URLS_REGEX"] == r"^/api/"
    assert base["CORS_ALLOW_CREDENTIALS"] is False
    middleware = base["MIDDLEWARE"]
    assert middleware.index("corsheaders.middleware.CorsMiddleware") < middleware.index(
        "django.middleware.common.CommonMiddleware"
    )
