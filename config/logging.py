"""Logging configuration: JSON lines in production, readable lines in development.

Used by Django's LOGGING (config/settings) and by gunicorn's ``logconfig_dict``
(config/gunicorn.conf.py), so application, error and access lines share one shape and
all carry the request id.
"""

import logging
from typing import Any

from pythonjsonlogger.json import JsonFormatter

from config.request_id import get_request_id

PLAIN_FORMAT = "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"
JSON_FIELDS = "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s"

# gunicorn's access atoms worth a JSON field of their own.
ACCESS_FIELDS = {
    "h": "remote_addr",
    "m": "method",
    "U": "path",
    "q": "query",
    "s": "status",
    "B": "bytes",
    "M": "duration_ms",
    "a": "user_agent",
}


class RequestIdFilter(logging.Filter):
    """Give every record a ``request_id`` attribute ("-" outside a request).

    gunicorn writes its access line after the response, when the request's context is
    gone; it logs ``access_log_format % atoms`` with the atoms mapping as the record's
    args, so the id is taken from the response header the middleware set.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if hasattr(record, "request_id"):
            return True
        request_id = get_request_id()
        if request_id is None and isinstance(record.args, dict):
            request_id = record.args.get("{x-request-id}o") or record.args.get("{x-request-id}i")
        record.request_id = request_id or "-"
        return True


class GunicornAccessJsonFormatter(JsonFormatter):
    """JSON for gunicorn's access log: the request's atoms as fields, not only a message."""

    def add_fields(self, log_data: dict[str, Any], record: logging.LogRecord, message_dict: dict) -> None:
        super().add_fields(log_data, record, message_dict)
        atoms = record.args if isinstance(record.args, dict) else None
        if atoms is None:
            return
        for atom, field in ACCESS_FIELDS.items():
            log_data[field] = atoms.get(atom)


def logging_config(fmt: str = "plain", level: str = "INFO", *, gunicorn: bool = False) -> dict[str, Any]:
    """A dictConfig for ``fmt`` "json" or "plain"; with ``gunicorn``, its error and access loggers too."""
    if fmt not in {"json", "plain"}:
        raise ValueError(f"log format must be 'json' or 'plain', not {fmt!r}")
    formatter = "json" if fmt == "json" else "plain"
    config: dict[str, Any] = {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": "config.logging.RequestIdFilter"}},
        "formatters": {
            "plain": {"format": PLAIN_FORMAT},
            "json": {"()": "pythonjsonlogger.json.JsonFormatter", "format": JSON_FIELDS},
            "access_json": {"()": "config.logging.GunicornAccessJsonFormatter", "format": JSON_FIELDS},
        },
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": formatter,
                "filters": ["request_id"],
            },
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            "django.db.backends": {"level": "WARNING"},
        },
    }
    if gunicorn:
        config["handlers"]["access"] = {
            "class": "logging.StreamHandler",
            "formatter": "access_json" if fmt == "json" else "plain",
            "filters": ["request_id"],
            "stream": "ext://sys.stdout",
        }
        config["loggers"]["gunicorn.error"] = {"handlers": ["console"], "level": level, "propagate": False}
        config["loggers"]["gunicorn.access"] = {"handlers": ["access"], "level": "INFO", "propagate": False}
    return config
