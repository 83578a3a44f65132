"""The orjson renderer writes byte for byte what DRF's JSONRenderer writes."""

import datetime
import decimal
import uuid

from django.utils.translation import gettext_lazy
from rest_framework.renderers import JSONRenderer

from config.renderers import ORJSONRenderer


def test_same_bytes_as_drf_for_every_kind_of_value():
    data = {
        "text": 'line\u2028separator\u2029 ünïcode ✓ "quoted" </script>',
        "numbers": [1, -2, 2.5, 1e20, None, True, False],
        "decimal": decimal.Decimal("1.50"),
        "uuid": uuid.UUID("12345678-1234-5678-1234-567812345678"),
        "datetime": datetime.datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=datetime.UTC),
        "date": datetime.date(2026, 1, 2),
        "lazy": gettext_lazy("Not found."),
        "int keys": {1: "one"},
        "tuple": (1, 2),
        "nested": [{"a": []}, {}],
    }
    assert ORJSONRenderer().render(data) == JSONRenderer().render(data)


def test_indent_and_empty_bodies_as_drf():
    assert ORJSONRenderer().render(None) == b""
    indented = "application/json; indent=2"
    assert ORJSONRenderer().render({"a": [1]}, indented) == JSONRenderer().render({"a": [1]}, indented)
