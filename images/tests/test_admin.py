"""The image admin: thumbnails, the owner filter, alt text, and deletion that removes the
files."""

import pytest
from django.urls import reverse

from accounts.tests.factories import UserFactory
from images.models import Image
from images.tests.factories import make_image
from images.tests.helpers import stored_files

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


def test_the_list_shows_thumbnails_of_the_smallest_rendition(admin_client, author):
    image = make_image(author, width=1200, height=800, alt="Harbour")

    response = admin_client.get(reverse("admin:images_image_changelist"))

    assert response.status_code == 200
    page = response.content.decode()
    smallest = image.renditions[0]["name"]
    assert f'<img src="/media/{smallest}" width="120" height="80" alt="Harbour" loading="lazy">' in page
    assert "1200 x 800" in page


def test_the_list_filters_by_owner(admin_client, author, other_user):
    mine, theirs = make_image(author, width=100, height=100), make_image(other_user, width=100, height=100)

    response = admin_client.get(reverse("admin:images_image_changelist"), {"owner__id__exact": other_user.pk})

    assert [image.pk for image in response.context["cl"].result_list] == [theirs.pk]
    assert mine.pk != theirs.pk


def test_the_alt_text_is_edited_and_nothing_is_added_here(admin_client, author):
    image = make_image(author, width=100, height=100)
    url = reverse("admin:images_image_change", args=[image.pk])

    page = admin_client.get(url)
    response = admin_client.post(url, {"alt": "A cat"})

    assert page.status_code == 200 and f"/media/{image.file}" in page.content.decode()
    assert response.status_code == 302
    image.refresh_from_db()
    assert image.alt == "A cat"
    assert admin_client.get(reverse("admin:images_image_add")).status_code == 403


def test_deleting_in_the_admin_removes_the_files(
    admin_client, author, media_root, django_capture_on_commit_callbacks
):
    one, two = make_image(author, width=700, height=100), make_image(author, width=100, height=100)

    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(reverse("admin:images_image_delete", args=[one.pk]), {"post": "yes"})
        admin_client.post(
            reverse("admin:images_image_changelist"),
            {"action": "delete_selected", "_selected_action": [two.pk], "post": "yes"},
        )

    assert not Image.objects.exists()
    assert stored_files(media_root) == []
