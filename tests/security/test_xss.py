"""XSS: script payloads in post bodies, titles, excerpts, tags, comments, categories,
display names and bios. body_html is sanitised; every page shows them escaped, runs no
inline script, and sends a Content-Security-Policy without 'unsafe-inline' scripts."""

from html.parser import HTMLParser

import pytest
from django.utils import timezone

from accounts.tests.factories import UserFactory
from conftest import client_for
from posts import services
from posts.models import Category

pytestmark = pytest.mark.django_db

SCRIPT = '<script>alert("xss")</script>'
IMG = "<img src=x onerror=alert(1)>"
SVG = "<svg/onload=alert(1)>"
BREAKOUT = '"><script>alert(2)</script>'
ATTR = "' onmouseover='alert(3)"
CLOSE = "</title></textarea></script><script>alert(4)</script>"
PAYLOAD = f"{SCRIPT}{IMG}{SVG}{BREAKOUT}{ATTR}{CLOSE}"
# Raw markup that can only appear if something was not escaped. (Quote-breaking payloads
# are harmless as text; the HTML inspection below catches any that became attributes.)
MARKERS = ("<script>alert", "<img src=x onerror", "<svg/onload", "<scr<script>")

MARKDOWN = f"""Hello {SCRIPT}

{IMG}

[click](javascript:alert(1)) [again](JaVaScRiPt:alert(1)) [tab](java&#09;script:alert(1))
[data](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==) [vb](vbscript:msgbox(1))

<a href="javascript:alert(1)">a</a> <a href=" javascript:alert(1)">b</a>
<iframe src="https://evil.example"></iframe><style>body{{display:none}}</style>
<object data="x"></object><embed src="x"><form action="https://evil.example"><input></form>
<p onclick="alert(1)" style="background:url(javascript:alert(1))">p</p>
<math><mi xlink:href="javascript:alert(1)">m</mi></math>
![img](x" onerror="alert(1))

<div><scr<script>ipt>alert(5)</scr</script>ipt></div>
"""

FORBIDDEN_ELEMENTS = {"script", "style", "iframe", "object", "embed", "form", "input", "math", "svg", "base"}
SCRIPT_SCHEMES = ("javascript:", "vbscript:", "data:text/html", "data:")


