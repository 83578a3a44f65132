"""`make background-test` and `make chaos`'s broker part: background work end to end.

Real parts, all on 127.0.0.1 and all started here: a production-like gunicorn on a
throwaway PostgreSQL database, a Celery worker and beat, a private Redis as their broker
(private so that it can be stopped without disturbing anyone), an SMTP server (aiosmtpd)
that keeps what it receives, and a webhook receiver that verifies every signature with the
`standardwebhooks` library. Nothing runs eagerly: every mail and event goes from the
request to the outbox, to the broker, to the worker, to the receiver.

Scenarios (`python scripts/background_e2e.py [flows] [broker-outage]`, both by default):

- flows: sign-up -> verification mail -> link followed -> `email_verified`; reset
  request -> mail -> new password through the link (the old refresh token dies, the link
  works once); a webhook receiver that answers 500, 500 then 200 gets one event three times
  with one `webhook-id`; a scheduled post's `post.published` arrives after its time, once;
  a comment mails the post's author; a second server with production's SSRF guard refuses
  a webhook to http://127.0.0.1/ with a 400.
- broker-outage: the broker is stopped while posts and comments are written (every write
  still answers at once), then started again; every event and mail arrives.
"""

import email
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import requests
from aiosmtpd.controller import Controller
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

ROOT = Path(__file__).resolve().parent.parent
DB = os.environ.get("BACKGROUND_DB", "blog_e_background")
PASSWORD = "background-password-not-secret-42"  # noqa: S105 - a throwaway database's accounts
NEW_PASSWORD = "another-password-not-secret-43"  # noqa: S105
# How long anything may take to arrive: a worker and beat on a busy 2-core machine.
ARRIVAL_SECONDS = 45.0
QUICK_SECONDS = 5.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(predicate, seconds: float = ARRIVAL_SECONDS) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return bool(predicate())


# --- the SMTP server ---------------------------------------------------------------------


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope) -> str:
        with self.lock:
            self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"

    def to(self, address: str) -> list[Message]:
        with self.lock:
            return [m for m in self.messages if address in m.get("To", "")]


def text_of(message: Message) -> str:
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            return part.get_payload(decode=True).decode()
    return ""


def html_of(message: Message) -> str:
    for part in message.walk():
        if part.get_content_type() == "text/html":
            return part.get_payload(decode=True).decode()
    return ""


# --- the webhook receiver -------------------------------------------------------------


