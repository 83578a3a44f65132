"""Small template helpers for the reader pages."""

from django import template
from django.http import HttpRequest

register = template.Library()


@register.simple_tag(takes_context=True)
def absolute_url(context: template.Context, path: str, page: int | None = None) -> str:
    """``path`` as an absolute URL on this site, with ``?page=N`` past the first page:
    the canonical address of a (paginated) page, whatever else its query string holds."""
    request: HttpRequest | None = context.get("request")
    if page and page > 1:
        path = f"{path}?page={page}"
    return request.build_absolute_uri(path) if request is not None else path
