"""The project's URLs plus the benchmark's reference views under /bench/ (bench settings)."""

from django.urls import include, path
from rest_framework.routers import SimpleRouter

from bench import views
from config.urls import handler400, handler403, handler404, handler500  # noqa: F401
from config.urls import urlpatterns as project_urlpatterns

naive = SimpleRouter()
naive.register("posts", views.NaivePostViewSet, basename="naive-post")
icontains = SimpleRouter()
icontains.register("posts", views.IcontainsPostViewSet, basename="icontains-post")

urlpatterns = [
    path("bench/floor/posts/", views.floor_list, name="bench-floor-list"),
    path("bench/floor/posts/<str:slug>/", views.floor_detail, name="bench-floor-detail"),
    path("bench/naive/", include(naive.urls)),
    path("bench/icontains/", include(icontains.urls)),
    *project_urlpatterns,
]
