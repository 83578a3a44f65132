"""/metrics: Prometheus' text format for the holder of DJANGO_METRICS_TOKEN, a 404 for
everyone else; requests by route and status, latency, database, cache and task queue."""

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from unittest import mock

import kombu
import pytest
from django.db import OperationalError, connection
from django.test import Client
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from outbox.models import Message
from posts.tests.factories import PostFactory

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "metrics-token-for-tests-0123456789abcdef"
# The ports this suite may start servers on (a private Redis, gunicorn).
PORTS = range(8170, 8180)

Samples = dict[tuple[str, frozenset], float]


def parse(text: str) -> Samples:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    """The sample ``name`` with exactly these labels; 0 when it is not there (yet)."""
    return samples.get((name, frozenset(labels.items())), 0.0)


def names(samples: Samples) -> set[str]:
    return {name for name, _ in samples}


@pytest.fixture
def token(settings):
    settings.METRICS_TOKEN = TOKEN
    return TOKEN


@pytest.fixture
def scrape(token):
    def scrape() -> Samples:
        response = Client().get("/metrics", HTTP_AUTHORIZATION=f"Bearer {token}")
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/plain; version=")
        return parse(response.content.decode())

    return scrape


RESPONSES = "django_http_responses_total_by_status_view_method_total"
LATENCY = "django_http_requests_latency_seconds_by_view_method"


class TestRequestsByRouteAndStatus:
    def test_a_request_shows_up_in_the_next_scrape_under_its_route_and_status(self, scrape):
        PostFactory(slug="counted")
        before = scrape()
        assert Client().get("/api/v1/posts/").status_code == 200
        assert Client().get("/api/v1/posts/counted/").status_code == 200
        assert Client().get("/api/v1/posts/not-there/").status_code == 404
        after = scrape()

        def grew(**labels: str) -> float:
            return value(after, RESPONSES, method="GET", **labels) - value(
                before, RESPONSES, method="GET", **labels
            )

        assert grew(view="post-list", status="200") == 1
        assert grew(view="post-detail", status="200") == 1
        assert grew(view="post-detail", status="404") == 1

    def test_routes_are_labelled_by_name_never_by_path(self, scrape):
        Client().get("/api/v1/posts/slug-nobody-wrote-7f3a/")
        Client().get("/page-nobody-made-7f3a/")
        after = scrape()

        labels = {label_value for _, label_set in after for _, label_value in label_set}
        assert not [label for label in labels if "7f3a" in label]
        assert value(after, RESPONSES, method="GET", view="<unnamed view>", status="404") >= 1

    def test_a_made_up_method_adds_no_series_of_its_own(self, scrape):
        assert Client().generic("BREWCOFFEE", "/healthz").status_code == 405
        after = scrape()

        assert not [labels for _, labels in after if ("method", "BREWCOFFEE") in labels]
        assert value(after, RESPONSES, method="<invalid method>", view="healthz", status="405") >= 1

    def test_latency_histograms_cover_the_whole_stack_and_each_route(self, scrape):
        before = scrape()
        Client().get("/api/v1/posts/")
        after = scrape()

        count = f"{LATENCY}_count"
        assert (
            value(after, count, view="post-list", method="GET")
            == value(before, count, view="post-list", method="GET") + 1
        )
        bucket = f"{LATENCY}_bucket"
        assert value(after, bucket, view="post-list", method="GET", le="+Inf") == value(
            after, count, view="post-list", method="GET"
        )
        assert value(after, bucket, view="post-list", method="GET", le="0.001") <= value(
            after, bucket, view="post-list", method="GET", le="30.0"
        )
        whole = "django_http_requests_latency_including_middlewares_seconds_count"
        # The first scrape itself, and the list.
        assert value(after, whole) - value(before, whole) == 2


class TestDatabaseAndCacheFigures:
    def test_queries_are_counted_and_timed_per_database_alias(self, scrape):
        PostFactory.create_batch(2)
        labels = {"alias": "default", "vendor": connection.vendor}
        before = scrape()
        Client().get("/api/v1/posts/")
        after = scrape()

        executed = value(after, "django_db_execute_total", **labels) - value(
            before, "django_db_execute_total", **labels
        )
        assert executed > 0
        durations = "django_db_query_duration_seconds_count"
        assert value(after, durations, **labels) - value(before, durations, **labels) == executed

    def test_database_errors_are_counted_by_type(self, scrape):
        labels = {"alias": "default", "vendor": connection.vendor, "type": "OperationalError"}
        before = scrape()
        # The database fails under Django's execute wrappers, as a real one would.
        with mock.patch(
            "django.db.backends.utils.CursorWrapper._execute", side_effect=OperationalError("down")
        ):
            assert Client().get("/readyz").status_code == 503
        after = scrape()

        errors = "django_db_errors_total"
        assert value(after, errors, **labels) == value(before, errors, **labels) + 1

    def test_response_cache_hits_and_misses_are_counted(self, scrape, settings):
        settings.POSTS_RESPONSE_CACHE = True
        PostFactory()
        lookups = "blog_response_cache_lookups_total"
        before = scrape()
        Client().get("/api/v1/posts/")
        Client().get("/api/v1/posts/")
        after = scrape()

        assert value(after, lookups, result="miss") - value(before, lookups, result="miss") == 1
        assert value(after, lookups, result="hit") - value(before, lookups, result="hit") == 1


