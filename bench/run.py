"""``make bench``: seed a throwaway PostgreSQL database, serve it with gunicorn, load it
with wrk from a second process on 127.0.0.1, and print one table.

For each size (1,000 and 100,000 public posts; ``BENCH_POSTS=1000000`` adds a third) it
drops and re-creates the database, runs ``seed_blog``, starts gunicorn with the bench
settings (production, DEBUG off) and measures every endpoint at a fixed concurrency,
next to the references in the same server: the floor (raw psycopg + orjson), the naive
baseline and an ``icontains`` search. Before the first size it compares worker classes
(sync, gthread, an ASGI worker under gunicorn) on the list and the detail and keeps the
best for the rest of the run. With Redis reachable the servers share it as their cache,
as deployed (counts and search rankings kept until the next write), and a second server,
with the anonymous response cache on, measures the cached figures; and, with Redis, the
first server is also measured behind Debian's nginx with the compose stack's micro-cache
(the anonymous list through it, against the app alone) and answering a revalidation of
the list with its ETag (a 304, against the full 200). At the first size a
server of its own takes image uploads (``measure_uploads``): a 12-megapixel JPEG, beside
the Pillow floor timed in this process, then a 40-megapixel one for the worker's peak
memory.

Environment (all optional):

- ``BENCH_DATABASE_URL`` (``postgres://postgres@127.0.0.1:5432/blog_bench``): dropped and
  re-created; never point it at a database you want to keep.
- ``BENCH_REDIS_URL`` (``redis://127.0.0.1:6379/15``): for the cached figures; ``none``
  skips them.
- ``BENCH_PORT`` (8160; nginx on ``BENCH_NGINX_PORT``, 8169), ``BENCH_POSTS`` (adds a size above 100,000),
  ``BENCH_SIZES`` (``1000,100000``), ``BENCH_DURATION`` (seconds per endpoint, 6, in 2-second slices),
  ``BENCH_CONNECTIONS`` (8), ``BENCH_WORKERS`` (the candidates compared, see
  ``DEFAULT_CANDIDATES``), ``BENCH_REPORT`` (also write the table to this file).
"""

# ruff: noqa: S603, S607  (a developer tool that runs wrk, gunicorn and manage.py)
import json
import math
import os
import re
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode, urlsplit, urlunsplit

import psycopg

from bench import images

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
LUA = ROOT / "bench" / "report.lua"
SETTINGS = "config.settings.bench"
STATIC_ROOT = ROOT / ".bench" / "static"  # config.settings.bench's

# name: gunicorn arguments. 2 cores: Python is CPU-bound between queries and PostgreSQL and
# the load generator share the same two cores, so a few processes suffice; one more than
# the cores covers the time a worker waits on the database.
DEFAULT_CANDIDATES = "sync:3,gthread:2x4,asgi:3"
SLICE_SECONDS = 2
MAX_SLICE_SECONDS = 15
PUBLIC_SHARE = 0.87  # seed_blog makes ~8% drafts and ~4% scheduled posts


@dataclass
class Result:
    rps: float = 0.0
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    queries: int | None = None
    errors: int = 0
    status: int = 0


@dataclass
class SizeRun:
    size: int
    public: int = 0
    seed_seconds: float = 0.0
    rows: dict[str, Result] = field(default_factory=dict)
    paths: dict[str, str] = field(default_factory=dict)
    rss_mb: float = 0.0
    probes: dict[str, int | None] = field(default_factory=dict)
    upload_peak_rss_mb: float | None = None
    # Items of the API's answer that the floor answers differently (0: the same JSON).
    floor_differences: int = 0


def env_int(name: str, default: int) -> int:
    return int(os.environ.get(name) or default)


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --- Database ------------------------------------------------------------------------------


def admin_url(database_url: str) -> tuple[str, str]:
    parts = urlsplit(database_url)
    name = parts.path.lstrip("/")
    if not re.fullmatch(r"[A-Za-z0-9_]+", name):
        raise SystemExit(f"unusual database name {name!r}: refusing to drop it")
    return urlunsplit(parts._replace(path="/postgres")), name


def recreate_database(database_url: str) -> None:
    url, name = admin_url(database_url)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def manage(*args: str, env: dict[str, str], quiet: bool = True) -> None:
    subprocess.run(
        [PYTHON, "manage.py", *args],
        cwd=ROOT,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL if quiet else None,
        stderr=subprocess.DEVNULL if quiet else None,
    )


