"""import_ghost: the real Ghost exports (Ghost 2 and 4, and a 4.x newsletter export), and
the shapes of Ghost 1 and 5 built here."""

import json

import pytest

from accounts.models import User
from imports.models import ImportRecord, OldLink
from imports.services import ImportFailed
from posts.models import Post, Tag

pytestmark = pytest.mark.django_db


def test_a_ghost_2_export_imports_its_posts_users_and_tags(ghost_import, ghost_export):
    summary = ghost_import(ghost_export("v2_export.json"))
    assert Post.objects.count() == 7
    assert Post.objects.public().count() == 7
    assert summary.created["post"] == 7 and summary.created["user"] == 2 and summary.created["tag"] == 1
    assert set(User.objects.values_list("username", "display_name", "email")) == {
        ("fixture", "Fixture Ghosty", "test@ghost.org"),
        ("ghost", "Ghost", "ghost-author@example.com"),
    }
    assert set(Post.objects.values_list("author__username", flat=True)) == {"ghost"}
    assert Tag.objects.get().name == "Getting Started"
    assert all(post.tags.count() == 1 for post in Post.objects.all())
    welcome = Post.objects.get(slug="welcome")
    assert welcome.title == "Welcome to Ghost"
    assert welcome.published_at.isoformat() == "2021-03-24T05:58:02+00:00"
    assert "Welcome, it's great to have you here." in welcome.body_html
    assert OldLink.objects.filter(path="/welcome/", post=welcome).exists()


def test_a_ghost_4_export_skips_its_pages(ghost_import, ghost_export):
    summary = ghost_import(ghost_export("v4_export.json"))
    assert Post.objects.count() == 7
    assert summary.skipped["page"] == 4
    assert not Post.objects.filter(slug__in=["about", "contact", "privacy", "contribute"]).exists()
    assert Post.tags.through.objects.count() == 7
    # One members-only ("paid") post: kept public, and the summary says so.
    assert Post.objects.get(slug="sell").is_public
    assert any("members-only" in note for note in summary.notes)


def test_members_only_posts_may_be_imported_as_drafts(ghost_import, ghost_export):
    ghost_import(ghost_export("v4_export.json"), restricted_as_drafts=True)
    assert Post.objects.get(slug="sell").status == "draft"
    assert Post.objects.public().count() == 6


def test_an_export_without_users_gives_its_posts_to_unknown_author(ghost_import, ghost_export):
    summary = ghost_import(ghost_export("products_export.json"))
    post = Post.objects.get()
    assert post.title == "Test newsletter"
    assert post.author.username == "unknown-author"
    assert "Hi there! This is a test newsletter." in post.body_html
    assert summary.created["user"] == 1


def test_script_in_a_ghost_post_never_reaches_body_html(ghost_import, ghost_export):
    source = json.loads(ghost_export("v2_export.json").read_text())
    apps = next(p for p in source["db"][0]["data"]["posts"] if p["slug"] == "apps-integrations")
    assert "<script" in apps["html"]
    ghost_import(ghost_export("v2_export.json"))
    for html in Post.objects.values_list("body_html", flat=True):
        assert "<script" not in html.lower()


def test_links_to_the_ghost_site_become_links_on_this_site(ghost_import, ghost_export):
    ghost_import(ghost_export("v4_export.json"))
    design = Post.objects.get(slug="design")
    assert "__GHOST_URL__" not in design.body_html
    assert 'href="/welcome/"' in design.body_html  # which redirects to the imported post


def test_importing_a_ghost_export_twice_creates_nothing(ghost_import, ghost_export):
    ghost_import(ghost_export("v4_export.json"))
    counts = (Post.objects.count(), User.objects.count(), Tag.objects.count(), ImportRecord.objects.count())
    again = ghost_import(ghost_export("v4_export.json"))
    assert (
        Post.objects.count(),
        User.objects.count(),
        Tag.objects.count(),
        ImportRecord.objects.count(),
    ) == counts
    assert not any(again.created.values())
    assert again.skipped["post before"] == 7


def test_the_ghost_2_and_4_exports_share_their_users_and_tag(ghost_import, ghost_export):
    ghost_import(ghost_export("v2_export.json"))
    ghost_import(ghost_export("v4_export.json"))
    assert Post.objects.count() == 14
    assert User.objects.count() == 2  # the same addresses: the same people
    assert Tag.objects.count() == 1


def test_ghost_dry_run_changes_nothing(ghost_import, ghost_export):
    summary = ghost_import(ghost_export("v2_export.json"), dry_run=True)
    assert summary.created["post"] == 7
    assert not Post.objects.exists() and not User.objects.exists() and not ImportRecord.objects.exists()