class TestTaskQueue:
    def test_the_outbox_backlog_counts_undelivered_messages_and_how_overdue_they_are(self, scrape):
        assert value(scrape(), "blog_outbox_pending_messages") == 0
        now = timezone.now()
        Message.objects.create(topic="email", available_at=now - timedelta(minutes=3))
        Message.objects.create(topic="email", available_at=now + timedelta(minutes=5))  # a retry, later
        Message.objects.create(topic="email", delivered_at=now)
        Message.objects.create(topic="email", failed_at=now)

        samples = scrape()
        assert value(samples, "blog_outbox_pending_messages") == 2
        assert 180 <= value(samples, "blog_outbox_oldest_due_seconds") < 240

    def test_nothing_pending_is_nothing_overdue(self, scrape):
        Message.objects.create(topic="email", available_at=timezone.now() + timedelta(minutes=5))

        samples = scrape()
        assert value(samples, "blog_outbox_pending_messages") == 1
        assert ("blog_outbox_oldest_due_seconds", frozenset()) in samples
        assert value(samples, "blog_outbox_oldest_due_seconds") == 0

    def test_the_redis_brokers_queue_length_counts_every_priority(self, scrape, settings, redis_broker):
        settings.CELERY_BROKER_URL = redis_broker
        assert value(scrape(), "blog_celery_queue_length", queue="celery") == 0
        with kombu.Connection(redis_broker) as broker:
            queue = broker.SimpleQueue("celery")
            for _ in range(3):
                queue.put({"task": "waiting"})
            queue.put({"task": "urgent"}, priority=9)
            queue.close()

        assert value(scrape(), "blog_celery_queue_length", queue="celery") == 4

    def test_a_broker_that_is_down_leaves_its_figure_out_and_the_scrape_whole(self, scrape, settings):
        settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens
        started = time.monotonic()
        samples = scrape()

        assert time.monotonic() - started < 2
        assert "blog_celery_queue_length" not in names(samples)
        assert "blog_outbox_pending_messages" in names(samples)

    def test_another_broker_has_no_queue_length(self, scrape, settings):
        settings.CELERY_BROKER_URL = "amqp://guest:guest@127.0.0.1:5672//"

        assert "blog_celery_queue_length" not in names(scrape())


class TestOnlyTheTokenHolderSeesIt:
    @pytest.fixture
    def unknown_url(self):
        return Client().get("/no-metrics-here")

    def assert_like_an_unknown_url(self, response, unknown_url):
        assert response.status_code == 404
        assert response["Content-Type"] == unknown_url["Content-Type"]
        # The page names its own address (its canonical link), and nothing else differs.
        assert response.content == unknown_url.content.replace(b"/no-metrics-here", b"/metrics")

    @pytest.mark.parametrize(
        "authorization",
        [None, "", "Bearer", "Bearer ", "Bearer wrong-token", f"Token {TOKEN}", f"Basic {TOKEN}", TOKEN],
    )
    def test_without_the_right_bearer_token_it_is_the_404_of_an_unknown_url(
        self, token, unknown_url, authorization
    ):
        headers = {} if authorization is None else {"HTTP_AUTHORIZATION": authorization}
        self.assert_like_an_unknown_url(Client().get("/metrics", **headers), unknown_url)

    def test_with_no_token_configured_nothing_opens_it(self, settings, unknown_url):
        settings.METRICS_TOKEN = ""
        for authorization in ("Bearer ", "Bearer", "Bearer None"):
            response = Client().get("/metrics", HTTP_AUTHORIZATION=authorization)
            self.assert_like_an_unknown_url(response, unknown_url)

    def test_other_methods_are_the_same_404_even_with_the_token(self, token, unknown_url):
        client = Client(enforce_csrf_checks=True)
        for method in ("post", "put", "delete", "options"):
            response = getattr(client, method)("/metrics", HTTP_AUTHORIZATION=f"Bearer {token}")
            self.assert_like_an_unknown_url(response, unknown_url)

    @pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER", "bEaReR"])
    def test_the_bearer_scheme_is_read_in_any_case(self, token, scheme):
        response = Client().get("/metrics", HTTP_AUTHORIZATION=f"{scheme} {token}")
        assert response.status_code == 200
        assert b"django_http_requests_latency_including_middlewares_seconds" in response.content

    def test_the_scrape_is_never_cached(self, token):
        response = Client().get("/metrics", HTTP_AUTHORIZATION=f"Bearer {token}")
        assert "no-store" in response["Cache-Control"]

    def test_no_cors_headers_for_another_origin(self, token, settings):
        settings.CORS_ALLOWED_ORIGINS = ["https://app.example.com"]
        response = Client().get(
            "/metrics", HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_ORIGIN="https://app.example.com"
        )
        assert response.status_code == 200
        assert not [name for name in response.headers if name.lower().startswith("access-control-")]

    def test_it_is_not_in_the_openapi_schema(self, anon_client):
        paths = anon_client.get("/api/v1/schema/", HTTP_ACCEPT="application/json").json()["paths"]
        assert paths
        assert not [path for path in paths if "metrics" in path]