def pick_targets(database_url: str) -> dict[str, str]:
    """The slugs, tag, author and search words the endpoints use, chosen from the data."""
    with psycopg.connect(database_url) as conn:
        public = "status = 'published' AND published_at <= now()"
        (slug,) = conn.execute(
            f"SELECT slug FROM posts_post WHERE {public} AND comment_count > 1 "  # noqa: S608
            "ORDER BY published_at DESC, id DESC LIMIT 1"
        ).fetchone()
        (tag,) = conn.execute(
            "SELECT t.slug FROM posts_tag t JOIN posts_post_tags pt ON pt.tag_id = t.id "
            "GROUP BY t.slug ORDER BY count(*) DESC LIMIT 1"
        ).fetchone()
        (category,) = conn.execute(
            f"SELECT c.slug FROM posts_category c JOIN posts_post p ON p.category_id = c.id "  # noqa: S608
            f"WHERE {public} GROUP BY c.slug ORDER BY count(*) DESC LIMIT 1"
        ).fetchone()
        (author,) = conn.execute(
            f"SELECT u.username FROM accounts_user u JOIN posts_post p ON p.author_id = u.id "  # noqa: S608
            f"WHERE {public} GROUP BY u.username ORDER BY count(*) DESC LIMIT 1"
        ).fetchone()
        (public_count,) = conn.execute(f"SELECT count(*) FROM posts_post WHERE {public}").fetchone()  # noqa: S608
        # Lexemes from a sample; keep words that websearch_to_tsquery maps to themselves.
        stats = conn.execute(
            "SELECT word, ndoc FROM ts_stat('SELECT search_vector FROM posts_post TABLESAMPLE SYSTEM (10)') "
            "WHERE word ~ '^[a-z]{5,}$' ORDER BY ndoc DESC, word"
        ).fetchall()

        def round_trips(word: str) -> bool:
            (text,) = conn.execute("SELECT websearch_to_tsquery('english', %s)::text", (word,)).fetchone()
            return text == f"'{word}'"

        def matches(word: str) -> int:
            return conn.execute(
                f"SELECT count(*) FROM posts_post WHERE {public} "  # noqa: S608
                "AND search_vector @@ websearch_to_tsquery('english', %s)",
                (word,),
            ).fetchone()[0]

        common, common2 = [word for word, _ in stats if round_trips(word)][:2]
        rare = next(word for word, _ in reversed(stats) if round_trips(word) and matches(word) > 0)
        return {
            "slug": slug,
            "tag": tag,
            "category": category,
            "author": author,
            "common": common,
            "common2": common2,
            "common_matches": str(matches(common)),
            "rare": rare,
            "rare_matches": str(matches(rare)),
            "public": str(public_count),
        }


# --- Server --------------------------------------------------------------------------------


def gunicorn_args(candidate: str, port: int) -> list[str]:
    kind, _, spec = candidate.partition(":")
    base = [
        PYTHON, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--log-level", "warning",
        "--worker-tmp-dir", "/dev/shm",  # noqa: S108 - heartbeat files off the disk, as gunicorn advises "--timeout", "60", "--graceful-timeout", "5",
    ]  # fmt: skip
    if kind == "sync":
        return [*base, "--workers", spec, "config.wsgi:application"]
    if kind == "gthread":
        workers, threads = spec.split("x")
        return [*base, "-k", "gthread", "--workers", workers, "--threads", threads, "config.wsgi:application"]
    if kind == "asgi":
        return [*base, "-k", "uvicorn_worker.UvicornWorker", "--workers", spec, "config.asgi:application"]
    raise SystemExit(f"unknown worker candidate {candidate!r}")


class Server:
    def __init__(self, candidate: str, port: int, env: dict[str, str]) -> None:
        self.candidate = candidate
        self.port = port
        self.log = open(ROOT / ".bench" / "gunicorn.log", "a")  # noqa: SIM115
        if candidate.startswith("asgi"):
            # Django's advice under ASGI: persistent connections are per thread there and
            # pile up until PostgreSQL refuses clients.
            env = {**env, "DJANGO_CONN_MAX_AGE": "0"}
        self.process = subprocess.Popen(
            gunicorn_args(candidate, port), cwd=ROOT, env=env, stdout=self.log, stderr=self.log
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"gunicorn ({candidate}) exited; see .bench/gunicorn.log")
            try:
                with urllib.request.urlopen(f"{self.base}/healthz", timeout=1) as response:  # noqa: S310
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise SystemExit(f"gunicorn ({candidate}) did not answer within 30 s")

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def worker_rss_mb(self, *, peak: bool = False) -> float:
        """The largest resident set among this server's workers, in MB: now, or with
        ``peak`` the highest each has had since it started (``VmHWM``)."""
        largest = 0
        for status in Path("/proc").glob("[0-9]*/status"):
            try:
                text = status.read_text()
            except OSError:
                continue
            ppid = re.search(r"^PPid:\s+(\d+)", text, re.M)
            rss = re.search(rf"^{'VmHWM' if peak else 'VmRSS'}:\s+(\d+) kB", text, re.M)
            if ppid and rss and int(ppid.group(1)) == self.process.pid:
                largest = max(largest, int(rss.group(1)))
        return largest / 1024

    def _workers_cpu_ticks(self) -> int:
        ticks = 0
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            if int(fields[1]) == self.process.pid:  # ppid
                ticks += int(fields[11]) + int(fields[12])  # utime + stime
        return ticks

    def wait_idle(self, database_url: str, limit: float = 120) -> None:
        """Wait until the requests wrk abandoned at the end of a run are done: no worker
        uses CPU and the database runs nothing for this server, so that they don't eat
        into the next row's measurement."""
        deadline = time.monotonic() + limit
        with psycopg.connect(database_url, autocommit=True) as conn:
            while time.monotonic() < deadline:
                before = self._workers_cpu_ticks()
                time.sleep(0.3)
                (active,) = conn.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND state = 'active' AND pid <> pg_backend_pid()"
                ).fetchone()
                if active == 0 and self._workers_cpu_ticks() - before <= 2:
                    return
        log("the server stayed busy; measuring anyway")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


