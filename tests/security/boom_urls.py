"""A URL map with views that fail on purpose, for tests of what a 500 shows."""

from django.urls import path

from config.urls import handler400, handler403, handler404, handler500, urlpatterns  # noqa: F401


def boom(request, *args, **kwargs):
    raise RuntimeError("boom: SECRET-DETAIL-42 password=hunter2")


urlpatterns = [path("api/v1/boom/", boom), path("boom/", boom), *urlpatterns]
