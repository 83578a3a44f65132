#!/usr/bin/env python3
"""The checks of `make scale-test`, against servers scripts/scale_test.sh started.

Two app servers (``--app``, twice) share PostgreSQL and Redis behind nginx (``--proxy``).
Shown here, each as a numbered check that fails the run when it does not hold:

1. nginx sets a request id, the app echoes and logs it;
2. a token made by one server works on the other, and a refresh token rotated on one is
   dead on the other;
3. a post written through one server is read through the other at once (list and detail,
   after both were read once, so any cache is warm), and an edit likewise;
4. the auth throttle counts requests made to both servers together, and so do the
   failed-login counters that lock an account out for an address (not for its owner
   elsewhere);
5. nginx limits bodies (JSON 413), compresses JSON and serves static files;
6. under load through nginx, stopping one server (its whole process group, SIGKILL, the
   worst case) loses no GET, nginx retrying it on the other server, and every write
   that got a 201 is in the database.

Only the standard library and psycopg (for counting rows).
"""

import argparse
import csv
import gzip
import io
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from dataclasses import dataclass, field

import psycopg

TIMEOUT = 15


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self):
        return json.loads(self.body)


def call(
    base: str, method: str, path: str, body=None, token=None, headers=None, raw: bytes | None = None
) -> Response:
    """One HTTP request; errors are answers too (status 0 when no answer came)."""
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    request = urllib.request.Request(base + path, data=data, method=method)  # noqa: S310 - 127.0.0.1 only
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:  # noqa: S310
            return Response(response.status, dict(response.headers.items()), response.read())
    except urllib.error.HTTPError as error:
        return Response(error.code, dict(error.headers.items()), error.read())
    except OSError as error:
        return Response(0, {}, str(error).encode())


def read_lines(path: str) -> list[str]:
    with open(path) as file:
        return file.readlines()


class Checks:
    def __init__(self) -> None:
        self.number = 0
        self.failures = 0

    def section(self, title: str) -> None:
        self.number += 1
        print(f"\n{self.number}. {title}")

    def expect(self, condition: bool, what: str, detail: object = "") -> None:
        print(f"   {'ok  ' if condition else 'FAIL'} {what}{f'  ({detail})' if detail else ''}")
        if not condition:
            self.failures += 1


def request_ids(args, checks: Checks) -> None:
    checks.section("request ids")
    given = call(args.proxy, "GET", "/healthz", headers={"X-Request-ID": "scale-check-rid-1"})
    kept = given.headers.get("X-Request-ID") == "scale-check-rid-1"
    checks.expect(kept, "a client's id is kept and echoed")
    made = call(args.proxy, "GET", "/api/v1/posts/")
    rid = made.headers.get("X-Request-ID", "")
    checks.expect(len(rid) == 32, "nginx makes one when absent", rid)
    time.sleep(0.5)  # the access line is written after the response
    logged = [line for path in args.app_log for line in read_lines(path) if rid and rid in line]
    parsed = [json.loads(line) for line in logged if line.startswith("{")]
    checks.expect(
        any(record.get("request_id") == rid and record.get("path") == "/api/v1/posts/" for record in parsed),
        "the app's JSON access log carries nginx's id",
        f"{len(logged)} line(s)",
    )
    proxy_lines = [line for line in read_lines(args.proxy_log) if rid and rid in line]
    checks.expect(len(proxy_lines) == 1, "nginx's JSON access log carries it too")


def tokens(args, checks: Checks, user: dict) -> dict:
    checks.section("a token from one server works on the other")
    one, two = args.app
    created = call(one, "POST", "/api/v1/auth/register/", user)
    checks.expect(created.status == 201, "sign up on app1", created.status)
    credentials = {"username": user["username"], "password": user["password"]}
    pair = call(one, "POST", "/api/v1/auth/token/", credentials)
    checks.expect(pair.status == 200, "token from app1", pair.status)
    pair = pair.json()
    me = call(two, "GET", "/api/v1/auth/me/", token=pair["access"])
    same_user = me.status == 200 and me.json().get("username") == user["username"]
    checks.expect(same_user, "app2 accepts it", me.status)
    rotated = call(two, "POST", "/api/v1/auth/token/refresh/", {"refresh": pair["refresh"]})
    checks.expect(rotated.status == 200, "refresh on app2", rotated.status)
    replay = call(one, "POST", "/api/v1/auth/token/refresh/", {"refresh": pair["refresh"]})
    checks.expect(replay.status == 401, "the rotated-out refresh token is refused by app1", replay.status)
    return rotated.json()


