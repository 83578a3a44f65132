"""gunicorn settings, read from the environment (``gunicorn -c config/gunicorn.conf.py``).

Threaded workers (gthread): requests mostly wait on PostgreSQL, so a few processes with a
few threads each use little memory for their concurrency. Every value has a variable:

GUNICORN_BIND (0.0.0.0:8000), GUNICORN_WORKERS (2 per core + 1, at most 8),
GUNICORN_THREADS (4), GUNICORN_TIMEOUT (30 s), GUNICORN_GRACEFUL_TIMEOUT (25 s),
GUNICORN_KEEPALIVE (5 s, longer than nginx's upstream keepalive is not needed),
GUNICORN_MAX_REQUESTS (1000, jittered, recycles workers that leak),
DJANGO_LOG_FORMAT / DJANGO_LOG_LEVEL (as for Django; json unless the settings are not
production ones), PROMETHEUS_MULTIPROC_DIR (unset: each worker's /metrics shows its own
counts only; set it whenever there is more than one worker).
"""

import multiprocessing
import os
from typing import TYPE_CHECKING

from config.logging import logging_config

if TYPE_CHECKING:
    from gunicorn.arbiter import Arbiter
    from gunicorn.workers.base import Worker


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


# All interfaces: inside the container network, reachable by nginx only (no published port).
bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = _int("GUNICORN_WORKERS", min(2 * multiprocessing.cpu_count() + 1, 8))
worker_class = "gthread"
threads = _int("GUNICORN_THREADS", 4)
# A request stuck longer than this is killed (the worker is replaced); nginx's
# proxy_read_timeout is a little longer so that gunicorn's 500 wins over nginx's 504.
timeout = _int("GUNICORN_TIMEOUT", 30)
# On SIGTERM (a deploy, `docker stop`): stop accepting, finish in-flight requests.
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 25)
keepalive = _int("GUNICORN_KEEPALIVE", 5)
# The longest request line gunicorn accepts (its maximum short of "unlimited"): URLs with
# long filters fit; a longer one is gunicorn's own 414, before the app (documented).
limit_request_line = 8190
max_requests = _int("GUNICORN_MAX_REQUESTS", 1000)
max_requests_jitter = max_requests // 10
# Load the app in the master once: a broken settings module fails the start, not each worker.
preload_app = os.environ.get("GUNICORN_PRELOAD", "true").lower() == "true"
# Worker heartbeats: the Dockerfile points this at /dev/shm (a disk-backed /tmp can stall them).
worker_tmp_dir = os.environ.get("GUNICORN_WORKER_TMP_DIR") or None
# Only nginx can reach the app; Django reads X-Forwarded-Proto itself (SECURE_PROXY_SSL_HEADER)
# and DRF the client address from X-Forwarded-For (DJANGO_NUM_PROXIES).
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "*")
proc_name = os.environ.get("GUNICORN_PROC_NAME", "blog")

_settings = os.environ.get("DJANGO_SETTINGS_MODULE", "")
_format = os.environ.get("DJANGO_LOG_FORMAT") or ("json" if _settings.endswith("production") else "plain")
accesslog = "-"
# In JSON, the access formatter turns these atoms into fields; in plain text this is the line.
# The request id comes from the response header the middleware sets (or nginx's).
access_log_format = '%(h)s "%(r)s" %(s)s %(B)s %(M)sms "%(a)s"'
logconfig_dict = logging_config(_format, os.environ.get("DJANGO_LOG_LEVEL", "INFO"), gunicorn=True)

# /metrics (config/metrics.py) with several workers: prometheus_client's multiprocess mode.
# Each worker writes its counts to files in this folder (prometheus_client reads the
# variable itself, so it must be in the environment, not set here), and a scrape of any
# worker adds up all of them. The folder is emptied when the server starts, and the files
# of each worker that exits (every GUNICORN_MAX_REQUESTS requests) are folded into one
# archive, so that scrapes do not slow down as workers come and go (config/metrics_files.py).
_metrics_dir = os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")
if _metrics_dir:
    # Now: preload_app loads the app (whose metrics open their files) before on_starting.
    os.makedirs(_metrics_dir, exist_ok=True)


def on_starting(server: "Arbiter") -> None:
    # Before any worker is forked. The master's own files (from preloading) go too: it
    # counts nothing, and each worker opens files of its own at its first count.
    if _metrics_dir:
        from config.metrics_files import reset_directory

        reset_directory(_metrics_dir)


def child_exit(server: "Arbiter", worker: "Worker") -> None:
    if _metrics_dir:
        from config.metrics_files import archive_dead_process

        archive_dead_process(_metrics_dir, worker.pid)
