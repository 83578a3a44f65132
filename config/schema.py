"""OpenAPI post-processing: document the error responses every client must handle."""

from typing import Any

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
            for code, response in responses.items():
                # A view may describe an error of its own (the upload's 413): same body.
                if code in ERROR_DESCRIPTIONS and "content" not in response:
                    response["content"] = _error(code)["content"]
    return result
