"""Markdown to safe HTML, and what is derived from a body (text, excerpt, reading time).

Three stages, each linear in its input:

1. markdown-it-py parses the Markdown (no regex backtracking on hostile input; its
   nesting is capped by ``maxNesting``).
2. Raw HTML written in the Markdown is re-tokenised here, strictly, and balanced: the
   HTML5 parser inside nh3 is never handed a tag it could read differently, a tag left
   open past its block, a formatting element around a block, or nesting deeper than
   ``MAX_RAW_DEPTH``. An HTML5 tree builder re-opens every formatting element still
   open (``<i title=1>…<i title=1000>``) in each later paragraph, which made 21 KB of
   Markdown into 18.9 MB of HTML, and it walks the whole stack of open elements on each
   end tag, which is quadratic in nesting depth. Neither can happen to balanced,
   shallow markup.
3. nh3 (the Rust ammonia sanitiser) keeps only an allow-list of tags, attributes and URL
   schemes, so whatever the Markdown lets through, no script can run.

Images: only the site's own uploads are shown. Every image in a body, Markdown
(``![alt](url)``) or raw ``<img>``, is rebuilt here before nh3 sees it: one of ours (the
URL of an uploaded original) becomes an ``<img>`` with its size, ``loading="lazy"`` and a
``srcset`` of its renditions; any other (another site's, or a URL that names no upload)
becomes a link to it with the alt text, so a page never loads anything from another host
(the CSP's ``img-src`` allows none) and no reader is tracked by a body's images. The
uploads a body names are looked up in one query per render, only when it names any.

Text, excerpt and reading time are then derived from the sanitised HTML in one pass.
"""

import html
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import nh3
from django.conf import settings
from django.core.files.storage import default_storage
from django.http.request import split_domain_port, validate_host
from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore
from markdown_it.token import Token

if TYPE_CHECKING:
    from images.models import Image

WORDS_PER_MINUTE = 200
# Chinese and Japanese are written without spaces: read by character, not by word.
CJK_CHARS_PER_MINUTE = 400
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
EXCERPT_LENGTH = 280

_OPTIONS = {"html": True, "linkify": False, "typographer": False}
_markdown = MarkdownIt("commonmark", _OPTIONS).enable(["table", "strikethrough"])
# Inline Markdown (emphasis, links) nests far less deeply than blocks do. markdown-it-py
# looks up to maxNesting brackets ahead for every "[" that might open a link, so a body of
# "[ a" repeated costs in proportion to it (docs/security.md, finding 1); 8 keeps every
# real nesting of emphasis and links.
INLINE_MAX_NESTING = 8
_inline_markdown = MarkdownIt("commonmark", {**_OPTIONS, "maxNesting": INLINE_MAX_NESTING}).enable(
    ["table", "strikethrough"]
)


def _parse_inline(state: StateCore) -> None:
    for token in state.tokens:
        if token.type == "inline":
            token.children = []
            _inline_markdown.inline.parse(token.content, _inline_markdown, state.env, token.children)


_markdown.core.ruler.at("inline", _parse_inline)

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "del", "em", "h1", "h2", "h3", "h4", "h5",
    "h6", "hr", "i", "img", "kbd", "li", "ol", "p", "pre", "s", "strong", "sub", "sup",
    "table", "tbody", "td", "th", "thead", "tr", "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    # With "loading", whose only allowed value is "lazy" (TAG_ATTRIBUTE_VALUES). Only the
    # <img>s built here (_Images) reach nh3; it checks them again all the same.
    "img": {"src", "alt", "width", "height", "srcset", "sizes"},
    "code": {"class"},
    "th": {"align"},
    "td": {"align"},
    "ol": {"start"},
}
TAG_ATTRIBUTE_VALUES = {"img": {"loading": {"lazy"}}}
URL_SCHEMES = {"http", "https", "mailto"}
IMAGE_URL_SCHEMES = ("http", "https")
# The post column is 45rem wide: narrower screens show an image across the viewport.
IMAGE_SIZES = "(max-width: 45rem) 100vw, 45rem"
# Uploads a body may show; the URLs past this many are links (the lookup stays bounded).
MAX_IMAGES_PER_BODY = 500

