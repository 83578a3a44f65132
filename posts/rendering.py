"""Markdown to safe HTML, and what is derived from a body (excerpt, reading time).

markdown-it-py parses in linear time (no regex backtracking on hostile input); nh3
(the Rust ammonia sanitiser) then keeps only an allow-list of tags, attributes and URL
schemes, so whatever the Markdown lets through, no script can run.
"""

import html
import math
import re

import nh3
from markdown_it import MarkdownIt

WORDS_PER_MINUTE = 200
# Chinese and Japanese are written without spaces: read by character, not by word.
CJK_CHARS_PER_MINUTE = 400
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
EXCERPT_LENGTH = 280

_markdown = MarkdownIt("commonmark", {"html": True, "linkify": False, "typographer": False}).enable(
    ["table", "strikethrough"]
)

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
_WORD = re.compile(r"\w+")
_SPACE = re.compile(r"\s+")
# Only applied to HTML that nh3 produced, which is well-formed.
_PARAGRAPH = re.compile(r"<p>(.*?)</p>", re.DOTALL)


def sanitize_html(raw_html: str) -> str:
    return nh3.clean(
        raw_html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )


def render_markdown(source: str) -> str:
    """Render Markdown to sanitised HTML."""
    return sanitize_html(_markdown.render(source))


def html_to_text(safe_html: str) -> str:
    text = nh3.clean(safe_html, tags=set(), attributes={})
    return _SPACE.sub(" ", html.unescape(text)).strip()


def make_excerpt(body_html: str, length: int = EXCERPT_LENGTH) -> str:
    """Plain text from the body's first paragraphs (headings would run into the next
    sentence), or from all of it when it has none, cut at a word boundary."""
    paragraphs = " ".join(_PARAGRAPH.findall(body_html))
    text = html_to_text(paragraphs) or html_to_text(body_html)
    if len(text) <= length:
        return text
    cut = text[:length].rsplit(" ", 1)[0].rstrip(".,;:!?- \u2013\u2014")
    return f"{cut}…"


def reading_time_minutes(text: str) -> int:
    characters = len(_CJK.findall(text))
    words = len(_WORD.findall(_CJK.sub(" ", text)))
    return max(1, math.ceil(words / WORDS_PER_MINUTE + characters / CJK_CHARS_PER_MINUTE))
