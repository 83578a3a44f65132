"""Server-rendered pages for readers, and the shells of the writer pages.

Reader pages (home, post, author, tag) are plain Django templates that work with
JavaScript off. Writer pages (sign-up, write, my posts) are small templates whose
JavaScript (``static/js/``) calls the JSON API with the browser's Django session.

Sign-in is a Django session, not JWTs kept in the page: the session cookie is HttpOnly,
so no script on the page (injected or ours) can read a credential and carry it off. The
API accepts the session (DRF's SessionAuthentication, which enforces CSRF). See README.
"""

from typing import Any

from django.conf import settings
from django.contrib.auth import login, logout
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect, ensure_csrf_cookie
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods, require_POST, require_safe
from rest_framework.exceptions import NotFound

from accounts import selectors as account_selectors
from accounts.throttles import login_budget_wait, login_throttled_detail
from config import parsers
from config.pagination import ListPage, Window, page_number
from posts import caching, selectors
from posts.filters import PostSearchFilter, search_term
from posts.models import BODY_MAX_LENGTH, Post, Tag
from posts.rendering import render_markdown
from posts.selectors import PostFilters

PAGE_SIZE = 10
TOP_TAGS = 20
SEARCH_PARAM = PostSearchFilter.search_param
LOGIN_URL = "web:login"


def _window(request: HttpRequest) -> Window:
    """The page asked for; a malformed page is a 404, as in the API."""
    try:
        number = page_number(request.GET.get("page") or 1)
    except NotFound as exc:
        raise Http404("No such page.") from exc
    return Window.page(number, PAGE_SIZE)


def _listed(page: ListPage) -> ListPage:
    """``page``, or a 404 when it lies past the end (an empty first page is a page)."""
    if page.past_the_end:
        raise Http404("No such page.")
    return page


def _page_query(request: HttpRequest) -> str:
    """The query string without ``page``, for pagination links (escaped by the template)."""
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()


# The reader pages answer HEAD as GET (require_safe): caches and link checkers revalidate
# with it, and a conditional HEAD gets the 304 a GET would.
@require_safe
def home(request: HttpRequest) -> HttpResponse:
    """Public posts, newest first, or those matching ``search`` by relevance: the API's
    list and the API's search."""
    term = search_term(request.GET.get(SEARCH_PARAM))
    page = _listed(selectors.public_posts(filters=PostFilters(search=term), window=_window(request)))
    context = {
        "page": page,
        "posts": page.items,
        "search": term,
        "page_query": _page_query(request),
        "tags": caching.remember("home-top-tags", lambda: list(Tag.objects.in_use()[:TOP_TAGS])),
    }
    return render(request, "web/home.html", context)


@require_safe
def post_detail(request: HttpRequest, slug: str) -> HttpResponse:
    """A post for whoever may see it: public posts for everyone, drafts and scheduled
    posts for their author and staff only (404 for everyone else, as in the API)."""
    user = request.user
    post = selectors.post_for(slug=slug, viewer=user)
    if post is None:
        raise Http404("No such post.")
    context = {
        "post": post,
        "comments": selectors.comments_on(post=post, viewer=user),
        "can_edit": user.is_authenticated and (user.pk == post.author_id or user.is_staff),
    }
    return render(request, "web/post_detail.html", context)


@require_safe
def author(request: HttpRequest, username: str) -> HttpResponse:
    profile = account_selectors.public_profile(username=username, viewer=request.user)
    if profile is None:
        raise Http404("No such author.")
    filters = PostFilters(author=profile.username)
    page = _listed(selectors.public_posts(filters=filters, window=_window(request)))
    context = {
        "profile": profile,
        "page": page,
        "posts": page.items,
        "page_query": _page_query(request),
    }
    return render(request, "web/author.html", context)


@require_safe
def tag(request: HttpRequest, slug: str) -> HttpResponse:
    """Public posts with a tag. A tag with no public post is a 404, as the API does not
    list it either (its name may come from someone's draft)."""
    tag = get_object_or_404(Tag, slug=slug)
    page = _listed(selectors.public_posts(filters=PostFilters(tags=(tag.slug,)), window=_window(request)))
    if not page.count:
        raise Http404("No such tag.")
    context = {"tag": tag, "page": page, "posts": page.items, "page_query": _page_query(request)}
    return render(request, "web/tag.html", context)


