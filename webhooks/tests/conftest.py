"""A real HTTP receiver on 127.0.0.1 in the test process, and helpers to read what the
outbox holds for webhooks."""

import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.utils import timezone

from outbox import services as outbox
from outbox.models import Message
from webhooks.services import TOPIC
from webhooks.tests.factories import WebhookFactory


@dataclass
class Reply:
    status: int = 200
    body: bytes = b"ok"
    delay: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def event(self) -> str:
        return json.loads(self.body)["event"]

    @property
    def document(self) -> dict:
        return json.loads(self.body)


class Receiver:
    """Answers POSTs with the scripted replies in turn (then 200), and records them."""

    def __init__(self) -> None:
        self.requests: list[Received] = []
        self.script: list[Reply] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                with receiver._lock:
                    receiver.requests.append(Received(self.path, dict(self.headers.items()), body))
                    reply = receiver.script.pop(0) if receiver.script else Reply()
                if reply.delay:
                    threading.Event().wait(reply.delay)
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                self.wfile.write(reply.body)

            def log_message(self, *args) -> None:
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True
            block_on_close = False

            def handle_error(self, request, client_address) -> None:
                pass  # a client that gave up (the timeout test) is no failure here

        self.server = Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def events(self) -> list[str]:
        return [request.event for request in self.requests]

    def __enter__(self) -> "Receiver":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as running:
        yield running


@pytest.fixture
def hook(receiver, staff_user):
    """An active webhook on ``receiver``, subscribed to every event."""
    return WebhookFactory(target_url=receiver.url, created_by=staff_user)


def webhook_messages() -> list[Message]:
    return list(Message.objects.filter(topic=TOPIC).order_by("id"))


def emitted() -> list[str]:
    """The events written to the outbox so far, in order (one per webhook told)."""
    return [message.payload["event"] for message in webhook_messages()]


def emitted_documents(event: str) -> list[dict]:
    return [json.loads(m.payload["body"]) for m in webhook_messages() if m.payload["event"] == event]


def deliver_again(message: Message) -> str:
    """Run the next attempt of ``message`` now, as the worker would once it is due."""
    Message.objects.filter(pk=message.pk).update(available_at=timezone.now())
    return outbox.deliver(message_id=message.pk)


@pytest.fixture
def resolve_as(monkeypatch):
    """``resolve_as({"hooks.example.test": ["127.0.0.1"]})``: DNS answers for made-up host
    names (others resolve as usual); returns the list of names looked up."""
    real = socket.getaddrinfo
    looked_up: list[str] = []

    def install(answers: dict[str, list[str]]) -> list[str]:
        def fake(host, port, *args, **kwargs):
            if host in answers:
                looked_up.append(host)
                return [
                    (
                        socket.AF_INET6 if ":" in address else socket.AF_INET,
                        socket.SOCK_STREAM,
                        6,
                        "",
                        (address, port or 0),
                    )
                    for address in answers[host]
                ]
            return real(host, port, *args, **kwargs)

        monkeypatch.setattr(socket, "getaddrinfo", fake)
        return looked_up

    return install
