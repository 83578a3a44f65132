"""The schema says what the server accepts, and the server keeps to it.

`make fuzz` checks both directions at scale (schemathesis with positive_data_acceptance
and negative_data_rejection on); these pin the decisions behind it: JSON types are taken
as the schema states them, strings refuse NUL and blank where the schema's pattern says
so, and the schema carries what generated clients need (formats, enums, required links,
operations that need no credentials).
"""

import re

import pytest
import yaml
from django.core.management import call_command

from conftest import client_for
from posts.tests.factories import CategoryFactory, PostFactory

pytestmark = pytest.mark.django_db

POSTS = "/api/v1/posts/"
ME = "/api/v1/auth/me/"


@pytest.fixture(scope="module")
def schema(tmp_path_factory, django_db_blocker) -> dict:
    path = tmp_path_factory.mktemp("schema") / "schema.yaml"
    with django_db_blocker.unblock():
        call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(path))
    return yaml.safe_load(path.read_text())


def component(schema: dict, name: str) -> dict:
    return schema["components"]["schemas"][name]


def refused(response, field: str) -> bool:
    return response.status_code == 400 and field in response.json()


# --- JSON types as the schema states them -------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("title", 12345),
        ("body", 1.5),
        ("excerpt", 7),
        ("tags", [1, 2]),
        ("status", 1),
        ("category", 5),
        ("cover_image", "1"),
        ("cover_image", True),
    ],
)
def test_a_post_field_of_the_wrong_json_type_is_a_400_naming_it(author_client, field, value):
    body = {"title": "Title", "body": "Body", field: value}
    response = author_client.post(POSTS, body, format="json")
    assert refused(response, field), response.content


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("display_name", 42),
        ("bio", 3.14),
        ("notify_comments", "yes"),
        ("notify_comments", 1),
        ("notify_followed_posts", "false"),
        ("avatar", "1"),
    ],
)
def test_a_profile_field_of_the_wrong_json_type_is_a_400_naming_it(author_client, field, value):
    assert refused(author_client.patch(ME, {field: value}, format="json"), field)


def test_a_comment_body_that_is_a_number_is_a_400(author_client, author):
    post = PostFactory(author=author)
    response = author_client.post(f"{POSTS}{post.slug}/comments/", {"body": 123}, format="json")
    assert refused(response, "body")


def test_a_webhook_flag_that_is_not_a_boolean_is_a_400(staff_client):
    body = {"target_url": "https://example.com/hook", "events": ["ping"], "is_active": "on"}
    assert refused(staff_client.post("/api/v1/webhooks/", body, format="json"), "is_active")


def test_sign_up_with_a_number_for_a_username_is_a_400(anon_client):
    body = {"username": 12345, "email": "n@example.com", "password": "a-long-unusual-passphrase"}
    assert refused(anon_client.post("/api/v1/auth/register/", body, format="json"), "username")


# --- Strings: blank, whitespace and NUL as the patterns say --------------------------------


@pytest.mark.parametrize(
    ("field", "value"), [("title", "   "), ("body", "\n\t "), ("title", "a\x00b"), ("body", "\x00")]
)
def test_blank_or_nul_text_is_a_400_naming_the_field(author_client, field, value):
    body = {"title": "Title", "body": "Body", field: value}
    assert refused(author_client.post(POSTS, body, format="json"), field)


def test_a_body_keeps_its_leading_whitespace(author_client):
    response = author_client.post(POSTS, {"title": "Code", "body": "    indented"}, format="json")
    assert response.status_code == 201 and response.json()["body"] == "    indented"


def test_an_empty_category_is_a_400_and_null_clears_it(author_client, author):
    CategoryFactory(slug="news")
    post = PostFactory(author=author, category=CategoryFactory(slug="old"))
    assert refused(author_client.patch(f"{POSTS}{post.slug}/", {"category": ""}, format="json"), "category")
    cleared = author_client.patch(f"{POSTS}{post.slug}/", {"category": None}, format="json")
    assert cleared.status_code == 200 and cleared.json()["category"] is None