# --- Writers --------------------------------------------------------------------------


def _safe_next(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=False):
        return target
    return default


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


@never_cache
@ensure_csrf_cookie
@require_GET
def signup(request: HttpRequest) -> HttpResponse:
    """The sign-up form; its script posts to the API's register endpoint, then logs in."""
    if request.user.is_authenticated:
        return HttpResponseRedirect(reverse("web:me"))
    return render(request, "web/signup.html", {"next": _safe_next(request, "")})


@sensitive_post_parameters("password")
@never_cache
@csrf_protect
@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    """Session login. Works as a plain form without JavaScript; with it, the page's script
    posts the same form and gets JSON (``{"next": url}`` or field errors) back.

    Each POST spends the client address's login budget, the one the API's token
    endpoint, Conduit's login and the admin's spend too, so it is no way around it.
    """
    next_url = _safe_next(request, reverse("web:me"))
    form = AuthenticationForm(request)
    status = 200
    if request.method == "POST":
        wait = login_budget_wait(request)
        if wait is not None:
            message = login_throttled_detail(wait)
            if _wants_json(request):
                response = JsonResponse({"detail": message}, status=429)
            else:
                # The form as it was typed, unvalidated: validating it would try the
                # password, which the budget just refused.
                form = AuthenticationForm(request, initial={"username": request.POST.get("username", "")})
                context = {"form": form, "next": next_url, "refusal": message}
                response = render(request, "web/login.html", context, status=429)
            response["Retry-After"] = str(wait)
            return response
        form = AuthenticationForm(request, data=request.POST)
        if form.is_valid():
            login(request, form.get_user())
            if _wants_json(request):
                return JsonResponse({"next": next_url})
            return HttpResponseRedirect(next_url)
        status = 400
        if _wants_json(request):
            return JsonResponse(form.errors.get_json_data(), status=400)
    return render(request, "web/login.html", {"form": form, "next": next_url}, status=status)


@require_POST
@csrf_protect
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    return HttpResponseRedirect(reverse("web:home"))


@never_cache
@login_required(login_url=LOGIN_URL)
@ensure_csrf_cookie
@require_GET
def write(request: HttpRequest, slug: str | None = None) -> HttpResponse:
    """The editor. For an existing post, only its author or staff get the page; the
    script loads the post from the API."""
    post = None
    if slug is not None:
        post = get_object_or_404(
            Post.objects.visible_to(request.user).only("slug", "title", "author_id"), slug=slug
        )
        if post.author_id != request.user.pk and not request.user.is_staff:
            raise Http404("No such post.")
    # So that the script refuses a file over the limit before sending megabytes in vain.
    return render(request, "web/write.html", {"post": post, "media_max_bytes": settings.MEDIA_MAX_BYTES})


@never_cache
@login_required(login_url=LOGIN_URL)
@ensure_csrf_cookie
@require_GET
def me(request: HttpRequest) -> HttpResponse:
    """My posts, drafts included; the script lists them from ``/api/v1/auth/me/posts/``."""
    return render(request, "web/me.html")


@csrf_protect
@require_POST
def preview(request: HttpRequest) -> JsonResponse:
    """Markdown preview rendered by the server with the same renderer and sanitiser as a
    saved post, so what the writer sees is exactly what readers will get, and the page
    never turns unsanitised Markdown into HTML itself."""
    if not request.user.is_authenticated:
        return JsonResponse({"detail": "Log in to preview."}, status=401)
    try:
        # The API's checks: a lone surrogate would reach the renderer, which cannot encode it.
        payload: Any = parsers.loads(request.body or b"{}")
    except ValueError as exc:  # also invalid UTF-8, and JSON nested too deeply
        return JsonResponse({"detail": f'Send JSON: {{"body": "..."}}. {exc}'}, status=400)
    body = payload.get("body") if isinstance(payload, dict) else None
    if not isinstance(body, str):
        return JsonResponse({"body": ["This field is required."]}, status=400)
    if len(body) > BODY_MAX_LENGTH:
        return JsonResponse(
            {"body": [f"Ensure this field has no more than {BODY_MAX_LENGTH} characters."]}, status=400
        )
    return JsonResponse({"html": render_markdown(body)})
