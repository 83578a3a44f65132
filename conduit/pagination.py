"""RealWorld's ``limit``/``offset`` paging, with ``articlesCount`` the total."""

from rest_framework import serializers
from rest_framework.request import Request

from conduit.exceptions import Unprocessable
from config.pagination import Window

DEFAULT_LIMIT = 20
MAX_LIMIT = 100


class PageParamsSerializer(serializers.Serializer):
    limit = serializers.IntegerField(
        min_value=1,
        default=DEFAULT_LIMIT,
        error_messages={"invalid": "must be an integer", "min_value": "must be at least {min_value}"},
    )
    offset = serializers.IntegerField(
        min_value=0,
        default=0,
        error_messages={"invalid": "must be an integer", "min_value": "must be at least {min_value}"},
    )


def page_window(request: Request) -> Window:
    """The window ``limit`` and ``offset`` ask for; a bad parameter is a 422.

    ``limit`` is capped at ``MAX_LIMIT`` so that no request renders an unbounded page.
    """
    params = PageParamsSerializer(data=request.query_params)
    if not params.is_valid():
        raise Unprocessable(params.errors)
    return Window(
        offset=params.validated_data["offset"], limit=min(params.validated_data["limit"], MAX_LIMIT)
    )
