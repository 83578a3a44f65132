"""`make chaos`: PostgreSQL goes away under a write load, and nothing is lost.

A production-like gunicorn (scripts/live_server.sh's settings) on a throwaway PostgreSQL
database takes a steady stream of post creations from a few clients. PostgreSQL is then
stopped (fast shutdown) for a few seconds and started again. Checked:

- during the outage every request is answered quickly with a JSON 503 (never a hang,
  never an HTML page or a 500) and /readyz says 503;
- afterwards the same gunicorn processes (no restart) serve writes and /readyz again;
- every write that got a 201 is in the database (counted by title).

The cluster is shared with every other database on the machine: the outage is kept short
(CHAOS_OUTAGE_SECONDS, default 2, at most 4, plus the restart). CHAOS_NO_OUTAGE=1 runs the load alone;
CHAOS_PGDATA (with PG_PORT) rehearses on a private cluster instead.
"""

import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
DB = os.environ.get("CHAOS_DB", "blog_e_chaos")
PORT = int(os.environ.get("CHAOS_PORT", "8171"))
BASE = f"http://127.0.0.1:{PORT}"
WRITERS = int(os.environ.get("CHAOS_WRITERS", "4"))
# Seconds between the stop and the start command; starting adds one or two more.
OUTAGE_SECONDS = min(float(os.environ.get("CHAOS_OUTAGE_SECONDS", "2")), 4.0)
NO_OUTAGE = os.environ.get("CHAOS_NO_OUTAGE") == "1"
PASSWORD = "chaos-password-not-secret-42"  # noqa: S105 - a throwaway database's accounts
# A request may wait for connect_timeout (3 s) once; anything slower counts as a hang.
QUICK_SECONDS = 5.0


def pg_version() -> str:
    return sorted(os.listdir("/etc/postgresql"))[-1]


# CHAOS_PGDATA: stop and start a private cluster (run as the postgres user, listening on
# PG_PORT) instead of the machine's shared one, for rehearsals that disturb nobody.
PRIVATE_PGDATA = os.environ.get("CHAOS_PGDATA", "")
PRIVATE_LOG = str(Path(tempfile.gettempdir()) / "chaos-postgres.log")


def pg_ctl(action: str) -> None:
    if PRIVATE_PGDATA:
        binary = f"/usr/lib/postgresql/{pg_version()}/bin/pg_ctl"
        options = (
            ["-m", "fast"] if action == "stop" else ["-w", "-o", f"-p {os.environ.get('PG_PORT', '5432')}"]
        )
        command = [
            "runuser",
            "-u",
            "postgres",
            "--",
            binary,
            "-D",
            PRIVATE_PGDATA,
            "-l",
            PRIVATE_LOG,
            action,
        ]
        command += options
    else:
        command = ["pg_ctlcluster", "--skip-systemctl-redirect", pg_version(), "main", action]
        if action == "stop":
            command += ["-m", "fast"]
    subprocess.run(command, check=True, timeout=60)  # noqa: S603 - fixed arguments


