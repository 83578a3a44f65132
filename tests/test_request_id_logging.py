"""Request ids: echoed in the response, made when absent, carried by every log line."""

import json
import logging
import logging.config

import pytest

from config.logging import logging_config
from config.request_id import clean_request_id


@pytest.mark.django_db
def test_a_request_id_from_the_proxy_is_echoed(client):
    response = client.get("/healthz", HTTP_X_REQUEST_ID="abc-123.def")
    assert response["X-Request-ID"] == "abc-123.def"


@pytest.mark.django_db
def test_a_request_id_is_made_when_absent_and_differs_per_request(client):
    first = client.get("/healthz")["X-Request-ID"]
    second = client.get("/healthz")["X-Request-ID"]
    assert len(first) == 32 and first != second


@pytest.mark.django_db
def test_an_unsafe_request_id_is_replaced_not_logged(client):
    response = client.get("/healthz", HTTP_X_REQUEST_ID='evil"\nFAKE LOG LINE')
    assert "FAKE" not in response["X-Request-ID"]
    assert len(response["X-Request-ID"]) == 32


@pytest.mark.django_db
def test_error_responses_made_by_middleware_carry_the_id(client):
    response = client.post(
        "/api/v1/posts/",
        data="{}",
        content_type="application/json",
        HTTP_X_REQUEST_ID="big-1",
        CONTENT_LENGTH="99999999",
    )
    assert response.status_code == 413
    assert response["X-Request-ID"] == "big-1"


def test_clean_request_id_keeps_safe_ids_only():
    assert clean_request_id("0f3a9c") == "0f3a9c"
    assert clean_request_id("x" * 129) != "x" * 129
    assert clean_request_id(None)


def _capture(fmt, capsys, log):
    config = logging_config(fmt, "INFO")
    config["handlers"]["console"]["stream"] = "ext://sys.stdout"
    logging.config.dictConfig(config)
    try:
        log()
    finally:
        from django.conf import settings

        logging.config.dictConfig(settings.LOGGING)
    return capsys.readouterr().out.strip().splitlines()


@pytest.mark.django_db
def test_json_lines_carry_the_request_id_of_the_request(client, capsys, settings):
    settings.ROOT_URLCONF = "tests.urls_logging"
    lines = _capture("json", capsys, lambda: client.get("/log-something", HTTP_X_REQUEST_ID="rid-42"))
    records = [json.loads(line) for line in lines]
    mine = [r for r in records if r["name"] == "tests.urls_logging"]
    assert mine == [
        {
            "asctime": mine[0]["asctime"],
            "levelname": "WARNING",
            "name": "tests.urls_logging",
            "message": "something happened",
            "request_id": "rid-42",
        }
    ]


@pytest.mark.django_db
def test_plain_lines_are_readable_and_carry_the_request_id(client, capsys, settings):
    settings.ROOT_URLCONF = "tests.urls_logging"
    lines = _capture("plain", capsys, lambda: client.get("/log-something", HTTP_X_REQUEST_ID="rid-43"))
    assert any(line.endswith("WARNING [rid-43] tests.urls_logging: something happened") for line in lines)


def test_gunicorn_access_lines_take_the_id_from_the_response_header(capsys):
    config = logging_config("json", "INFO", gunicorn=True)
    logging.config.dictConfig(config)
    try:
        atoms = {"h": "10.0.0.1", "m": "GET", "U": "/healthz", "q": "", "s": "200", "B": 15, "M": 3, "a": "t"}
        atoms["{x-request-id}o"] = "rid-44"
        logging.getLogger("gunicorn.access").info("%(h)s %(m)s %(U)s", atoms)
    finally:
        from django.conf import settings

        logging.config.dictConfig(settings.LOGGING)
    record = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert record["request_id"] == "rid-44"
    assert (record["method"], record["path"], record["status"], record["duration_ms"]) == (
        "GET",
        "/healthz",
        "200",
        3,
    )
    assert record["message"] == "10.0.0.1 GET /healthz"


def test_an_unknown_log_format_is_refused():
    with pytest.raises(ValueError, match="json"):
        logging_config("xml")
