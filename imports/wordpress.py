"""Reading a WordPress export (WXR 1.0 to 1.2), one element at a time.

``read_wxr`` parses the file incrementally (``defusedxml``'s ``iterparse``: no DTD, no
entity expansion, no external fetches) and yields each author, category, tag and item of
the channel as soon as its end tag is read; the element is then removed from the tree, so
memory holds one item at a time whatever the size of the file.

Namespaces are matched by pattern, not by one exact URI: real exports declare the ``wp:``
namespace as ``http://wordpress.org/export/1.2/`` or ``https://...``, and 1.0 and 1.1
as such, and a reader that knew only one spelling would silently find nothing. Text in
CDATA sections and plain text read the same.
"""

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import IO
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import iterparse

_WP = re.compile(r"^https?://wordpress\.org/export/\d+\.\d+/?$")
_EXCERPT = re.compile(r"^https?://wordpress\.org/export/\d+\.\d+/excerpt/?$")
_PREFIXES = {
    "http://purl.org/rss/1.0/modules/content/": "content",
    "http://purl.org/dc/elements/1.1/": "dc",
    "http://wellformedweb.org/CommentAPI/": "wfw",
}


class NotAnExport(Exception):
    """The file is not a WordPress export we can read (malformed XML, a DTD, no channel)."""


@dataclass(slots=True)
class Author:
    login: str
    wp_id: str = ""
    email: str = ""
    display_name: str = ""


@dataclass(slots=True)
class Term:
    """A category or a tag as the channel declares it. ``slug`` is WordPress' nicename."""

    kind: str  # "category" or "tag"
    slug: str
    name: str
    parent: str = ""  # categories: the parent's nicename
    description: str = ""


@dataclass(slots=True)
class Comment:
    wp_id: str
    author: str
    email: str
    date: datetime | None
    content: str
    approved: str  # "1", "0", "spam", "trash"
    kind: str  # "" or "comment", "pingback", "trackback", ...
    parent: str
    user_id: str  # the WordPress user's id, "0" for visitors


@dataclass(slots=True)
class Item:
    wp_id: str
    post_type: str
    title: str = ""
    link: str = ""
    creator: str = ""
    content: str = ""
    excerpt: str = ""
    status: str = ""
    slug: str = ""
    password: str = ""
    date: datetime | None = None
    attachment_url: str = ""
    # (domain, nicename, name) in file order: domain is "category", "post_tag" (1.0:
    # "tag"), or "" for WXR 1.0's bare category names.
    terms: list[tuple[str, str, str]] = field(default_factory=list)
    comments: list[Comment] = field(default_factory=list)


@dataclass(slots=True)
class Site:
    url: str


Record = Site | Author | Term | Item


def _local(tag: str, cache: dict[str, str]) -> str:
    """``{uri}name`` as ``prefix:name`` for the namespaces we read, whatever their spelling."""
    if (known := cache.get(tag)) is not None:
        return known
    name = tag
    if tag.startswith("{"):
        uri, _, local = tag[1:].partition("}")
        if _WP.match(uri):
            name = f"wp:{local}"
        elif _EXCERPT.match(uri):
            name = f"excerpt:{local}"
        elif uri in _PREFIXES:
            name = f"{_PREFIXES[uri]}:{local}"
        else:
            name = f"{{{uri}}}{local}"
    cache[tag] = name
    return name


def _text(element: Element) -> str:
    return (element.text or "").strip()


