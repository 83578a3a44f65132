"""Issue 14's hostile files: each is a 400 naming ``file``, answered quickly, that stores
nothing (no file, no row). The one that decodes (a PNG with HTML appended) is stored
re-encoded, and what is served contains nothing of the HTML."""

import time

import pytest

from images.models import Image
from images.tests import files
from images.tests.helpers import MEDIA_LIST, content, served, stored_files, upload

pytestmark = pytest.mark.django_db

HOSTILE = {
    "svg-with-script": (files.SVG_WITH_SCRIPT, "evil.svg", "image/svg+xml"),
    "html-renamed-jpg": (files.HTML_PAGE, "cute-cat.jpg", "image/jpeg"),
    "pdf-declared-png": (files.PDF, "picture.png", "image/png"),
    "truncated-jpeg": (files.truncated_jpeg(), "photo.jpg", "image/jpeg"),
    "decompression-bomb": (files.png_bomb(), "small.png", "image/png"),
    "garbage": (b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "broken.png", "image/png"),
}


@pytest.mark.parametrize("case", HOSTILE.values(), ids=HOSTILE.keys())
def test_a_hostile_file_is_a_quick_400_naming_file_that_stores_nothing(author_client, media_root, case):
    data, name, content_type = case
    started = time.monotonic()

    response = upload(author_client, data, name=name, content_type=content_type)

    assert time.monotonic() - started < 5
    assert response.status_code == 400
    body = response.json()
    assert list(body) == ["file"]
    assert isinstance(body["file"][0], str) and body["file"][0]
    assert stored_files(media_root) == []
    assert not Image.objects.exists()


def test_the_decompression_bomb_is_small_and_refused_for_its_pixels(author_client):
    bomb = files.png_bomb()
    assert len(bomb) < 200_000  # a few hundred KB that would inflate to 900 MB of pixels

    response = upload(author_client, bomb, name="small.png", content_type="image/png")

    assert "megapixels" in response.json()["file"][0]


def test_an_image_over_the_pixel_limit_is_refused_before_decoding(author_client, settings, media_root):
    settings.MEDIA_MAX_PIXELS = 10_000

    at_limit = upload(author_client, files.png(100, 100), content_type="image/png")
    over = upload(author_client, files.png(101, 100), content_type="image/png")

    assert at_limit.status_code == 201
    assert over.status_code == 400
    assert "megapixels" in over.json()["file"][0]
    assert len(stored_files(media_root)) == 1


def test_a_png_with_html_appended_is_served_as_pixels_only(author_client, anon_client):
    response = upload(author_client, files.png_with_html_appended(), name="x.png", content_type="image/png")

    assert response.status_code == 201
    body = response.json()
    for url in [body["url"], *(each["url"] for each in body["renditions"])]:
        data = content(served(anon_client, url))
        assert b"<html" not in data.lower()
        assert b"<script" not in data.lower()


def test_a_file_one_byte_over_the_limit_is_a_400_naming_file(author_client, settings, media_root):
    data = files.png(40, 40)
    settings.MEDIA_MAX_BYTES = len(data) - 1

    response = upload(author_client, data, content_type="image/png")

    assert response.status_code == 400
    assert "file" in response.json()
    assert stored_files(media_root) == []


def test_a_body_over_the_upload_limit_is_refused_with_a_413_before_it_is_read(
    author_client, settings, media_root
):
    settings.MEDIA_MAX_BYTES = 1000
    # Larger than the file limit plus the envelope's allowance.
    data = files.HTML_PAGE * (70 * 1024 // len(files.HTML_PAGE) + 1)

    response = upload(author_client, data)

    assert response.status_code == 413
    assert "too large" in response.json()["detail"]
    assert stored_files(media_root) == []
    assert not Image.objects.exists()


def test_only_the_upload_endpoint_takes_bodies_over_the_api_limit(author_client, settings):
    big = {"title": "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)}

    assert author_client.post("/api/v1/posts/", big, format="json").status_code == 413
    assert author_client.patch(f"{MEDIA_LIST}1/", big, format="json").status_code == 413