# Raw HTML: what may appear where, and how deep.
PHRASING_TAGS = frozenset(
    {"a", "abbr", "b", "br", "code", "del", "em", "i", "img", "kbd", "s", "strong", "sub", "sup"}
)
BLOCK_TAGS = frozenset(ALLOWED_TAGS) - PHRASING_TAGS
VOID_TAGS = frozenset({"br", "hr", "img"})
HEADING_TAGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
# Allowed block elements whose start tag makes an HTML5 parser close an open <p>.
CLOSES_PARAGRAPH = frozenset({"blockquote", "hr", "ol", "p", "pre", "table", "ul"} | HEADING_TAGS)
# Dropped with everything they contain, as nh3 drops them.
DROPPED_WITH_CONTENT = frozenset({"script", "style"})
# Raw elements open at once in one block of Markdown; deeper start tags are dropped.
MAX_RAW_DEPTH = 32

# Tags as CommonMark defines them: stricter than HTML5, so a tag recognised here is read
# the same way by any HTML5 parser. Written so that a failed match costs at most the
# length of the text it looked at (no nested choices over the same characters).
_SPACE_CHARS = " \t\n\r\f"
_OPEN_TAG = re.compile(
    r"<([A-Za-z][A-Za-z0-9-]*)"
    r"(?:[ \t\n\r\f]+[A-Za-z_:][A-Za-z0-9_.:-]*"
    r"(?:[ \t\n\r\f]*=[ \t\n\r\f]*(?:[^ \t\n\r\f\"'=<>`]+|'[^']*'|\"[^\"]*\"))?)*"
    r"[ \t\n\r\f]*/?>"
)
_CLOSE_TAG = re.compile(r"</([A-Za-z][A-Za-z0-9-]*)[ \t\n\r\f]*>")

_WORD = re.compile(r"\w+")
_SPACE = re.compile(r"\s+")
# Only applied to HTML that nh3 produced: well-formed, attribute values double-quoted,
# and a <p> never has attributes or another <p> inside.
_TAG = re.compile(r"<(?:[^>\"]|\"[^\"]*\")*>")
_PARAGRAPH = re.compile(r"<p>(.*?)</p>", re.DOTALL)


@dataclass(frozen=True, slots=True)
class RenderedBody:
    html: str
    text: str
    excerpt: str
    reading_time: int


def render_body(source: str) -> RenderedBody:
    """Everything derived from a post's Markdown ``source``, in time and size linear in it."""
    body_html = render_markdown(source)
    text = html_to_text(body_html)
    return RenderedBody(
        html=body_html, text=text, excerpt=make_excerpt(body_html), reading_time=reading_time_minutes(text)
    )


def render_markdown(source: str) -> str:
    """Render Markdown to sanitised HTML (the saved body and the editor's preview)."""
    tokens = _markdown.parse(source)
    images = _Images(source)
    for token in tokens:
        if token.type == "html_block":
            token.content = _balance_block_html(token.content, images)
        elif token.type == "inline" and token.children:
            token.children = _balance_inline_html(token.children, images)
    return sanitize_html(_markdown.renderer.render(tokens, _markdown.options, {}))


def sanitize_html(raw_html: str) -> str:
    return nh3.clean(
        raw_html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        tag_attribute_values=TAG_ATTRIBUTE_VALUES,
        attribute_filter=_image_attribute_filter,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )


def _image_attribute_filter(element: str, attribute: str, value: str) -> str | None:
    """An image's addresses are relative or http(s), in ``srcset`` too (which nh3 does
    not check as it checks ``src``)."""
    if element != "img" or attribute not in {"src", "srcset"}:
        return value
    urls = [value] if attribute == "src" else [part.split()[0] for part in value.split(",") if part.strip()]
    return value if all(_image_url_allowed(url) for url in urls) else None


def _image_url_allowed(url: str) -> bool:
    if url.startswith(("//", "/\\", "\\")):
        return False  # another host, whatever the page's scheme
    scheme, separator, _ = url.partition(":")
    if not separator or "/" in scheme or "?" in scheme or "#" in scheme:
        return True  # a path on this site
    return scheme.strip().lower() in IMAGE_URL_SCHEMES


