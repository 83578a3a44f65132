"""A URL map with views that fail on purpose, for tests of what a 500 shows, and a view
whose query runs away, for tests of the statement timeout."""

from django.db import connection
from django.http import HttpResponse
from django.urls import path

from config.urls import handler400, handler403, handler404, handler500, urlpatterns  # noqa: F401


def boom(request, *args, **kwargs):
    raise RuntimeError("boom: SECRET-DETAIL-42 password=hunter2")


def slow(request, *args, **kwargs):
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_sleep(30)")
    return HttpResponse("finished")


urlpatterns = [
    path("api/v1/boom/", boom),
    path("boom/", boom),
    path("api/v1/slow/", slow),
    path("slow/", slow),
    *urlpatterns,
]
