"""Probes, JSON errors under /api/, request limits, docs and admin."""

import re
from html import unescape
from unittest import mock

import pytest
from django.db import OperationalError, connection, transaction
from django.test import Client

pytestmark = pytest.mark.django_db


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_robots_txt_points_at_the_sitemap_index(client):
    response = client.get("/robots.txt")
    assert response.status_code == 200
    assert "Disallow: /api/" in response.content.decode()
    assert "Sitemap: http://testserver/sitemap-index.xml" in response.content.decode()


def test_readyz_up(client):
    assert client.get("/readyz").status_code == 200


def test_readyz_down_when_the_database_fails(client):
    with mock.patch("django.db.backends.utils.CursorWrapper.execute", side_effect=OperationalError("down")):
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"


class TestJsonErrors:
    def test_unknown_api_url(self, anon_client):
        for path in ("/api/v1/nope/", "/api/v1/nope", "/api/", "/api/v2/posts/"):
            response = anon_client.get(path)
            assert response.status_code == 404, path
            assert response["Content-Type"].startswith("application/json")

    def test_wrong_method(self, author_client):
        response = author_client.put("/api/v1/auth/register/", {}, format="json")
        assert response.status_code == 405
        assert "detail" in response.json()

    def test_malformed_json(self, anon_client):
        response = anon_client.post("/api/v1/auth/register/", "{bad", content_type="application/json")
        assert response.status_code == 400 and "detail" in response.json()

    def test_non_json_content_type(self, anon_client):
        response = anon_client.post("/api/v1/auth/register/", "username=a", content_type="text/plain")
        assert response.status_code == 415 and "detail" in response.json()

    def test_form_encoded_body_is_415(self, anon_client):
        response = anon_client.post(
            "/api/v1/auth/token/", "username=a&password=b", content_type="application/x-www-form-urlencoded"
        )
        assert response.status_code == 415

    def test_body_over_the_limit_is_refused_before_parsing(self, anon_client):
        body = b'{"username": "' + b"a" * 3_000_000 + b'"}'
        response = anon_client.post("/api/v1/auth/register/", body, content_type="application/json")
        assert response.status_code == 413
        assert "detail" in response.json()

    def test_unhandled_error_is_json_500_without_traceback(self, author):
        client = Client(raise_request_exception=False)
        with mock.patch("accounts.views.MeView.get_object", side_effect=RuntimeError("boom secret")):
            client.force_login(author)
            response = client.get("/api/v1/auth/me/")
        assert response.status_code == 500
        assert response.json() == {"detail": "A server error occurred."}

    def test_database_down_is_json_503(self, author):
        client = Client(raise_request_exception=False)
        client.force_login(author)
        with mock.patch("accounts.views.MeView.get_object", side_effect=OperationalError("down")):
            response = client.get("/api/v1/auth/me/")
        assert response.status_code == 503
        assert response["Retry-After"]

    def test_a_query_the_database_refuses_is_a_500_not_database_unavailable(self, author):
        # A genuine OperationalError that is no outage: a program limit on PostgreSQL, a
        # missing table on SQLite. Retrying would fail again, so "retry later" would be a lie.
        def refused_query(*args, **kwargs):
            with transaction.atomic(), connection.cursor() as cursor:
                if connection.vendor == "postgresql":
                    cursor.execute("SELECT array_fill(0, ARRAY[200000000])")
                else:
                    cursor.execute("SELECT * FROM no_such_table")

        client = Client(raise_request_exception=False)
        client.force_login(author)
        with mock.patch("accounts.views.MeView.get_object", side_effect=refused_query):
            response = client.get("/api/v1/auth/me/")
        assert response.status_code == 500
        assert response.json() == {"detail": "A server error occurred."}
        assert "Retry-After" not in response

    def test_html_404_outside_api(self, client):
        response = client.get("/no-such-page/")
        assert response.status_code == 404
        assert response["Content-Type"].startswith("text/html")


class TestDocs:
    def test_schema_is_served(self, client):
        response = client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
        assert response.status_code == 200
        schema = response.json()
        assert "jwtAuth" in schema["components"]["securitySchemes"]
        for path in ("/api/v1/auth/register/", "/api/v1/auth/token/", "/api/v1/users/{username}/follow/"):
            assert path in schema["paths"]

    @pytest.mark.parametrize("path", ["/api/v1/docs/", "/api/v1/redoc/"])
    def test_docs_load_no_cdn(self, client, path):
        response = client.get(path)
        assert response.status_code == 200
        html = response.content.decode()
        assert "cdn" not in html.lower() and "googleapis" not in html
        assert "/static/drf_spectacular_sidecar/" in html
        assert "unsafe-inline" not in response["Content-Security-Policy"].split("script-src")[1].split(";")[0]

    @pytest.mark.parametrize(
        ("path", "accept"),
        [
            ("/api/v1/docs/?format=x", "text/html"),
            ("/api/v1/redoc/?format=json", "text/html"),
            ("/api/v1/docs/", "application/json"),
            ("/api/v1/redoc/", "application/xml"),
        ],
    )
    def test_docs_pages_ignore_a_format_or_accept_they_cannot_serve(self, client, path, accept):
        # An HTML page has one representation: like any parameter it does not know, a
        # format it cannot serve is ignored, not answered with an HTML 404 or 406 page.
        response = client.get(path, HTTP_ACCEPT=accept)
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/html")
        html = response.content.decode()
        assert "/static/drf_spectacular_sidecar/" in html
        # Swagger UI loads its settings from its own URL plus ?script=: that works too.
        for script in re.findall(r'<script src="([^"]*script=[^"]*)"', html):
            assert client.get(unescape(script), HTTP_ACCEPT=accept).status_code == 200

    @pytest.mark.parametrize(
        ("method", "path", "accept", "status"),
        [
            ("get", "/api/v1/schema/?format=x", "*/*", 404),
            ("get", "/api/v1/schema/", "application/xml", 406),
            ("post", "/api/v1/schema/", "*/*", 405),
            ("post", "/api/v1/docs/", "*/*", 405),
            ("post", "/api/v1/redoc/", "text/html", 405),
        ],
    )
    def test_schema_and_docs_errors_are_json(self, client, method, path, accept, status):
        response = getattr(client, method)(path, HTTP_ACCEPT=accept)
        assert response.status_code == status
        assert response["Content-Type"].startswith("application/json")
        assert list(response.json()) == ["detail"]

    def test_browsable_api_root(self, client):
        response = client.get("/api/v1/", HTTP_ACCEPT="text/html")
        assert response.status_code == 200 and b"Blog API" in response.content

    def test_admin_login(self, client):
        assert client.get("/admin/login/").status_code == 200


def test_security_headers_on_html(client):
    response = client.get("/admin/login/")
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"]
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
