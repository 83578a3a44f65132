"""The media endpoints in the OpenAPI schema: an upload is multipart with a binary file."""

import pytest
import yaml
from django.core.management import call_command

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def schema(tmp_path_factory, django_db_blocker):
    path = tmp_path_factory.mktemp("schema") / "schema.yaml"
    with django_db_blocker.unblock():
        call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(path))
    return yaml.safe_load(path.read_text())


def test_an_upload_is_documented_as_multipart_with_a_binary_file(schema):
    upload = schema["paths"]["/api/v1/media/"]["post"]

    assert list(upload["requestBody"]["content"]) == ["multipart/form-data"]
    ref = upload["requestBody"]["content"]["multipart/form-data"]["schema"]["$ref"].rsplit("/", 1)[-1]
    request = schema["components"]["schemas"][ref]
    assert request["properties"]["file"]["format"] == "binary"
    assert request["required"] == ["file"]
    assert {"201", "400", "401", "413", "429"} <= set(upload["responses"])


def test_the_library_endpoints_are_documented(schema):
    item = schema["paths"]["/api/v1/media/{id}/"]

    assert set(item) >= {"get", "patch", "delete"}
    assert "put" not in item
    assert "page" in {p["name"] for p in schema["paths"]["/api/v1/media/"]["get"]["parameters"]}
    image = schema["components"]["schemas"]["Image"]
    assert set(image["properties"]) == {
        "id", "url", "width", "height", "content_type", "size", "alt", "renditions", "created_at",
    }  # fmt: skip