def test_request_strings_say_they_refuse_nul_and_blank(schema):
    post = component(schema, "PostWriteRequest")["properties"]
    not_blank = post["title"]["pattern"]
    assert re.search(not_blank, "Hello")
    assert not re.search(not_blank, " \t") and not re.search(not_blank, "a\x00")
    assert post["body"]["pattern"] == not_blank  # kept untrimmed, yet blank when only whitespace
    excerpt = post["excerpt"]
    assert "oneOf" not in excerpt  # blank allowed: no second branch for the empty string
    assert re.search(excerpt["pattern"], "") and not re.search(excerpt["pattern"], "\x00")
    assert post["tags"]["items"]["pattern"] == not_blank


def test_usernames_are_ascii_in_the_schema_as_on_the_server(schema, anon_client):
    pattern = component(schema, "RegisterRequest")["properties"]["username"]["pattern"]
    assert re.search(pattern, "alice.b+c@d-e_f") and not re.search(pattern, "zoë")
    body = {"username": "zoë", "email": "z@example.com", "password": "a-long-unusual-passphrase"}
    assert refused(anon_client.post("/api/v1/auth/register/", body, format="json"), "username")


def test_url_parameters_say_they_refuse_nul(schema):
    parameters = schema["paths"]["/api/v1/posts/"]["get"]["parameters"]
    search = next(p for p in parameters if p["name"] == "search")
    assert not re.search(search["schema"]["pattern"], "a\x00b")
    slug = schema["paths"]["/api/v1/posts/{slug}/"]["get"]["parameters"][0]["schema"]["pattern"]
    assert re.search(slug, "hello-1") and not re.search(slug, "a\x00") and not re.search(slug, "a/b")


# --- What generated clients need ----------------------------------------------------------


def test_pages_are_from_1_and_links_always_present(schema):
    parameters = {p["name"]: p for p in schema["paths"]["/api/v1/tags/"]["get"]["parameters"]}
    assert parameters["page"]["schema"] == {"type": "integer", "minimum": 1}
    assert parameters["page_size"]["schema"] == {"type": "integer", "minimum": 1}
    page = component(schema, "PaginatedPostListList")
    assert set(page["required"]) == {"count", "next", "previous", "results"}
    assert page["properties"]["next"]["nullable"] is True


def test_operations_without_credentials_say_so(schema):
    for path in ("auth/register/", "auth/token/", "auth/logout/", "auth/password-reset/"):
        assert schema["paths"][f"/api/v1/{path}"]["post"].get("security", []) == []
    # Reading a post needs none, yet credentials change the answer (drafts, `liked`).
    assert {} in schema["paths"]["/api/v1/posts/{slug}/"]["get"]["security"]


def test_the_upload_names_the_image_types_its_file_may_be(schema):
    upload = schema["paths"]["/api/v1/media/"]["post"]["requestBody"]["content"]["multipart/form-data"]
    types = {t.strip() for t in upload["encoding"]["file"]["contentType"].split(",")}
    assert types == {"image/jpeg", "image/png", "image/gif", "image/webp"}


def test_webhook_events_are_an_enum(schema):
    from webhooks.models import EVENTS

    assert component(schema, "WebhookEvent")["enum"] == list(EVENTS)
    assert component(schema, "WebhookRequest")["properties"]["target_url"]["format"] == "uri"


def test_a_staff_client_can_still_create_a_webhook_with_booleans(staff_user):
    body = {"target_url": "https://example.com/hook", "events": ["ping"], "is_active": False}
    response = client_for(staff_user).post("/api/v1/webhooks/", body, format="json")
    assert response.status_code == 201 and response.json()["is_active"] is False


def test_a_password_with_surrounding_spaces_logs_in_as_it_was_set(anon_client):
    password = "  a-long-unusual-passphrase  "
    body = {"username": "spaced", "email": "s@example.com", "password": password}
    assert anon_client.post("/api/v1/auth/register/", body, format="json").status_code == 201
    login = "/api/v1/auth/token/"
    as_set = {"username": "spaced", "password": password}
    assert anon_client.post(login, as_set, format="json").status_code == 200
    trimmed = {"username": "spaced", "password": password.strip()}
    assert anon_client.post(login, trimmed, format="json").status_code == 401


def test_a_login_with_a_number_for_a_username_is_a_400(anon_client):
    body = {"username": 12345, "password": "whatever"}
    assert refused(anon_client.post("/api/v1/auth/token/", body, format="json"), "username")
