"""RSS, Atom and the sitemap: public posts only, well-formed XML, bounded queries."""

from xml.etree import ElementTree

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from posts.feeds import FEED_SIZE
from posts.models import Post
from posts.tests.factories import PostFactory

ATOM = "{http://www.w3.org/2005/Atom}"
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"

pytestmark = pytest.mark.django_db


@pytest.fixture
def posts(author):
    return {
        "public": PostFactory(author=author, title="A public post", excerpt="Public excerpt."),
        "draft": PostFactory(author=author, title="A draft post", draft=True),
        "scheduled": PostFactory(author=author, title="A scheduled post", scheduled=True),
    }


def _get_xml(client, url: str) -> ElementTree.Element:
    response = client.get(url)
    assert response.status_code == 200, response.content[:500]
    return ElementTree.fromstring(response.content)  # noqa: S314 - our own response, in a test


def test_rss_lists_public_posts_with_their_fields(client, posts, author):
    channel = _get_xml(client, "/feed/").find("channel")
    items = channel.findall("item")
    assert [item.findtext("title") for item in items] == ["A public post"]
    item = items[0]
    assert item.findtext("link").endswith(f"/posts/{posts['public'].slug}/")
    assert item.findtext("description") == "Public excerpt."
    assert item.findtext("pubDate")
    assert author.public_name in item.findtext("{http://purl.org/dc/elements/1.1/}creator")


def test_atom_lists_public_posts_only(client, posts):
    feed = _get_xml(client, "/feed/atom/")
    entries = feed.findall(f"{ATOM}entry")
    assert [entry.findtext(f"{ATOM}title") for entry in entries] == ["A public post"]
    assert entries[0].find(f"{ATOM}link").get("href").endswith(f"/posts/{posts['public'].slug}/")
    assert entries[0].findtext(f"{ATOM}summary") == "Public excerpt."
    assert entries[0].findtext(f"{ATOM}published")


@pytest.mark.parametrize("url", ["/feed/", "/feed/atom/"])
def test_feeds_hold_the_latest_twenty_and_never_a_draft_or_scheduled_post(client, author, url):
    PostFactory.create_batch(FEED_SIZE + 3, author=author)
    PostFactory(author=author, title="Secret draft", draft=True)
    PostFactory(author=author, title="Secret scheduled", scheduled=True)
    body = client.get(url).content.decode()
    assert "Secret" not in body
    assert body.count("<item>" if url == "/feed/" else "<entry>") == FEED_SIZE


@pytest.mark.parametrize("url", ["/feed/", "/feed/atom/"])
def test_feed_queries_do_not_grow_with_posts(client, author, url):
    PostFactory.create_batch(2, author=author)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    PostFactory.create_batch(FEED_SIZE, author=PostFactory().author)
    with CaptureQueriesContext(connection) as many:
        client.get(url)
    assert len(many) == len(few) <= 2


def _sitemap_urls(client, url: str) -> list[str]:
    root = _get_xml(client, url)
    return [loc.text for loc in root.iter(f"{SITEMAP}loc")]


def test_sitemap_lists_home_and_public_posts_only(client, posts):
    urls = _sitemap_urls(client, "/sitemap.xml")
    assert "http://testserver/" in urls
    assert f"http://testserver/posts/{posts['public'].slug}/" in urls
    assert not any(posts[name].slug in url for name in ("draft", "scheduled") for url in urls)


def test_sitemap_index_leads_to_home_and_public_posts_only(client, posts):
    sections = _sitemap_urls(client, "/sitemap-index.xml")
    assert len(sections) == 2
    urls = []
    for section in sections:
        urls += _sitemap_urls(client, section.removeprefix("http://testserver"))
    assert "http://testserver/" in urls
    assert f"http://testserver/posts/{posts['public'].slug}/" in urls
    assert not any(posts[name].slug in url for name in ("draft", "scheduled") for url in urls)


def test_sitemap_posts_carry_lastmod(client, posts):
    root = _get_xml(client, "/sitemap-posts.xml")
    entries = root.findall(f"{SITEMAP}url")
    assert len(entries) == 1
    assert entries[0].findtext(f"{SITEMAP}lastmod") == posts["public"].updated_at.date().isoformat()


def test_sitemap_posts_paginate(client, author, settings):
    from posts.sitemaps import PostSitemap

    PostFactory.create_batch(3, author=author)
    PostSitemap.limit, saved = 2, PostSitemap.limit
    try:
        sections = _sitemap_urls(client, "/sitemap-index.xml")
        assert "http://testserver/sitemap-posts.xml?p=2" in sections
        newest = _sitemap_urls(client, "/sitemap.xml")
        assert newest[1:] == [f"http://testserver/posts/{post.slug}/" for post in Post.objects.public()[:2]]
        assert len(_sitemap_urls(client, "/sitemap-posts.xml?p=2")) == 1
        assert client.get("/sitemap-posts.xml?p=3").status_code == 404
    finally:
        PostSitemap.limit = saved


@pytest.mark.parametrize("url", ["/sitemap.xml", "/sitemap-index.xml", "/sitemap-posts.xml"])
def test_sitemap_queries_do_not_grow_with_posts(client, author, url):
    PostFactory.create_batch(2, author=author)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    PostFactory.create_batch(15, author=author)
    with CaptureQueriesContext(connection) as many:
        client.get(url)
    assert len(many) == len(few) <= 2