def parse_date(gmt: str, local: str = "", rfc822: str = "") -> datetime | None:
    """A WordPress date in UTC: ``post_date_gmt``, else ``post_date`` read as UTC (drafts
    have no GMT date, and the export does not say the site's time zone), else ``pubDate``."""
    for value in (gmt, local):
        value = value.strip()
        if value and not value.startswith("0000"):
            try:
                return datetime.strptime(value, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
            except ValueError:
                continue
    if rfc822.strip():
        try:
            parsed = parsedate_to_datetime(rfc822.strip())
        except (TypeError, ValueError, IndexError):
            return None
        if parsed.year >= 1900:
            return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None


def _fields(element: Element, names: dict[str, str]) -> dict[str, str]:
    return {_local(child.tag, names): (child.text or "") for child in element}


def _author(element: Element, names: dict[str, str]) -> Author:
    values = _fields(element, names)
    return Author(
        login=values.get("wp:author_login", "").strip(),
        wp_id=values.get("wp:author_id", "").strip(),
        email=values.get("wp:author_email", "").strip(),
        display_name=values.get("wp:author_display_name", "").strip(),
    )


def _category(element: Element, names: dict[str, str]) -> Term:
    values = _fields(element, names)
    return Term(
        kind="category",
        slug=values.get("wp:category_nicename", "").strip(),
        name=values.get("wp:cat_name", "").strip(),
        parent=values.get("wp:category_parent", "").strip(),
        description=values.get("wp:category_description", "").strip(),
    )


def _tag(element: Element, names: dict[str, str]) -> Term:
    values = _fields(element, names)
    return Term(
        kind="tag",
        slug=values.get("wp:tag_slug", "").strip(),
        name=values.get("wp:tag_name", "").strip(),
        description=values.get("wp:tag_description", "").strip(),
    )


def _comment(element: Element, names: dict[str, str]) -> Comment:
    values = _fields(element, names)
    return Comment(
        wp_id=values.get("wp:comment_id", "").strip(),
        author=values.get("wp:comment_author", "").strip(),
        email=values.get("wp:comment_author_email", "").strip(),
        date=parse_date(values.get("wp:comment_date_gmt", ""), values.get("wp:comment_date", "")),
        content=values.get("wp:comment_content", ""),
        approved=values.get("wp:comment_approved", "1").strip(),
        kind=values.get("wp:comment_type", "").strip(),
        parent=values.get("wp:comment_parent", "0").strip(),
        user_id=values.get("wp:comment_user_id", "0").strip() or "0",
    )


def _item(element: Element, names: dict[str, str]) -> Item:
    item = Item(wp_id="", post_type="post")
    dates = {"gmt": "", "local": "", "rfc822": ""}
    for child in element:
        name = _local(child.tag, names)
        text = child.text or ""
        if name == "category":
            item.terms.append((child.get("domain", ""), child.get("nicename", ""), text.strip()))
        elif name == "wp:comment":
            item.comments.append(_comment(child, names))
        elif name == "title":
            item.title = text.strip()
        elif name == "link":
            item.link = text.strip()
        elif name == "dc:creator":
            item.creator = text.strip()
        elif name == "content:encoded":
            item.content = text
        elif name == "excerpt:encoded":
            item.excerpt = text.strip()
        elif name == "wp:post_id":
            item.wp_id = text.strip()
        elif name == "wp:post_type":
            item.post_type = text.strip()
        elif name == "wp:status":
            item.status = text.strip()
        elif name == "wp:post_name":
            item.slug = text.strip()
        elif name == "wp:post_password":
            item.password = text.strip()
        elif name == "wp:attachment_url":
            item.attachment_url = text.strip()
        elif name == "wp:post_date_gmt":
            dates["gmt"] = text
        elif name == "wp:post_date":
            dates["local"] = text
        elif name == "pubDate":
            dates["rfc822"] = text
    item.date = parse_date(dates["gmt"], dates["local"], dates["rfc822"])
    return item


_CHANNEL_READERS = {"wp:author": _author, "wp:category": _category, "wp:tag": _tag, "item": _item}


def read_wxr(source: IO[bytes]) -> Iterator[Record]:
    """The export's records in file order: ``Site`` first (the channel names its URL
    before its first author, term or item in every WordPress export), then ``Author``,
    ``Term`` and ``Item`` as they come.

    Raises ``NotAnExport`` for malformed XML, a DTD or entity declaration, or a file
    whose root is not an RSS channel.
    """
    names: dict[str, str] = {}
    depth = 0
    channel: Element | None = None
    site_told = False
    site = {"wp:base_blog_url": "", "wp:base_site_url": "", "link": ""}
    try:
        for event, element in iterparse(source, events=("start", "end"), forbid_dtd=True):
            if event == "start":
                depth += 1
                if depth == 1 and _local(element.tag, names) != "rss":
                    raise NotAnExport("This is not a WordPress export: its root element is not <rss>.")
                if depth == 2 and _local(element.tag, names) == "channel":
                    channel = element
                continue
            depth -= 1
            if depth != 2 or channel is None:
                continue
            # A direct child of the channel, complete with its descendants.
            name = _local(element.tag, names)
            reader = _CHANNEL_READERS.get(name)
            if reader is not None:
                if not site_told:
                    site_told = True
                    yield Site(site["wp:base_blog_url"] or site["wp:base_site_url"] or site["link"])
                yield reader(element, names)
            elif name in site:
                site[name] = _text(element)
            # Done with it: the channel keeps no child, so memory holds one item at most.
            element.clear()
            channel.remove(element)
    except (ParseError, DefusedXmlException) as exc:
        raise NotAnExport(f"This is not a readable WordPress export: {exc}") from exc
    if channel is None:
        raise NotAnExport("This is not a WordPress export: it has no <channel>.")
    if not site_told:
        yield Site(site["wp:base_blog_url"] or site["wp:base_site_url"] or site["link"])
