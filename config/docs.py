"""The OpenAPI schema and its two HTML renderings (Swagger UI, ReDoc) under /api/v1/.

drf-spectacular's views with the API's manners. Their errors were rendered by the view's
first renderer: an HTML page from the UIs (``/docs/?format=x`` was an HTML 404, an
``Accept: application/json`` an HTML 406) and YAML from the schema. Now every error is
JSON, as everywhere under /api/, and the UIs, which have one representation, ignore
``?format=`` and ``Accept`` as the API ignores any parameter it does not know.
"""

from typing import Any

from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from config.renderers import ORJSONRenderer


class OneRepresentation(BaseContentNegotiation):
    """The view's own renderer, whatever the client asks for (DRF's documented way to
    ignore client content negotiation)."""

    def select_parser(self, request: Request, parsers: list[Any]) -> Any:
        return parsers[0] if parsers else None

    def select_renderer(
        self, request: Request, renderers: list[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        return renderers[0], renderers[0].media_type


class JsonErrors:
    """Render every error of the view as JSON, not with the view's HTML or YAML renderer."""

    def handle_exception(self, exc: Exception) -> Response:
        renderer = ORJSONRenderer()
        self.request.accepted_renderer = renderer
        self.request.accepted_media_type = renderer.media_type
        return super().handle_exception(exc)


class SchemaView(JsonErrors, SpectacularAPIView):
    pass


class SwaggerView(JsonErrors, SpectacularSwaggerSplitView):
    content_negotiation_class = OneRepresentation


class RedocView(JsonErrors, SpectacularRedocView):
    content_negotiation_class = OneRepresentation