class Nginx:
    """Debian's nginx in front of ``upstream``, configured as deployed (the compose
    template, rendered by scripts/render_nginx_conf.py): its micro-cache included."""

    def __init__(self, upstream: str, port: int) -> None:
        self.port = port
        self.out = ROOT / ".bench" / "nginx"
        shutil.rmtree(self.out, ignore_errors=True)
        subprocess.run(
            [
                PYTHON, "scripts/render_nginx_conf.py", "--out", str(self.out), "--mode", "plain",
                "--port", str(port), "--upstream", f"app1={upstream}", "--upstream", f"app2={upstream}",
                "--var", "NGINX_SERVER_NAME=127.0.0.1", "--var", f"NGINX_STATIC_ROOT={STATIC_ROOT}",
                "--var", f"NGINX_MEDIA_ROOT={MEDIA_ROOT}",
            ],
            cwd=ROOT, check=True, stdout=subprocess.DEVNULL,
        )  # fmt: skip
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        conf = ["-p", str(self.out), "-c", str(self.out / "nginx.conf")]
        # Access lines to nowhere: the app servers' own logging is off in the bench too.
        self.process = subprocess.Popen([nginx, *conf], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.base}/nginx-healthz", timeout=1):  # noqa: S310
                    return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise SystemExit(f"nginx did not answer within 10 s; see {self.out}/error.log")

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGQUIT)  # graceful
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def etag_of(url: str) -> str:
    request = urllib.request.Request(url, headers={"Accept": "application/json"})  # noqa: S310
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        response.read()
        etag = response.headers.get("ETag")
    if not etag:
        raise SystemExit(f"no ETag on {url}")
    return etag


# --- Load ----------------------------------------------------------------------------------


def probe(url: str, headers: dict[str, str] | None = None) -> tuple[int, int | None]:
    """One request asking the server how many queries it made: (status, queries)."""
    request = urllib.request.Request(url, headers={**(headers or {}), "X-Bench-Queries": "1"})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            response.read()
            status, header = response.status, response.headers.get("X-Bench-Queries")
    except urllib.error.HTTPError as error:  # a 304 too
        status, header = error.code, error.headers.get("X-Bench-Queries")
    return status, int(header) if header is not None else None


