"""OpenAPI post-processing: the error responses every client must handle, and what the
URL's and bodies' strings may hold."""

import copy
from typing import Any

from config.fields import NO_NUL

ERROR_SCHEMA = {
    "type": "object",
    "description": (
        'DRF\'s error shape: `{"detail": "message"}`, or for invalid input `{"field": ["message", ...]}`.'
    ),
    "properties": {
        # 401s too: config.exceptions drops the code and reasons simplejwt adds.
        "detail": {"type": "string"},
    },
    # A list field's errors are keyed by item index: {"tags": {"3": ["..."]}}.
    "additionalProperties": {
        "anyOf": [{"type": "array", "items": {"type": "string"}}, {"type": "object"}],
    },
}
ERROR_DESCRIPTIONS = {
    "400": "Invalid input, malformed JSON or a bad filter value.",
    "401": "Missing, expired or invalid credentials (`WWW-Authenticate: Bearer`).",
    "403": "Authenticated but not allowed.",
    "404": "No such object, or one the caller may not see; in a list, a page past the end or malformed.",
    "413": "Request body over the 2.5 MB limit.",
    "415": "The body is not JSON.",
    "429": "Throttled; see the `Retry-After` header.",
}
# Refused by the HTTP server before the app sees the request: JSON behind the compose
# stack's nginx, gunicorn's own text/html when gunicorn is exposed directly.
URI_TOO_LONG = {"description": "Request line (URL with its query) over 8 KB."}
THROTTLED_PATHS = (
    "/auth/register/",
    "/auth/token/",
    "/auth/token/refresh/",
    "/auth/password/",
    "/auth/password-reset/",
    "/auth/password-reset/confirm/",
    "/auth/verify-email/",
    "/auth/verify-email/resend/",
)
WRITE_METHODS = {"post", "put", "patch", "delete"}


def _error(code: str) -> dict[str, Any]:
    content = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    return {"description": ERROR_DESCRIPTIONS[code], "content": content}


def add_error_responses(result: dict[str, Any], generator, request, public) -> dict[str, Any]:
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            if method not in WRITE_METHODS | {"get"}:
                continue
            responses = operation.setdefault("responses", {})
            codes = ["401"]
            if method in {"post", "put", "patch"} or operation.get("parameters"):
                codes.append("400")
            if method in {"post", "put", "patch"} and operation.get("requestBody"):
                codes += ["413", "415"]
            if method in WRITE_METHODS:
                codes.append("403")
            paged = any(p.get("name") == "page" for p in operation.get("parameters", []))
            if "{" in path or paged:
                codes.append("404")
            if path.endswith(THROTTLED_PATHS) and method == "post":
                codes.append("429")
            for code in codes:
                responses.setdefault(code, _error(code))
            if operation.get("parameters"):
                responses.setdefault("414", URI_TOO_LONG)
            for code, response in responses.items():
                # A view may describe an error of its own (the upload's 413): same body.
                if code in ERROR_DESCRIPTIONS and "content" not in response:
                    response["content"] = _error(code)["content"]
    return result


def _refuse_nul(schema: dict[str, Any]) -> None:
    """Make a URL parameter's string schema refuse NUL, as ``NullByteMiddleware`` does."""
    if schema.get("type") != "string" or "enum" in schema or "format" in schema:
        return
    pattern = schema.get("pattern")
    if pattern is None:
        schema["pattern"] = NO_NUL
    elif pattern.startswith("^[^") and "\\u0000" not in pattern:
        # A path converter's class of characters, such as ^[^/]+$: NUL joins it.
        schema["pattern"] = "^[^\\u0000" + pattern[3:]


def _collapse_blank_alternative(schema: dict[str, Any]) -> None:
    """drf-spectacular offers ``{"maxLength": 0}`` beside a pattern when blank is allowed;
    ``NO_NUL`` admits the empty string already, so the plain string is the whole truth."""
    choices = schema.get("oneOf")
    if not (isinstance(choices, list) and len(choices) == 2):
        return
    inner, blank = choices
    if blank == {"type": "string", "maxLength": 0} and inner.get("pattern") == NO_NUL:
        del schema["oneOf"]
        schema.update(inner)


