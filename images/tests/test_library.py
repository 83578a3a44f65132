"""The media library: who sees which images, the list, alt text, deletion, quota and
throttling."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from images.models import Image
from images.tests import files
from images.tests.factories import make_image
from images.tests.helpers import MEDIA_LIST, served, stored_files, upload

pytestmark = pytest.mark.django_db


def detail(image: Image) -> str:
    return f"{MEDIA_LIST}{image.pk}/"


def test_anonymous_clients_are_asked_to_authenticate(anon_client, author):
    image = make_image(author, width=300, height=200)

    assert anon_client.get(MEDIA_LIST).status_code == 401
    assert upload(anon_client, files.png(8, 8)).status_code == 401
    assert anon_client.get(detail(image)).status_code == 401
    response = anon_client.delete(detail(image))
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_the_list_is_the_callers_images_newest_first(author_client, author, other_user):
    older = make_image(author, width=300, height=200)
    newer = make_image(author, width=300, height=200)
    make_image(other_user, width=300, height=200)

    response = author_client.get(MEDIA_LIST)

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    assert [item["id"] for item in body["results"]] == [newer.pk, older.pk]
    assert set(body) == {"count", "next", "previous", "results"}


def test_staff_see_everyones_images(staff_client, author, other_user):
    mine, theirs = make_image(author, width=300, height=200), make_image(other_user, width=300, height=200)

    ids = {item["id"] for item in staff_client.get(MEDIA_LIST).json()["results"]}

    assert ids == {mine.pk, theirs.pk}
    assert staff_client.get(detail(theirs)).status_code == 200


def test_the_list_is_paginated(author_client, author):
    for _ in range(3):
        make_image(author, width=100, height=100)

    body = author_client.get(MEDIA_LIST, {"page_size": 2}).json()

    assert body["count"] == 3 and len(body["results"]) == 2 and body["next"]
    assert author_client.get(MEDIA_LIST, {"page": 9}).status_code == 404


def test_the_list_costs_the_same_queries_at_any_length(author_client, author):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert author_client.get(MEDIA_LIST).status_code == 200
        return len(captured)

    make_image(author, width=700, height=100)
    few = queries()
    for _ in range(4):
        make_image(author, width=700, height=100)

    assert queries() == few <= 3  # the user, the count, the page


@pytest.mark.parametrize("method", ["get", "patch", "delete"])
def test_another_users_image_is_not_found(other_client, author, method):
    image = make_image(author, width=300, height=200)

    response = getattr(other_client, method)(detail(image), {"alt": "mine now"}, format="json")

    assert response.status_code == 404
    image.refresh_from_db()
    assert image.alt == ""


def test_the_owner_changes_the_alt_text_and_nothing_else(author_client, author):
    image = make_image(author, width=300, height=200)

    response = author_client.patch(detail(image), {"alt": "A harbour at dusk", "width": 1}, format="json")

    assert response.status_code == 200
    assert response.json()["alt"] == "A harbour at dusk"
    assert response.json()["width"] == 300
    image.refresh_from_db()
    assert (image.alt, image.width) == ("A harbour at dusk", 300)


def test_alt_text_is_changed_with_json_only(author_client, author):
    image = make_image(author, width=300, height=200)

    response = author_client.patch(detail(image), {"alt": "x"}, format="multipart")

    assert response.status_code == 415


def test_deleting_an_image_removes_every_file(
    author_client, anon_client, author, media_root, django_capture_on_commit_callbacks
):
    body = upload(author_client, files.jpeg(1200, 800)).json()
    urls = [body["url"], *(each["url"] for each in body["renditions"])]
    assert len(stored_files(media_root)) == 3

    with django_capture_on_commit_callbacks(execute=True):
        response = author_client.delete(f"{MEDIA_LIST}{body['id']}/")

    assert response.status_code == 204
    assert not Image.objects.exists()
    for url in urls:
        assert served(anon_client, url).status_code == 404
    assert stored_files(media_root) == []


def test_deleting_an_account_removes_its_images_files(author, media_root, django_capture_on_commit_callbacks):
    make_image(author, width=700, height=100)

    with django_capture_on_commit_callbacks(execute=True):
        author.delete()

    assert stored_files(media_root) == []


def test_files_stay_until_the_deletion_commits(author_client, author, media_root):
    image = make_image(author, width=700, height=100)

    # Inside the test's transaction, which never commits here.
    assert author_client.delete(detail(image)).status_code == 204

    assert len(stored_files(media_root)) == 2


def test_past_the_quota_an_upload_is_a_400_naming_file(author_client, author, settings, media_root):
    first = make_image(author, width=300, height=200)
    settings.MEDIA_QUOTA_BYTES = first.size + 100

    response = upload(author_client, files.jpeg(300, 200))

    assert response.status_code == 400
    assert "quota" in response.json()["file"][0]
    assert len(stored_files(media_root)) == 1
    assert Image.objects.count() == 1


def test_the_quota_is_per_user(other_client, author, settings):
    first = make_image(author, width=300, height=200)
    settings.MEDIA_QUOTA_BYTES = first.size

    assert upload(other_client, files.png(30, 20)).status_code == 201


def test_uploads_are_throttled_per_user(author_client, other_client, settings):
    settings.MEDIA_UPLOAD_RATE = "2/minute"

    statuses = [upload(author_client, files.png(8, 8)).status_code for _ in range(3)]

    assert statuses == [201, 201, 429]
    response = upload(author_client, files.png(8, 8))
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert upload(other_client, files.png(8, 8)).status_code == 201
    assert author_client.get(MEDIA_LIST).status_code == 200  # reading is not throttled
