"""Small template helpers for the reader pages."""

import functools
import re

from django import template
from django.http import HttpRequest
from django.urls import get_script_prefix, reverse

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
