"""Serializer fields that take the JSON types the schema states, and no others, and a
``ModelSerializer`` that uses them.

DRF's string fields also take a number (as its digits) and its ``BooleanField`` takes
``"yes"``, ``"on"``, ``1`` and the like. The schema says ``string`` and ``boolean``, so a
client generated from it sends those; anything else is a 400, as the schema promises.

Every string field of the API refuses NUL (PostgreSQL cannot store it) and, unless blank
is allowed, a value of only whitespace (it is trimmed to nothing). The schema says so
too, with a ``pattern`` (``StrictStringSchema`` below), so that clients and fuzzers know
what the server accepts.
"""

import re
from typing import Any

from django.core import validators
from django.db import models
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from rest_framework import serializers

# JSON Schema patterns are searched, not matched: hence the anchors. ``\u0000`` rather than
# ``\x00``: ECMA-262 and Python read both, drf-spectacular writes the former.
NO_NUL = r"^[^\u0000]*$"
NOT_BLANK = r"^[^\u0000]*[^\u0000\s][^\u0000]*$"


class StrictStringMixin:
    """Only a JSON string: DRF's string fields would take a number as its digits."""

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class CharField(StrictStringMixin, serializers.CharField):
    """A string (never a number). With ``allow_blank=False``, one of only whitespace is
    blank, as DRF decides when it trims (the default)."""

    @property
    def whitespace_is_blank(self) -> bool:
        return self.trim_whitespace


class UntrimmedTextField(CharField):
    """Text kept exactly as written (Markdown: leading spaces mean something), yet blank
    when it is only whitespace."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(trim_whitespace=False, **kwargs)

    @property
    def whitespace_is_blank(self) -> bool:
        return True

    def to_internal_value(self, data: Any) -> str:
        value = super().to_internal_value(data)
        if not self.allow_blank and not value.strip():
            self.fail("blank")
        return value


class EmailField(StrictStringMixin, serializers.EmailField):
    pass


class SlugField(StrictStringMixin, serializers.SlugField):
    pass


class BooleanField(serializers.BooleanField):
    """``true`` or ``false``, nothing else: DRF's would take ``"yes"``, ``"on"``, ``1``..."""

    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


# No docstring: drf-spectacular would give it to every serializer without one of its own.
class ModelSerializer(serializers.ModelSerializer):
    # DRF's, building the fields above for the model's text and boolean fields.
    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.CharField: CharField,
        models.TextField: CharField,
        models.EmailField: EmailField,
        models.SlugField: SlugField,
        models.BooleanField: BooleanField,
    }


def _ascii_pattern(validator: validators.RegexValidator) -> str | None:
    """The validator's regex for the schema, if it needs rewriting: Python's ``re.ASCII``
    narrows ``\\w`` and ``\\d``, which a schema (searched with Unicode classes by most
    validators, Python's included) cannot carry as a flag."""
    regex = validator.regex
    if not regex.flags & re.ASCII:
        return None
    pattern = regex.pattern.replace(r"\w", "a-zA-Z0-9_").replace(r"\d", "0-9")
    return pattern.replace(r"\Z", "$").replace(r"\A", "^")


class StrictStringSchema(OpenApiSerializerFieldExtension):
    """What a request's string may hold: no NUL, and something besides whitespace unless
    blank is allowed. Fields with a format or a pattern of their own (emails, slugs,
    usernames) are narrower already."""

    target_class = "config.fields.CharField"
    match_subclasses = True

    def map_serializer_field(self, auto_schema, direction) -> dict[str, Any]:
        schema = auto_schema._map_serializer_field(self.target, direction, bypass_extensions=True)
        if direction != "request" or schema.get("type") != "string":
            return schema
        field = self.target
        regexes = [v for v in field.validators if isinstance(v, validators.RegexValidator)]
        if regexes:
            if pattern := _ascii_pattern(regexes[0]):
                schema["pattern"] = pattern
        elif "format" not in schema and "enum" not in schema and "pattern" not in schema:
            blank_allowed = field.allow_blank or not field.whitespace_is_blank
            schema["pattern"] = NO_NUL if blank_allowed else NOT_BLANK
        return schema