def html_to_text(safe_html: str) -> str:
    """The text of HTML that nh3 produced, whitespace collapsed (one linear pass)."""
    return _SPACE.sub(" ", html.unescape(_TAG.sub("", safe_html))).strip()


def make_excerpt(body_html: str, length: int = EXCERPT_LENGTH) -> str:
    """Plain text from the body's first paragraphs (headings would run into the next
    sentence), or from all of it when it has none, cut at a word boundary."""
    texts: list[str] = []
    size = 0
    for match in _PARAGRAPH.finditer(body_html):
        if paragraph := html_to_text(match.group(1)):
            texts.append(paragraph)
            size += len(paragraph) + 1
        if size > length:
            break  # enough text for the excerpt: the rest of the body is not read
    text = " ".join(texts) or html_to_text(body_html)
    if len(text) <= length:
        return text
    cut = text[:length].rsplit(" ", 1)[0].rstrip(".,;:!?- \u2013\u2014")
    return f"{cut}…"


def reading_time_minutes(text: str) -> int:
    characters = len(_CJK.findall(text))
    words = len(_WORD.findall(_CJK.sub(" ", text)))
    return max(1, math.ceil(words / WORDS_PER_MINUTE + characters / CJK_CHARS_PER_MINUTE))


# --- Raw HTML: strict tokens, balanced --------------------------------------------------


def _raw_items(raw: str) -> Iterator[tuple[str, str, str]]:
    """``(kind, tag name, text)`` for each piece of raw HTML: kind is ``text``, ``open``,
    ``void`` or ``close``. Comments, and script and style elements with their content,
    yield nothing; a ``<`` that starts no tag is the text ``&lt;``, so that no parser can
    find a tag this function did not (text holds no other ``<``; entities are kept)."""
    position, end = 0, len(raw)
    lowered: str | None = None
    comment_end = -2  # where the next "-->" is (-1: none left); found once, not per "<!--"
    while position < end:
        start = raw.find("<", position)
        if start < 0:
            yield "text", "", raw[position:]
            return
        if start > position:
            yield "text", "", raw[position:start]
        if raw.startswith("<!--", start):
            if comment_end != -1 and comment_end < start + 4:
                comment_end = raw.find("-->", start + 4)
            if comment_end >= 0:
                position = comment_end + 3
                continue
        elif match := _OPEN_TAG.match(raw, start):
            name = match.group(1).lower()
            position = match.end()
            if name in DROPPED_WITH_CONTENT:
                lowered = lowered or raw.lower()
                closing = lowered.find(f"</{name}", position)
                closing_end = raw.find(">", closing) if closing >= 0 else -1
                position = end if closing_end < 0 else closing_end + 1
                continue
            yield ("void" if name in VOID_TAGS else "open"), name, match.group(0)
            continue
        elif match := _CLOSE_TAG.match(raw, start):
            position = match.end()
            yield "close", match.group(1).lower(), match.group(0)
            continue
        yield "text", "", "&lt;"
        position = start + 1