def ghost5(posts, *, users=(), tags=(), posts_authors=(), posts_tags=(), wrapped=True) -> bytes:
    data = {
        "posts": list(posts),
        "posts_authors": list(posts_authors),
        "posts_tags": list(posts_tags),
        "tags": list(tags),
        "users": list(users),
    }
    meta = {"exported_on": 1700000000000, "version": "5.70.0"}
    document = {"db": [{"meta": meta, "data": data}]} if wrapped else {"meta": meta, "data": data}
    return json.dumps(document).encode()


def post5(id_, **fields):
    return {
        "id": id_,
        "title": f"Post {id_}",
        "slug": f"post-{id_}",
        "html": f"<p>Body of {id_}</p>",
        "lexical": "{}",
        "type": "post",
        "status": "published",
        "visibility": "public",
        "created_at": "2023-05-01T10:00:00.000Z",
        "updated_at": "2023-05-02T10:00:00.000Z",
        "published_at": "2023-05-01T12:00:00.000Z",
        **fields,
    }


def test_a_ghost_5_export_takes_authors_from_posts_authors(ghost_import):
    users = [
        {"id": "u1", "name": "Ada", "slug": "ada", "email": "ada@example.com"},
        {"id": "u2", "name": "Bo", "slug": "bo"},
    ]
    data = ghost5(
        [post5("p1"), post5("p2", status="draft", published_at=None), post5("p3", status="sent")],
        users=users,
        posts_authors=[
            {"id": "a1", "post_id": "p1", "author_id": "u1", "sort_order": 0},
            {"id": "a2", "post_id": "p1", "author_id": "u2", "sort_order": 1},
            {"id": "a3", "post_id": "p2", "author_id": "u2", "sort_order": 0},
            {"id": "a4", "post_id": "p3", "author_id": "u1", "sort_order": 0},
        ],
    )
    summary = ghost_import(data)
    assert dict(Post.objects.values_list("slug", "author__username")) == {
        "post-p1": "ada",
        "post-p2": "bo",
        "post-p3": "ada",
    }
    assert Post.objects.get(slug="post-p2").status == "draft"
    # An email-only newsletter ("sent") was never on the site: a draft here.
    assert Post.objects.get(slug="post-p3").status == "draft"
    assert summary.skipped["co-author"] == 1
    # Every post found its author: the stand-in was not kept.
    assert not User.objects.filter(username="unknown-author").exists()
    assert summary.created["user"] == 2


def test_a_ghost_1_export_reads_page_flags_and_bare_data(ghost_import):
    posts = [
        post5("p1", type=None, page=False, author_id="u1"),
        post5("p2", type=None, page=True, author_id="u1"),
        post5("p3", type=None, page=0, author_id="u1", created_at="2014-07-22 09:36:17", html=None,
              plaintext="Plain <text>", published_at=1406021777000),
    ]  # fmt: skip
    for post in posts:
        post.pop("type")
    ghost_import(ghost5(posts, users=[{"id": "u1", "name": "Ada", "slug": "ada"}], wrapped=False))
    assert sorted(Post.objects.values_list("slug", flat=True)) == ["post-p1", "post-p3"]
    p3 = Post.objects.get(slug="post-p3")
    assert p3.created_at.isoformat() == "2014-07-22T09:36:17+00:00"
    assert p3.published_at.isoformat() == "2014-07-22T09:36:17+00:00"
    assert "Plain &lt;text&gt;" in p3.body_html


def test_internal_tags_are_skipped(ghost_import):
    tags = [
        {"id": "t1", "name": "Rivers", "slug": "rivers", "visibility": "public"},
        {"id": "t2", "name": "#hero", "slug": "hash-hero", "visibility": "internal"},
    ]
    links = [{"id": "l1", "post_id": "p1", "tag_id": "t1"}, {"id": "l2", "post_id": "p1", "tag_id": "t2"}]
    summary = ghost_import(ghost5([post5("p1")], tags=tags, posts_tags=links))
    assert list(Post.objects.get().tags.values_list("name", flat=True)) == ["Rivers"]
    assert summary.skipped["internal tag"] == 1


@pytest.mark.parametrize(
    "data",
    [b"", b"{", b"[]", b'{"posts": []}', b'{"db": [{"data": {"posts": [{"id": "1", "title": "x"}, '],
    ids=["empty", "truncated", "array", "no-db", "cut-in-posts"],
)
def test_what_is_not_a_ghost_export_is_refused_and_changes_nothing(ghost_import, data):
    with pytest.raises(ImportFailed):
        ghost_import(data)
    assert not Post.objects.exists() and not ImportRecord.objects.exists()
