"""The JSON parser every API view uses, and the checks any JSON body goes through."""

import json
import re
from typing import Any

from rest_framework import parsers
from rest_framework.exceptions import ParseError
from rest_framework.utils.json import strict_constant

# JSON's \uXXXX escapes can spell half of a surrogate pair alone ("\ud800"): Python decodes
# it to a str that is no text. UTF-8 cannot encode it, so PostgreSQL, nh3 and the JSON
# renderer all fail on it (a 500), and a field echoing it in its error message would too.
_SURROGATE = re.compile("[\ud800-\udfff]")


def lone_surrogate(data: Any) -> str | None:
    """The first lone surrogate in any string of decoded JSON (keys included), or None."""
    pending = [data]  # a stack, not recursion: JSON may be nested as deep as the parser allows
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if not item.isascii() and (found := _SURROGATE.search(item)):
                return found.group()
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return None


def not_text_message(surrogate: str) -> str:
    return f"JSON parse error - a lone surrogate (U+{ord(surrogate):04X}) is not text."


def loads(raw: bytes | str) -> Any:
    """Decode a JSON body outside DRF as the API's parser does: ``ValueError`` for anything
    that is not JSON text (malformed, nested too deeply, NaN, a lone surrogate)."""
    try:
        data = json.loads(raw, parse_constant=strict_constant)
    except RecursionError as exc:
        raise ValueError("JSON parse error - nested too deeply.") from exc
    if surrogate := lone_surrogate(data):
        raise ValueError(not_text_message(surrogate))
    return data


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, answering with a 400 rather than a 500 what Python's decoder lets
    through or cannot handle: JSON nested too deeply (a RecursionError) and lone surrogates.

    Refused here, every field of every face is covered at once, whatever its type: DRF's
    ``CharField`` refuses surrogates, but a choice field echoed one in its error message."""

    def parse(self, stream, media_type: str | None = None, parser_context: dict | None = None) -> Any:
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError as exc:
            raise ParseError("JSON parse error - nested too deeply.") from exc
        if surrogate := lone_surrogate(data):
            raise ParseError(not_text_message(surrogate))
        return data
