"""Images on S3-compatible object storage (django-storages), against moto's standalone
server on 127.0.0.1: the same upload, stored in a bucket that serves it.

moto is a development requirement (requirements/dev.txt), so CI runs this; without it
the module is skipped.
"""

import json
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import closing

import pytest

from images.models import Image
from images.tests import files
from images.tests.helpers import media_path, opened, upload

pytest.importorskip("moto", reason="moto[server] is in requirements/dev.txt")
boto3 = pytest.importorskip("boto3")

pytestmark = pytest.mark.django_db

BUCKET = "blog-media"
CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing", "region_name": "us-east-1"}
START_TIMEOUT = 30


def free_port() -> int:
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def s3_endpoint():
    port = free_port()
    server = subprocess.Popen(  # noqa: S603 - moto's own server, from this interpreter
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            try:
                with urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=2):  # noqa: S310 - local server
                    break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"moto's server did not start on {endpoint}")
                time.sleep(0.2)
        yield endpoint
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)


@pytest.fixture
def bucket(s3_endpoint, settings):
    client = boto3.client("s3", endpoint_url=s3_endpoint, **CREDENTIALS)
    client.create_bucket(Bucket=BUCKET)
    # Public reads, as a bucket that serves a site's images is configured (README, "Images").
    public_read = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{BUCKET}/*",
            }
        ],
    }
    client.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps(public_read))
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": BUCKET,
                "endpoint_url": s3_endpoint,
                "access_key": CREDENTIALS["aws_access_key_id"],
                "secret_key": CREDENTIALS["aws_secret_access_key"],
                "region_name": CREDENTIALS["region_name"],
                "file_overwrite": False,
                "querystring_auth": False,
                "default_acl": None,
                "object_parameters": {"CacheControl": "public, max-age=31536000, immutable"},
            },
        },
    }
    yield client
    for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        client.delete_object(Bucket=BUCKET, Key=item["Key"])
    client.delete_bucket(Bucket=BUCKET)


def keys(client) -> list[str]:
    return sorted(item["Key"] for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", []))


def test_an_upload_is_stored_in_the_bucket_re_encoded_without_metadata(
    bucket, s3_endpoint, author_client, client, media_root
):
    response = upload(author_client, files.photo_with_gps(1000, 700, orientation=6))

    assert response.status_code == 201, response.json()
    body = response.json()
    image = Image.objects.get(pk=body["id"])
    assert keys(bucket) == sorted([image.file, image.renditions[0]["name"]])
    assert not media_root.exists()  # nothing on the file system
    # The bucket's own URLs, served from the bucket.
    assert body["url"] == f"{s3_endpoint}/{BUCKET}/{image.file}"
    original = bucket.get_object(Bucket=BUCKET, Key=image.file)
    assert original["ContentType"] == "image/jpeg"
    assert original["CacheControl"] == "public, max-age=31536000, immutable"
    data = original["Body"].read()
    picture = opened(data)
    assert picture.size == (700, 1000)
    assert not picture.getexif()
    assert b"Exif" not in data and b"Acme Camera" not in data
    rendition = bucket.get_object(Bucket=BUCKET, Key=image.renditions[0]["name"])
    assert rendition["ContentType"] == "image/webp"
    with urllib.request.urlopen(body["renditions"][0]["url"], timeout=10) as served:  # noqa: S310 - local server
        assert opened(served.read()).size == (600, 857)
    # The app's /media/ serves only the file system storage.
    assert client.get(media_path(f"/media/{image.file}")).status_code == 404


def test_deleting_an_image_deletes_its_objects(bucket, author_client, django_capture_on_commit_callbacks):
    body = upload(author_client, files.jpeg(1200, 800)).json()
    assert len(keys(bucket)) == 3

    with django_capture_on_commit_callbacks(execute=True):
        assert author_client.delete(f"/api/v1/media/{body['id']}/").status_code == 204

    assert keys(bucket) == []


def test_a_hostile_file_puts_nothing_in_the_bucket(bucket, author_client):
    response = upload(author_client, files.png_with_html_appended()[:100], content_type="image/png")

    assert response.status_code == 400
    assert keys(bucket) == []
