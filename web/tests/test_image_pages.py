"""Images on the reader pages: a post's cover (responsive, and its ``og:image``), the
author's avatar, images in the body, and a CSP that allows exactly what is shown."""

import re
from html.parser import HTMLParser

import pytest

from posts.tests.factories import PostFactory

pytestmark = pytest.mark.django_db


class Page(HTMLParser):
    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))

    def all(self, tag: str, **wanted: str) -> list[dict[str, str | None]]:
        return [
            attrs
            for name, attrs in self.elements
            if name == tag and all(attrs.get(key.replace("_", "-")) == value for key, value in wanted.items())
        ]

    def meta(self, prop: str) -> str | None:
        found = self.all("meta", property=prop)
        return found[0]["content"] if found else None


@pytest.fixture
def author_with_avatar(author, image_of):
    author.avatar = image_of(author, width=900, height=700)
    author.save()
    return author


def test_the_post_page_shows_the_cover_with_srcset_and_gives_it_as_og_image(client, author, image_of):
    cover = image_of(author, width=1200, height=800, alt="Sunrise")
    post = PostFactory(author=author, cover_image=cover)

    page = Page(client.get(f"/posts/{post.slug}/").content.decode())

    [img] = page.all("img", **{"class": "cover"})
    small, medium = (f"/media/{each['name']}" for each in cover.renditions)
    assert img["src"] == f"/media/{cover.file}"
    assert img["srcset"] == f"{small} 600w, {medium} 1000w, /media/{cover.file} 1200w"
    assert img["sizes"] and (img["width"], img["height"], img["alt"]) == ("1200", "800", "Sunrise")
    assert page.meta("og:image") == f"http://testserver/media/{cover.file}"
    assert (page.meta("og:image:width"), page.meta("og:image:height")) == ("1200", "800")
    assert page.meta("og:image:alt") == "Sunrise"


def test_og_image_is_absolute_on_site_url_when_set(client, author, image_of, settings):
    settings.SITE_URL = "https://blog.example.com"
    post = PostFactory(author=author, cover_image=image_of(author))
    page = Page(client.get(f"/posts/{post.slug}/").content.decode())
    assert page.meta("og:image").startswith("https://blog.example.com/media/images/")


def test_a_post_without_a_cover_has_no_cover_and_no_og_image(client, author):
    post = PostFactory(author=author)
    page = Page(client.get(f"/posts/{post.slug}/").content.decode())
    assert page.all("img", **{"class": "cover"}) == [] and page.meta("og:image") is None


def test_the_post_and_author_pages_show_the_authors_avatar(client, author_with_avatar):
    post = PostFactory(author=author_with_avatar)
    smallest = f"/media/{author_with_avatar.avatar.renditions[0]['name']}"

    for url, size in ((f"/posts/{post.slug}/", "32"), ("/authors/author/", "64")):
        page = Page(client.get(url).content.decode())
        [img] = page.all("img", **{"class": "avatar"})
        assert img["src"] == smallest
        assert (img["width"], img["height"]) == (size, size) and img["alt"] == ""
    author_page = Page(client.get("/authors/author/").content.decode())
    assert author_page.meta("og:image") == f"http://testserver/media/{author_with_avatar.avatar.file}"


def test_no_avatar_no_img(client, author):
    post = PostFactory(author=author)
    for url in (f"/posts/{post.slug}/", "/authors/author/"):
        assert Page(client.get(url).content.decode()).all("img", **{"class": "avatar"}) == []


def test_body_images_show_ours_and_link_the_rest(client, author, image_of):
    photo = image_of(author)
    post = PostFactory(
        author=author, body=f"![Ours](/media/{photo.file})\n\n![Theirs](https://elsewhere.example/a.png)"
    )
    html = client.get(f"/posts/{post.slug}/").content.decode()
    page = Page(html)
    [img] = [attrs for attrs in page.all("img") if attrs.get("alt") == "Ours"]
    assert img["loading"] == "lazy" and "1200w" in img["srcset"]
    assert "elsewhere.example" not in " ".join(attrs.get("src") or "" for attrs in page.all("img"))
    assert re.search(r'<a href="https://elsewhere\.example/a\.png"[^>]*>Theirs</a>', html)


def test_every_image_on_the_page_is_one_the_csp_allows(client, author_with_avatar, image_of):
    cover = image_of(author_with_avatar)
    post = PostFactory(
        author=author_with_avatar,
        cover_image=cover,
        body=f"![x](/media/{cover.file})\n\n![y](https://x.example/y.png)",
    )
    response = client.get(f"/posts/{post.slug}/")
    img_src = re.search(r"img-src ([^;]*)", response["Content-Security-Policy"]).group(1).split()
    assert img_src == ["'self'", "data:"]
    for attrs in Page(response.content.decode()).all("img"):
        urls = [attrs["src"], *(part.split()[0] for part in (attrs.get("srcset") or "").split(",") if part)]
        assert all(url.startswith("/media/") for url in urls), urls


def test_the_editor_tells_writers_which_images_show(client, author):
    client.force_login(author)
    html = client.get("/write/").content.decode()
    assert "Images from other sites are not shown" in html