def describe_strings(result: dict[str, Any], generator, request, public) -> dict[str, Any]:
    """No string the API takes may hold NUL: PostgreSQL cannot store or compare it, and the
    API refuses it with a 400 (``config.middleware.NullByteMiddleware`` in URLs, every
    serializer field in bodies). Request bodies say so through ``config.fields``; URL
    parameters, which django-filter and the routers describe, are given the pattern here."""
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                if parameter.get("in") in {"path", "query"}:
                    _refuse_nul(parameter.get("schema", {}))
    for component in result.get("components", {}).get("schemas", {}).values():
        for prop in component.get("properties", {}).values():
            _collapse_blank_alternative(prop)
    return result


def mark_anonymous_operations(result: dict[str, Any], generator, request, public) -> dict[str, Any]:
    """Operations that authenticate nobody (sign-up, log-in, resets) need no credentials:
    ``security: []``. drf-spectacular writes one empty requirement (``[{}]``), which means
    the same, but generated clients (openapi-python-client) take any requirement for "a
    token is needed" and would demand one for signing up."""
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            if operation.get("security") == [{}]:
                operation["security"] = []
    return result


# The /api/v1/ reads whose anonymous answers carry the generation ETag
# (config.http_cache.GENERATION_ROUTES): each documents If-None-Match and its 304.
CONDITIONAL_READS = (
    "/api/v1/posts/",
    "/api/v1/posts/{slug}/",
    "/api/v1/posts/{slug}/comments/",
    "/api/v1/comments/{id}/",
    "/api/v1/tags/",
    "/api/v1/tags/{slug}/",
    "/api/v1/categories/",
    "/api/v1/categories/{slug}/",
    "/api/v1/users/{username}/",
)
CONDITIONAL_REQUESTS = (
    "\n\n**Caching.** Every `GET` answered 200 carries an `ETag` (unless it is `no-store`, "
    "like the export); sending it back in `If-None-Match` (strong or `W/` form, a list, or "
    "`*`) gets a `304` with no body while the answer is unchanged. Anonymous reads of posts, "
    "comments, tags, categories and profiles (and Conduit's, the feeds and the pages) have an "
    "ETag computed from what every write moves, so their `304` costs the server no rendering "
    "and no query. Answers to requests without credentials are `Cache-Control: public, "
    "no-cache`: a shared cache (a CDN) may store them but must revalidate each use, so a "
    "write shows at once and revalidating costs a `304`. Answers to requests with "
    "credentials, which may show what only the caller sees (`liked`, `following`, drafts), "
    "and any answer that sets a cookie, are `private`. All say `Vary: Accept, "
    "Authorization, Cookie`."
)
ETAG_HEADER = {
    "description": "The answer's validator, for `If-None-Match`. Weak (`W/`) when made from "
    "the cache generation, strong when hashed from the body.",
    "schema": {"type": "string"},
}
IF_NONE_MATCH = {
    "in": "header",
    "name": "If-None-Match",
    "required": False,
    "description": "ETags of answers the client holds: a `304` with no body while one of them "
    "is still current.",
    "schema": {"type": "string"},
}
NOT_MODIFIED = {
    "description": "Not modified: the `ETag` in `If-None-Match` is current. No body; the "
    "`ETag`, `Vary` and `Cache-Control` headers are those of the 200.",
    "headers": {"ETag": ETAG_HEADER},
}


def describe_conditional_requests(result: dict[str, Any], generator, request, public) -> dict[str, Any]:
    """ETags and 304s (config.http_cache): said once for the API, and on the public reads
    whose 304 costs nothing, with ``If-None-Match`` and the 304 response."""
    info = result.setdefault("info", {})
    info["description"] = info.get("description", "") + CONDITIONAL_REQUESTS
    for path, operations in result.get("paths", {}).items():
        operation = operations.get("get")
        if operation is None or path not in CONDITIONAL_READS:
            continue
        operation.setdefault("parameters", []).append(copy.deepcopy(IF_NONE_MATCH))
        responses = operation.setdefault("responses", {})
        responses["304"] = copy.deepcopy(NOT_MODIFIED)
        if "200" in responses:
            responses["200"].setdefault("headers", {})["ETag"] = copy.deepcopy(ETAG_HEADER)
    return result
