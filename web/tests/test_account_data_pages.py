"""``/settings/``: "Download my data" and "Delete my account" (behind a confirmation
page that asks for the password), through Django's test client."""

import re

import pytest
from django.test import Client

from accounts.models import User
from accounts.tests.factories import PASSWORD, FollowFactory, UserFactory
from images.models import Image
from posts.models import Post
from posts.tests.factories import CommentFactory, LikeFactory, PostFactory

pytestmark = pytest.mark.django_db

DELETE = "/settings/delete/"


def page(response) -> str:
    return response.content.decode()


@pytest.fixture
def me(client):
    user = UserFactory(username="alice", email="alice@example.com", display_name="Alice")
    client.force_login(user)
    return user


def test_settings_offer_the_download_and_the_deletion(client, me):
    html = page(client.get("/settings/"))
    assert re.search(r'<a [^>]*href="/api/v1/auth/me/export/"[^>]*download', html)
    assert "Download my data" in html
    assert f'href="{DELETE}"' in html and "Delete my account" in html


def test_download_my_data_gives_the_logged_in_user_their_export(client, me):
    PostFactory(author=me, title="My draft", draft=True)

    response = client.get("/api/v1/auth/me/export/")

    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="blog-export-alice-')
    data = response.json()
    assert data["profile"]["username"] == "alice"
    assert [post["title"] for post in data["posts"]] == ["My draft"]


def test_the_export_link_is_no_use_to_anyone_logged_out(me):
    assert Client().get("/api/v1/auth/me/export/").status_code == 401


def test_the_confirmation_page_says_what_goes_and_asks_for_the_password(client, me, image_of):
    other = UserFactory()
    PostFactory(author=me)
    PostFactory(author=me, draft=True)
    CommentFactory(post=PostFactory(author=other), author=me)
    LikeFactory(post=PostFactory(author=other), user=me)
    FollowFactory(follower=me, followed=other)
    image_of(me)

    response = client.get(DELETE)

    assert response.status_code == 200
    owned = re.search(r"<ul data-owned>(.*?)</ul>", page(response), re.S).group(1)
    text = " ".join(owned.split())
    assert "2 posts" in text and "1 comment and 1 like" in text and "1 image," in text
    assert "following 1 account, and 0 followers" in text
    assert 'type="password" name="password"' in page(response)
    assert 'autocomplete="current-password"' in page(response)
    assert User.objects.filter(pk=me.pk).exists()  # looking deletes nothing


def test_deleting_with_the_password_deletes_everything_and_logs_out(client, me, image_of):
    PostFactory(author=me)
    image_of(me)

    response = client.post(DELETE, {"password": PASSWORD})

    assert response.status_code == 200
    assert "Account deleted" in page(response) and "you are logged out" in page(response)
    assert not User.objects.filter(pk=me.pk).exists()
    assert not Post.objects.exists() and not Image.objects.exists()
    assert "_auth_user_id" not in client.session
    assert client.get("/settings/").status_code == 302  # to the login page
    assert client.post(DELETE, {"password": PASSWORD}).status_code == 302


def test_a_wrong_or_missing_password_deletes_nothing_and_says_so(client, me):
    PostFactory(author=me)

    wrong = client.post(DELETE, {"password": "not-my-password"})
    missing = client.post(DELETE, {})

    assert wrong.status_code == missing.status_code == 400
    assert "The password is not correct." in page(wrong)
    assert "This field is required." in page(missing)
    assert 'aria-invalid="true"' in page(wrong)
    assert User.objects.filter(pk=me.pk).exists() and Post.objects.count() == 1
    assert client.get("/settings/").status_code == 200  # still logged in


def test_the_deletion_needs_a_login_and_the_pages_csrf_token(me):
    assert Client().get(DELETE).status_code == 302
    assert Client().post(DELETE, {"password": PASSWORD}).status_code == 302

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(me)
    assert strict.post(DELETE, {"password": PASSWORD}).status_code == 403
    assert User.objects.filter(pk=me.pk).exists()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page(strict.get(DELETE))).group(1)
    assert strict.post(DELETE, {"password": PASSWORD, "csrfmiddlewaretoken": token}).status_code == 200
    assert not User.objects.filter(pk=me.pk).exists()


def test_the_page_spends_the_apis_deletion_budget(settings, client, me):
    settings.AUTH_THROTTLE_RATE = "1/minute"
    assert client.post(DELETE, {"password": "wrong"}).status_code == 400

    refused = client.post(DELETE, {"password": PASSWORD})

    assert refused.status_code == 429 and refused["Retry-After"]
    assert "Too many requests" in page(refused)
    assert User.objects.filter(pk=me.pk).exists()


def test_the_confirmation_page_has_the_security_headers_and_no_inline_script(client, me):
    response = client.get(DELETE)
    assert "unsafe-inline" not in re.search(r"script-src ([^;]*)", response["Content-Security-Policy"]).group(
        1
    )
    assert response["X-Frame-Options"] == "DENY"
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page(response))
    assert 'name="robots" content="noindex"' in page(response)
