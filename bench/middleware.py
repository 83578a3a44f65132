"""Server-side query counting for the benchmark (bench settings only)."""

from collections.abc import Callable

from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.test.utils import CaptureQueriesContext

HEADER = "X-Bench-Queries"


class QueryCountMiddleware:
    """When a request carries ``X-Bench-Queries``, answer with the number of SQL queries it
    made in that header. Only the harness's probe requests ask, so the timed load runs
    without the debug cursor's overhead."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if "HTTP_X_BENCH_QUERIES" not in request.META:
            return self.get_response(request)
        with CaptureQueriesContext(connection) as queries:
            response = self.get_response(request)
        response[HEADER] = str(len(queries))
        return response
