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

Text, excerpt and reading time are then derived from the sanitised HTML in one pass.
"""

import html
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass

import nh3
from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore
from markdown_it.token import Token

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
    "img": {"src", "alt", "title", "width", "height"},
    "code": {"class"},
    "th": {"align"},
    "td": {"align"},
    "ol": {"start"},
}
URL_SCHEMES = {"http", "https", "mailto"}

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
    """Render Markdown to sanitised HTML."""
    tokens = _markdown.parse(source)
    for token in tokens:
        if token.type == "html_block":
            token.content = _balance_block_html(token.content)
        elif token.type == "inline" and token.children:
            token.children = _balance_inline_html(token.children)
    return sanitize_html(_markdown.renderer.render(tokens, _markdown.options, {}))


def sanitize_html(raw_html: str) -> str:
    return nh3.clean(
        raw_html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )


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

    def __init__(self, *, inline: bool) -> None:
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


def _balance_block_html(raw: str) -> str:
    balancer = _Balancer(inline=False)
    balancer.feed(raw)
    balancer.close_through(0)
    return balancer.take()


def _html_token(content: str) -> Token:
    return Token("html_inline", "", 0, content=content)


def _balance_inline_html(children: list[Token]) -> list[Token]:
    """The inline tokens of one paragraph, heading or cell, with their raw HTML balanced
    against each other and against the elements the Markdown renderer opens."""
    if not any(child.type == "html_inline" for child in children):
        return children
    balancer = _Balancer(inline=True)
    balanced: list[Token] = []
    for child in children:
        if child.type == "html_inline":
            balancer.feed(child.content)
            balanced.append(_html_token(balancer.take()))
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
