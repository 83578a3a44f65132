"""The browsable API root: a map of every endpoint group."""

from drf_spectacular.utils import extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView


@extend_schema(exclude=True)
class ApiRootView(APIView):
    """The blog's JSON API. Follow the links; the schema and docs describe every endpoint."""

    permission_classes = [AllowAny]
    name = "Blog API"

    def get(self, request: Request, format: str | None = None) -> Response:
        def link(name: str) -> str:
            return reverse(name, request=request, format=format)

        return Response(
            {
                "posts": link("post-list"),
                "tags": link("tag-list"),
                "categories": link("category-list"),
                "feed": link("feed"),
                "media": link("image-list"),
                "webhooks": link("webhook-list"),
                "register": link("auth-register"),
                "token": link("auth-token"),
                "token_refresh": link("auth-token-refresh"),
                "token_verify": link("auth-token-verify"),
                "logout": link("auth-logout"),
                "me": link("auth-me"),
                "my_posts": link("my-posts"),
                "password": link("auth-password"),
                "schema": link("schema"),
                "docs": link("swagger-ui"),
                "redoc": link("redoc"),
            }
        )