class _Balancer:
    """Keeps raw HTML balanced and shallow as it is emitted: start tags of elements that
    are not allowed are dropped (nh3 would drop them and keep their content), end tags
    only close what this block opened, and everything still open is closed at the end.

    ``stack`` holds ``(tag, raw)``: ``raw`` is False for elements the Markdown renderer
    opened, which raw end tags may not close.
    """

    def __init__(self, images: "_Images", *, inline: bool) -> None:
        self.images = images
        self.inline = inline
        self.stack: list[tuple[str, bool]] = []
        self.out: list[str] = []

    def close_through(self, index: int) -> None:
        """Close the raw elements from the top of the stack down to ``index``."""
        while len(self.stack) > index:
            tag, _ = self.stack.pop()
            self.out.append(f"</{tag}>")

    def close_raw_above_rendered(self) -> None:
        """Close raw elements above the innermost one the renderer opened."""
        index = len(self.stack)
        while index and self.stack[index - 1][1]:
            index -= 1
        self.close_through(index)

    def raw_depth(self) -> int:
        return sum(1 for _, raw in self.stack if raw)

    def last_index(self, tags: frozenset[str] | set[str]) -> int:
        for index in range(len(self.stack) - 1, -1, -1):
            if self.stack[index][0] in tags:
                return index
        return -1

    def start(self, kind: str, tag: str, text: str) -> None:
        if tag not in ALLOWED_TAGS:
            return
        if self.inline and tag in BLOCK_TAGS:
            return  # a block inside a paragraph would close the paragraph under us
        if tag == "a" and self.last_index({"a"}) >= 0:
            return  # a link inside a link closes the outer one
        if tag in BLOCK_TAGS:
            # Formatting elements never enclose a block: the parser would re-open them
            # inside it, and inside every later block.
            while self.stack and self.stack[-1][0] in PHRASING_TAGS and self.stack[-1][1]:
                self.close_through(len(self.stack) - 1)
            if tag in CLOSES_PARAGRAPH and (index := self.last_index({"p"})) >= 0:
                self.close_through(index)
            if tag in HEADING_TAGS and (index := self.last_index(HEADING_TAGS)) >= 0:
                self.close_through(index)
            if tag == "li" and (index := self.last_index({"li"})) > self.last_index({"ol", "ul"}):
                self.close_through(index)
            if tag in {"tr", "td", "th", "thead", "tbody"} and (index := self.last_index({tag})) >= 0:
                self.close_through(index)
        if tag == "img":
            self.out.append(self.images.raw_html(text, in_link=self.last_index({"a"}) >= 0))
            return
        if kind == "void":
            self.out.append(text)
            return
        if self.raw_depth() >= MAX_RAW_DEPTH:
            return
        self.stack.append((tag, True))
        self.out.append(text)

    def end(self, tag: str) -> None:
        index = self.last_index({tag})
        if index < 0 or not self.stack[index][1]:
            return
        if any(not raw for _, raw in self.stack[index:]):
            return  # would close an element the renderer opened; closed at the end instead
        self.close_through(index)

    def feed(self, raw: str) -> None:
        for kind, tag, text in _raw_items(raw):
            if kind == "text":
                self.out.append(text)
            elif kind == "close":
                self.end(tag)
            else:
                self.start(kind, tag, text)

    def take(self) -> str:
        emitted = "".join(self.out)
        self.out.clear()
        return emitted


def _balance_block_html(raw: str, images: "_Images") -> str:
    balancer = _Balancer(images, inline=False)
    balancer.feed(raw)
    balancer.close_through(0)
    return balancer.take()


def _html_token(content: str) -> Token:
    return Token("html_inline", "", 0, content=content)


def _balance_inline_html(children: list[Token], images: "_Images") -> list[Token]:
    """The inline tokens of one paragraph, heading or cell, with their raw HTML balanced
    against each other and against the elements the Markdown renderer opens, and their
    images rebuilt (``_Images``)."""
    if not any(child.type in {"html_inline", "image"} for child in children):
        return children
    balancer = _Balancer(images, inline=True)
    balanced: list[Token] = []
    for child in children:
        if child.type == "html_inline":
            balancer.feed(child.content)
            balanced.append(_html_token(balancer.take()))
            continue
        if child.type == "image":
            if balancer.out:
                balanced.append(_html_token(balancer.take()))
            balanced.extend(images.markdown_tokens(child, in_link=balancer.last_index({"a"}) >= 0))
            continue
        if child.nesting == 1:
            if child.tag == "a" and (index := balancer.last_index({"a"})) >= 0:
                balancer.close_through(index)  # a Markdown link inside a raw <a>
            balancer.stack.append((child.tag, False))
        elif child.nesting == -1:
            balancer.close_raw_above_rendered()
            index = balancer.last_index({child.tag})
            if index >= 0:
                balancer.stack.pop(index)
        if balancer.out:
            balanced.append(_html_token(balancer.take()))
        balanced.append(child)
    balancer.close_through(0)
    balanced.append(_html_token(balancer.take()))
    return balanced


# --- Images ---------------------------------------------------------------------------

