"""The SSRF guard: only http(s) targets whose host resolves to public addresses, checked
at registration and again at delivery, and the connection made to the checked address."""

import pytest

from outbox.models import Message
from webhooks import services, targets
from webhooks.models import Delivery, Webhook
from webhooks.tests.conftest import webhook_messages
from webhooks.tests.factories import WebhookFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/webhooks/"
PUBLIC_IP = "93.184.215.14"


@pytest.fixture
def guarded(settings):
    """The guard on, as in production."""
    settings.WEBHOOK_ALLOW_PRIVATE = False
    return settings


def register(client, target_url: str):
    return client.post(URL, {"target_url": target_url, "events": ["post.added"]}, format="json")


@pytest.mark.parametrize(
    "target_url",
    [
        "http://127.0.0.1/",
        "http://127.1.2.3:8080/hook",
        "http://[::1]/",
        "http://10.0.0.1/",
        "http://172.16.5.4/",
        "http://192.168.1.1/",
        "http://169.254.169.254/latest/meta-data/",
        "http://0.0.0.0/",
        "http://100.64.0.1/",
        "http://224.0.0.1/",
        "http://255.255.255.255/",
        "http://[::ffff:127.0.0.1]/",
        "http://[::ffff:10.0.0.1]/",
        "http://[fe80::1]/",
        "http://[fc00::1]/",
        "http://[::]/",
        "http://[2002:7f00:1::]/",
        "http://[64:ff9b::a9fe:a9fe]/",
        "https://localhost/",
    ],
)
def test_targets_that_are_not_public_addresses_are_400(guarded, staff_client, target_url):
    response = register(staff_client, target_url)
    assert response.status_code == 400, response.json()
    assert "target_url" in response.json()
    assert not Webhook.objects.exists()


@pytest.mark.parametrize(
    "target_url",
    ["ftp://hooks.example.com/", "file:///etc/passwd", "gopher://hooks.example.com/", "javascript:alert(1)"],
)
def test_only_http_and_https_targets_are_accepted_even_with_private_addresses_allowed(
    staff_client, target_url
):
    response = register(staff_client, target_url)
    assert response.status_code == 400 and "target_url" in response.json()


def test_credentials_in_a_target_are_refused(staff_client):
    response = register(staff_client, "https://user:pass@hooks.example.com/")
    assert response.status_code == 400 and "target_url" in response.json()


def test_a_host_name_resolving_to_loopback_is_refused(guarded, staff_client, resolve_as):
    resolve_as({"innocent.example.com": ["127.0.0.1"]})
    response = register(staff_client, "https://innocent.example.com/hook")
    assert response.status_code == 400
    assert "127.0.0.1" in str(response.json()["target_url"])


def test_a_host_name_with_any_private_address_is_refused(guarded, staff_client, resolve_as):
    resolve_as({"mixed.example.com": [PUBLIC_IP, "10.1.2.3"]})
    assert register(staff_client, "https://mixed.example.com/").status_code == 400


def test_a_host_that_does_not_resolve_is_refused(guarded, staff_client, resolve_as):
    resolve_as({"nowhere.example.com": []})
    assert register(staff_client, "https://nowhere.example.com/").status_code == 400


def test_public_targets_are_accepted(guarded, staff_client, resolve_as):
    resolve_as({"hooks.example.com": [PUBLIC_IP, "2606:2800:21f:cb07:6820:80da:af6b:8b2c"]})
    assert register(staff_client, "https://hooks.example.com/blog?source=blog").status_code == 201
    assert register(staff_client, f"http://{PUBLIC_IP}:8080/").status_code == 201


def test_with_private_addresses_allowed_registration_does_not_resolve(staff_client, resolve_as):
    looked_up = resolve_as({"receiver": ["127.0.0.1"]})
    assert register(staff_client, "http://receiver:9000/hook").status_code == 201
    assert looked_up == []


def test_a_target_that_turned_private_is_refused_at_delivery_and_recorded(
    settings, resolve_as, receiver, django_capture_on_commit_callbacks
):
    """Registered while its name pointed elsewhere; by delivery time it points inside."""
    resolve_as({"rebinding.example.com": [PUBLIC_IP]})
    settings.WEBHOOK_ALLOW_PRIVATE = False
    webhook = WebhookFactory(target_url=f"http://rebinding.example.com:{receiver.port}/hook")
    targets.check(webhook.target_url)  # passes now
    resolve_as({"rebinding.example.com": ["127.0.0.1"]})

    with django_capture_on_commit_callbacks(execute=True):
        services.ping(webhook=webhook)

    assert receiver.requests == []
    message = webhook_messages()[0]
    assert message.state == "failed" and "unsafe target" in message.last_error
    delivery = Delivery.objects.get()
    assert delivery.status_code is None and "not public" in delivery.error


def test_the_connection_goes_to_the_checked_address_without_a_second_lookup(
    resolve_as, receiver, django_capture_on_commit_callbacks
):
    looked_up = resolve_as({"hooks.example.test": ["127.0.0.1"]})
    webhook = WebhookFactory(target_url=f"http://hooks.example.test:{receiver.port}/in?x=1")
    with django_capture_on_commit_callbacks(execute=True):
        services.ping(webhook=webhook)

    assert Message.objects.get().state == "delivered"
    assert looked_up == ["hooks.example.test"]  # once, by the guard; never by the client
    request = receiver.requests[0]
    assert request.headers["Host"] == f"hooks.example.test:{receiver.port}"
    assert request.path == "/in?x=1"


def test_when_one_checked_address_refuses_the_next_one_is_tried(
    resolve_as, receiver, django_capture_on_commit_callbacks
):
    # The receiver listens on 127.0.0.1 only: 127.0.0.2 refuses the connection.
    resolve_as({"two.example.test": ["127.0.0.2", "127.0.0.1"]})
    webhook = WebhookFactory(target_url=f"http://two.example.test:{receiver.port}/")
    with django_capture_on_commit_callbacks(execute=True):
        services.ping(webhook=webhook)
    assert len(receiver.requests) == 1


@pytest.mark.parametrize(
    ("address", "public"),
    [
        (PUBLIC_IP, True),
        ("8.8.8.8", True),
        ("2606:4700:4700::1111", True),
        ("127.0.0.1", False),
        ("10.255.255.255", False),
        ("172.31.0.1", False),
        ("192.168.0.1", False),
        ("169.254.0.1", False),
        ("100.127.255.254", False),
        ("0.0.0.0", False),  # noqa: S104
        ("224.0.0.251", False),
        ("239.255.255.250", False),
        ("240.0.0.1", False),
        ("192.0.2.1", False),
        ("198.18.0.1", False),
        ("::1", False),
        ("::", False),
        ("::ffff:192.168.1.1", False),
        ("::ffff:8.8.8.8", True),
        ("fe80::1%eth0", False),
        ("fd12:3456::1", False),
        ("ff02::1", False),
        ("2001:db8::1", False),
        ("2002:c0a8:0101::", False),
        ("64:ff9b::10.0.0.1", False),
    ],
)
def test_which_addresses_count_as_public(address, public):
    assert targets.is_public(address) is public
