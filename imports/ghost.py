"""Reading a Ghost export (versions 1 to 5) a table at a time, and how Ghost's rows map to ours.

A Ghost export is one JSON document, ``{"db": [{"meta": ..., "data": {"posts": [...],
"tags": [...], "users": [...], "posts_tags": [...], ...}}]}`` (older ones are ``{"meta":
..., "data": ...}``), its tables in alphabetical order: posts come before the users who
wrote them. ``rows(file, table)`` streams one table with ijson (the C parser: the other
tables are skipped without building them), so the importer reads the file once per table
it needs and holds one row at a time, never the document.
"""

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import IO, Any

import ijson
from django.utils.dateparse import parse_datetime

# Our own export writes a post's category as an internal tag named like this (Ghost has
# no categories; internal tags are invisible to readers there), and reads it back.
CATEGORY_TAG_PREFIX = "#category:"
MARKDOWN_CARD = "markdown"
# Where Ghost 4+ writes the site's own URL in links inside ``html``.
GHOST_URL = "__GHOST_URL__"


class NotAnExport(Exception):
    """The file is not a Ghost export we can read."""


def _prefix(source: IO[bytes]) -> str:
    """Where the tables are: ``db.item.data`` (Ghost 1.0 and later) or ``data``."""
    source.seek(0)
    try:
        for prefix, event, value in ijson.parse(source):
            if prefix == "" and event == "map_key":
                if value == "db":
                    return "db.item.data"
                if value == "data":
                    return "data"
            elif prefix == "" and event != "start_map":
                break
    except ijson.JSONError as exc:
        raise NotAnExport(f"This is not a readable Ghost export: {exc}") from exc
    raise NotAnExport('This is not a Ghost export: it has no "db" or "data".')


def version(source: IO[bytes]) -> str:
    """``meta.version`` (e.g. "4.1.0"), or "" when the export does not say."""
    meta = "db.item.meta.version" if _prefix(source).startswith("db.") else "meta.version"
    source.seek(0)
    try:
        for value in ijson.items(source, meta):
            return str(value)
    except ijson.JSONError as exc:
        raise NotAnExport(f"This is not a readable Ghost export: {exc}") from exc
    return ""


def rows(source: IO[bytes], table: str) -> Iterator[dict[str, Any]]:
    """The rows of ``table``, one at a time, in file order (none when it is absent).
    A malformed document raises ``NotAnExport`` where the parser finds the fault."""
    base = _prefix(source)
    source.seek(0)
    try:
        for row in ijson.items(source, f"{base}.{table}.item", use_float=True):
            if isinstance(row, dict):
                yield row
    except ijson.JSONError as exc:
        raise NotAnExport(f"This is not a readable Ghost export: {exc}") from exc


def parse_date(value: Any) -> datetime | None:
    """Ghost's dates: ISO 8601 (``2021-03-24T05:57:56.000Z``), Ghost 0.x's
    ``2014-07-22 09:36:17`` (UTC), or milliseconds since the epoch."""
    if value is None or value == "":
        return None
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value / 1000, tz=UTC)
    try:
        parsed = parse_datetime(str(value).strip())
    except ValueError:
        return None
    if parsed is None:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def is_page(post: dict[str, Any]) -> bool:
    """Ghost 3+ says ``type: page``; Ghost 1 and 2 ``page: true`` (or 1)."""
    if "type" in post and post["type"] is not None:
        return post["type"] == "page"
    return str(post.get("page", "")).lower() in {"1", "true"}


def markdown_source(mobiledoc: Any) -> str | None:
    """The Markdown of a mobiledoc made of one Markdown card and nothing else, as Ghost
    stores posts written in Markdown (and our export writes every post); None otherwise."""
    if not isinstance(mobiledoc, str) or MARKDOWN_CARD not in mobiledoc:
        return None
    try:
        document = json.loads(mobiledoc)
    except ValueError:
        return None
    if not isinstance(document, dict):
        return None
    cards = document.get("cards")
    sections = document.get("sections")
    if not (isinstance(cards, list) and len(cards) == 1 and sections == [[10, 0]]):
        return None
    card = cards[0]
    if isinstance(card, list) and len(card) == 2 and card[0] == MARKDOWN_CARD and isinstance(card[1], dict):
        source = card[1].get("markdown")
        return source if isinstance(source, str) else None
    return None


def mobiledoc(markdown: str) -> str:
    """A mobiledoc of one Markdown card: how Ghost stores a post written in Markdown."""
    document = {
        "version": "0.3.1",
        "atoms": [],
        "cards": [[MARKDOWN_CARD, {"markdown": markdown}]],
        "markups": [],
        "sections": [[10, 0]],
    }
    return json.dumps(document, ensure_ascii=False)
