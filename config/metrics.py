"""``/metrics``: Prometheus' text format, for whoever holds ``DJANGO_METRICS_TOKEN``.

What is measured, and by what (README, "Metrics"):

- requests by route (the URL pattern's name, never the path) and status, and latency
  histograms: django-prometheus' two middlewares, first and last in ``MIDDLEWARE``;
- database figures per alias (statements, their duration, errors by type, connections
  opened): an execute wrapper put around each request by the first middleware, counting
  into django-prometheus' own database metrics, so their names are the ones its database
  engines would give;
- the response cache's hits and misses: ``posts.caching``;
- the task queue: ``TaskQueueCollector``, read when scraped, never per request.

With ``PROMETHEUS_MULTIPROC_DIR`` set (several gunicorn workers), a scrape of any worker
adds up the counts of every worker of the server (``config.metrics_files``).
"""

import hmac
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import redis
from django.conf import settings
from django.db import DatabaseError, connections
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django_prometheus import middleware
from django_prometheus.db import metrics as db_metrics
from kombu.transport.redis import PRIORITY_STEPS
from kombu.transport.redis import Channel as RedisChannel
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.metrics_core import GaugeMetricFamily, Metric

from config.celery import app as celery_app
from config.metrics_files import LockedMultiProcessCollector
from outbox.selectors import backlog

logger = logging.getLogger(__name__)

# No "_created" twin of every counter and histogram: multiprocess mode cannot give them,
# so a server would show them or not depending on its worker count.
disable_created_metrics()

# A scrape waits at most this long for the broker before leaving its queue length out.
BROKER_TIMEOUT_SECONDS = 0.5


class QueryMeter:
    """An execute wrapper (Django's database instrumentation) that counts the statements
    run on one database alias, times them, and counts their errors by type."""

    def __init__(self, alias: str, vendor: str) -> None:
        self.alias = alias
        self.vendor = vendor
        self.executed = db_metrics.execute_total.labels(alias, vendor)
        self.duration = db_metrics.query_duration_seconds.labels(alias, vendor)
        self.opened = db_metrics.connections_total.labels(alias, vendor)

    def __call__(self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: dict) -> Any:
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        except Exception as error:
            db_metrics.errors_total.labels(self.alias, self.vendor, type(error).__name__).inc()
            raise
        finally:
            self.duration.observe(time.perf_counter() - started)
            self.executed.inc()


class PrometheusBeforeMiddleware(middleware.PrometheusBeforeMiddleware):
    """django-prometheus' first middleware (the latency of the whole stack), which also
    measures every query of the request on every alias, the other middlewares' included.

    Why not django-prometheus' database engines: they would replace each alias' ENGINE
    (which the settings compare, and which every replica alias would need as well, or
    count nothing without a word) by subclasses of Django's private backend classes, whose
    psycopg 3 and connection-pool support has broken more than once. An execute wrapper
    is Django's public hook and sees every alias whatever its engine and options. Only
    requests are measured: the worker and commands are never scraped, and set up nothing.

    Synchronous (``async_capable``): under ASGI, Django runs it in the thread where the
    views' queries run, on the connections that carry the wrappers.
    """

    async_capable = False

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        super().__init__(get_response)
        self.meters = {alias: QueryMeter(alias, connections[alias].vendor) for alias in connections}

    def __call__(self, request: HttpRequest) -> HttpResponse:
        unopened = []
        with ExitStack() as stack:
            for alias, meter in self.meters.items():
                connection = connections[alias]
                if connection.connection is None:
                    unopened.append(alias)
                stack.enter_context(connection.execute_wrapper(meter))
            response = super().__call__(request)
        for alias in unopened:
            if connections[alias].connection is not None:
                self.meters[alias].opened.inc()
        return response


class PrometheusAfterMiddleware(middleware.PrometheusAfterMiddleware):
    """django-prometheus' last middleware, with every ``method`` label taken from its list
    of known methods: it labels the latency histogram with the method as the client sent
    it, so a client making up a method per request would add a series per request."""

    def label_metric(self, metric: Any, request: HttpRequest, response: Any = None, **labels: str) -> Any:
        if "method" in labels:
            labels["method"] = self._method(request)
        return super().label_metric(metric, request, response, **labels)


def celery_queue_length(queue: str) -> int | None:
    """Messages waiting in ``queue`` when the broker is Redis (kombu keeps a queue as one
    list per priority step); None for another broker, or one that does not answer soon."""
    url = settings.CELERY_BROKER_URL
    if not url.startswith(("redis://", "rediss://")):
        return None
    options = settings.CELERY_BROKER_TRANSPORT_OPTIONS
    prefix = options.get("global_keyprefix", "")
    separator = options.get("sep", RedisChannel.sep)
    keys = [
        f"{prefix}{queue}{separator}{step}" if step else f"{prefix}{queue}"
        for step in options.get("priority_steps", PRIORITY_STEPS)
    ]
    client = redis.Redis.from_url(
        url, socket_connect_timeout=BROKER_TIMEOUT_SECONDS, socket_timeout=BROKER_TIMEOUT_SECONDS
    )
    try:
        with client.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.llen(key)
            return sum(pipe.execute())
    except redis.RedisError:
        return None
    finally:
        client.close()


class TaskQueueCollector:
    """The task queue's figures, read when scraped: one indexed query and, with a Redis
    broker, one round trip, per scrape."""

    def collect(self) -> Iterator[Metric]:
        try:
            pending, oldest_due_at = backlog()
        except DatabaseError as error:
            # The rest of the scrape matters most while the database is in trouble.
            logger.warning("Metrics: the outbox could not be read: %s", error)
        else:
            yield GaugeMetricFamily(
                "blog_outbox_pending_messages",
                "Outbox messages neither delivered nor given up (waiting for the worker or a retry).",
                value=pending,
            )
            overdue = (timezone.now() - oldest_due_at).total_seconds() if oldest_due_at else 0.0
            yield GaugeMetricFamily(
                "blog_outbox_oldest_due_seconds",
                "Seconds since the earliest pending outbox message became due (0 when none is due).",
                value=max(0.0, overdue),
            )
        queue = celery_app.conf.task_default_queue
        length = celery_queue_length(queue)
        if length is not None:
            family = GaugeMetricFamily(
                "blog_celery_queue_length", "Tasks waiting in the Redis broker's queue.", labels=["queue"]
            )
            family.add_metric([queue], length)
            yield family


def holds_metrics_token(request: HttpRequest) -> bool:
    """Whether the request carries ``Authorization: Bearer <DJANGO_METRICS_TOKEN>`` (the
    scheme in any case), compared in constant time; never when no token is configured."""
    token = settings.METRICS_TOKEN
    scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
    return (
        bool(token)
        and scheme.lower() == "bearer"
        and hmac.compare_digest(credentials.strip().encode(), token.encode())
    )


# Exempt: a POST must be the 404 of an unknown URL too, not a CSRF 403 that would tell
# this URL exists. Every refusal is that 404, whichever the reason.
@csrf_exempt
@never_cache
def metrics(request: HttpRequest) -> HttpResponse:
    if request.method != "GET" or not holds_metrics_token(request):
        raise Http404
    registry = CollectorRegistry()
    if settings.PROMETHEUS_MULTIPROC_DIR:
        registry.register(LockedMultiProcessCollector(settings.PROMETHEUS_MULTIPROC_DIR))
    else:
        registry.register(REGISTRY)
    registry.register(TaskQueueCollector())
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
