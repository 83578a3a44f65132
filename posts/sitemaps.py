"""Sitemaps of the site's pages and its public posts.

``/sitemap.xml`` is one flat sitemap: the pages and the newest ``PostSitemap.limit``
public posts, which is every post on most sites. The posts of a large site outgrow one
file (the protocol allows 50,000 URLs, and rendering that many would hold a worker for
seconds), so ``/sitemap-index.xml`` indexes them all: ``/sitemap-pages.xml`` and
``/sitemap-posts.xml`` with its pages (``?p=2``...), in id order so a page keeps its URLs
as new posts arrive. ``robots.txt`` points crawlers at the index. Only
``Post.objects.public()``: drafts and scheduled posts are never announced. One COUNT for
the index; one COUNT and one page query for a section.
"""

from datetime import datetime

from django.contrib.sitemaps import Sitemap
from django.db.models import QuerySet
from django.urls import reverse

from posts.models import Post


class PostSitemap(Sitemap):
    changefreq = "weekly"
    priority = 0.8
    # Small pages, so that rendering one stays well under a second (docs/performance.md).
    limit = 2_000

    def items(self) -> QuerySet:
        # Ordered by id so a page keeps its URLs as new posts arrive (they go last).
        return Post.objects.public().only("slug", "updated_at").order_by("id")

    def lastmod(self, post: Post) -> datetime:
        return post.updated_at

    def get_latest_lastmod(self) -> None:
        # The default computes lastmod for every item: the whole table, for the index page.
        return None


class LatestPostSitemap(PostSitemap):
    """The newest public posts, for the flat ``/sitemap.xml``."""

    def items(self) -> QuerySet:
        return Post.objects.public().only("slug", "updated_at").order_by("-published_at", "-id")


class StaticSitemap(Sitemap):
    changefreq = "daily"
    priority = 1.0

    def items(self) -> list[str]:
        return ["web:home"]

    def location(self, item: str) -> str:
        return reverse(item)


sitemaps = {"pages": StaticSitemap, "posts": PostSitemap}
latest_sitemaps = {"pages": StaticSitemap, "posts": LatestPostSitemap}