def replica_reads(args, checks: Checks) -> None:
    checks.section("anonymous reads reach the replica, from both servers")
    for number, base in enumerate(args.app):
        for each in range(3):  # page sizes nobody asked for yet: no cache can answer them
            answer = call(base, "GET", f"/api/v1/posts/?page_size={41 + 3 * number + each}")
            checks.expect(answer.status == 200, f"an anonymous list on app{number + 1}", answer.status)
    with psycopg.connect(args.replica_url, autocommit=True) as connection:
        in_recovery = connection.execute("SELECT pg_is_in_recovery()").fetchone()[0]
        # Each backend's last statement: the app's (and pgbouncer's) connections to the
        # replica have read the posts.
        readers = connection.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'"
            " AND pid <> pg_backend_pid() AND datname = current_database() AND query LIKE %s",
            ["%posts_post%"],
        ).fetchone()[0]
    checks.expect(in_recovery, "the replica is a standby (in recovery)")
    checks.expect(readers >= 1, "its connections have read the posts", f"{readers} backend(s)")
    stats = pgbouncer_show(args, "STATS")
    replica_xacts = sum(
        int(row["total_xact_count"]) for row in stats if row["database"] == args.replica_database
    )
    checks.expect(
        replica_xacts > 0, "pgbouncer carried app2's to the replica", f"{replica_xacts} transactions"
    )


def pgbouncer_show(args, what: str) -> list[dict[str, str]]:
    """A table of pgbouncer's admin console (simple query protocol only: psql)."""
    output = subprocess.run(  # noqa: S603 - our own URL
        ["psql", "-X", "-q", "--csv", args.pgbouncer_admin_url, "-c", f"SHOW {what}"],  # noqa: S607
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=True,
    ).stdout
    return list(csv.DictReader(io.StringIO(output)))


def listed(base: str, slug: str, token: str | None = None, headers: dict | None = None) -> bool:
    answer = call(base, "GET", "/api/v1/posts/?page_size=50", token=token, headers=headers)
    return answer.status == 200 and slug in [item["slug"] for item in answer.json()["results"]]


def until(condition, seconds: float) -> float | None:
    """Seconds until ``condition()`` held, polling; None if it did not within ``seconds``."""
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        if condition():
            return time.monotonic() - started
        time.sleep(0.1)
    return None


