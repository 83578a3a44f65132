"""The OpenAPI schema validates without warnings and documents the blog's endpoints."""

import pytest
import yaml
from django.core.management import call_command

pytestmark = pytest.mark.django_db

LIST_FILTERS = {
    "author",
    "tag",
    "category",
    "published_after",
    "published_before",
    "search",
    "ordering",
    "page",
    "page_size",
}


@pytest.fixture(scope="module")
def schema(tmp_path_factory):
    path = tmp_path_factory.mktemp("schema") / "schema.yaml"
    # --fail-on-warn turns any warning (an unresolvable field, a missing type) into an error.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(path))
    return yaml.safe_load(path.read_text())


def operation(schema, path, method):
    return schema["paths"][f"/api/v1/{path}"][method]


def params(op) -> set[str]:
    return {p["name"] for p in op.get("parameters", []) if p["in"] == "query"}


def request_ref(op) -> str:
    return op["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]


def response_ref(op, code) -> str | None:
    content = op["responses"][code].get("content")
    if not content:
        return None
    return content["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]


@pytest.mark.parametrize("path", ["posts/", "feed/", "auth/me/posts/"])
def test_post_lists_show_every_filter(schema, path):
    op = operation(schema, path, "get")
    assert params(op) >= LIST_FILTERS
    assert response_ref(op, "200") == "PaginatedPostListList"
    described = {p["name"]: p.get("description", "") for p in op["parameters"]}
    assert "like_count" in described["ordering"]
    assert "inclusive" in described["published_after"] and "exclusive" in described["published_before"]


def test_my_posts_status_filter(schema):
    status = next(
        p for p in operation(schema, "auth/me/posts/", "get")["parameters"] if p["name"] == "status"
    )
    assert set(status["schema"]["enum"]) == {"draft", "scheduled", "published"}


def test_dates_are_a_date_or_a_datetime(schema):
    for p in operation(schema, "posts/", "get")["parameters"]:
        if p["name"].startswith("published_"):
            assert p["schema"] == {
                "anyOf": [{"type": "string", "format": "date"}, {"type": "string", "format": "date-time"}]
            }


@pytest.mark.parametrize(
    ("path", "method", "request_name", "code", "response_name"),
    [
        ("posts/", "post", "PostWriteRequest", "201", "PostDetail"),
        ("posts/{slug}/", "get", None, "200", "PostDetail"),
        ("posts/{slug}/", "put", "PostWriteRequest", "200", "PostDetail"),
        ("posts/{slug}/", "patch", "PatchedPostWriteRequest", "200", "PostDetail"),
        ("posts/{slug}/", "delete", None, "204", None),
        ("posts/{slug}/like/", "post", None, "200", "LikeState"),
        ("posts/{slug}/like/", "delete", None, "200", "LikeState"),
        ("posts/{slug}/comments/", "get", None, "200", "PaginatedCommentList"),
        ("posts/{slug}/comments/", "post", "CommentRequest", "201", "Comment"),
        ("comments/{id}/", "get", None, "200", "Comment"),
        ("comments/{id}/", "patch", "PatchedCommentRequest", "200", "Comment"),
        ("comments/{id}/", "delete", None, "204", None),
        ("tags/", "get", None, "200", "PaginatedTagList"),
        ("categories/", "get", None, "200", "PaginatedCategoryList"),
        ("categories/", "post", "CategoryRequest", "201", "Category"),
        ("categories/{slug}/", "patch", "PatchedCategoryRequest", "200", "Category"),
        ("users/{username}/follow/", "post", None, "200", "FollowState"),
        ("users/{username}/follow/", "delete", None, "200", "FollowState"),
    ],
)
def test_bodies_and_responses(schema, path, method, request_name, code, response_name):
    op = operation(schema, path, method)
    if request_name:
        assert request_ref(op) == request_name
    else:
        assert "requestBody" not in op
    assert response_ref(op, code) == response_name


@pytest.mark.parametrize("path", ["posts/{slug}/comments/", "tags/", "categories/"])
def test_other_lists_are_paginated(schema, path):
    assert params(operation(schema, path, "get")) >= {"page", "page_size"}


def test_write_schema_matches_the_contract(schema):
    components = schema["components"]["schemas"]
    write = components["PostWriteRequest"]
    assert set(write["properties"]) == {
        "title",
        "body",
        "excerpt",
        "category",
        "tags",
        "status",
        "published_at",
        "cover_image",
    }
    assert set(write["required"]) == {"title", "body"}
    assert write["properties"]["title"]["maxLength"] == 200
    assert write["properties"]["tags"]["maxItems"] == 20
    detail = components["PostDetail"]["properties"]
    assert {"body", "body_html", "liked", "url", "reading_time", "status"} <= set(detail)
    status_enum = detail["status"]["allOf"][0]["$ref"].rsplit("/", 1)[-1]
    assert set(components[status_enum]["enum"]) == {"draft", "scheduled", "published"}
    assert components["CommentRequest"]["properties"]["body"]["maxLength"] == 5000
