"""Uploading images through POST /api/v1/media/: what is stored, what is answered, and
what is served afterwards."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIRequestFactory

from images.models import Image
from images.serializers import ImageRefSerializer
from images.tests import files
from images.tests.factories import make_image
from images.tests.helpers import MEDIA_LIST, content, opened, served, stored_files, upload

pytestmark = pytest.mark.django_db

STORED_NAME = re.compile(r"images/\d{4}/\d{2}/[0-9a-f]{32}\.(jpg|png|webp)")


def test_an_uploaded_jpeg_is_answered_with_the_image(author_client, author):
    response = upload(author_client, files.jpeg(800, 600), alt="A red and blue flag")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert set(body) == {
        "id", "url", "width", "height", "content_type", "size", "alt", "renditions", "created_at",
    }  # fmt: skip
    assert (body["width"], body["height"], body["content_type"]) == (800, 600, "image/jpeg")
    assert body["alt"] == "A red and blue flag"
    assert body["url"].startswith("http://testserver/media/images/")
    assert body["renditions"] == [
        {"width": 600, "url": body["renditions"][0]["url"], "content_type": "image/webp"}
    ]
    image = Image.objects.get(pk=body["id"])
    assert image.owner == author
    assert body["size"] == image.size


def test_the_stored_original_is_re_encoded_and_served_with_safe_headers(author_client, anon_client):
    original = files.jpeg(800, 600)
    body = upload(author_client, original).json()

    response = served(anon_client, body["url"])

    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"] == "public, max-age=31536000, immutable"
    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"
    data = content(response)
    assert data != original  # re-encoded from the pixels, never the bytes as sent
    assert len(data) == body["size"]
    assert opened(data).size == (800, 600)


def test_file_names_are_random_and_nothing_of_the_clients_name_is_kept(author_client, media_root):
    first = upload(author_client, files.png(32, 32), name="my holiday.png", content_type="image/png").json()
    second = upload(author_client, files.png(32, 32), name="my holiday.png", content_type="image/png").json()

    names = [Image.objects.get(pk=body["id"]).file for body in (first, second)]
    assert all(STORED_NAME.fullmatch(name) for name in names)
    assert names[0] != names[1]
    assert not any("holiday" in str(path) for path in stored_files(media_root))


def test_a_path_in_the_file_name_reaches_no_path(author_client, media_root, tmp_path):
    # Built by hand: test clients strip directories from file names, attackers do not.
    boundary = "BoUnDaRy"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="../../etc/x.jpg"\r\n'
            "Content-Type: image/jpeg\r\n\r\n"
        ).encode()
        + files.jpeg(64, 64)
        + f"\r\n--{boundary}--\r\n".encode()
    )

    response = author_client.generic(
        "POST", MEDIA_LIST, body, content_type=f"multipart/form-data; boundary={boundary}"
    )

    assert response.status_code == 201, response.json()
    assert STORED_NAME.fullmatch(Image.objects.get().file)
    assert all(path.is_relative_to(media_root) for path in tmp_path.rglob("*") if path.is_file())
    assert not (tmp_path / "etc").exists()


def test_renditions_are_webp_at_the_widths_narrower_than_the_image(author_client, anon_client):
    body = upload(author_client, files.jpeg(2000, 1000)).json()

    assert [each["width"] for each in body["renditions"]] == [600, 1000, 1600]
    for each in body["renditions"]:
        response = served(anon_client, each["url"])
        assert response.status_code == 200
        assert response["Content-Type"] == "image/webp"
        picture = opened(content(response))
        assert picture.format == "WEBP"
        assert picture.size == (each["width"], each["width"] // 2)


def test_an_image_narrower_than_the_smallest_rendition_has_none(author_client):
    body = upload(author_client, files.jpeg(500, 400)).json()

    assert body["renditions"] == []


def test_a_wide_image_gets_every_rendition_and_is_never_upscaled(author_client):
    body = upload(author_client, files.jpeg(2400, 100)).json()

    assert [each["width"] for each in body["renditions"]] == [600, 1000, 1600]
    body = upload(author_client, files.jpeg(2401, 100)).json()
    assert [each["width"] for each in body["renditions"]] == [600, 1000, 1600, 2400]


def test_a_photo_loses_its_gps_position_and_all_metadata_and_stands_up(author_client, anon_client):
    # Taken with the camera turned: 400 x 300 sensor pixels, EXIF orientation 6.
    body = upload(author_client, files.photo_with_gps(400, 300, orientation=6)).json()

    assert (body["width"], body["height"]) == (300, 400)
    data = content(served(anon_client, body["url"]))
    picture = opened(data)
    assert picture.size == (300, 400)
    assert not picture.getexif()
    assert not {"exif", "icc_profile", "comment", "xmp"} & set(picture.info)
    for secret in (b"Exif", b"Acme Camera", b"taken at home", b"GPS"):
        assert secret not in data
    # Turned a quarter clockwise: the sensor's left (red) half is now the top.
    top, bottom = picture.getpixel((150, 50)), picture.getpixel((150, 350))
    assert top[0] > 150 and top[2] < 100
    assert bottom[2] > 150 and bottom[0] < 100
    for each in body["renditions"]:
        assert b"Exif" not in content(served(anon_client, each["url"]))


@pytest.mark.parametrize(
    ("data", "content_type", "stored_type", "mode"),
    [
        (files.png(64, 48), "image/png", "image/png", "RGB"),
        (files.png(64, 48, mode="RGBA"), "image/png", "image/png", "RGBA"),
        (files.webp(64, 48), "image/webp", "image/webp", "RGB"),
        (files.animated_gif(64, 48), "image/gif", "image/png", None),
    ],
    ids=["png", "png-with-alpha", "webp", "animated-gif"],
)
def test_each_accepted_format_is_stored_re_encoded(
    author_client, anon_client, data, content_type, stored_type, mode
):
    body = upload(author_client, data, name="picture", content_type=content_type).json()

    assert (body["width"], body["height"], body["content_type"]) == (64, 48, stored_type)
    picture = opened(content(served(anon_client, body["url"])))
    assert picture.get_format_mimetype() == stored_type
    if mode:
        assert picture.mode == mode


def test_an_animated_gif_keeps_its_first_frame_as_a_still_png(author_client, anon_client):
    body = upload(author_client, files.animated_gif(120, 80), content_type="image/gif").json()

    picture = opened(content(served(anon_client, body["url"])))
    assert picture.format == "PNG"
    assert not getattr(picture, "is_animated", False)
    assert picture.convert("RGB").getpixel((10, 40))[0] > 150  # the first frame's red half


def test_the_type_is_recognised_by_content_not_by_name_or_declared_type(author_client):
    response = upload(author_client, files.png(40, 30), name="photo.jpg", content_type="image/jpeg")

    assert response.status_code == 201
    assert response.json()["content_type"] == "image/png"


def test_a_cmyk_jpeg_is_stored_as_rgb(author_client, anon_client):
    cmyk = files.encoded(files.picture(64, 48).convert("CMYK"), "JPEG")

    body = upload(author_client, cmyk).json()

    picture = opened(content(served(anon_client, body["url"])))
    assert picture.mode == "RGB"
    assert picture.getpixel((5, 5))[0] > 150


def test_sixteen_bit_greyscale_keeps_its_tones(author_client, anon_client):
    grey = files.Image.new("I;16", (40, 30), 32768)  # mid grey on 16 bits

    body = upload(author_client, files.encoded(grey, "PNG"), content_type="image/png").json()

    picture = opened(content(served(anon_client, body["url"])))
    assert picture.mode == "L"
    assert 120 <= picture.getpixel((5, 5)) <= 136


def test_alt_text_is_optional_and_limited(author_client):
    assert upload(author_client, files.png(8, 8)).json()["alt"] == ""
    response = upload(author_client, files.png(8, 8), alt="x" * 301)
    assert response.status_code == 400
    assert "alt" in response.json()


def test_a_field_sent_twice_is_a_400_naming_it_and_stores_nothing(author_client, media_root):
    response = upload(author_client, files.png(8, 8), alt=["first", "second"])

    assert response.status_code == 400
    assert response.json() == {"alt": ["Send one value."]}
    assert stored_files(media_root) == []


def test_a_request_without_a_file_is_a_400_naming_file(author_client, media_root):
    response = author_client.post(MEDIA_LIST, {"alt": "nothing"}, format="multipart")

    assert response.status_code == 400
    assert "file" in response.json()
    assert stored_files(media_root) == []


def test_an_empty_file_is_a_400_naming_file(author_client):
    response = author_client.post(
        MEDIA_LIST, {"file": SimpleUploadedFile("empty.jpg", b"")}, format="multipart"
    )

    assert response.status_code == 400
    assert "file" in response.json()


def test_a_json_upload_is_refused_as_unsupported(author_client):
    response = author_client.post(MEDIA_LIST, {"file": "aGVsbG8="}, format="json")

    assert response.status_code == 415


def test_urls_are_built_on_the_site_url_when_it_is_set(author_client, settings):
    settings.SITE_URL = "https://blog.example.com"

    body = upload(author_client, files.jpeg(700, 100)).json()

    assert body["url"].startswith("https://blog.example.com/media/images/")
    assert body["renditions"][0]["url"].startswith("https://blog.example.com/media/images/")


def test_transparency_survives_in_the_renditions(author_client, anon_client):
    clear = files.Image.new("RGBA", (800, 400), (0, 0, 0, 0))
    clear.paste((200, 0, 0, 255), (0, 0, 400, 400))  # left half opaque red

    body = upload(author_client, files.encoded(clear, "PNG"), content_type="image/png").json()

    rendition = opened(content(served(anon_client, body["renditions"][0]["url"])))
    assert rendition.mode == "RGBA"
    assert rendition.getpixel((550, 100))[3] == 0
    red = rendition.getpixel((50, 100))
    assert red[3] == 255 and red[0] > 180


def test_a_reference_to_an_image_carries_what_a_page_needs_to_show_it(author):
    image = make_image(author, width=1200, height=800, alt="Harbour")
    request = APIRequestFactory().get("/")

    data = ImageRefSerializer(image, context={"request": request}).data

    assert data == {
        "id": image.pk,
        "url": f"http://testserver/media/{image.file}",
        "width": 1200,
        "height": 800,
        "alt": "Harbour",
        "renditions": [
            {
                "width": 600,
                "url": f"http://testserver/media/{image.renditions[0]['name']}",
                "content_type": "image/webp",
            },
            {
                "width": 1000,
                "url": f"http://testserver/media/{image.renditions[1]['name']}",
                "content_type": "image/webp",
            },
        ],
    }