def cookie_from(headers: dict[str, str], name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() == "set-cookie" and value.startswith(f"{name}="):
            return value.split(";", 1)[0].split("=", 1)[1]
    return None


def read_your_writes(args, checks: Checks, token: str) -> None:
    checks.section(f"read-your-writes across servers while the replica lags {args.replica_delay} s")
    one, two = args.app
    for base in args.app:  # warm whatever the servers cache
        call(base, "GET", "/api/v1/posts/?page_size=50")
    post = {"title": "Written on app1", "body": "Shared state, no sticky sessions.", "status": "published"}
    created = call(one, "POST", "/api/v1/posts/", post, token=token)
    checks.expect(created.status == 201, "POST on app1", created.status)
    slug = created.json()["slug"]
    stranger_at_once = listed(two, slug)
    checks.expect(listed(two, slug, token=token), "its writer lists it on app2 at once")
    detail = call(two, "GET", f"/api/v1/posts/{slug}/", token=token)
    checks.expect(detail.status == 200 and detail.json()["title"] == post["title"], "and reads its detail")
    checks.expect(not stranger_at_once, "a stranger on app2 does not see it yet: the replica lags")
    lag = until(lambda: listed(two, slug), args.replica_delay + 10)
    checks.expect(lag is not None, "then sees it once the replica has replayed it", f"{lag or 0:.1f} s later")

    edited = call(two, "PATCH", f"/api/v1/posts/{slug}/", {"title": "Edited on app2"}, token=token)
    checks.expect(edited.status == 200, "PATCH on app2", edited.status)
    detail = call(one, "GET", f"/api/v1/posts/{slug}/", token=token)
    checks.expect(detail.json().get("title") == "Edited on app2", "its writer reads the edit on app1 at once")
    stranger = call(one, "GET", f"/api/v1/posts/{slug}/")
    checks.expect(stranger.json().get("title") == post["title"], "a stranger still reads the old title")
    seen = until(
        lambda: call(one, "GET", f"/api/v1/posts/{slug}/").json().get("title") == "Edited on app2", 15
    )
    checks.expect(seen is not None, "and the new one after the lag", f"{seen or 0:.1f} s later")

    # A browser is pinned by a cookie set on the response to its write.
    second = call(one, "POST", "/api/v1/posts/", {**post, "title": "Second"}, token=token)
    pin = cookie_from(second.headers, args.pin_cookie)
    checks.expect(
        pin is not None, f"a write sets the {args.pin_cookie} cookie", second.headers.get("Set-Cookie")
    )
    headers = {"Cookie": f"{args.pin_cookie}={pin}"} if pin else {}
    slug = second.json().get("slug", "")
    checks.expect(
        listed(two, slug, headers=headers), "with which the writer's browser lists it on app2 at once"
    )


def micro_cache(args, checks: Checks, token: str) -> None:
    checks.section("nginx's micro-cache: anonymous readers only, fresh after a write")
    path = "/api/v1/posts/?page_size=50"
    statuses = [call(args.proxy, "GET", path).headers.get("X-Cache-Status") for _ in range(3)]
    checks.expect("HIT" in statuses[1:], "anonymous readers are answered from it", statuses)
    with_token = call(args.proxy, "GET", path, token=token)
    checks.expect(
        with_token.headers.get("X-Cache-Status") == "BYPASS", "never with a token", with_token.status
    )
    with_session = call(args.proxy, "GET", path, headers={"Cookie": "sessionid=abc"})
    session_status = with_session.headers.get("X-Cache-Status")
    checks.expect(session_status == "BYPASS", "nor with a session cookie", session_status)

    post = {"title": "Behind the cache", "body": "Fresh.", "status": "published"}
    created = call(args.proxy, "POST", "/api/v1/posts/", post, token=token)
    checks.expect(created.status == 201, "a post written through nginx", created.status)
    slug = created.json().get("slug", "")
    checks.expect(listed(args.proxy, slug, token=token), "its writer lists it at once")
    fresh = until(lambda: listed(args.proxy, slug), args.replica_delay + 10)
    checks.expect(
        fresh is not None, "anonymous readers within the cache's second and the lag", f"{fresh or 0:.1f} s"
    )

    tagged = call(args.proxy, "GET", f"/api/v1/posts/{slug}/")
    etag = tagged.headers.get("ETag")
    checks.expect(bool(etag), "a post's detail carries an ETag", etag)
    again = call(args.proxy, "GET", f"/api/v1/posts/{slug}/", headers={"If-None-Match": etag or '"none"'})
    checks.expect(
        again.status == 304 and again.body == b"", "a matching If-None-Match gets a 304", again.status
    )


def metrics(args, checks: Checks) -> None:
    checks.section("/metrics: for the token's holder only")
    call(args.app[0], "GET", "/api/v1/tags/")
    scraped = call(args.app[0], "GET", "/metrics", token=args.metrics_token)
    text = scraped.body.decode(errors="replace")
    checks.expect(scraped.status == 200, "a scrape with the token", scraped.status)
    checks.expect("# TYPE" in text and "tag" in text, "in Prometheus' text format, naming the tags route")
    anonymous = call(args.app[0], "GET", "/metrics")
    checks.expect(anonymous.status == 404, "404 without it", anonymous.status)


def throttling(args, checks: Checks) -> None:
    checks.section(f"the auth throttle ({args.throttle_limit}/minute) counts across both servers")
    # One client address for DRF (NUM_PROXIES=1 reads the last X-Forwarded-For entry),
    # unused by the other checks. Sign-up with an invalid body: throttled like the token
    # endpoint, but no failed login, so the lockout below stays out of this.
    headers = {"X-Forwarded-For": "203.0.113.77"}
    statuses = []
    for attempt in range(args.throttle_limit + 2):
        base = args.app[attempt % 2]
        statuses.append(
            call(base, "POST", "/api/v1/auth/register/", {"username": ""}, headers=headers).status
        )
    allowed = statuses[: args.throttle_limit]
    all_400 = all(status == 400 for status in allowed)
    checks.expect(all_400, "the first ones, alternating servers, are answered (400)", statuses)
    checks.expect(statuses[args.throttle_limit :] == [429, 429], "then both servers answer 429")


def login_failures(args, checks: Checks) -> None:
    limit = args.login_failure_limit
    checks.section(f"failed logins ({limit} lock an account for an address) count across both servers")
    stamp = int(time.time())
    victim = {
        "username": f"victim{stamp}",
        "email": f"victim{stamp}@example.com",
        "password": "the-right-pass-77",
    }
    created = call(args.app[1], "POST", "/api/v1/auth/register/", victim)
    checks.expect(created.status == 201, "sign up on app2", created.status)
    # One address, unused by the other checks, guessing on both servers in turn: the
    # lockout is per account and address, so it is one address's failures that add up.
    attacker = {"X-Forwarded-For": "198.51.100.1"}
    login_path = "/api/v1/auth/token/"
    statuses = []
    for attempt in range(limit):
        wrong = {"username": victim["username"], "password": f"wrong-{attempt}"}
        statuses.append(call(args.app[attempt % 2], "POST", login_path, wrong, headers=attacker).status)
    expected = [401] * (limit - 1) + [429]
    checks.expect(statuses == expected, "wrong passwords, alternating servers, until the limit", statuses)
    right = {"username": victim["username"], "password": victim["password"]}
    locked = call(args.app[limit % 2], "POST", login_path, right, headers=attacker)
    detail = locked.json().get("detail", "") if locked.body.startswith(b"{") else ""
    checks.expect(
        locked.status == 429 and "failed login" in detail,
        "then even the right password is locked out for that address",
        detail,
    )
    # The guesser cannot lock the owner out: another address logs in (issue 12, finding 3).
    owner = call(args.app[0], "POST", login_path, right, headers={"X-Forwarded-For": "198.51.100.99"})
    checks.expect(owner.status == 200, "while the owner, from another address, logs in", owner.status)


def proxy_features(args, checks: Checks, token: str) -> None:
    checks.section("nginx: body limit, gzip, static files")
    big = call(args.proxy, "POST", "/api/v1/posts/", raw=b"x" * 3_000_000, token=token)
    checks.expect(big.status == 413, "a 3 MB body is refused", big.status)
    as_json = b"too large" in big.body and big.headers.get("Content-Type") == "application/json"
    checks.expect(as_json, "as JSON")
    zipped = call(args.proxy, "GET", "/api/v1/schema/?format=json", headers={"Accept-Encoding": "gzip"})
    checks.expect(zipped.headers.get("Content-Encoding") == "gzip", "JSON is compressed", zipped.status)
    checks.expect(len(gzip.decompress(zipped.body)) > len(zipped.body), "and decompresses")
    with open(os.path.join(args.static_root, "staticfiles.json")) as manifest:
        hashed = json.load(manifest)["paths"]["css/site.css"]
    static = call(args.proxy, "GET", f"/static/{hashed}")
    checks.expect(static.status == 200 and "Expires" in static.headers, "nginx serves static files", hashed)


@dataclass
class LoadResult:
    gets: Counter = field(default_factory=Counter)
    posts: Counter = field(default_factory=Counter)
    created: list = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def load_and_failover(args, checks: Checks, token: str) -> None:
    checks.section(f"{args.load_seconds} s of load through nginx; app2 is killed after {args.kill_after} s")
    result = LoadResult()
    stop = threading.Event()
    paths = ["/api/v1/posts/", "/api/v1/posts/?page_size=5", "/healthz", "/api/v1/tags/"]

    def reader(number: int) -> None:
        i = number
        while not stop.is_set():
            answer = call(args.proxy, "GET", paths[i % len(paths)])
            with result.lock:
                result.gets[answer.status] += 1
            i += 1

    def writer(number: int) -> None:
        i = 0
        while not stop.is_set():
            title = f"load-{number}-{i}"
            answer = call(args.proxy, "POST", "/api/v1/posts/", {"title": title, "body": "load"}, token=token)
            with result.lock:
                result.posts[answer.status] += 1
                if answer.status == 201:
                    result.created.append(answer.json()["id"])
            i += 1

    threads = [threading.Thread(target=reader, args=(n,)) for n in range(args.readers)]
    threads += [threading.Thread(target=writer, args=(n,)) for n in range(args.writers)]
    for thread in threads:
        thread.start()
    time.sleep(args.kill_after)
    os.killpg(args.victim_pgid, signal.SIGKILL)
    killed_at = time.monotonic()
    time.sleep(max(args.load_seconds - args.kill_after, 1))
    stop.set()
    for thread in threads:
        thread.join(timeout=TIMEOUT + 5)
    after = time.monotonic() - killed_at

    total_gets = sum(result.gets.values())
    print(f"   GETs: {dict(result.gets)}  ({total_gets / args.load_seconds:.0f}/s)")
    print(f"   POSTs: {dict(result.posts)}  (ran {after:.1f} s after the kill)")
    checks.expect(total_gets > 0 and set(result.gets) == {200}, "no GET was lost", dict(result.gets))
    checks.expect(result.posts[201] > 0, "writes went on after the kill", result.posts[201])
    with psycopg.connect(args.database_url) as connection:
        query = "SELECT id, title FROM posts_post WHERE title LIKE 'load-%%'"
        rows = dict(connection.execute(query).fetchall())
    missing = set(result.created) - set(rows)
    ok = result.posts[201]
    checks.expect(not missing, f"every write that got a 201 is stored ({ok} 201s, {len(rows)} rows)")
    if len(rows) > result.posts[201]:
        # Killed mid-request after its commit: stored, but the client saw an error, not a 201.
        unanswered = len(rows) - result.posts[201]
        print(f"   note: {unanswered} row(s) were stored but the client got an error, not their 201")
    status = call(args.app[1], "GET", "/healthz")
    checks.expect(status.status == 0, "app2 is really down")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--proxy", required=True)
    parser.add_argument("--app", action="append", required=True)
    parser.add_argument("--victim-pgid", type=int, required=True, help="the second app server's group")
    parser.add_argument("--app-log", action="append", default=[])
    parser.add_argument("--proxy-log", required=True)
    parser.add_argument("--database-url", required=True, help="the primary")
    parser.add_argument("--replica-url", required=True)
    parser.add_argument("--replica-database", required=True, help="pgbouncer's name for the replica")
    parser.add_argument(
        "--replica-delay", type=float, default=2, help="its recovery_min_apply_delay, seconds"
    )
    parser.add_argument("--pgbouncer-admin-url", required=True)
    parser.add_argument("--pin-cookie", default="primary_until")
    parser.add_argument("--metrics-token", default=os.environ.get("DJANGO_METRICS_TOKEN", ""))
    parser.add_argument("--static-root", default="staticfiles")
    parser.add_argument("--throttle-limit", type=int, default=5)
    parser.add_argument("--login-failure-limit", type=int, default=3)
    parser.add_argument("--load-seconds", type=float, default=8)
    parser.add_argument("--kill-after", type=float, default=3)
    parser.add_argument("--readers", type=int, default=4)
    parser.add_argument("--writers", type=int, default=2)
    args = parser.parse_args()
    if len(args.app) != 2:
        parser.error("give --app twice")

    checks = Checks()
    stamp = int(time.time())
    user = {
        "username": f"scale{stamp}",
        "email": f"scale{stamp}@example.com",
        "password": "a-long-pass-phrase-42",
    }
    request_ids(args, checks)
    pair = tokens(args, checks, user)
    replica_reads(args, checks)
    read_your_writes(args, checks, pair["access"])
    throttling(args, checks)
    login_failures(args, checks)
    proxy_features(args, checks, pair["access"])
    micro_cache(args, checks, pair["access"])
    metrics(args, checks)
    load_and_failover(args, checks, pair["access"])
    print(f"\n{'FAILED' if checks.failures else 'all checks passed'} ({checks.failures} failure(s))")
    return 1 if checks.failures else 0


if __name__ == "__main__":
    sys.exit(main())
