"""export_blog: a Ghost export of the whole site, which import_ghost reads back into an
empty site with the same posts, statuses, dates, authors, tags and categories."""

import io
import json
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import User
from accounts.tests.factories import UserFactory
from imports import services
from imports.models import ImportRecord, OldLink
from posts.models import Category, Comment, Like, Post, Tag
from posts.tests.factories import CategoryFactory, CommentFactory, LikeFactory, PostFactory

pytestmark = pytest.mark.django_db


def a_site() -> None:
    ada = UserFactory(username="ada", display_name="Ada L.", email="ada@example.com")
    bo = UserFactory(username="bo", display_name="", email="")
    UserFactory(username="reader")  # wrote nothing: not an author
    rivers = CategoryFactory(name="Rivers", slug="rivers", description="Running water.")
    CategoryFactory(name="Empty", slug="empty", description="")
    now = timezone.now().replace(microsecond=123456)
    PostFactory(
        author=ada,
        title="Привет, река",
        slug="privet-reka-3fa2c1",
        body="# Hello\n\nSome *Markdown* with `code`.\n\n- a list",
        category=rivers,
        tags=["Water", "Flow"],
        published_at=now - timedelta(days=400),
        excerpt="A hand-written excerpt.",
    )
    PostFactory(author=ada, title="Later", slug="later-1", scheduled=True, tags=["Water"])
    PostFactory(author=bo, title="Draft", slug="draft-1", draft=True, category=rivers)
    PostFactory(author=bo, title="Plain", slug="plain-1", published_at=now - timedelta(days=2))
    Post.objects.update(created_at=now - timedelta(days=500))
    Tag.objects.create(name="Unused", slug="unused")


def snapshot() -> dict:
    posts = Post.objects.order_by("slug")
    return {
        "posts": [
            (
                p.title, p.slug, p.status, p.display_status, p.published_at, p.created_at, p.updated_at,
                p.author.username, p.category.name if p.category else None,
                sorted(p.tags.values_list("name", flat=True)), p.body, p.excerpt, p.body_html,
            )
            for p in posts
        ],
        "authors": sorted(
            User.objects.filter(posts__isnull=False)
            .distinct()
            .values_list("username", "display_name", "email")
        ),
        "categories": sorted(Category.objects.values_list("name", "slug", "description")),
        "tags": sorted(Tag.objects.values_list("name", "slug")),
    }  # fmt: skip


def export() -> bytes:
    out = io.StringIO()
    services.export_blog(destination=out)
    return out.getvalue().encode()


def empty_the_site() -> None:
    for model in (OldLink, ImportRecord, Comment, Like, Post, Tag, Category, User):
        model.objects.all().delete()


def test_an_export_read_back_into_an_empty_site_is_the_same_site(ghost_import):
    a_site()
    before = snapshot()
    data = export()
    empty_the_site()
    summary = ghost_import(data)
    assert snapshot() == before
    assert summary.created["post"] == 4 and summary.created["category"] == 2
    # The scheduled post waits for the beat; the public ones are not announced again.
    assert Post.objects.get(slug="later-1").announced_at is None
    assert Post.objects.get(slug="plain-1").announced_at is not None
    assert all(not u.has_usable_password() for u in User.objects.all())


def test_the_export_is_a_ghost_export(tmp_path):
    a_site()
    CommentFactory(post=Post.objects.get(slug="plain-1"))
    LikeFactory(post=Post.objects.get(slug="plain-1"))
    path = tmp_path / "blog.json"
    out = io.StringIO()
    call_command("export_blog", str(path), stdout=out, stderr=io.StringIO())
    document = json.loads(path.read_text())
    data = document["db"][0]["data"]
    assert document["db"][0]["meta"]["version"].startswith("5.")
    assert len(data["posts"]) == 4 and len(data["users"]) == 2
    statuses = {p["slug"]: p["status"] for p in data["posts"]}
    assert statuses == {
        "privet-reka-3fa2c1": "published",
        "later-1": "scheduled",
        "draft-1": "draft",
        "plain-1": "published",
    }
    assert all(len(row["id"]) == 24 and int(row["id"], 16) >= 0 for table in data.values() for row in table)
    internal = [t for t in data["tags"] if t["visibility"] == "internal"]
    assert {t["name"] for t in internal} == {"#category:Rivers", "#category:Empty"}
    post = next(p for p in data["posts"] if p["slug"] == "privet-reka-3fa2c1")
    assert json.loads(post["mobiledoc"])["cards"] == [
        ["markdown", {"markdown": Post.objects.get(slug=post["slug"]).body}]
    ]
    assert post["custom_excerpt"] == "A hand-written excerpt."
    assert next(p for p in data["posts"] if p["slug"] == "plain-1")["custom_excerpt"] is None
    assert "Exported 2 authors" in out.getvalue()
    assert not list(tmp_path.glob(".*partial"))


def test_the_same_site_exports_the_same_ids_so_a_newer_export_adds_only_what_is_new(ghost_import):
    a_site()
    first = export()
    PostFactory(author=User.objects.get(username="ada"), title="Newer", slug="newer-1")
    second = export()
    expected = Post.objects.count()
    empty_the_site()
    ghost_import(first)
    summary = ghost_import(second)  # into the same site: only the new post is added
    assert summary.created["post"] == 1
    assert Post.objects.count() == expected


def test_the_export_reads_in_chunks_whatever_the_size_of_the_site():
    a_site()
    with CaptureQueriesContext(connection) as small:
        export()
    ada = User.objects.get(username="ada")
    for n in range(40):
        PostFactory(author=ada, slug=f"more-{n}", tags=["Water"], category=Category.objects.first())
    with CaptureQueriesContext(connection) as large:
        export()
    assert len(large.captured_queries) == len(small.captured_queries)