class Inspector(HTMLParser):
    """Collects what could run: elements, event handlers, script URLs, inline scripts."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[str] = []
        self.handlers: list[tuple[str, str]] = []
        self.script_urls: list[tuple[str, str]] = []
        self.inline_scripts: list[dict] = []

    def handle_starttag(self, tag, attrs):
        self.elements.append(tag)
        attributes = dict(attrs)
        if tag == "script" and "src" not in attributes and attributes.get("type") != "application/json":
            self.inline_scripts.append(attributes)
        for name, value in attrs:
            if name.startswith("on"):
                self.handlers.append((tag, name))
            compact = "".join(ch for ch in (value or "") if ch > " ").lower()
            if name in {"href", "src", "action", "formaction", "xlink:href", "data", "style"} and any(
                scheme in compact for scheme in ("javascript:", "vbscript:", "data:text/html")
            ):
                self.script_urls.append((tag, name))


def inspect(html: str) -> Inspector:
    inspector = Inspector()
    inspector.feed(html)
    inspector.close()
    return inspector


@pytest.fixture
def world(author):
    author.display_name = f"Eve {SCRIPT}{ATTR}"[:100]
    author.bio = PAYLOAD
    author.save()
    commenter = UserFactory(username="commenter", display_name=f"{IMG}{BREAKOUT}")
    category = Category.objects.create(name=f"Cat {SVG}"[:100], slug="cat", description=PAYLOAD)
    post = services.create_post(
        author=author,
        title=f"Title {SCRIPT}{BREAKOUT}"[:200],
        body=MARKDOWN,
        excerpt=f"Excerpt {IMG}{ATTR}",
        status="published",
        published_at=timezone.now(),
        category=category,
        tags=[f"t {SCRIPT}", f"{IMG}", "plain"],
    )
    services.add_comment(post=post, author=commenter, body=f"Comment {PAYLOAD}")
    draft = services.create_post(author=author, title=f"Draft {SCRIPT}", body=MARKDOWN)
    return {"post": post, "draft": draft, "author": author}


def test_body_html_is_sanitised(world, anon_client):
    body_html = anon_client.get(f"/api/v1/posts/{world['post'].slug}/").json()["body_html"]
    found = inspect(body_html)
    assert not FORBIDDEN_ELEMENTS & set(found.elements), found.elements
    assert not found.handlers, found.handlers
    assert not found.script_urls, found.script_urls
    for marker in MARKERS:
        assert marker not in body_html
    assert "Hello" in body_html and "<p>" in body_html  # the harmless part survives


def test_markdown_preview_is_sanitised(world, client):
    client.force_login(world["author"])
    response = client.post("/markdown-preview/", {"body": MARKDOWN}, content_type="application/json")
    assert response.status_code == 200
    found = inspect(response.json()["html"])
    assert not FORBIDDEN_ELEMENTS & set(found.elements) and not found.handlers and not found.script_urls


def test_markdown_preview_refuses_deeply_nested_json(world, client):
    client.force_login(world["author"])
    deep = b"[" * 100_000 + b"]" * 100_000
    response = client.post("/markdown-preview/", deep, content_type="application/json")
    assert response.status_code == 400


def page_urls(world) -> list[str]:
    post, author = world["post"], world["author"]
    tags = [tag.slug for tag in post.tags.all()]
    return [
        "/",
        "/?search=alert",
        f"/?search={SCRIPT}",
        f"/?tag={tags[0]}",
        f"/posts/{post.slug}/",
        f"/authors/{author.username}/",
        "/authors/commenter/",
        *(f"/tags/{slug}/" for slug in tags),
        "/login/",
        "/signup/",
    ]


def assert_page_is_safe(response, url: str) -> None:
    assert response.status_code == 200, (url, response.status_code)
    html = response.content.decode()
    for marker in MARKERS:
        assert marker not in html, (url, marker)
    found = inspect(html)
    assert not found.inline_scripts, (url, found.inline_scripts)
    assert not found.handlers, (url, found.handlers)
    assert not found.script_urls, (url, found.script_urls)
    assert not {"iframe", "object", "embed"} & set(found.elements), url
    assert_html_security_headers(response, url)


def assert_html_security_headers(response, url: str) -> None:
    policy = response.get("Content-Security-Policy", "")
    directives = {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()}
    scripts = directives.get("script-src", directives.get("default-src"))
    assert scripts, (url, policy)
    assert "'unsafe-inline'" not in scripts and "'unsafe-eval'" not in scripts, (url, policy)
    assert directives.get("object-src") == ["'none'"], (url, policy)
    assert directives.get("frame-ancestors") == ["'none'"], (url, policy)
    assert response["X-Content-Type-Options"] == "nosniff", url
    assert response["X-Frame-Options"] == "DENY", url
    assert response.get("Referrer-Policy"), url


def test_reader_pages_escape_every_payload(world, client):
    for url in page_urls(world):
        assert_page_is_safe(client.get(url), url)
    html = client.get(f"/posts/{world['post'].slug}/").content.decode()
    assert "&lt;script&gt;alert(" in html  # shown as text, not dropped silently


def test_writer_pages_escape_every_payload(world, client):
    client.force_login(world["author"])
    for url in ["/", f"/posts/{world['draft'].slug}/", "/me/", "/write/", f"/write/{world['post'].slug}/"]:
        assert_page_is_safe(client.get(url), url)


@pytest.mark.parametrize("url", ["/feed/", "/feed/atom/", "/sitemap.xml"])
def test_feeds_escape_payloads(world, client, url):
    response = client.get(url)
    assert response.status_code == 200
    text = response.content.decode()
    for marker in MARKERS:
        assert marker not in text, marker


@pytest.mark.parametrize("url", ["/no-such-page/", "/posts/no-such-post/", "/?page=999"])
def test_error_pages_are_html_with_the_same_headers(world, client, url):
    response = client.get(url)
    assert response.status_code == 404
    assert_html_security_headers(response, url)


def test_api_json_is_never_sniffed_as_html(world, anon_client):
    response = anon_client.get(f"/api/v1/posts/{world['post'].slug}/")
    assert response["Content-Type"] == "application/json"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_api_error_documents_for_authors_escape_nothing_they_should_not(world):
    # The API returns stored text as JSON strings: escaping is each page's job, checked above.
    client = client_for(world["author"])
    response = client.get(f"/api/v1/posts/{world['post'].slug}/comments/")
    assert response.json()["results"][0]["body"].startswith("Comment <script>")
