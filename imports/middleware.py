"""Old links keep working: a GET of an imported post's old permalink answers 301 to it."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect
from django.urls import Resolver404, resolve, reverse

from imports.selectors import old_link_slug


class OldLinkRedirectMiddleware:
    """Acts only on a 404 of a GET or HEAD whose path no URL of this site matches (the
    site's own URLs always win, e.g. ``/posts/<slug>/`` of a post that is gone): then one
    indexed lookup of the old permalinks (``imports.selectors.old_link_slug``). Every other
    request costs nothing."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code != 404 or request.method not in ("GET", "HEAD"):
            return response
        try:
            resolve(request.path_info, urlconf=getattr(request, "urlconf", None))
        except Resolver404:
            pass
        else:
            return response
        slug = old_link_slug(request.path_info)
        if slug is None:
            return response
        target = reverse("web:post-detail", kwargs={"slug": slug})
        if query := request.META.get("QUERY_STRING"):
            target = f"{target}?{query}"
        return HttpResponsePermanentRedirect(target)
