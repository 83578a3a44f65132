"""OpenAPI post-processing: the error responses every client must handle, and what the
URL's and bodies' strings may hold."""

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
