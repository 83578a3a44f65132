"""The admin for webhooks and their delivery log."""

import pytest
from django.contrib.messages import get_messages

from accounts.tests.factories import UserFactory
from webhooks.models import Webhook
from webhooks.tests.conftest import emitted
from webhooks.tests.factories import DeliveryFactory, WebhookFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


def test_adding_a_webhook_in_the_admin_shows_its_secret_once(admin_client):
    response = admin_client.post(
        "/admin/webhooks/webhook/add/",
        {"target_url": "https://hooks.example.com/a", "events": ["post.published"], "is_active": "on"},
        follow=True,
    )
    webhook = Webhook.objects.get()
    assert webhook.events == ["post.published"] and webhook.created_by.username == "root"
    assert any(webhook.secret in str(message) for message in get_messages(response.wsgi_request))
    page = admin_client.get(f"/admin/webhooks/webhook/{webhook.pk}/change/").content.decode()
    assert webhook.secret not in page


def test_the_admin_refuses_a_private_target_when_guarded(settings, admin_client):
    settings.WEBHOOK_ALLOW_PRIVATE = False
    response = admin_client.post(
        "/admin/webhooks/webhook/add/",
        {"target_url": "http://169.254.169.254/", "events": ["post.published"], "is_active": "on"},
    )
    assert response.status_code == 200  # the form again, with the error
    assert "not public" in response.content.decode()
    assert not Webhook.objects.exists()


def test_an_unchanged_target_is_not_checked_again_on_edit(settings, admin_client):
    webhook = WebhookFactory(target_url="http://10.0.0.5/hook")  # registered when allowed
    settings.WEBHOOK_ALLOW_PRIVATE = False
    response = admin_client.post(
        f"/admin/webhooks/webhook/{webhook.pk}/change/",
        {"target_url": webhook.target_url, "events": ["post.added"]},  # deactivating it
    )
    assert response.status_code == 302
    webhook.refresh_from_db()
    assert not webhook.is_active and webhook.events == ["post.added"]


def test_the_ping_action_pings_active_webhooks(admin_client):
    active, inactive = WebhookFactory(), WebhookFactory(is_active=False)
    admin_client.post(
        "/admin/webhooks/webhook/", {"action": "ping", "_selected_action": [active.pk, inactive.pk]}
    )
    assert emitted() == ["ping"]


def test_the_delivery_log_lists_filters_and_is_read_only(admin_client, django_assert_max_num_queries):
    webhook = WebhookFactory()
    DeliveryFactory.create_batch(3, webhook=webhook, status_code=500, error="HTTP 500")
    ok = DeliveryFactory(webhook=webhook)
    with django_assert_max_num_queries(12) as few:
        assert admin_client.get("/admin/webhooks/delivery/").status_code == 200
    DeliveryFactory.create_batch(20, webhook=webhook)
    with django_assert_max_num_queries(len(few.captured_queries)):
        admin_client.get("/admin/webhooks/delivery/")
    page = admin_client.get(f"/admin/webhooks/delivery/?webhook__id__exact={webhook.pk}&outcome=failure")
    assert page.status_code == 200 and page.context["cl"].result_count == 3
    page = admin_client.get("/admin/webhooks/delivery/?outcome=success")
    assert page.context["cl"].result_count == 21
    detail = admin_client.get(f"/admin/webhooks/delivery/{ok.pk}/change/")
    assert detail.status_code == 200 and ok.message_id in detail.content.decode()
    assert admin_client.get("/admin/webhooks/delivery/add/").status_code == 403
    assert admin_client.post(f"/admin/webhooks/delivery/{ok.pk}/delete/", {"post": "yes"}).status_code == 403
