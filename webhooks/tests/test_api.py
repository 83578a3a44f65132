"""The staff-only webhooks API: who may use it, registering (the secret shown once),
changing, deleting, the delivery log and ping."""

import base64

import pytest
from standardwebhooks.webhooks import Webhook as Verifier

from conftest import client_for
from webhooks.models import Delivery, Webhook
from webhooks.tests.conftest import emitted
from webhooks.tests.factories import DeliveryFactory, WebhookFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/webhooks/"
NEW = {"target_url": "https://hooks.example.com/blog", "events": ["post.published", "comment.added"]}


@pytest.fixture
def webhook(staff_user):
    return WebhookFactory(created_by=staff_user)


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("get", URL, None),
        ("post", URL, NEW),
        ("get", "{one}", None),
        ("patch", "{one}", {"is_active": False}),
        ("delete", "{one}", None),
        ("get", "{one}deliveries/", None),
        ("post", "{one}ping/", None),
    ],
)
def test_only_staff_reach_webhooks_others_403_anonymous_401(webhook, anon_client, author, method, path, body):
    url = path.format(one=f"{URL}{webhook.pk}/")
    anonymous = getattr(anon_client, method)(url, body, format="json")
    assert anonymous.status_code == 401
    assert "WWW-Authenticate" in anonymous.headers
    assert getattr(client_for(author), method)(url, body, format="json").status_code == 403
    webhook.refresh_from_db()
    assert webhook.is_active and Webhook.objects.count() == 1  # nothing changed


def test_staff_register_a_webhook_and_see_its_secret_once(staff_client, staff_user):
    response = staff_client.post(URL, NEW, format="json")
    assert response.status_code == 201, response.json()
    created = response.json()
    assert created["target_url"] == NEW["target_url"]
    assert created["events"] == ["post.published", "comment.added"]
    assert created["is_active"] is True and created["created_by"] == "staff"
    secret = created["secret"]
    assert secret.startswith("whsec_") and len(base64.b64decode(secret.removeprefix("whsec_"))) >= 24
    Verifier(secret)  # a key any Standard Webhooks library accepts

    shown = staff_client.get(f"{URL}{created['id']}/").json()
    assert "secret" not in shown
    assert all("secret" not in row for row in staff_client.get(URL).json()["results"])
    assert Webhook.objects.get().secret == secret


def test_each_webhook_gets_its_own_secret(staff_client):
    first = staff_client.post(URL, NEW, format="json").json()["secret"]
    second = staff_client.post(URL, NEW, format="json").json()["secret"]
    assert first != second


@pytest.mark.parametrize(
    "events",
    [["post.published", "post.exploded"], ["nope"], [], "post.published", [1], None],
)
def test_unknown_or_malformed_event_lists_are_400_naming_events(staff_client, events):
    response = staff_client.post(URL, {**NEW, "events": events}, format="json")
    assert response.status_code == 400
    assert "events" in response.json()
    assert not Webhook.objects.exists()


def test_an_unknown_event_is_named_in_the_error(staff_client):
    response = staff_client.post(URL, {**NEW, "events": ["post.exploded"]}, format="json")
    assert "post.exploded" in str(response.json()["events"])


def test_duplicate_events_are_kept_once_in_a_stable_order(staff_client):
    events = ["comment.added", "post.added", "comment.added"]
    response = staff_client.post(URL, {**NEW, "events": events}, format="json")
    assert response.json()["events"] == ["post.added", "comment.added"]


@pytest.mark.parametrize(
    "body",
    [
        {"events": ["post.added"]},
        {"target_url": "", "events": ["post.added"]},
        {"target_url": ["https://x.example.com/"], "events": ["post.added"]},
        {"target_url": "https://x.example.com/\x00", "events": ["post.added"]},
        {"target_url": "not a url", "events": ["post.added"]},
        {"target_url": "https://" + "a" * 2000 + ".example.com/", "events": ["post.added"]},
        {"target_url": "https:///path-only", "events": ["post.added"]},
        {"target_url": "https://x.example.com:99999/", "events": ["post.added"]},
    ],
)
def test_bad_target_urls_are_400_naming_target_url(staff_client, body):
    response = staff_client.post(URL, body, format="json")
    assert response.status_code == 400
    assert "target_url" in response.json()