# The name of an uploaded original as images.services stores it: the one thing of an
# image's URL that does not depend on where the site or the storage is.
_STORED_ORIGINAL = re.compile(r"images/\d{4}/\d{2}/[0-9a-f]{32}\.[a-z]{3,4}")
# An attribute as _OPEN_TAG matches it: name, then an unquoted, single- or double-quoted value.
_RAW_ATTRIBUTE = re.compile(
    r"([A-Za-z_:][A-Za-z0-9_.:-]*)"
    r"(?:[ \t\n\r\f]*=[ \t\n\r\f]*(?:([^ \t\n\r\f\"'=<>`]+)|'([^']*)'|\"([^\"]*)\"))?"
)


def srcset(image: "Image") -> str:
    """An upload's ``srcset``: its renditions and its original, by width, as the storage
    serves them (``/media/...`` on this site, or the bucket's URLs)."""
    candidates = [f"{default_storage.url(each['name'])} {each['width']}w" for each in image.renditions]
    candidates.append(f"{default_storage.url(image.file)} {image.width}w")
    return ", ".join(candidates)


class _Images:
    """The uploads a body names, looked up once, and how each image of the body renders.

    A URL is one of ours when it is exactly where the site serves an upload's original:
    the storage's URL for it (``/media/<name>``, or the bucket's), optionally made
    absolute on ``SITE_URL`` or on a host the site answers to (``ALLOWED_HOSTS``), as
    the API hands them out when ``SITE_URL`` is unset.
    """

    def __init__(self, source: str) -> None:
        self.by_name: dict[str, Image] = {}
        names = set()
        for match in _STORED_ORIGINAL.finditer(source):
            names.add(match.group(0))
            if len(names) >= MAX_IMAGES_PER_BODY:
                break
        if names:
            from images.models import Image as Images  # loaded after this module

            self.by_name = {image.file: image for image in Images.objects.filter(file__in=names)}

    def find(self, src: str) -> "Image | None":
        match = _STORED_ORIGINAL.search(src)
        image = self.by_name.get(match.group(0)) if match else None
        if image is None:
            return None
        url = default_storage.url(image.file)
        if src == url or src == f"{settings.SITE_URL}{url}":
            return image
        # Absolute on a host of the site's: how the API gives URLs when SITE_URL is unset.
        parts = urlsplit(src)
        if not url.startswith("/") or parts.scheme not in IMAGE_URL_SCHEMES or parts.path != url:
            return None
        if parts.query or parts.fragment:
            return None
        host, _port = split_domain_port(parts.netloc)
        return image if host and validate_host(host, settings.ALLOWED_HOSTS) else None

    def html(self, image: "Image", alt: str) -> str:
        """An upload as an ``<img>``: its size (no layout shift), lazy, and the browser
        picks the narrowest rendition that fills the column."""
        attributes = {
            "src": default_storage.url(image.file),
            "alt": alt,
            "width": image.width,
            "height": image.height,
            "loading": "lazy",
            "srcset": srcset(image),
            "sizes": IMAGE_SIZES,
        }
        shown = " ".join(f'{name}="{html.escape(str(value))}"' for name, value in attributes.items())
        return f"<img {shown}>"

    def markdown_tokens(self, token: Token, *, in_link: bool) -> list[Token]:
        """What renders for ``![alt](src)``."""
        src = token.attrGet("src") or ""
        alt = _markdown.renderer.renderInlineAsText(token.children or [], _markdown.options, {})
        image = self.find(src)
        if image is not None:
            return [_html_token(self.html(image, alt))]
        text = Token("text", "", 0, content=alt or src)
        if in_link:
            return [text]
        return [Token("link_open", "a", 1, attrs={"href": src}), text, Token("link_close", "a", -1)]

    def raw_html(self, tag: str, *, in_link: bool) -> str:
        """What renders for a raw ``<img ...>`` tag (matched strictly by ``_OPEN_TAG``)."""
        attributes: dict[str, str] = {}
        for match in _RAW_ATTRIBUTE.finditer(tag, len("<img")):
            name = match.group(1).lower()
            value = next((group for group in match.groups()[1:] if group is not None), "")
            attributes.setdefault(name, html.unescape(value))
        src, alt = attributes.get("src", "").strip(), attributes.get("alt", "")
        image = self.find(src) if src else None
        if image is not None:
            return self.html(image, alt)
        text = html.escape(alt or src)
        if in_link or not src:
            return text
        return f'<a href="{html.escape(src)}">{text}</a>'
