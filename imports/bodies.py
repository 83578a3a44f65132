"""Imported HTML as a post body: stored as given (after the changes below) and rendered by
the same pipeline as every body (``posts.rendering``: Markdown with raw HTML, then the
balancer and nh3), so whatever it carries, ``<script>`` included, never reaches
``body_html``.

Bodies here are Markdown, and Markdown reads HTML only in blocks that a blank line ends:
a blank line inside ``<ul>`` or ``<pre>`` would hand the rest to the Markdown parser,
which would see ``*`` as emphasis and indented lines as code. So the HTML is made into
one HTML block: paragraphs made explicit first, as WordPress does when it shows a post
(``wpautop``: text separated by blank lines is a paragraph, a single line break a
``<br>``), newlines inside ``<pre>`` written as ``&#10;``, blank lines dropped, and the
whole wrapped in a ``<div>`` (which the sanitiser drops, keeping its content). Every step
is one linear pass: imported files are large and come from elsewhere.
"""

import html
import re

# A block-level start or end tag at the start of a chunk: the chunk is HTML already and
# needs no paragraph around it (wpautop's list, roughly).
_BLOCK_START = re.compile(
    r"\s*</?(?:address|article|aside|audio|blockquote|canvas|caption|dd|details|div|dl|dt|embed|"
    r"fieldset|figcaption|figure|footer|form|h[1-6]|header|hr|iframe|li|main|math|nav|noscript|"
    r"object|ol|p|pre|script|section|style|summary|svg|table|tbody|td|tfoot|th|thead|tr|ul|"
    r"video)\b",
    re.IGNORECASE,
)
_BLANK_LINES = re.compile(r"\n[ \t\r\f\v]*\n[\s]*")
_TAG = re.compile(r"<[^<>]*>")
_SPACES = re.compile(r"[ \t\r\f\v]+")


def strip_comments(text: str) -> str:
    """``text`` without HTML comments: Gutenberg's block markers (``<!-- wp:paragraph
    -->``), ``<!--more-->`` and any other. An unclosed comment runs to the end, as it
    would in a browser."""
    pieces: list[str] = []
    position = 0
    while (start := text.find("<!--", position)) >= 0:
        pieces.append(text[position:start])
        end = text.find("-->", start + 4)
        if end < 0:
            position = len(text)
            break
        position = end + 3
    pieces.append(text[position:])
    return "".join(pieces)


def _split_pre(text: str) -> list[tuple[bool, str]]:
    """``(is_pre, piece)`` in order: ``<pre>`` elements (to their end tag, or the end of
    the text) apart from the rest. ``find`` only: one pass, whatever the input."""
    lowered = text.lower()
    pieces: list[tuple[bool, str]] = []
    position = 0
    while (start := lowered.find("<pre", position)) >= 0:
        after = lowered[start + 4 : start + 5]
        if after and after not in " \t\r\n>/":
            pieces.append((False, text[position : start + 4]))  # <prefix>, not <pre>
            position = start + 4
            continue
        end = lowered.find("</pre>", start)
        end = len(text) if end < 0 else end + len("</pre>")
        pieces.append((False, text[position:start]))
        pieces.append((True, text[start:end]))
        position = end
    pieces.append((False, text[position:]))
    return pieces


def _paragraphs(text: str) -> str:
    """wpautop's rule for text outside ``<pre>``: chunks separated by blank lines that do
    not start with a block tag become paragraphs, their line breaks ``<br>``."""
    chunks = []
    for chunk in _BLANK_LINES.split(text):
        chunk = chunk.strip()
        if not chunk:
            continue
        if _BLOCK_START.match(chunk):
            chunks.append(chunk)
        else:
            # Line by line, not by a pattern around the newline: a pattern that starts
            # with optional spaces backtracks over every long run of them (quadratic).
            chunks.append("<p>" + "<br>\n".join(line.strip() for line in chunk.split("\n")) + "</p>")
    return "\n".join(chunks)


def html_body(source: str, *, paragraphs: bool = True) -> str:
    """Imported HTML as a Markdown body that renders as that HTML (see the module's
    docstring). ``paragraphs``: make paragraphs of blank-line separated text (WordPress'
    bodies rely on it; Ghost's HTML has its ``<p>`` already)."""
    text = strip_comments(source.replace("\r\n", "\n").replace("\r", "\n"))
    out: list[str] = []
    for is_pre, piece in _split_pre(text):
        if is_pre:
            out.append(piece.replace("\n", "&#10;"))
        elif paragraphs:
            out.append(_paragraphs(piece))
        else:
            out.append(_BLANK_LINES.sub("\n", piece).strip())
    body = "\n".join(part for part in out if part)
    if not body:
        return ""
    return f"<div>\n{body}\n</div>"


def _drop_elements(text: str, names: tuple[str, ...]) -> str:
    """``text`` without the elements ``names`` and their content (to the end tag, or the
    end). Each name's next start is looked up again only once it has been passed: linear."""
    lowered = text.lower()
    pieces: list[str] = []
    position = 0
    upcoming = {name: lowered.find(f"<{name}") for name in names}
    while True:
        for name, start in upcoming.items():
            if 0 <= start < position:
                upcoming[name] = lowered.find(f"<{name}", position)
        found = [(start, name) for name, start in upcoming.items() if start >= 0]
        if not found:
            break
        start, name = min(found)
        pieces.append(text[position:start])
        end = lowered.find(f"</{name}", start)
        close = lowered.find(">", end) if end >= 0 else -1
        position = len(text) if close < 0 else close + 1
    pieces.append(text[position:])
    return "".join(pieces)


def html_to_text(source: str) -> str:
    """Text for a comment (comments are plain text here): tags dropped, scripts and styles
    with their content, entities decoded, paragraphs kept as blank lines."""
    text = _drop_elements(
        strip_comments(source.replace("\r\n", "\n").replace("\r", "\n")), ("script", "style")
    )
    text = re.sub(r"(?i)<br\s*/?>", "\n", text)
    text = re.sub(r"(?i)</p\s*>", "\n\n", text)
    text = _TAG.sub("", text)
    lines = [_SPACES.sub(" ", line).strip() for line in html.unescape(text).split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