def server_env() -> dict[str, str]:
    """The environment scripts/live_server.sh's live_server_env sets, read from bash."""
    script = f"source scripts/live_server.sh && live_server_env {DB} {PORT} && env -0"
    raw = subprocess.run(  # noqa: S603
        ["/bin/bash", "-c", script], cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout  # fmt: skip
    return dict(item.split("=", 1) for item in raw.split("\0") if "=" in item)


def run(command: list[str], env: dict[str, str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=ROOT, env=env, check=True, **kwargs)  # noqa: S603


@dataclass
class Outcome:
    title: str
    status: int  # 0: no HTTP answer at all
    seconds: float
    json: bool
    started: float


@dataclass
class Load:
    tokens: list[str]
    stop: threading.Event = field(default_factory=threading.Event)
    outcomes: list[Outcome] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def writer(self, token: str) -> None:
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {token}"
        while not self.stop.is_set():
            title = f"chaos {uuid.uuid4().hex}"
            started = time.monotonic()
            try:
                response = session.post(
                    f"{BASE}/api/v1/posts/", json={"title": title, "body": "Written under chaos."}, timeout=15
                )
                status = response.status_code
                is_json = response.headers.get("Content-Type", "").startswith("application/json")
            except requests.RequestException:
                status, is_json = 0, False
            with self.lock:
                self.outcomes.append(Outcome(title, status, time.monotonic() - started, is_json, started))
            time.sleep(0.05)


def probe(path: str) -> tuple[int, float, bool]:
    started = time.monotonic()
    try:
        response = requests.get(f"{BASE}{path}", timeout=15)
        is_json = response.headers.get("Content-Type", "").startswith("application/json")
        return response.status_code, time.monotonic() - started, is_json
    except requests.RequestException:
        return 0, time.monotonic() - started, False


def wait_until(predicate, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def count_rows(env: dict[str, str], titles: list[str]) -> int:
    """How many of the posts titled ``titles`` the database holds (titles on stdin)."""
    script = (
        "import sys; from posts.models import Post; "
        "titles = [t for t in sys.stdin.read().splitlines() if t]; "
        "print(Post.objects.filter(title__in=titles).count())"
    )
    command = [".venv/bin/python", "manage.py", "shell", "-v", "0", "-c", script]
    out = run(command, env, input="\n".join(titles), capture_output=True, text=True).stdout
    return int(out.strip().splitlines()[-1])


def main() -> int:
    env = {**os.environ, **server_env()}
    port = os.environ.get("PG_PORT", "5432")
    psql = [
        "psql",
        "-q",
        "-h",
        "127.0.0.1",
        "-p",
        port,
        "-U",
        "postgres",
        "-d",
        "postgres",
        "-v",
        "ON_ERROR_STOP=1",
    ]
    run([*psql, "-c", f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)', "-c", f'CREATE DATABASE "{DB}"'], env)
    run([".venv/bin/python", "manage.py", "migrate", "--noinput", "-v", "0"], env)
    run([".venv/bin/python", "manage.py", "collectstatic", "--noinput", "-v", "0"], env)
    users = [f"chaos{i}" for i in range(WRITERS)]
    create = "from accounts.models import User\n" + "".join(
        f"User.objects.create_user('{name}', '{name}@example.com', '{PASSWORD}')\n" for name in users
    )
    run([".venv/bin/python", "manage.py", "shell", "-v", "0", "-c", create], env)

    log_path = Path(os.environ.get("CHAOS_LOG", "/tmp/chaos-gunicorn.log"))  # noqa: S108
    with log_path.open("w") as log:
        server = subprocess.Popen(
            [".venv/bin/gunicorn", "-c", "config/gunicorn.conf.py", "config.wsgi:application"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    failures: list[str] = []
    outage: tuple[float, float] | None = None
    readyz_during: list[tuple[int, float, bool]] = []
    try:
        if not wait_until(lambda: probe("/healthz")[0] == 200, 30):
            print(log_path.read_text()[-3000:])
            return fail(["gunicorn did not start"])
        worker_pids = set(gunicorn_workers(server.pid))
        tokens = []
        for name in users:
            response = requests.post(
                f"{BASE}/api/v1/auth/token/", json={"username": name, "password": PASSWORD}, timeout=10
            )
            response.raise_for_status()
            tokens.append(response.json()["access"])

        load = Load(tokens)
        threads = [threading.Thread(target=load.writer, args=(token,), daemon=True) for token in tokens]
        for thread in threads:
            thread.start()
        time.sleep(4)

        if not NO_OUTAGE:
            print(f"chaos: stopping PostgreSQL for {OUTAGE_SECONDS:.0f} s")
            pg_ctl("stop")
            down = time.monotonic()
            while time.monotonic() - down < OUTAGE_SECONDS:
                readyz_during.append(probe("/readyz"))
                time.sleep(0.3)
            pg_ctl("start")
            outage = (down, time.monotonic())
            print(f"chaos: PostgreSQL back after {outage[1] - outage[0]:.1f} s")

        recovered = wait_until(lambda: probe("/readyz")[0] == 200, 30)
        time.sleep(4)  # writes after recovery
        load.stop.set()
        for thread in threads:
            thread.join(timeout=20)

        outcomes = list(load.outcomes)
        created = [o.title for o in outcomes if o.status == 201]
        during = [o for o in outcomes if outage and outage[0] <= o.started <= outage[1]]
        after = [o for o in outcomes if outage and o.started > outage[1] + 1]
        codes = sorted({o.status for o in outcomes})
        print(f"chaos: {len(outcomes)} writes, status codes {codes}, {len(created)} got 201")
        print(f"chaos: {len(during)} writes during the outage: {sorted({o.status for o in during})}")
        if outage:
            late = [o for o in outcomes if o.started > outage[1] and o.status == 503]
            first_ok = min(
                (o.started for o in outcomes if o.started > outage[1] and o.status == 201), default=None
            )
            recovery = f"{first_ok - outage[1]:.1f} s" if first_ok else "never"
            print(f"chaos: after PostgreSQL was back: {len(late)} more 503s, first 201 after {recovery}")
            print(f"chaos: slowest answer {max(o.seconds for o in outcomes):.2f} s")

        # Nothing but 201 or a JSON 503, ever; no request hangs.
        bad = [o for o in outcomes if o.status not in (201, 503) or not o.json]
        if bad:
            failures.append(
                f"{len(bad)} writes got neither 201 nor JSON 503: {[(o.status, o.json) for o in bad[:5]]}"
            )
        slow = [o for o in outcomes if o.seconds > QUICK_SECONDS]
        if slow:
            failures.append(
                f"{len(slow)} writes took over {QUICK_SECONDS} s (max {max(o.seconds for o in slow):.1f})"
            )
        if outage:
            if not any(o.status == 503 for o in during):
                failures.append("no write got a 503 during the outage")
            if not any(code == 503 and is_json for code, _, is_json in readyz_during):
                failures.append(f"/readyz never said 503 during the outage: {readyz_during}")
            if any(code not in (200, 503) or seconds > QUICK_SECONDS for code, seconds, _ in readyz_during):
                failures.append(f"/readyz answered badly during the outage: {readyz_during}")
            if not any(o.status == 201 for o in after):
                failures.append("no write succeeded after PostgreSQL came back")
        if not recovered:
            failures.append("/readyz did not return to 200 after the outage")
        if set(gunicorn_workers(server.pid)) != worker_pids or server.poll() is not None:
            failures.append("gunicorn workers were restarted (recovery must need no restart)")

        stored = count_rows(env, created)
        lost = len(created) - stored
        print(f"chaos: {len(created)} writes answered 201, {stored} in the database, rows lost: {lost}")
        if lost:
            failures.append(f"{lost} writes that got a 201 are not in the database")
        tracebacks = log_path.read_text().count("Traceback")
        print(f"chaos: {tracebacks} tracebacks in the server log")
    finally:
        # Whatever happened above, leave the shared cluster running.
        if not NO_OUTAGE and not postgres_is_up():
            pg_ctl("start")
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
    return fail(failures)


def postgres_is_up() -> bool:
    command = ["pg_isready", "-q", "-h", "127.0.0.1", "-p", os.environ.get("PG_PORT", "5432")]
    return subprocess.run(command, check=False).returncode == 0  # noqa: S603


def gunicorn_workers(master_pid: int) -> list[int]:
    children = Path(f"/proc/{master_pid}/task/{master_pid}/children")
    return sorted(int(pid) for pid in children.read_text().split()) if children.exists() else []


def fail(failures: list[str]) -> int:
    for failure in failures:
        print(f"chaos: FAILED: {failure}")
    print(f"chaos: {0 if failures else 1} passed, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