def wrk(url: str, duration: float, connections: int, headers: dict[str, str] | None = None) -> Result:
    with_headers = [arg for name, value in (headers or {}).items() for arg in ("-H", f"{name}: {value}")]
    completed = subprocess.run(
        [
            "wrk",
            "-t1",
            f"-c{connections}",
            f"-d{duration:g}s",
            "--timeout",
            "30s",
            "-s",
            str(LUA),
            *with_headers,
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    line = next(line for line in completed.stdout.splitlines() if line.startswith("BENCH "))
    data = json.loads(line[len("BENCH ") :])
    seconds = data["duration_us"] / 1e6
    if not data["requests"]:  # nothing finished within the slice: slower than it
        return Result(p50_ms=duration * 1000, p99_ms=duration * 1000, errors=data["errors"])
    return Result(
        rps=data["requests"] / seconds,
        p50_ms=data["p50"] / 1000,
        p99_ms=data["p99"] / 1000,
        errors=data["errors"],
    )


def measure_all(
    server: Server,
    paths: dict[str, str],
    duration: float,
    conns: int,
    database_url: str,
    *,
    headers: dict[str, dict[str, str]] | None = None,
) -> dict[str, Result]:
    """Load every path in turn, in short slices round-robin, so that a burst of load
    from elsewhere on the machine is spread over all rows instead of skewing one: the
    ratios between rows are what the run is for.

    A path may be a whole URL (another server in front of this one, such as nginx);
    ``headers`` gives some rows request headers of their own (``If-None-Match``)."""
    headers = headers or {}
    urls = {name: path if path.startswith("http") else server.base + path for name, path in paths.items()}
    probes: dict[str, tuple[int, int | None]] = {}
    seconds: dict[str, int] = {}
    for name, url in urls.items():
        started = time.perf_counter()
        for _ in range(3):  # warm every worker's caches and connection for this path
            probes[name] = probe(url, headers.get(name))
        # Slow rows (icontains, a word in every post) get slices long enough to finish
        # several requests at this concurrency.
        latency = (time.perf_counter() - started) / 3
        seconds[name] = min(MAX_SLICE_SECONDS, max(SLICE_SECONDS, math.ceil(4 * latency)))
    rounds = max(1, round(duration / SLICE_SECONDS))
    slices: dict[str, list[Result]] = {name: [] for name in paths}
    for _ in range(rounds):
        for name, url in urls.items():
            server.wait_idle(database_url)
            slices[name].append(wrk(url, seconds[name], conns, headers.get(name)))
    results = {}
    for name, parts in slices.items():
        # The median slice: one slice disturbed by something else on the machine moves
        # neither figure (with three slices or more).
        p50s = sorted(part.p50_ms for part in parts)
        rates = sorted(part.rps for part in parts)
        status, queries = probes[name]
        results[name] = Result(
            rps=rates[len(rates) // 2],
            p50_ms=p50s[len(p50s) // 2],
            p99_ms=max(part.p99_ms for part in parts),
            queries=queries,
            errors=sum(part.errors for part in parts),
            status=status,
        )
        log(f"{name}: {results[name].rps:.0f} req/s, p50 {results[name].p50_ms:.1f} ms, queries {queries}")
    return results


# --- The run -------------------------------------------------------------------------------


# The icontains reference reads every post's body for the page and again for the count:
# past this size one request outlasts gunicorn's timeout, and the search targets are set
# at 100,000 posts.
ICONTAINS_MAX_POSTS = 100_000


def endpoints(targets: dict[str, str]) -> dict[str, str]:
    posts = "/api/v1/posts/"
    paths = {
        "list p1": posts,
        "list p5": f"{posts}?page=5",
        "list p50": f"{posts}?page=50",
        "list by tag": f"{posts}?tag={targets['tag']}",
        "list by category": f"{posts}?category={targets['category']}",
        "list by author": f"{posts}?author={targets['author']}",
        "search rare": f"{posts}?search={targets['rare']}",
        "search common": f"{posts}?search={targets['common']}",
        # The outside probe's searches (issue 12): only negations, a phrase of two words
        # found in nearly every post, and phrases OR-ed together; all at most 3x list p1.
        **{name: f"{path}?{urlencode(params)}" for name, path, params in probe_searches(targets)},
        "icontains rare": f"/bench/icontains/posts/?search={targets['rare']}",
        "icontains common": f"/bench/icontains/posts/?search={targets['common']}",
        "detail": f"{posts}{targets['slug']}/",
        "comments": f"{posts}{targets['slug']}/comments/",
        "home page": "/",
        "tag page": f"/tags/{targets['tag']}/",
        "author page": f"/authors/{targets['author']}/",
        "healthz": "/healthz",
        "floor list p1": "/bench/floor/posts/",
        "floor detail": f"/bench/floor/posts/{targets['slug']}/",
        "naive list p1": "/bench/naive/posts/",
    }
    if int(targets["public"]) > ICONTAINS_MAX_POSTS * 1.1:
        del paths["icontains rare"], paths["icontains common"]
    return paths


def probe_searches(targets: dict[str, str]) -> list[tuple[str, str, dict[str, str]]]:
    common, other = targets["common"], targets["common2"]
    phrases = " or ".join(f'"{common} {other}{"s" * i}"' for i in range(7))
    return [
        ("search negation", "/api/v1/posts/", {"search": f"-{common}", "page_size": "100"}),
        ("search negated phrase", "/api/v1/posts/", {"search": f'-"{common} {other}"'}),
        ("search common phrase", "/api/v1/posts/", {"search": f'"{common} {other}"'}),
        ("search 7 phrases", "/api/v1/posts/", {"search": phrases}),
        ("home search negated phrase", "/", {"search": f'-"{common} {other}"'}),
    ]


PROBE_SEARCHES = tuple(name for name, _, _ in probe_searches({"common": "", "common2": ""}))
CACHED = ("list p1", "list p50", "detail")
NGINX_ROW = "list p1 via nginx micro-cache"
NOT_MODIFIED_ROW = "list p1 304 (If-None-Match)"
FILTERS = ("tag", "category", "author")
# The HTML pages and the API lists that show the same posts.
PAGES_AND_THEIR_API = (
    ("home page", "list p1"),
    ("tag page", "list by tag"),
    ("author page", "list by author"),
)


# Every server and command of the run signs with it: workers that disagree on the key would
# refuse each other's tokens. Made here because production refuses keys written down.
SECRET_KEY = secrets.token_urlsafe(50)


def server_env(database_url: str, redis_url: str | None, *, response_cache: bool = False) -> dict[str, str]:
    """The servers' environment: production settings, Redis as the shared cache when there
    is one (as deployed: counts and search rankings are shared by the workers), and the
    anonymous response cache only for the "(cached)" rows."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "REDIS_URL"))}
    env.update(
        DJANGO_SETTINGS_MODULE=SETTINGS,
        DJANGO_SECRET_KEY=SECRET_KEY,
        DATABASE_URL=database_url,
        DJANGO_LOG_LEVEL="WARNING",
        # The icontains reference reads every post, for seconds at 100,000: it is measured,
        # not cancelled by the production statement timeout (which answers a 503).
        DJANGO_DB_STATEMENT_TIMEOUT_MS="60000",
    )
    if redis_url:
        env["REDIS_URL"] = redis_url
    env["DJANGO_RESPONSE_CACHE"] = "true" if response_cache else "false"
    return env


def redis_available(redis_url: str) -> bool:
    try:
        import redis

        return bool(redis.Redis.from_url(redis_url, socket_timeout=1).ping())
    except Exception:
        return False


def compare_workers(
    candidates: list[str],
    env: dict[str, str],
    port: int,
    targets: dict[str, str],
    duration: float,
    conns: int,
    database_url: str,
) -> dict[str, dict[str, Result]]:
    paths = endpoints(targets)
    results: dict[str, dict[str, Result]] = {}
    for candidate in candidates:
        log(f"workers: {candidate}")
        server = Server(candidate, port, env)
        try:
            results[candidate] = measure_all(
                server, {name: paths[name] for name in ("list p1", "detail")}, duration, conns, database_url
            )
            results[candidate]["rss"] = Result(rps=server.worker_rss_mb())
        finally:
            server.stop()
    return results


COVERS_SCRIPT = """
import io
from PIL import Image as Picture
from images.services import upload_image
from posts import caching
from posts.models import Post

newest = list(Post.objects.public().order_by("-published_at", "-id").values_list("pk", "author_id")[:3000])
covers = []
for n in range(4):
    data = io.BytesIO()
    Picture.new("RGB", (2400, 1350), (40 * n, 120, 200 - 30 * n)).save(data, "JPEG", quality=85)
    data.seek(0)
    author = Post.objects.get(pk=newest[n][0]).author
    covers.append(upload_image(owner=author, file=data, alt=f"Cover {n}"))
for n, (pk, _) in enumerate(newest[::3]):
    Post.objects.filter(pk=pk).update(cover_image=covers[n % len(covers)])
caching.bump(posts=True)
"""


def seed_size(size: int, database_url: str) -> tuple[SizeRun, dict[str, str]]:
    """Re-create the database and fill it with ``size`` public posts (and the rest)."""
    run = SizeRun(size=size)
    # The operator's commands run without the web processes' statement timeout (as
    # manage.py sets it when unset): loading a million posts takes statements of minutes.
    env = {**server_env(database_url, None), "DJANGO_DB_STATEMENT_TIMEOUT_MS": "0"}
    log(f"{size:,} public posts: creating the database and seeding")
    recreate_database(database_url)
    manage("migrate", "--noinput", env=env)
    posts = math.ceil(size / PUBLIC_SHARE)
    started = time.monotonic()
    users = str(max(20, posts // 25))
    manage("seed_blog", "--posts", str(posts), "--users", users, "--seed", "1", "--no-demo-admin", env=env)
    run.seed_seconds = time.monotonic() - started
    # Lists and details are measured with cover images on the posts they show: a few real
    # uploads, set as the covers of every third post among the newest (seed_blog makes none).
    manage("shell", "-c", COVERS_SCRIPT, env={**env, "DJANGO_MEDIA_ROOT": str(MEDIA_ROOT)})
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    targets = pick_targets(database_url)
    run.public = int(targets["public"])
    run.paths = endpoints(targets)
    log(f"seeded {posts:,} posts ({run.public:,} public) in {run.seed_seconds:.1f} s; targets {targets}")
    return run, targets


def floor_differences(server: "Server", paths: dict[str, str]) -> int:
    """How many top-level keys and list items of the floor's JSON differ from the API's: a
    floor that does less work than the API (say, no cover images) would flatter nothing and
    judge the API unfairly, so the table says when they differ."""

    def get(path: str) -> dict:
        with urllib.request.urlopen(server.base + path, timeout=30) as response:  # noqa: S310
            return json.loads(response.read())

    differences = 0
    for api, floor in (("list p1", "floor list p1"), ("detail", "floor detail")):
        ours, theirs = get(paths[api]), get(paths[floor])
        ours_items = ours.pop("results", [ours])
        theirs_items = theirs.pop("results", [theirs])
        if len(ours_items) != len(theirs_items):
            differences += 1
        for mine, reference in zip(ours_items, theirs_items, strict=False):
            for key in mine.keys() | reference.keys():
                if mine.get(key) != reference.get(key):
                    log(f"floor differs from {api} at {key!r}: {mine.get(key)!r} != {reference.get(key)!r}")
                    differences += 1
        if api == "list p1":
            differences += sum(ours.get(key) != theirs.get(key) for key in ours.keys() | theirs.keys())
    return differences


def measure_size(
    run: SizeRun,
    database_url: str,
    redis_url: str | None,
    candidate: str,
    port: int,
    duration: float,
    conns: int,
) -> None:
    env = server_env(database_url, redis_url)
    if redis_url:
        # The database was re-created behind the cache's back: move the generations on.
        subprocess.run(
            [PYTHON, "manage.py", "shell", "-c", "from posts.caching import bump; bump(posts=True)"],
            cwd=ROOT,
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
    server = Server(candidate, port, env)
    nginx = Nginx(f"127.0.0.1:{port}", env_int("BENCH_NGINX_PORT", port + 9)) if redis_url else None
    try:
        run.floor_differences = floor_differences(server, run.paths)
        paths, headers = dict(run.paths), {}
        if nginx:
            # HTTP caching, side by side with the app's own rows: nginx's micro-cache in
            # front of this server (which has no response cache), and a revalidation that
            # the generation ETag answers with a 304 before any view runs.
            paths[NGINX_ROW] = nginx.base + run.paths["list p1"]
            paths[NOT_MODIFIED_ROW] = run.paths["list p1"]
            # The same Accept as the ETag was fetched with: the API's ETag depends on it.
            etag = etag_of(server.base + run.paths["list p1"])
            headers[NOT_MODIFIED_ROW] = {"Accept": "application/json", "If-None-Match": etag}
        run.rows.update(measure_all(server, paths, duration, conns, database_url, headers=headers))
        for page_size in (20, 100):  # the query bound holds at any page size
            for name, path in (("list", "/api/v1/posts/"), ("tag", run.paths["list by tag"])):
                joiner = "&" if "?" in path else "?"
                run.probes[f"{name} page_size={page_size}"] = probe(
                    f"{server.base}{path}{joiner}page_size={page_size}"
                )[1]
        run.rss_mb = server.worker_rss_mb()
    finally:
        if nginx:
            nginx.stop()
        server.stop()

    if redis_url:
        server = Server(candidate, port, server_env(database_url, redis_url, response_cache=True))
        try:
            cached = measure_all(
                server,
                {f"{name} (cached)": run.paths[name] for name in CACHED},
                duration,
                conns,
                database_url,
            )
            run.rows.update(cached)
        finally:
            server.stop()


# --- Uploads -------------------------------------------------------------------------------

UPLOAD_MEGAPIXELS = 12
PEAK_MEGAPIXELS = 40
UPLOADS = 5
UPLOAD_ROW = f"upload {UPLOAD_MEGAPIXELS} MP JPEG"
UPLOAD_FLOOR_ROW = "upload floor (Pillow, bench process)"
MEDIA_ROOT = ROOT / ".bench" / "media"


def upload_env(database_url: str) -> dict[str, str]:
    """The server's environment for the upload rows: files under .bench/, and neither the
    per-user upload rate nor the quota in the way of a few dozen uploads."""
    return {
        **server_env(database_url, None),
        "DJANGO_MEDIA_ROOT": str(MEDIA_ROOT),
        "DJANGO_MEDIA_UPLOAD_RATE": "100000/minute",
        "DJANGO_MEDIA_QUOTA_BYTES": str(1024**4),
    }


def bench_photo(megapixels: int, *, orientation: int = 1) -> bytes:
    """A photo-like JPEG of ``megapixels`` (see ``bench.images``), made once and kept."""
    path = ROOT / ".bench" / f"photo-{megapixels}mp-o{orientation}.jpg"
    if not path.exists():
        width, height = images.dimensions(megapixels)
        path.write_bytes(images.photo_jpeg(width, height, orientation=orientation))
    return path.read_bytes()


def post_json(url: str, body: dict[str, str]) -> dict:
    request = urllib.request.Request(  # noqa: S310
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        return json.loads(response.read())


def upload_token(server: Server) -> str:
    """An access token of a writer signed up for the purpose, as an API client gets one."""
    name = f"uploader{secrets.token_hex(4)}"
    credentials = {"username": name, "password": secrets.token_urlsafe(16)}
    post_json(f"{server.base}/api/v1/auth/register/", {**credentials, "email": f"{name}@example.com"})
    return post_json(f"{server.base}/api/v1/auth/token/", credentials)["access"]


def upload(server: Server, token: str, data: bytes) -> tuple[float, int]:
    """POST ``data`` to /api/v1/media/ as a browser's form would: (milliseconds, status)."""
    body, content_type = images.multipart("file", "photo.jpg", data, "image/jpeg")
    request = urllib.request.Request(  # noqa: S310
        f"{server.base}/api/v1/media/",
        data=body,
        headers={"Content-Type": content_type, "Authorization": f"Bearer {token}"},
    )
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
            response.read()
            status = response.status
    except urllib.error.HTTPError as error:
        status = error.code
    return (time.perf_counter() - started) * 1000, status


def measure_uploads(run: SizeRun, database_url: str, candidate: str, port: int) -> None:
    """The upload rows: a 12-megapixel JPEG posted by a logged-in writer, one upload at a
    time, each beside the floor timed in this process on the same file (the medians of
    ``UPLOADS``, after one of each to warm up; taken in turns, so that a burst of load
    from elsewhere on the machine weighs on both); then the peak resident memory of the
    workers after a 40-megapixel upload that must be turned upright (EXIF orientation 6).
    A server of its own, so that the uploads' memory does not show in the other rows'
    worker RSS."""
    log(f"uploads: {UPLOAD_MEGAPIXELS} MP JPEG, then {PEAK_MEGAPIXELS} MP for the peak memory")
    shutil.rmtree(MEDIA_ROOT, ignore_errors=True)
    photo = bench_photo(UPLOAD_MEGAPIXELS)
    large = bench_photo(PEAK_MEGAPIXELS, orientation=6)
    server = Server(candidate, port, upload_env(database_url))
    try:
        token = upload_token(server)
        timings, floors = [], []
        for _ in range(UPLOADS + 1):
            floors.append(images.floor_once(photo))
            timings.append(upload(server, token, photo))
        timings, floor = timings[1:], statistics.median(floors[1:])
        failed = [status for _, status in timings if status != 201]
        milliseconds = sorted(ms for ms, _ in timings)
        run.rows[UPLOAD_ROW] = Result(
            rps=1000 / statistics.median(milliseconds),
            p50_ms=statistics.median(milliseconds),
            p99_ms=milliseconds[-1],
            errors=len(failed),
            status=failed[0] if failed else 201,
        )
        run.rows[UPLOAD_FLOOR_ROW] = Result(rps=1000 / floor, p50_ms=floor, p99_ms=max(floors[1:]))
        _, status = upload(server, token, large)
        # A refused upload decoded nothing: its memory would prove nothing.
        run.upload_peak_rss_mb = server.worker_rss_mb(peak=True) if status == 201 else math.inf
        if status != 201:
            log(f"the {PEAK_MEGAPIXELS} MP upload was answered {status}")
    finally:
        server.stop()
        shutil.rmtree(MEDIA_ROOT, ignore_errors=True)
    log(
        f"upload: p50 {run.rows[UPLOAD_ROW].p50_ms:.0f} ms, floor {floor:.0f} ms; "
        f"worker peak RSS after {PEAK_MEGAPIXELS} MP: {run.upload_peak_rss_mb:.0f} MB"
    )


# --- The table -----------------------------------------------------------------------------


def ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator else float("inf")


def build_table(
    runs: list[SizeRun], workers: dict[str, dict[str, Result]], best: str, conns: int, duration: float
) -> str:
    lines: list[str] = []
    header = f"| {'endpoint':<34} | {'req/s':>8} | {'p50 ms':>8} | {'p99 ms':>8} | {'queries':>7} | note"
    rule = "|" + "-" * 36 + "|" + "-" * 10 + "|" + "-" * 10 + "|" + "-" * 10 + "|" + "-" * 9 + "|------"
    lines += [header, rule]

    def row(name: str, result: Result, note: str = "") -> None:
        queries = "" if result.queries is None else str(result.queries)
        if result.errors or result.status >= 400:
            note = f"{note} ERRORS: {result.errors} (status {result.status})".strip()
        lines.append(
            f"| {name:<34} | {result.rps:>8.0f} | {result.p50_ms:>8.2f} | {result.p99_ms:>8.2f} | "
            f"{queries:>7} | {note}"
        )

    for candidate, results in workers.items():
        chosen = " <- kept" if candidate == best else ""
        row(
            f"[workers {candidate}] list p1",
            results["list p1"],
            f"worker RSS {results['rss'].rps:.0f} MB{chosen}",
        )
        row(f"[workers {candidate}] detail", results["detail"])
    for run in runs:
        for name, result in run.rows.items():
            row(f"[{run.public:,}] {name}", result)
    lines.append(rule)

    checks: list[tuple[str, float, str, bool]] = []

    def check(name: str, value: float, target: str, ok: bool) -> None:
        checks.append((name, value, target, ok))

    for run in runs:
        r = run.rows
        tag = f"[{run.public:,}]"
        large = run.size >= 100_000
        check(
            f"{tag} list p1 / floor (req/s)", ratio(r["list p1"].rps, r["floor list p1"].rps), ">= 0.5", None
        )
        check(f"{tag} floor JSON differences from the API", run.floor_differences, "<= 0", None)
        check(f"{tag} list p1 / naive (req/s)", ratio(r["list p1"].rps, r["naive list p1"].rps), ">= 3", None)
        check(
            f"{tag} detail / detail floor (req/s)",
            ratio(r["detail"].rps, r["floor detail"].rps),
            ">= 0.6",
            None,
        )
        for page in ("p5", "p50"):
            check(
                f"{tag} page {page[1:]} / page 1 (p50)",
                ratio(r[f"list {page}"].p50_ms, r["list p1"].p50_ms),
                "<= 2",
                None,
            )
        for kind in FILTERS:
            check(
                f"{tag} list by {kind} / list p1 (p50)",
                ratio(r[f"list by {kind}"].p50_ms, r["list p1"].p50_ms),
                "<= 2" if large else "info",
                None,
            )
        for page, api in PAGES_AND_THEIR_API:
            check(f"{tag} {page} / {api} (p50)", ratio(r[page].p50_ms, r[api].p50_ms), "<= 2", None)
        # The search targets are the "at 100,000 posts": at 1,000 an icontains
        # scan is cheap, so its ratio is shown for information only.
        for kind in ("rare", "common"):
            check(
                f"{tag} search {kind} / list p1 (p50)",
                ratio(r[f"search {kind}"].p50_ms, r["list p1"].p50_ms),
                "<= 3" if large else "info",
                None,
            )
            if f"icontains {kind}" in r:
                check(
                    f"{tag} icontains / search {kind} (p50)",
                    ratio(r[f"icontains {kind}"].p50_ms, r[f"search {kind}"].p50_ms),
                    ">= 10" if large else "info",
                    None,
                )
        for name in PROBE_SEARCHES:
            check(
                f"{tag} {name} / list p1 (p50)",
                ratio(r[name].p50_ms, r["list p1"].p50_ms),
                "<= 3" if large else "info",
                None,
            )
        list_queries = [r[n].queries or 0 for n in r if n.startswith("list") and "cached" not in n]
        list_queries += [q or 0 for q in run.probes.values()]
        check(f"{tag} queries per list request (max)", max(list_queries), "<= 4", None)
        check(f"{tag} queries per detail request", r["detail"].queries or 0, "<= 4", None)
        if NGINX_ROW in r:
            check(
                f"{tag} nginx micro-cache / app (req/s)",
                ratio(r[NGINX_ROW].rps, r["list p1"].rps),
                ">= 10",
                None,
            )
            # A revalidation answered with a 200 (an ETag that did not match) counts as none.
            not_modified = r[NOT_MODIFIED_ROW].rps if r[NOT_MODIFIED_ROW].status == 304 else 0
            check(
                f"{tag} list p1 304 / 200 (req/s)",
                ratio(not_modified, r["list p1"].rps),
                ">= 3",
                None,
            )
        if "list p1 (cached)" in r:
            check(
                f"{tag} list p1 cached / uncached (req/s)",
                ratio(r["list p1 (cached)"].rps, r["list p1"].rps),
                "info",
                None,
            )
            check(
                f"{tag} detail cached / uncached (req/s)",
                ratio(r["detail (cached)"].rps, r["detail"].rps),
                "info",
                None,
            )
        check(f"{tag} worker RSS after the run (MB)", run.rss_mb, "< 150", None)
        if UPLOAD_ROW in r:
            upload_ratio = ratio(r[UPLOAD_ROW].p50_ms, r[UPLOAD_FLOOR_ROW].p50_ms)
            check(f"{tag} upload / floor (p50)", upload_ratio, "<= 2.5", None)
        if run.upload_peak_rss_mb is not None:
            peak_name = f"{tag} worker peak RSS, {PEAK_MEGAPIXELS} MP upload (MB)"
            check(peak_name, run.upload_peak_rss_mb, "< 400", None)
        check(f"{tag} seed_blog seconds", run.seed_seconds, "< 90" if run.size <= 100_000 else "info", None)
    by_size = {run.size: run for run in runs}
    if 1000 in by_size:
        small = by_size[1000].rows
        for size, limit in ((100_000, 1.3), (1_000_000, 1.5)):
            if size in by_size:
                for name in ("list p1", *(f"list by {kind}" for kind in FILTERS)):
                    check(
                        f"{name} p50 growth 1,000 -> {size:,}",
                        ratio(by_size[size].rows[name].p50_ms, small[name].p50_ms),
                        f"<= {limit}" if name == "list p1" or size == 100_000 else "info",
                        None,
                    )

    for name, value, target, _ in checks:
        verdict = "info" if target == "info" else ("ok" if holds(value, target) else "MISSED")
        lines.append(
            f"| {name:<34} | {value:>8.2f} | {'':>8} | {'':>8} | {'':>7} | target {target}: {verdict}"
        )
    context = (
        f"wrk: 1 thread, {conns} connections, {duration:g} s per row, 127.0.0.1; workers kept: {best}; "
        f"host: {os.cpu_count()} cores, shared"
    )
    return "\n".join([context, *lines])


def holds(value: float, target: str) -> bool:
    op, _, number = target.partition(" ")
    limit = float(number)
    return {">=": value >= limit, "<=": value <= limit, "<": value < limit}[op]


def main() -> None:
    if shutil.which("wrk") is None:
        raise SystemExit("wrk not found: apt-get install wrk")
    database_url = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/blog_bench")
    redis_url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15")
    if redis_url == "none" or not redis_available(redis_url):
        log("no Redis: skipping the cached figures")
        redis_url = None
    port = env_int("BENCH_PORT", 8160)
    duration = float(os.environ.get("BENCH_DURATION") or 6)
    conns = env_int("BENCH_CONNECTIONS", 8)
    sizes = [int(s) for s in (os.environ.get("BENCH_SIZES") or "1000,100000").split(",")]
    extra = env_int("BENCH_POSTS", 0)
    if extra and extra not in sizes:
        sizes.append(extra)
    candidates = (os.environ.get("BENCH_WORKERS") or DEFAULT_CANDIDATES).split(",")
    (ROOT / ".bench").mkdir(exist_ok=True)

    env = server_env(database_url, redis_url)
    started = time.monotonic()
    manage("collectstatic", "--noinput", env=env)  # production serves the hashed names

    runs: list[SizeRun] = []
    workers: dict[str, dict[str, Result]] = {}
    best = candidates[0]
    for index, size in enumerate(sorted(sizes)):
        run, targets = seed_size(size, database_url)
        if index == 0 and len(candidates) > 1:
            workers = compare_workers(candidates, env, port, targets, duration, conns, database_url)
            best = max(workers, key=lambda c: workers[c]["list p1"].rps + workers[c]["detail"].rps)
        measure_size(run, database_url, redis_url, best, port, duration, conns)
        if index == 0:  # an upload's cost does not depend on the number of posts
            measure_uploads(run, database_url, best, port)
        runs.append(run)

    table = build_table(runs, workers, best, conns, duration)
    table += f"\ntotal bench time: {time.monotonic() - started:.0f} s"
    print(table)
    if report := os.environ.get("BENCH_REPORT"):
        Path(report).write_text(table + "\n")


if __name__ == "__main__":
    main()
