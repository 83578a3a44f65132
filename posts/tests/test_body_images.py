"""Images in a post body: the site's uploads render as responsive, lazily loaded images;
images from anywhere else render as links, and nothing in an image can run script."""

from html.parser import HTMLParser

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from posts.rendering import render_markdown
from posts.tests.factories import PostFactory

pytestmark = pytest.mark.django_db

SIZES = "(max-width: 45rem) 100vw, 45rem"


class Elements(HTMLParser):
    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, dict[str, str | None]]] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, dict(attrs)))

    def of(self, tag: str) -> list[dict[str, str | None]]:
        return [attrs for name, attrs in self.found if name == tag]


@pytest.fixture
def photo(author, image_of):
    return image_of(author, width=1200, height=800, alt="stored alt")


def test_our_image_renders_with_size_lazy_loading_srcset_and_sizes(photo):
    html = render_markdown(f"Look:\n\n![A *red* hill](/media/{photo.file})")
    [img] = Elements(html).of("img")
    small, medium = (f"/media/{each['name']}" for each in photo.renditions)
    assert img == {
        "src": f"/media/{photo.file}",
        "alt": "A red hill",
        "width": "1200",
        "height": "800",
        "loading": "lazy",
        "srcset": f"{small} 600w, {medium} 1000w, /media/{photo.file} 1200w",
        "sizes": SIZES,
    }


@pytest.mark.parametrize(
    "prefix",
    ["", "http://localhost", "http://127.0.0.1:8000", "https://blog.example.com"],
)
def test_our_image_is_recognised_by_any_url_the_site_gives_it(photo, prefix, settings):
    settings.SITE_URL = "https://blog.example.com"
    settings.ALLOWED_HOSTS = ["localhost", "127.0.0.1"]
    [img] = Elements(render_markdown(f"![x]({prefix}/media/{photo.file})")).of("img")
    assert img["src"] == f"/media/{photo.file}" and img["srcset"]


def test_a_raw_img_tag_of_ours_renders_the_same(photo):
    html = render_markdown(f'<p><img src="/media/{photo.file}" alt="raw" onerror="alert(1)" title="t"></p>')
    [img] = Elements(html).of("img")
    assert img["alt"] == "raw" and img["loading"] == "lazy" and img["width"] == "1200"
    assert "onerror" not in img and "title" not in img


@pytest.mark.parametrize(
    "body",
    [
        "![A chart](https://elsewhere.example/chart.png)",
        '<img src="https://elsewhere.example/chart.png" alt="A chart">',
        "![A chart](https://evil.example/media/{file})",  # our name on another host
        "![A chart](/media/images/2026/01/00000000000000000000000000000000.jpg)",  # no such upload
        "![A chart](/static/favicon.svg)",
    ],
)
def test_an_image_from_elsewhere_renders_as_a_link_with_its_alt_text(photo, body, settings):
    settings.ALLOWED_HOSTS = ["localhost"]
    html = render_markdown(body.format(file=photo.file))
    elements = Elements(html)
    assert elements.of("img") == []
    [link] = elements.of("a")
    assert link["href"] and link["href"] != f"/media/{photo.file}"
    assert "A chart</a>" in html


def test_an_image_from_elsewhere_without_alt_text_links_with_its_url():
    html = render_markdown("![](https://elsewhere.example/x.png)")
    url = "https://elsewhere.example/x.png"
    assert f'<a href="{url}" rel="noopener noreferrer nofollow">{url}</a>' in html


def test_an_image_from_elsewhere_inside_a_link_is_its_alt_text():
    for body in (
        "[![badge](https://ci.example/badge.svg)](https://ci.example/)",
        '<a href="https://ci.example/"><img src="https://ci.example/badge.svg" alt="badge"></a>',
    ):
        html = render_markdown(body)
        elements = Elements(html)
        assert elements.of("img") == []
        assert [a["href"] for a in elements.of("a")] == ["https://ci.example/"], html
        assert "badge" in html


@pytest.mark.parametrize(
    "body",
    [
        '<img src="/media/{file}" onerror="alert(1)" onload="alert(2)">',
        '<img src="javascript:alert(1)" alt="x">',
        '<img src="data:image/svg+xml;base64,PHN2Zz4=" alt="x">',
        '<img srcset="javascript:alert(1) 1x" src="/media/{file}">',
        '<IMG SRC="jav&#x09;ascript:alert(1)" ALT="x">',
        "![x](javascript:alert(1))",
        '![x](/media/{file} "title" onerror="alert(1)")',
        '![x" onerror="alert(1)](/media/{file})',
        "![x](data:image/png;base64,AAAA)",
    ],
)
def test_images_cannot_carry_script(photo, body):
    elements = Elements(render_markdown(body.format(file=photo.file)))
    for tag, attrs in elements.found:
        for name, value in attrs.items():
            assert not name.startswith("on"), (tag, name)
            compact = "".join((value or "").split()).lower()
            assert "javascript:" not in compact and not compact.startswith("data:"), (tag, name, value)
    for img in elements.of("img"):
        assert set(img) <= {"src", "alt", "width", "height", "loading", "srcset", "sizes"}
        assert img["src"] == f"/media/{photo.file}"


def test_a_render_looks_the_images_up_in_one_query(author, image_of):
    photos = [image_of(author, width=700 + i, height=500) for i in range(3)]
    body = "\n\n".join(f"![{i}](/media/{p.file})" for i, p in enumerate(photos * 2))
    with CaptureQueriesContext(connection) as queries:
        html = render_markdown(body)
    assert len(queries) == 1
    assert len(Elements(html).of("img")) == 6


def test_a_body_without_uploads_costs_no_query():
    with CaptureQueriesContext(connection) as queries:
        render_markdown("# Hi\n\n![x](https://elsewhere.example/x.png) and [a link](/media/)")
    assert len(queries) == 0


def test_saving_a_post_stores_the_rendered_image(photo, author_client):
    body = f"Intro.\n\n![Hill](/media/{photo.file})"
    response = author_client.post("/api/v1/posts/", {"title": "Pics", "body": body}, format="json")
    assert response.status_code == 201
    [img] = Elements(response.json()["body_html"]).of("img")
    assert img["width"] == "1200" and img["loading"] == "lazy" and "600w" in img["srcset"]


def test_the_editors_preview_shows_exactly_what_readers_see(photo, author, client):
    body = f"![Hill](/media/{photo.file})\n\n![Elsewhere](https://elsewhere.example/x.png)"
    post = PostFactory(author=author, body=body)
    client.force_login(author)
    preview = client.post("/markdown-preview/", {"body": body}, content_type="application/json")
    assert preview.status_code == 200
    assert preview.json()["html"] == post.body_html
    assert 'loading="lazy"' in post.body_html and "Elsewhere</a>" in post.body_html
