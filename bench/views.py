"""Reference views the benchmark measures the real API against (bench settings only).

- *The floor*: the public list page and a post's detail built from one raw psycopg query
  and serialised by orjson, with the same JSON as the API. Nothing can be much faster
  through Django, so the API's requests/s are judged as a fraction of it.
- *The naive baseline*: a plain ``ModelViewSet`` + ``ModelSerializer`` with no
  ``select_related``/``prefetch_related``/annotations and DRF's stock pagination (an exact
  ``COUNT(*)``), as most projects ship it.
- *icontains search*: the public posts, serialised as the API's list, with ``search``
  answered by case-insensitive containment over the same fields (DRF's ``SearchFilter``)
  instead of full-text search.
"""

from typing import Any

import orjson
from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_GET
from rest_framework import pagination, serializers, viewsets
from rest_framework.filters import SearchFilter

from accounts.models import User
from images.models import media_url
from posts.caching import public_post_count
from posts.models import Category, Post
from posts.serializers import PostListSerializer

PAGE_SIZE = 20
API_LIST_PATH = "/api/v1/posts/"

_COLUMNS = """
    p.id, p.slug, p.title, p.excerpt, u.username, u.display_name, c.slug, c.name,
    ARRAY(
        SELECT t.slug FROM posts_post_tags pt JOIN posts_tag t ON t.id = pt.tag_id
        WHERE pt.post_id = p.id ORDER BY t.slug
    ),
    p.published_at, p.created_at, p.updated_at, p.comment_count, p.like_count, p.reading_time,
    i.id, i.file, i.width, i.height, i.alt, i.renditions
"""
_FROM = """
    FROM posts_post p
    JOIN accounts_user u ON u.id = p.author_id
    LEFT JOIN posts_category c ON c.id = p.category_id
    LEFT JOIN images_image i ON i.id = p.cover_image_id
    WHERE p.status = 'published' AND p.published_at <= now()
"""
LIST_SQL = f"SELECT {_COLUMNS} {_FROM} ORDER BY p.published_at DESC, p.id DESC LIMIT %s OFFSET %s"
DETAIL_SQL = f"SELECT {_COLUMNS}, p.body, p.body_html {_FROM} AND p.slug = %s"
BODY_COLUMN = 21


def _cover(row: tuple, media: str) -> dict[str, Any] | None:
    # The same JSON as ImageRefSerializer; URLs are the media prefix plus the stored name,
    # which is what media_url gives for the file system storage the bench uses.
    if row[15] is None:
        return None
    # Django's connection hands jsonb over as text, for its JSONField to parse; so must we.
    renditions = orjson.loads(row[20])
    return {
        "id": row[15],
        "url": media + row[16],
        "width": row[17],
        "height": row[18],
        "alt": row[19],
        "renditions": [
            {"width": each["width"], "url": media + each["name"], "content_type": each["content_type"]}
            for each in renditions
        ],
    }


def _item(row: tuple, base_url: str, media: str) -> dict[str, Any]:
    return {
        "id": row[0],
        "slug": row[1],
        "title": row[2],
        "excerpt": row[3],
        "author": {"username": row[4], "display_name": row[5]},
        "category": {"slug": row[6], "name": row[7]} if row[6] is not None else None,
        "tags": row[8],
        "status": "published",  # the query only returns public posts
        "published_at": row[9],
        "created_at": row[10],
        "updated_at": row[11],
        "comment_count": row[12],
        "like_count": row[13],
        "reading_time": row[14],
        "cover_image": _cover(row, media),
        "url": f"{base_url}{row[1]}/",
    }


def _raw_cursor():
    # The driver's own cursor on Django's persistent connection: no ORM, no debug wrapper.
    connection.ensure_connection()
    return connection.connection.cursor()


def _record(sql: str) -> None:
    """Count the raw query where the bench's query counter looks (it only sees Django's
    cursors)."""
    if connection.queries_logged:
        connection.queries_log.append({"sql": sql, "time": "0"})


def _json(data: dict[str, Any]) -> HttpResponse:
    return HttpResponse(orjson.dumps(data, option=orjson.OPT_UTC_Z), content_type="application/json")


@require_GET
def floor_list(request: HttpRequest) -> HttpResponse:
    """The first page of the public post list, as ``GET /api/v1/posts/`` returns it."""
    with _raw_cursor() as cursor:
        cursor.execute(LIST_SQL, (PAGE_SIZE, 0))
        rows = cursor.fetchall()
    _record(LIST_SQL)
    base_url = request.build_absolute_uri(API_LIST_PATH)
    media = media_url("", request)
    count = public_post_count()  # the same count strategy as the API: a cache hit
    return _json(
        {
            "count": count,
            "next": f"{base_url}?page=2" if count > PAGE_SIZE else None,
            "previous": None,
            "results": [_item(row, base_url, media) for row in rows],
        }
    )


@require_GET
def floor_detail(request: HttpRequest, slug: str) -> HttpResponse:
    """A public post, as an anonymous ``GET /api/v1/posts/{slug}/`` returns it."""
    with _raw_cursor() as cursor:
        cursor.execute(DETAIL_SQL, (slug,))
        row = cursor.fetchone()
    _record(DETAIL_SQL)
    if row is None:
        raise Http404
    data = _item(row, request.build_absolute_uri(API_LIST_PATH), media_url("", request))
    data.update(body=row[BODY_COLUMN], body_html=row[BODY_COLUMN + 1], liked=False)
    return _json(data)


class NaiveAuthorSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["username", "display_name"]


class NaiveCategorySerializer(serializers.ModelSerializer):
    class Meta:
        model = Category
        fields = ["slug", "name"]


class NaivePostSerializer(serializers.ModelSerializer):
    author = NaiveAuthorSerializer(read_only=True)
    category = NaiveCategorySerializer(read_only=True)
    tags = serializers.SlugRelatedField(many=True, read_only=True, slug_field="slug")
    status = serializers.SerializerMethodField()
    url = serializers.HyperlinkedIdentityField(view_name="post-detail", lookup_field="slug")

    class Meta:
        model = Post
        fields = [
            "id", "slug", "title", "excerpt", "author", "category", "tags", "status", "published_at",
            "created_at", "updated_at", "comment_count", "like_count", "reading_time", "url",
        ]  # fmt: skip

    def get_status(self, post: Post) -> str:
        return post.display_status


class NaivePagination(pagination.PageNumberPagination):
    page_size = PAGE_SIZE


class NaivePostViewSet(viewsets.ReadOnlyModelViewSet):
    """The naive baseline: public posts, newest first, as most projects ship it."""

    serializer_class = NaivePostSerializer
    pagination_class = NaivePagination
    lookup_field = "slug"

    def get_queryset(self):
        return Post.objects.public().order_by("-published_at", "-id")


class IcontainsPostViewSet(viewsets.ReadOnlyModelViewSet):
    """Public posts, newest first, with ``search`` by containment (DRF's SearchFilter)
    over the columns the full-text search covers: the reference it is compared with."""

    serializer_class = PostListSerializer
    pagination_class = NaivePagination
    filter_backends = [SearchFilter]
    search_fields = ["title", "excerpt", "body"]
    lookup_field = "slug"

    def get_queryset(self):
        posts = Post.objects.public().select_related("author", "category").prefetch_related("tags")
        return posts.order_by("-published_at", "-id")
