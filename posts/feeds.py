"""RSS 2.0 (``/feed/``) and Atom (``/feed/atom/``) of the latest public posts.

Only public posts (``posts.selectors.latest_public_posts``): drafts and scheduled posts
never reach a feed reader, and a scheduled post appears by itself once its time has
come. One query per feed.
"""

from datetime import datetime

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed

from posts import selectors
from posts.models import Post

FEED_SIZE = 20


class LatestPostsFeed(Feed):
    """The latest public posts, newest first, with their excerpt as the description."""

    description = "The latest posts."

    def title(self) -> str:
        return settings.SITE_NAME

    def link(self) -> str:
        return reverse("web:home")

    def items(self) -> list[Post]:
        return selectors.latest_public_posts(limit=FEED_SIZE)

    def item_title(self, item: Post) -> str:
        return item.title

    def item_description(self, item: Post) -> str:
        return item.excerpt

    def item_pubdate(self, item: Post) -> datetime:
        return item.published_at

    def item_updateddate(self, item: Post) -> datetime:
        return item.updated_at

    def item_author_name(self, item: Post) -> str:
        return item.author.public_name

    def item_author_link(self, item: Post) -> str:
        return reverse("web:author", kwargs={"username": item.author.username})

    def item_guid(self, item: Post) -> str:
        # The slug never changes, so the link is a stable identity.
        return item.get_absolute_url()


class LatestPostsAtomFeed(LatestPostsFeed):
    feed_type = Atom1Feed
    subtitle = LatestPostsFeed.description