class Receiver:
    """Keeps every request; answers each path from its script of statuses (then 200)."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.scripts: dict[str, list[int]] = {}
        self.secrets: dict[str, str] = {}
        self.bad_signatures = 0
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                headers = {k.lower(): v for k, v in self.headers.items()}
                with receiver.lock:
                    script = receiver.scripts.get(self.path, [])
                    status = script.pop(0) if script else 200
                    secret = receiver.secrets.get(self.path)
                    verified = None
                    if secret:
                        try:
                            Webhook(secret).verify(body, headers)
                            verified = True
                        except WebhookVerificationError:
                            verified = False
                            receiver.bad_signatures += 1
                    seen = {"path": self.path, "headers": headers, "json": json.loads(body)}
                    seen.update(verified=verified, status=status, at=datetime.now(UTC))
                    receiver.requests.append(seen)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def got(self, path: str, event: str | None = None) -> list[dict]:
        with self.lock:
            return [
                r
                for r in self.requests
                if r["path"] == path and (event is None or r["json"].get("event") == event)
            ]


# --- the processes --------------------------------------------------------------------


class Stack:
    def __init__(self, mail_port: int, receiver: Receiver) -> None:
        self.work = Path(tempfile.mkdtemp(prefix="background-e2e-"))
        self.port = free_port()
        self.guarded_port = free_port()
        self.redis_port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.processes: dict[str, subprocess.Popen] = {}
        secret = subprocess.run(
            [sys.executable, "-c", "import secrets; print(secrets.token_urlsafe(50))"],
            capture_output=True, text=True, check=True,
        ).stdout.strip()  # fmt: skip
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "REDIS_URL", "CELERY_"))},
            "DJANGO_SETTINGS_MODULE": "config.settings.production",
            "DATABASE_URL": f"postgres://postgres@127.0.0.1:{os.environ.get('PG_PORT', '5432')}/{DB}",
            "DJANGO_SECRET_KEY": secret,
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DJANGO_SECURE_SSL_REDIRECT": "false",
            "DJANGO_AUTH_THROTTLE_RATE": "100000/minute",
            "DJANGO_LOG_FORMAT": "plain",
            "DJANGO_SITE_URL": self.base,
            "DJANGO_EMAIL_URL": f"smtp://127.0.0.1:{mail_port}",
            "DJANGO_DEFAULT_FROM_EMAIL": "blog@example.com",
            "CELERY_BROKER_URL": f"redis://127.0.0.1:{self.redis_port}/0",
            "DJANGO_WEBHOOK_ALLOW_PRIVATE": "true",
            "DJANGO_WEBHOOK_RETRY_DELAYS": "1,2,2,2,2",
            "DJANGO_OUTBOX_SWEEP_EVERY_SECONDS": "1",
            "DJANGO_OUTBOX_SWEEP_AFTER_SECONDS": "3",
            "DJANGO_OUTBOX_RETRY_FIRST_SECONDS": "1",
            "DJANGO_POSTS_ANNOUNCE_EVERY_SECONDS": "1",
            "GUNICORN_WORKERS": "2",
            "GUNICORN_THREADS": "4",
        }

    def run(self, *args: str, **kwargs) -> subprocess.CompletedProcess:
        return subprocess.run(  # noqa: S603
            [str(ROOT / ".venv/bin/python"), "manage.py", *args], cwd=ROOT, env=self.env, check=True, **kwargs
        )

    def start(self, name: str, command: list[str], env: dict[str, str] | None = None) -> None:
        log = (self.work / f"{name}.log").open("a")
        self.processes[name] = subprocess.Popen(  # noqa: S603
            command,
            cwd=ROOT,
            env=env or self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def stop(self, name: str) -> None:
        process = self.processes.pop(name, None)
        if process and process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(5)

    def start_broker(self) -> None:
        self.start(
            "redis",
            [
                "redis-server",
                "--port",
                str(self.redis_port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
        )
        if not wait_until(lambda: _answers(self.redis_port), 15):
            raise SystemExit("the private Redis did not start")

    def up(self) -> None:
        psql = ["psql", "-q", "-h", "127.0.0.1", "-p", os.environ.get("PG_PORT", "5432"), "-U", "postgres"]
        subprocess.run(  # noqa: S603
            [*psql, "-d", "postgres", "-v", "ON_ERROR_STOP=1",
             "-c", f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)', "-c", f'CREATE DATABASE "{DB}"'],
            check=True,
        )  # fmt: skip
        self.run("migrate", "--noinput", "-v", "0")
        self.run("collectstatic", "--noinput", "-v", "0")
        self.start_broker()
        venv = str(ROOT / ".venv/bin")
        gunicorn = [f"{venv}/gunicorn", "-c", "config/gunicorn.conf.py", "config.wsgi:application"]
        self.start("gunicorn", gunicorn, {**self.env, "GUNICORN_BIND": f"127.0.0.1:{self.port}"})
        # A second server as production is by default: the SSRF guard on.
        guarded = {**self.env, "GUNICORN_BIND": f"127.0.0.1:{self.guarded_port}", "GUNICORN_WORKERS": "1"}
        del guarded["DJANGO_WEBHOOK_ALLOW_PRIVATE"]
        self.start("guarded", gunicorn, guarded)
        celery = [f"{venv}/celery", "-A", "config"]
        self.start(
            "worker",
            [
                *celery,
                "worker",
                "--loglevel",
                "INFO",
                "--concurrency",
                "2",
                "--without-gossip",
                "--without-mingle",
            ],
        )
        self.start(
            "beat", [*celery, "beat", "--loglevel", "INFO", "--schedule", str(self.work / "beat-schedule")]
        )
        for port in (self.port, self.guarded_port):
            if not wait_until(lambda port=port: _healthy(port), 60):
                raise SystemExit(f"gunicorn on {port} did not start; logs in {self.work}")

    def staff_user(self, name: str) -> dict:
        """A staff account made with the ORM (the API makes none), and its tokens."""
        create = (
            "from accounts.models import User; "
            f"User.objects.create_user({name!r}, {name + '@example.com'!r}, {PASSWORD!r}, is_staff=True)"
        )
        self.run("shell", "-v", "0", "-c", create)
        answer = requests.post(
            f"{self.base}/api/v1/auth/token/", json={"username": name, "password": PASSWORD}, timeout=5
        )
        return answer.json()

    def down(self) -> None:
        for name in list(self.processes):
            self.stop(name)


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def _healthy(port: int) -> bool:
    try:
        return requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200
    except requests.RequestException:
        return False


# --- the scenarios --------------------------------------------------------------------


class Checks:
    def __init__(self) -> None:
        self.failures: list[str] = []

    def check(self, ok: bool, what: str) -> bool:
        print(("ok      " if ok else "FAILED  ") + what, flush=True)
        if not ok:
            self.failures.append(what)
        return ok


def sign_up(base: str, name: str) -> dict:
    response = requests.post(
        f"{base}/api/v1/auth/register/",
        json={"username": name, "email": f"{name}@example.com", "password": PASSWORD},
        timeout=QUICK_SECONDS,
    )
    response.raise_for_status()
    tokens = requests.post(
        f"{base}/api/v1/auth/token/", json={"username": name, "password": PASSWORD}, timeout=QUICK_SECONDS
    ).json()
    return {"name": name, "email": f"{name}@example.com", **tokens}


def bearer(user: dict) -> dict[str, str]:
    return {"Authorization": f"Bearer {user['access']}"}


def link_in(message: Message, pattern: str) -> re.Match | None:
    return re.search(pattern, text_of(message))


def flows(stack: Stack, mailbox: Mailbox, receiver: Receiver, checks: Checks) -> None:
    base = stack.base
    check = checks.check
    staff = stack.staff_user("staff")

    # Sign-up -> verification mail -> the link -> email_verified.
    started = time.monotonic()
    reader = sign_up(base, "reader")
    check(time.monotonic() - started < QUICK_SECONDS, "sign-up answers without waiting for mail")
    check(wait_until(lambda: mailbox.to(reader["email"])), "the verification mail arrives over SMTP")
    mails = mailbox.to(reader["email"])
    match = mails and link_in(mails[0], re.escape(base) + r"/verify-email/([^/\s]+)/")
    if check(bool(match), "the verification mail links to /verify-email/{key}/ on DJANGO_SITE_URL"):
        page = requests.get(f"{base}/verify-email/{match.group(1)}/", timeout=QUICK_SECONDS)
        check(page.status_code == 200, "the verification page opens")
        me = requests.get(f"{base}/api/v1/auth/me/", headers=bearer(reader), timeout=QUICK_SECONDS).json()
        check(me.get("email_verified") is False, "opening the link does not verify by itself (GET is safe)")
        answer = requests.post(f"{base}/api/v1/auth/verify-email/", json={"key": match.group(1)}, timeout=5)
        check(answer.status_code == 204, f"the key verifies the address ({answer.status_code})")
        me = requests.get(f"{base}/api/v1/auth/me/", headers=bearer(reader), timeout=QUICK_SECONDS).json()
        check(me.get("email_verified") is True, "email_verified becomes true")

    # Reset request -> mail -> new password; the old refresh token dies; the link works once.
    before = len(mailbox.to(reader["email"]))
    started = time.monotonic()
    answer = requests.post(f"{base}/api/v1/auth/password-reset/", json={"email": reader["email"]}, timeout=5)
    check(
        answer.status_code == 204 and time.monotonic() - started < QUICK_SECONDS,
        "a reset request is a quick 204",
    )
    check(wait_until(lambda: len(mailbox.to(reader["email"])) > before), "the reset mail arrives")
    match = link_in(mailbox.to(reader["email"])[-1], re.escape(base) + r"/reset/([^/\s]+)/([^/\s]+)/")
    if check(bool(match), "the reset mail links to /reset/{uid}/{token}/"):
        uid, token = match.groups()
        check(
            requests.get(f"{base}/reset/{uid}/{token}/", timeout=5).status_code == 200, "the reset page opens"
        )
        body = {"uid": uid, "token": token, "new_password": NEW_PASSWORD}
        first = requests.post(f"{base}/api/v1/auth/password-reset/confirm/", json=body, timeout=5)
        check(first.status_code == 204, f"the link's token sets the new password ({first.status_code})")
        again = requests.post(f"{base}/api/v1/auth/password-reset/confirm/", json=body, timeout=5)
        check(again.status_code == 400 and "token" in again.json(), "the link cannot be used twice")
        old = requests.post(
            f"{base}/api/v1/auth/token/refresh/", json={"refresh": reader["refresh"]}, timeout=5
        )
        check(old.status_code == 401, "the refresh token from before the reset is dead")
        login = requests.post(
            f"{base}/api/v1/auth/token/", json={"username": "reader", "password": NEW_PASSWORD}, timeout=5
        )
        check(login.status_code == 200, "the new password logs in")

    # Webhooks: every signature verifies; 500, 500, 200 -> three attempts with one webhook-id.
    hooks = {}
    for path, events in (("/flaky", ["post.added"]), ("/published", ["post.published"])):
        answer = requests.post(
            f"{base}/api/v1/webhooks/",
            json={"target_url": receiver.url(path), "events": events},
            headers=bearer(staff),
            timeout=5,
        )
        check(answer.status_code == 201, f"staff register a webhook for {events} ({answer.status_code})")
        hooks[path] = answer.json()
        receiver.secrets[path] = hooks[path].get("secret", "")
    receiver.scripts["/flaky"] = [500, 500]
    author = sign_up(base, "writer")
    started = time.monotonic()
    post = requests.post(
        f"{base}/api/v1/posts/",
        json={"title": "Flaky receivers", "body": "Retried.", "status": "draft"},
        headers=bearer(author),
        timeout=QUICK_SECONDS,
    )
    check(
        post.status_code == 201 and time.monotonic() - started < QUICK_SECONDS,
        "a write does not wait for hooks",
    )
    check(
        wait_until(lambda: len(receiver.got("/flaky", "post.added")) >= 3),
        "a 500, 500, 200 receiver gets 3 tries",
    )
    tries = receiver.got("/flaky", "post.added")
    check(
        len({t["headers"].get("webhook-id") for t in tries}) == 1,
        "one webhook-id on every retry of one event",
    )
    check(all(t["verified"] for t in tries), "every delivery verifies with the standardwebhooks library")
    time.sleep(3)
    check(len(receiver.got("/flaky", "post.added")) == 3, "no delivery after the 200")
    deliveries = requests.get(
        f"{base}/api/v1/webhooks/{hooks['/flaky']['id']}/deliveries/", headers=bearer(staff), timeout=5
    ).json()
    rows = deliveries.get("results", deliveries) if isinstance(deliveries, dict) else deliveries
    check(
        [r.get("status_code") for r in rows[:3]] == [200, 500, 500],
        "the delivery log lists the tries, newest first",
    )

    # A scheduled post: post.published after its time, once.
    when = datetime.now(UTC) + timedelta(seconds=6)
    scheduled = requests.post(
        f"{base}/api/v1/posts/",
        json={
            "title": "Later",
            "body": "Scheduled.",
            "status": "published",
            "published_at": when.isoformat(),
        },
        headers=bearer(author),
        timeout=QUICK_SECONDS,
    ).json()
    arrived = wait_until(
        lambda: any(
            r["json"]["data"].get("slug") == scheduled.get("slug") for r in receiver.got("/published")
        ),
        60,
    )
    check(arrived, "a scheduled post's post.published arrives")
    got = [r for r in receiver.got("/published") if r["json"]["data"].get("slug") == scheduled.get("slug")]
    check(bool(got) and got[0]["at"] >= when, "... not before its time")
    time.sleep(4)
    got = [r for r in receiver.got("/published") if r["json"]["data"].get("slug") == scheduled.get("slug")]
    check(len(got) == 1, f"... and only once ({len(got)})")

    # A comment mails the post's author (its text quoted, with one-click unsubscribe).
    before = len(mailbox.to(author["email"]))
    requests.post(
        f"{base}/api/v1/posts/{scheduled.get('slug')}/comments/",
        json={"body": "A comment worth a mail."},
        headers=bearer(reader | {"access": login.json()["access"]}),
        timeout=QUICK_SECONDS,
    )
    check(
        wait_until(lambda: len(mailbox.to(author["email"])) > before), "the author is mailed about a comment"
    )
    mail = mailbox.to(author["email"])[-1] if mailbox.to(author["email"]) else Message()
    check(
        "A comment worth a mail." in text_of(mail) and html_of(mail) != "", "... quoting it, in text and HTML"
    )
    check(mail.get("List-Unsubscribe-Post") == "List-Unsubscribe=One-Click", "... with one-click unsubscribe")

    # Production's SSRF guard: a webhook to loopback is refused when registered.
    answer = requests.post(
        f"http://127.0.0.1:{stack.guarded_port}/api/v1/webhooks/",
        json={"target_url": "http://127.0.0.1/", "events": ["post.added"]},
        headers=bearer(staff),
        timeout=5,
    )
    check(
        answer.status_code == 400 and "target_url" in answer.json(), "production refuses a loopback webhook"
    )
    check(receiver.bad_signatures == 0, "no delivery failed verification")


def broker_outage(stack: Stack, mailbox: Mailbox, receiver: Receiver, checks: Checks) -> None:
    base = stack.base
    check = checks.check
    ops = stack.staff_user("ops")
    hook = requests.post(
        f"{base}/api/v1/webhooks/",
        json={"target_url": receiver.url("/outage"), "events": ["post.added", "comment.added"]},
        headers=bearer(ops),
        timeout=5,
    ).json()
    receiver.secrets["/outage"] = hook.get("secret", "")
    writer = sign_up(base, f"w{uuid.uuid4().hex[:8]}")
    commenter = sign_up(base, f"c{uuid.uuid4().hex[:8]}")
    mails_before = len(mailbox.to(writer["email"]))

    stack.stop("redis")
    print("broker stopped", flush=True)
    slugs, slow = [], 0
    for n in range(5):
        started = time.monotonic()
        answer = requests.post(
            f"{base}/api/v1/posts/",
            json={
                "title": f"Written while the broker is down {n}",
                "body": "Still here.",
                "status": "published",
            },
            headers=bearer(writer),
            timeout=15,
        )
        slugs.append(answer.json().get("slug"))
        comment = requests.post(
            f"{base}/api/v1/posts/{slugs[-1]}/comments/",
            json={"body": f"Comment {n} while the broker is down"},
            headers=bearer(commenter),
            timeout=15,
        )
        slow += time.monotonic() - started > QUICK_SECONDS
        check(
            answer.status_code == 201 and comment.status_code == 201,
            f"write {n} succeeds with the broker down",
        )
    check(slow == 0, "no write waits for the broker")
    time.sleep(2)
    stack.start_broker()
    print("broker started again", flush=True)
    check(
        wait_until(lambda: len(receiver.got("/outage")) >= 10, 90),
        f"every event written during the outage arrives ({len(receiver.got('/outage'))} of 10)",
    )
    check(
        wait_until(lambda: len(mailbox.to(writer["email"])) - mails_before >= 5, 60),
        f"every comment mail arrives ({len(mailbox.to(writer['email'])) - mails_before} of 5)",
    )
    ids = {r["headers"].get("webhook-id") for r in receiver.got("/outage")}
    check(len(ids) == 10, f"ten distinct events, each under its own webhook-id ({len(ids)})")


def main(argv: list[str]) -> int:
    wanted = argv or ["flows", "broker-outage"]
    mailbox = Mailbox()
    smtp = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    smtp.start()
    receiver = Receiver()
    stack = Stack(smtp.port, receiver)
    checks = Checks()
    try:
        stack.up()
        if "flows" in wanted:
            flows(stack, mailbox, receiver, checks)
        if "broker-outage" in wanted:
            broker_outage(stack, mailbox, receiver, checks)
    finally:
        stack.down()
        smtp.stop()
        receiver.server.shutdown()
    if checks.failures:
        print(f"\n{len(checks.failures)} check(s) failed; logs in {stack.work}", file=sys.stderr)
        for name in ("worker", "beat", "gunicorn"):
            path = stack.work / f"{name}.log"
            if path.exists():
                print(
                    f"--- {name} (tail) ---\n" + "\n".join(path.read_text().splitlines()[-25:]),
                    file=sys.stderr,
                )
        return 1
    print("\nbackground work: every check passed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
