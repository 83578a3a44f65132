"""import_wordpress: what a WordPress export becomes here, edge case by edge case."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import User
from accounts.tests.factories import FollowFactory, UserFactory
from imports.models import ImportRecord, OldLink
from imports.services import ImportFailed
from imports.tests.wxr import WAuthor, WComment, WItem, build
from outbox.models import Message
from posts.models import Category, Comment, Post, Tag
from posts.tests.factories import PostFactory
from webhooks.tests.factories import WebhookFactory

pytestmark = pytest.mark.django_db


def by_title(title: str) -> Post:
    return Post.objects.select_related("author", "category").get(title=title)


@pytest.mark.parametrize("version", ["1.0", "1.1", "1.2"])
@pytest.mark.parametrize("scheme", ["http", "https"])
@pytest.mark.parametrize("cdata", [True, False], ids=["cdata", "plain"])
def test_every_wxr_version_namespace_spelling_and_text_form_imports_the_same(
    wordpress_import, version, scheme, cdata
):
    data = build(
        [
            WItem(
                1,
                title="Hello river",
                content="<p>The river & the sea.</p>",
                categories=[("nature", "Nature")],
                tags=[("water", "Water")],
                comments=[WComment(10, content="Lovely & calm.")],
            )
        ],
        categories=[("nature", "Nature", "")],
        version=version,
        scheme=scheme,
        cdata=cdata,
    )
    summary = wordpress_import(data)
    post = by_title("Hello river")
    assert post.is_public
    assert post.published_at == datetime(2021, 3, 4, 9, 30, tzinfo=UTC)
    assert post.author.username == "alice"
    assert "The river &amp; the sea." in post.body_html
    assert post.category.name == "Nature"
    assert list(post.tags.values_list("name", flat=True)) == ["Water"]
    assert list(post.comments.values_list("body", flat=True)) == ["Lovely & calm."]
    assert summary.created["post"] == 1 and summary.created["comment"] == 1


def test_statuses_map_to_published_scheduled_or_draft_with_their_dates(wordpress_import):
    future = (timezone.now() + timedelta(days=30)).astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
    items = [
        WItem(1, title="Published", slug="published", status="publish"),
        WItem(2, title="Scheduled", slug="scheduled", status="future", date_gmt=future, date=future),
        WItem(
            3,
            title="Draft",
            slug="draft",
            status="draft",
            date_gmt="0000-00-00 00:00:00",
            date="2021-02-01 08:00:00",
        ),
        WItem(4, title="Pending", slug="pending", status="pending"),
        WItem(5, title="Private", slug="private", status="private"),
        WItem(6, title="Binned", slug="binned", status="trash"),
        WItem(7, title="", slug="", status="auto-draft"),
    ]
    summary = wordpress_import(build(items))

    assert by_title("Published").display_status == "published"
    scheduled = by_title("Scheduled")
    assert scheduled.display_status == "scheduled"
    assert scheduled.published_at.strftime("%Y-%m-%d %H:%M:%S") == future
    assert scheduled.announced_at is None  # the beat announces it when its time comes
    for title in ("Draft", "Pending", "Private"):
        assert by_title(title).display_status == "draft"
        assert by_title(title).published_at is None
    # A draft has no GMT date in WordPress: its local date is kept (read as UTC).
    assert by_title("Draft").created_at == datetime(2021, 2, 1, 8, 0, tzinfo=UTC)
    assert by_title("Published").created_at == datetime(2021, 3, 4, 9, 30, tzinfo=UTC)
    assert by_title("Published").announced_at is not None  # old news: never announced
    assert not Post.objects.filter(title__in=["Binned", "Untitled"]).exists()
    assert summary.skipped["trash"] == 1 and summary.skipped["auto-draft"] == 1


def test_importing_old_posts_sends_no_webhooks_and_no_mail(
    wordpress_import, django_capture_on_commit_callbacks
):
    # Alice is here already, with a follower; a webhook listens to everything.
    alice = UserFactory(email="alice@river.example.com")
    FollowFactory(followed=alice)
    WebhookFactory()
    Message.objects.all().delete()
    future = (timezone.now() + timedelta(days=3)).strftime("%Y-%m-%d %H:%M:%S")
    items = [WItem(1, comments=[WComment(5)]), WItem(2, slug="later", status="future", date_gmt=future)]
    with django_capture_on_commit_callbacks(execute=True):
        wordpress_import(build(items))
    assert Post.objects.count() == 2
    assert not Message.objects.exists()  # no post.added, post.published, comment or follower mail


def test_comments_approved_shown_held_and_spam_hidden_pings_skipped_replies_kept(wordpress_import):
    comments = [
        WComment(1, content="<p>First!</p>", approved="1"),
        WComment(2, content="Waiting for moderation", approved="0"),
        WComment(3, content="Buy pills", approved="spam"),
        WComment(4, content="A pingback", type="pingback", approved="1"),
        WComment(5, content="A trackback", type="trackback", approved="1"),
        WComment(6, content="Thanks, <b>first</b>", approved="1", parent=1, author="Alice River", user_id=1),
    ]
    summary = wordpress_import(build([WItem(1, comments=comments)]))
    post = by_title("Hello river")
    rows = list(post.comments.order_by("id").values_list("body", "is_hidden", "author__username"))
    assert rows == [
        ("First!", False, "visitor"),
        ("Waiting for moderation", True, "visitor"),
        ("Buy pills", True, "visitor"),
        # A reply is a comment on the same post; a registered commenter is their user.
        ("Thanks, first", False, "alice"),
    ]
    assert post.comment_count == 2  # hidden comments are not counted, as moderation does
    assert summary.skipped["pingback"] == 2
    visitor = User.objects.get(username="visitor")
    assert visitor.email == "" and not visitor.has_usable_password()
    assert visitor.display_name == "Visitor"


def test_comment_dates_are_kept(wordpress_import):
    wordpress_import(build([WItem(1, comments=[WComment(1, date="2021-03-06 07:08:09")])]))
    assert Comment.objects.get().created_at == datetime(2021, 3, 6, 7, 8, 9, tzinfo=UTC)


def test_authors_become_users_without_a_usable_password(wordpress_import):
    authors = [WAuthor("alice", 1, "alice@river.example.com", "Alice River"), WAuthor("bob", 2, "", "Bob")]
    wordpress_import(build([WItem(1), WItem(2, slug="b", creator="bob")], authors=authors))
    alice = User.objects.get(username="alice")
    assert not alice.has_usable_password()
    assert (alice.email, alice.display_name, alice.email_verified) == (
        "alice@river.example.com",
        "Alice River",
        False,
    )
    assert User.objects.get(username="bob").email == ""


def test_clashing_usernames_get_a_clear_deterministic_rename(wordpress_import):
    UserFactory(username="Alice")
    UserFactory(username="bob")
    UserFactory(username="bob-wordpress")
    authors = [WAuthor("alice", 1, "a@river.example.com"), WAuthor("bob", 2, "b@river.example.com")]
    wordpress_import(build([WItem(1), WItem(2, title="Two", slug="two", creator="bob")], authors=authors))
    assert by_title("Hello river").author.username == "alice-wordpress"
    assert Post.objects.get(slug="two").author.username == "bob-wordpress-2"


def test_an_author_whose_address_has_an_account_here_is_that_account(wordpress_import):
    existing = UserFactory(username="ariver", email="Alice@River.example.com")
    wordpress_import(build([WItem(1)]))
    assert by_title("Hello river").author == existing
    assert existing.has_usable_password()  # untouched


def test_a_missing_author_is_made_from_the_login_or_is_unknown_author(wordpress_import):
    items = [WItem(1, slug="one", creator="ghostwriter"), WItem(2, slug="two", creator="")]
    summary = wordpress_import(build(items, authors=[]))
    assert Post.objects.get(slug="one").author.username == "ghostwriter"
    unknown = Post.objects.get(slug="two").author
    assert (unknown.username, unknown.display_name) == ("unknown-author", "Unknown author")
    assert not unknown.has_usable_password()
    assert summary.created["user"] == 2


def test_duplicate_slugs_get_distinct_slugs(wordpress_import):
    PostFactory(slug="hello-river")
    items = [WItem(1, title="First"), WItem(2, title="Second"), WItem(3, title="Third")]
    wordpress_import(build(items))
    slugs = [by_title(t).slug for t in ("First", "Second", "Third")]
    assert slugs == ["hello-river-1", "hello-river-2", "hello-river-3"]


def test_non_latin_titles_are_kept_and_their_slugs_transliterated(wordpress_import):
    items = [
        WItem(1, title="Привет, река", slug="%d0%bf%d1%80%d0%b8%d0%b2%d0%b5%d1%82-%d1%80%d0%b5%d0%ba%d0%b0"),
        WItem(2, title="河流之歌", slug=""),
        WItem(3, title="نهر", slug="", content="<p>مرحبا</p>"),
    ]
    wordpress_import(build(items))
    assert by_title("Привет, река").slug == "privet-reka"
    assert by_title("河流之歌").slug == "heliuzhige"
    arabic = by_title("نهر")
    assert arabic.slug and arabic.slug.isascii()
    assert "مرحبا" in arabic.body_html


HOSTILE = """<p>Hi</p>
<script>alert(document.cookie)</script>
<SCRIPT SRC=https://evil.example/x.js></SCRIPT>
<img src=x onerror="alert(1)">
<a href="javascript:alert(2)">click</a>
<p onmouseover="alert(3)">hover</p>
<iframe src="https://evil.example/"></iframe>
<style>body{display:none}</style>"""


def test_html_carrying_script_is_sanitised_like_any_body(wordpress_import):
    wordpress_import(
        build([WItem(1, content=HOSTILE, comments=[WComment(1, content="<script>x()</script>ok")])])
    )
    post = by_title("Hello river")
    html = post.body_html.lower()
    for bad in ("<script", "onerror", "javascript:", "onmouseover", "<iframe", "<style", "alert("):
        assert bad not in html
    assert "<p>hi</p>" in html
    assert Comment.objects.get().body == "ok"


def test_gutenberg_block_comments_are_stripped_and_shortcodes_left_as_text(wordpress_import):
    content = (
        "<!-- wp:paragraph -->\n<p>Before the gallery.</p>\n<!-- /wp:paragraph -->\n\n"
        '<!-- wp:shortcode -->\n[gallery ids="4,5"]\n<!-- /wp:shortcode -->'
    )
    wordpress_import(build([WItem(1, content=content)]))
    post = by_title("Hello river")
    assert "wp:paragraph" not in post.body and "wp:paragraph" not in post.body_html
    assert '[gallery ids="4,5"]' in post.body_html
    assert post.excerpt.startswith("Before the gallery.")


def test_classic_editor_html_keeps_its_shape(wordpress_import):
    # wpautop's paragraphs, lists and code with blank lines inside, and Markdown-looking text.
    content = (
        "First paragraph with *stars* and_underscores_.\nSecond line.\n\n"
        "    four spaces in, not code\n\n"
        "<ul>\n\n<li>one</li>\n<li>two</li>\n</ul>\n\n"
        "<pre><code>def f():\n\n    return 1</code></pre>\n\n# not a heading"
    )
    wordpress_import(build([WItem(1, content=content)]))
    html = by_title("Hello river").body_html
    assert "<p>First paragraph with *stars* and_underscores_.<br>\nSecond line.</p>" in html
    assert "<p>four spaces in, not code</p>" in html
    assert "<ul>\n<li>one</li>\n<li>two</li>\n</ul>" in html
    assert "<pre><code>def f():\n\n    return 1</code></pre>" in html
    assert "<p># not a heading</p>" in html


def test_first_category_is_the_posts_others_and_parents_become_tags(wordpress_import):
    categories = [("nature", "Nature", ""), ("rivers", "Rivers", "nature"), ("travel", "Travel", "")]
    item = WItem(1, categories=[("rivers", "Rivers"), ("travel", "Travel")], tags=[("water", "Water")])
    wordpress_import(build([item], categories=categories))
    post = by_title("Hello river")
    assert post.category.name == "Rivers"
    assert set(post.tags.values_list("name", flat=True)) == {"Water", "Travel", "Nature"}
    assert set(Category.objects.values_list("name", flat=True)) == {"Nature", "Rivers", "Travel"}


def test_existing_tags_and_categories_are_reused(wordpress_import):
    Tag.objects.create(name="Water", slug="water")
    Category.objects.create(name="Nature", slug="nature")
    wordpress_import(build([WItem(1, categories=[("nature", "Nature")], tags=[("water", "Water")])]))
    assert Tag.objects.count() == 1 and Category.objects.count() == 1
    assert by_title("Hello river").category.slug == "nature"


def test_pages_and_menu_items_are_skipped_attachments_recorded_by_url(wordpress_import):
    items = [
        WItem(1),
        WItem(2, title="About", slug="about", type="page"),
        WItem(3, title="Home", slug="home", type="nav_menu_item"),
        WItem(4, title="photo", slug="photo", type="attachment", status="inherit",
              attachment_url="https://river.example.com/wp-content/uploads/2021/03/photo.jpg"),
        WItem(5, title="rev", slug="rev", type="revision"),
    ]  # fmt: skip
    summary = wordpress_import(build(items))
    assert list(Post.objects.values_list("title", flat=True)) == ["Hello river"]
    assert summary.skipped["page"] == 1 and summary.skipped["menu item"] == 1
    assert summary.skipped["revision item"] == 1
    attachment = ImportRecord.objects.get(kind="attachment")
    assert attachment.url == "https://river.example.com/wp-content/uploads/2021/03/photo.jpg"
    assert attachment.object_id is None
    assert summary.created["attachment"] == 1


def test_password_protected_posts_keep_their_status_unless_asked(wordpress_import):
    data = build([WItem(1, password="secret")])
    summary = wordpress_import(data, dry_run=True)
    assert any("password-protected" in note for note in summary.notes)
    wordpress_import(data, restricted_as_drafts=True)
    assert by_title("Hello river").status == "draft"


def test_a_second_run_creates_nothing_and_says_so(wordpress_import):
    data = build(
        [
            WItem(1, tags=[("water", "Water")], comments=[WComment(1)]),
            WItem(2, slug="two", type="attachment"),
        ],
        categories=[("nature", "Nature", "")],
        tags=[("water", "Water")],
    )
    first = wordpress_import(data)
    assert not any(first.skipped.values())
    before = (
        Post.objects.count(),
        Comment.objects.count(),
        User.objects.count(),
        ImportRecord.objects.count(),
    )
    again = wordpress_import(data)
    after = (
        Post.objects.count(),
        Comment.objects.count(),
        User.objects.count(),
        ImportRecord.objects.count(),
    )
    assert after == before
    assert not any(again.created.values())
    assert "Created nothing" in "\n".join(again.lines())
    assert again.skipped["post before"] == 1 and again.skipped["comment before"] == 1
    assert again.skipped["tag before"] == 1 and again.skipped["category before"] == 1
    assert again.skipped["commenter before"] == 1 and again.skipped["user before"] == 1


def test_a_newer_export_adds_only_new_posts_and_comments(wordpress_import):
    wordpress_import(build([WItem(1, comments=[WComment(1)])]))
    newer = build([WItem(1, comments=[WComment(1), WComment(2, content="Later")]), WItem(2, title="Two")])
    summary = wordpress_import(newer)
    assert summary.created["post"] == 1 and summary.created["comment"] == 1
    assert by_title("Hello river").comment_count == 2


def test_a_deleted_import_is_not_brought_back(wordpress_import):
    data = build([WItem(1)])
    wordpress_import(data)
    Post.objects.all().delete()
    wordpress_import(data)
    assert not Post.objects.exists()


def test_two_blogs_with_the_same_ids_are_two_sources(wordpress_import):
    wordpress_import(build([WItem(1, title="On river")], site="https://river.example.com"))
    wordpress_import(build([WItem(1, title="On lake")], site="https://lake.example.com"))
    # http and https spellings of one blog are one source.
    wordpress_import(build([WItem(1, title="On river")], site="http://river.example.com/"))
    assert sorted(Post.objects.values_list("title", flat=True)) == ["On lake", "On river"]


def test_dry_run_changes_nothing(wordpress_import):
    summary = wordpress_import(build([WItem(1, comments=[WComment(1)])]), dry_run=True)
    assert summary.created["post"] == 1
    assert not Post.objects.exists() and not User.objects.exists() and not ImportRecord.objects.exists()
    assert "Dry run" in "\n".join(summary.lines())


def test_a_file_broken_part_way_changes_nothing(wordpress_import):
    data = build([WItem(n, slug=f"p{n}") for n in range(1, 450)])
    with pytest.raises(ImportFailed):
        wordpress_import(data[: len(data) - 300])  # cut inside the last items
    assert not Post.objects.exists() and not User.objects.exists() and not ImportRecord.objects.exists()


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"not xml at all",
        b"<html><body>hi</body></html>",
        b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
        b"<rss><channel><title>&b;</title></channel></rss>",
        b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY x SYSTEM "file:///etc/passwd">]><rss><channel>'
        b"<title>&x;</title></channel></rss>",
    ],
    ids=["empty", "text", "html", "entities", "external-entity"],
)
def test_what_is_not_a_wordpress_export_is_refused(wordpress_import, data):
    with pytest.raises(ImportFailed):
        wordpress_import(data)
    assert not Post.objects.exists()


def test_old_links_are_remembered(wordpress_import):
    items = [
        WItem(1, link="https://river.example.com/2021/03/04/hello-river/"),
        WItem(2, slug="plain", link="https://river.example.com/?p=2"),
        WItem(3, slug="login", link="https://river.example.com/login/"),
    ]
    summary = wordpress_import(build(items))
    assert list(OldLink.objects.values_list("path", "post__title")) == [
        ("/2021/03/04/hello-river/", "Hello river")
    ]
    assert summary.skipped["own path"] == 1


def test_an_import_costs_queries_per_batch_not_per_post(wordpress_import):
    def items(count: int, first: int) -> list[WItem]:
        return [
            WItem(
                n,
                title=f"Post {n}",
                slug=f"post-{n}",
                categories=[("nature", "Nature")],
                tags=[("water", "Water")],
            )
            for n in range(first, first + count)
        ]

    wordpress_import(build(items(1, 1), categories=[("nature", "Nature", "")]))  # the author, the terms
    with CaptureQueriesContext(connection) as few:
        wordpress_import(build(items(5, 100), categories=[("nature", "Nature", "")]))
    with CaptureQueriesContext(connection) as many:
        wordpress_import(build(items(40, 200), categories=[("nature", "Nature", "")]))
    assert Post.objects.count() == 46
    assert len(many.captured_queries) == len(few.captured_queries)


def test_old_mac_line_endings_are_line_endings(wordpress_import):
    wordpress_import(build([WItem(1, content="One\r\rTwo\rthree")]))
    assert by_title("Hello river").body_html.strip() == "<p>One</p>\n<p>Two<br>\nthree</p>"