def test_staff_change_a_webhook_with_patch(staff_client, webhook):
    response = staff_client.patch(
        f"{URL}{webhook.pk}/", {"events": ["post.deleted"], "is_active": False}, format="json"
    )
    assert response.status_code == 200
    webhook.refresh_from_db()
    assert webhook.events == ["post.deleted"] and not webhook.is_active
    assert "secret" not in response.json()


def test_a_changed_target_is_checked_again(staff_client, webhook):
    response = staff_client.patch(
        f"{URL}{webhook.pk}/", {"target_url": "ftp://x.example.com/"}, format="json"
    )
    assert response.status_code == 400 and "target_url" in response.json()


def test_put_is_not_offered(staff_client, webhook):
    assert staff_client.put(f"{URL}{webhook.pk}/", NEW, format="json").status_code == 405


def test_staff_delete_a_webhook_and_its_log(staff_client, webhook):
    DeliveryFactory(webhook=webhook)
    assert staff_client.delete(f"{URL}{webhook.pk}/").status_code == 204
    assert not Webhook.objects.exists() and not Delivery.objects.exists()
    assert staff_client.get(f"{URL}{webhook.pk}/").status_code == 404


@pytest.mark.parametrize("path", ["999999/", "99999999999999999999999/", "abc/"])
def test_unknown_webhooks_are_404(staff_client, path):
    assert staff_client.get(f"{URL}{path}").status_code == 404


def test_the_delivery_log_is_newest_first_with_its_fields(staff_client, webhook):
    older = DeliveryFactory(webhook=webhook, attempt=1, status_code=500, error="HTTP 500")
    newer = DeliveryFactory(webhook=webhook, attempt=2, status_code=200, message_uuid=older.message_uuid)
    DeliveryFactory()  # another webhook's
    response = staff_client.get(f"{URL}{webhook.pk}/deliveries/")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    assert [row["id"] for row in body["results"]] == [newer.pk, older.pk]
    row = body["results"][1]
    assert {"id", "event", "attempt", "status_code", "duration_ms", "error", "created_at"} <= set(row)
    assert row["status_code"] == 500 and row["error"] == "HTTP 500" and row["attempt"] == 1
    assert row["message_id"] == f"msg_{older.message_uuid.hex}"


def test_the_delivery_log_pages(staff_client, webhook):
    DeliveryFactory.create_batch(3, webhook=webhook)
    page = staff_client.get(f"{URL}{webhook.pk}/deliveries/?page_size=2").json()
    assert page["count"] == 3 and len(page["results"]) == 2 and page["next"]
    assert staff_client.get(f"{URL}{webhook.pk}/deliveries/?page=9").status_code == 404


def test_the_webhook_list_costs_the_same_queries_however_long(
    staff_client, staff_user, django_assert_max_num_queries
):
    WebhookFactory.create_batch(3, created_by=staff_user)
    with django_assert_max_num_queries(4) as few:
        staff_client.get(URL)
    WebhookFactory.create_batch(20, created_by=staff_user)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(staff_client.get(URL).json()["results"]) == 20


def test_the_delivery_log_costs_the_same_queries_however_long(
    staff_client, webhook, django_assert_max_num_queries
):
    DeliveryFactory.create_batch(3, webhook=webhook)
    with django_assert_max_num_queries(5) as few:
        staff_client.get(f"{URL}{webhook.pk}/deliveries/")
    DeliveryFactory.create_batch(30, webhook=webhook)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(staff_client.get(f"{URL}{webhook.pk}/deliveries/").json()["results"]) == 20


def test_ping_is_accepted_and_sends_a_ping_whatever_the_subscriptions(staff_client, staff_user):
    webhook = WebhookFactory(events=["comment.added"], created_by=staff_user)
    response = staff_client.post(f"{URL}{webhook.pk}/ping/")
    assert response.status_code == 202
    assert response.json()["event"] == "ping" and response.json()["message_id"].startswith("msg_")
    assert emitted() == ["ping"]


def test_pinging_an_inactive_webhook_is_409_and_sends_nothing(staff_client, staff_user):
    webhook = WebhookFactory(is_active=False, created_by=staff_user)
    response = staff_client.post(f"{URL}{webhook.pk}/ping/")
    assert response.status_code == 409 and "inactive" in response.json()["detail"]
    assert emitted() == []


def test_the_api_root_links_to_webhooks(anon_client):
    assert anon_client.get("/api/v1/").json()["webhooks"].endswith("/api/v1/webhooks/")
