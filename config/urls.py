"""URL map: the JSON API under /api/v1/, probes, admin, feeds and the reader pages."""

from csp.decorators import csp_update
from django.contrib import admin
from django.contrib.sitemaps import views as sitemap_views
from django.urls import include, path, re_path

from config import metrics, views
from config.api import ApiRootView
from config.docs import RedocView, SchemaView, SwaggerView
from images.views import serve_media
from posts.feeds import LatestPostsAtomFeed, LatestPostsFeed
from posts.sitemaps import latest_sitemaps, sitemaps

# Swagger UI and ReDoc inject inline styles, and ReDoc runs a worker from a blob.
DOCS_CSP = {"style-src": ["'unsafe-inline'"], "worker-src": ["blob:"], "img-src": ["data:"]}

api_v1 = [
    path("", ApiRootView.as_view(), name="api-root"),
    path("", include("accounts.urls")),
    path("", include("posts.urls")),
    path("", include("images.urls")),
    path("", include("webhooks.urls")),
    path("schema/", SchemaView.as_view(), name="schema"),
    path("docs/", csp_update(DOCS_CSP)(SwaggerView.as_view(url_name="schema")), name="swagger-ui"),
    path("redoc/", csp_update(DOCS_CSP)(RedocView.as_view(url_name="schema")), name="redoc"),
]

urlpatterns = [
    path("api/v1/", include(api_v1)),
    # The RealWorld (Conduit) API, for its many frontends: see conduit/.
    path("api/", include("conduit.urls")),
    re_path(r"^api(?:/.*)?$", views.api_not_found),
    path("admin/", admin.site.urls),
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    # Prometheus' scrape, for DJANGO_METRICS_TOKEN's holder; a 404 like any unknown URL else.
    path("metrics", metrics.metrics, name="metrics"),
    path("robots.txt", views.robots_txt, name="robots-txt"),
    # Uploaded images, served by the app itself (nginx serves the same files in front).
    path("media/<path:name>", serve_media, name="media"),
    path("feed/", LatestPostsFeed(), name="feed-rss"),
    path("feed/atom/", LatestPostsAtomFeed(), name="feed-atom"),
    path("sitemap.xml", sitemap_views.sitemap, {"sitemaps": latest_sitemaps}, name="sitemap"),
    path(
        "sitemap-index.xml",
        sitemap_views.index,
        {"sitemaps": sitemaps, "sitemap_url_name": "sitemap-section"},
        name="sitemap-index",
    ),
    path("sitemap-<section>.xml", sitemap_views.sitemap, {"sitemaps": sitemaps}, name="sitemap-section"),
    # Reader pages last: they own the site root.
    path("", include("web.urls")),
]

handler400 = "config.views.bad_request"
handler403 = "config.views.permission_denied"
handler404 = "config.views.page_not_found"
handler500 = "config.views.server_error"
