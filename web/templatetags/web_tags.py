"""Small template helpers for the reader pages."""

import functools
import re

from django import template
from django.core.files.storage import default_storage
from django.http import HttpRequest
from django.urls import get_script_prefix, reverse
from django.utils.html import format_html

from posts import rendering

register = template.Library()


@register.simple_tag(takes_context=True)
def absolute_url(context: template.Context, path: str, page: int | None = None) -> str:
    """``path`` as an absolute URL on this site, with ``?page=N`` past the first page:
    the canonical address of a (paginated) page, whatever else its query string holds."""
    request: HttpRequest | None = context.get("request")
    if page and page > 1:
        path = f"{path}?page={page}"
    return request.build_absolute_uri(path) if request is not None else path


# A page of post cards links every post, author and tag on it (70 links on the home
# page): reversing each one cost more than the rest of rendering the cards. A plain slug
# or username reaches the URL unchanged, so it is put into the reversed pattern directly;
# anything else is reversed (and quoted) by Django.
_PLAIN = re.compile(r"[-a-zA-Z0-9_.]+")
_MARK = "link-value-placeholder"


@functools.lru_cache(maxsize=64)
def _pattern(view_name: str, kwarg: str, script_prefix: str) -> tuple[str, str]:
    before, after = reverse(view_name, kwargs={kwarg: _MARK}).split(_MARK)
    return before, after


def _link(view_name: str, kwarg: str, value: str) -> str:
    if not _PLAIN.fullmatch(value):
        return reverse(view_name, kwargs={kwarg: value})
    before, after = _pattern(view_name, kwarg, get_script_prefix())
    return f"{before}{value}{after}"


@register.filter
def post_url(slug: str) -> str:
    """The post page of ``slug``: ``{% url 'web:post-detail' slug %}``, faster."""
    return _link("web:post-detail", "slug", slug)


@register.filter
def author_url(username: str) -> str:
    """The author page of ``username``: ``{% url 'web:author' username %}``, faster."""
    return _link("web:author", "username", username)


@register.filter
def tag_url(slug: str) -> str:
    """The tag page of ``slug``: ``{% url 'web:tag' slug %}``, faster."""
    return _link("web:tag", "slug", slug)


# --- Images -------------------------------------------------------------------------------
# Pages show uploads by the storage's own URLs: a path on this site (or the bucket's
# address, which the CSP allows), whatever host the page was asked for by.


@register.simple_tag
def cover_image(image) -> str:
    """A post's cover across the column: its size (no layout shift) and its renditions,
    of which the browser loads the narrowest that fills the column. Not lazy: it is at
    the top of the page."""
    return format_html(
        '<img class="cover" src="{}" srcset="{}" sizes="{}" width="{}" height="{}" alt="{}">',
        default_storage.url(image.file),
        rendering.srcset(image),
        rendering.IMAGE_SIZES,
        image.width,
        image.height,
        image.alt,
    )


@register.simple_tag(takes_context=True)
def image_url(context: template.Context, image) -> str:
    """The image's absolute URL (``og:image``): on ``SITE_URL`` or this request's host."""
    return image.url(context.get("request"))


@register.simple_tag
def avatar(user, size: int = 40) -> str:
    """A user's avatar as a small square beside their name (their smallest stored
    version, cropped by the stylesheet), or nothing when they have none. Decorative:
    their name is next to it."""
    if getattr(user, "avatar_id", None) is None:
        return ""
    name, _width, _height = user.avatar.smallest
    return format_html(
        '<img class="avatar" src="{}" width="{}" height="{}" alt="">',
        default_storage.url(name),
        size,
        size,
    )
