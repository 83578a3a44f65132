"""/media/: the app serves stored images itself, with DEBUG off, and nothing else."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from images.tests import files
from images.tests.factories import make_image
from images.tests.helpers import content, media_path, served

pytestmark = pytest.mark.django_db


def test_every_stored_file_is_served_with_headers_that_let_nothing_run(client, author, settings):
    assert settings.DEBUG is False
    image = make_image(author, width=700, height=100)

    for url, content_type in [(image.url(), "image/jpeg"), (image.rendition_urls()[0]["url"], "image/webp")]:
        response = served(client, url)
        assert response.status_code == 200
        assert response["Content-Type"] == content_type
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Cache-Control"] == "public, max-age=31536000, immutable"
        assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"
        assert int(response["Content-Length"]) == len(content(response))


def test_serving_reads_no_database(client, author):
    url = media_path(make_image(author, width=100, height=100).url())

    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200

    assert len(captured) == 0


def test_head_is_answered_and_writes_are_not(client, author):
    url = media_path(make_image(author, width=100, height=100).url())

    assert client.head(url).status_code == 200
    assert client.post(url).status_code == 405


@pytest.mark.parametrize(
    "path",
    [
        "/media/images/2026/01/" + "0" * 32 + ".jpg",  # well formed, never stored
        "/media/images/../../config/settings/base.py",
        "/media/images/%2e%2e/%2e%2e/manage.py",
        "/media/..%2f..%2fmanage.py",
        "/media//etc/passwd",
        "/media/images/2026/01/notes.txt",
        "/media/images/",
        "/media/",
    ],
)
def test_missing_names_and_paths_outside_the_images_are_not_found(client, author, settings, path):
    make_image(author, width=100, height=100)
    # A file that is in the media folder but is no stored image is not served either.
    (settings.MEDIA_ROOT / "images" / "notes.txt").write_text("private")

    assert client.get(path).status_code == 404


def test_a_file_outside_the_image_names_is_not_served_even_if_present(client, settings, author):
    image = make_image(author, width=100, height=100)
    folder = (settings.MEDIA_ROOT / image.file).parent
    (folder / "page.html").write_bytes(files.HTML_PAGE)

    assert client.get(media_path(image.url()).rsplit("/", 1)[0] + "/page.html").status_code == 404