# --- Servers this suite starts ------------------------------------------------------------


def free_port() -> int:
    for port in PORTS:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {PORTS}")


def wait_until(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)


@pytest.fixture
def redis_broker(tmp_path) -> Iterator[str]:
    """A Redis of the test's own on 127.0.0.1, as the broker is in production."""
    executable = shutil.which("redis-server")
    if executable is None:
        pytest.skip("needs redis-server (Debian's redis-server package; CI has it)")
    port = free_port()
    server = subprocess.Popen(  # noqa: S603 - Debian's redis-server, on the test's own port
        [executable, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        assert wait_until(lambda: _accepts(port), 10), "redis-server did not start"
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        stop(server)


def _accepts(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
    except OSError:
        return False
    return True


class TestSeveralWorkers:
    """gunicorn as in production (config/gunicorn.conf.py, production settings), with two
    workers that are each replaced after four requests: a scrape of either adds up the
    counts of every worker there ever was, and the folder does not grow with them."""

    WORKERS = 2
    MAX_REQUESTS = 4

    @pytest.fixture
    def server(self, tmp_path) -> Iterator[tuple[str, Path]]:
        port = free_port()
        metrics_dir = tmp_path / "metrics"
        environment = {
            name: value
            for name, value in os.environ.items()
            if not name.startswith(("DJANGO_", "GUNICORN_", "PROMETHEUS_", "CELERY_"))
            and name not in ("DATABASE_URL", "REDIS_URL", "SECURITY_REDIS_URL")
        }
        environment.update(
            DJANGO_SETTINGS_MODULE="config.settings.production",
            DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
            DJANGO_ALLOWED_HOSTS="127.0.0.1",
            DJANGO_METRICS_TOKEN=TOKEN,
            DJANGO_LOG_LEVEL="WARNING",
            DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
            PROMETHEUS_MULTIPROC_DIR=str(metrics_dir),
            GUNICORN_BIND=f"127.0.0.1:{port}",
            GUNICORN_WORKERS=str(self.WORKERS),
            GUNICORN_THREADS="1",
            GUNICORN_MAX_REQUESTS=str(self.MAX_REQUESTS),
        )
        with open(tmp_path / "gunicorn.log", "wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "--config", "config/gunicorn.conf.py", "config.wsgi"],
                cwd=ROOT,
                env=environment,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        base = f"http://127.0.0.1:{port}"
        try:
            if not wait_until(lambda: process.poll() is None and _get(f"{base}/healthz") == 200, 30):
                pytest.fail(f"gunicorn did not start: {(tmp_path / 'gunicorn.log').read_text()[-3000:]}")
            yield base, metrics_dir
        finally:
            stop(process)

    def scrape(self, base: str) -> Samples:
        request = urllib.request.Request(f"{base}/metrics", headers={"Authorization": f"Bearer {TOKEN}"})  # noqa: S310 - the test's server
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - the test's server
            return parse(response.read().decode())

    def test_a_scrape_adds_up_every_worker_of_the_server(self, server):
        base, metrics_dir = server
        healthz = {"view": "healthz", "status": "200", "method": "GET"}
        started = value(self.scrape(base), RESPONSES, **healthz)  # the readiness probes

        for _ in range(20):
            assert _get(f"{base}/healthz") == 200
        assert value(self.scrape(base), RESPONSES, **healthz) == started + 20

        for _ in range(20):
            assert _get(f"{base}/healthz") == 200
        second = self.scrape(base)
        assert value(second, RESPONSES, **healthz) == started + 40
        # Each earlier scrape was counted by the worker that answered it.
        assert value(second, RESPONSES, view="metrics", status="200", method="GET") == 2

        # 40 requests and more went through at least ten workers, each gone after four
        # (two files each); their files were folded into the archive, leaving the live
        # workers' (and at most those of the last ones, whose exit may still be handled).
        assert (metrics_dir / "counter_archive.db").exists()
        files = list(metrics_dir.glob("*.db"))
        assert len(files) <= 2 * (1 + 2 * self.WORKERS), files


def _get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - the test's server
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return 0
