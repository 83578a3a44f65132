"""Posts over the API: CRUD, who may do what, read-only fields, scheduling, slugs, bodies."""

import re
from datetime import timedelta
from html.parser import HTMLParser

import pytest
from django.utils import timezone

from conftest import client_for
from posts.models import Post
from posts.tests.factories import CategoryFactory, PostFactory, TagFactory

pytestmark = pytest.mark.django_db

LIST_FIELDS = {
    "id",
    "slug",
    "title",
    "excerpt",
    "author",
    "category",
    "tags",
    "status",
    "published_at",
    "created_at",
    "updated_at",
    "comment_count",
    "like_count",
    "reading_time",
    "cover_image",
    "url",
}
DETAIL_FIELDS = LIST_FIELDS | {"body", "body_html", "liked"}
POSTS = "/api/v1/posts/"


def detail_url(post_or_slug) -> str:
    slug = getattr(post_or_slug, "slug", post_or_slug)
    return f"{POSTS}{slug}/"


def slugs(response) -> list[str]:
    return [item["slug"] for item in response.data["results"]]


def is_slug_of(slug: str, base: str) -> bool:
    """Whether ``slug`` is ``base`` with the random suffix every new post's slug gets."""
    return re.fullmatch(rf"{re.escape(base)}-[0-9a-f]{{6}}", slug) is not None


def new_post(client, **fields):
    body = {"title": "Hello world", "body": "Some *Markdown* text.", **fields}
    return client.post(POSTS, body, format="json")


class TestCreate:
    def test_anonymous_cannot_create(self, anon_client):
        response = new_post(anon_client)
        assert response.status_code == 401
        assert not Post.objects.exists()

    def test_created_post_is_a_draft_by_the_caller(self, author_client, author):
        response = new_post(author_client)
        assert response.status_code == 201
        assert set(response.data) == DETAIL_FIELDS
        assert response.data["author"] == {"username": "author", "display_name": author.display_name}
        assert response.data["status"] == "draft"
        assert response.data["published_at"] is None
        assert is_slug_of(response.data["slug"], "hello-world")
        assert response.data["body_html"].strip() == "<p>Some <em>Markdown</em> text.</p>"
        assert response.data["liked"] is False
        assert response.data["url"].endswith(f"/api/v1/posts/{response.data['slug']}/")
        assert Post.objects.get().author == author

    def test_published_without_date_gets_now(self, author_client):
        before = timezone.now()
        response = new_post(author_client, status="published")
        assert response.status_code == 201
        assert response.data["status"] == "published"
        assert before <= Post.objects.get().published_at <= timezone.now()

    def test_category_and_tags(self, author_client):
        CategoryFactory(name="Python", slug="python")
        response = new_post(author_client, category="python", tags=["Django", "django", " Web  Dev "])
        assert response.status_code == 201
        assert response.data["category"] == {"slug": "python", "name": "Python"}
        assert sorted(response.data["tags"]) == ["django", "web-dev"]

    def test_tag_named_like_an_existing_tag_with_another_slug(self, author_client):
        TagFactory(name="Python", slug="python-lang")
        response = new_post(author_client, tags=["Python", "new"])
        assert response.status_code == 201
        assert sorted(response.data["tags"]) == ["new", "python-lang"]

    def test_unknown_category_is_400(self, author_client):
        response = new_post(author_client, category="nope")
        assert response.status_code == 400 and "category" in response.data
        assert not Post.objects.exists()

    @pytest.mark.parametrize(
        ("fields", "field"),
        [
            ({"title": "x" * 201}, "title"),
            ({"title": ""}, "title"),
            ({"body": ""}, "body"),
            ({"body": "   \n "}, "body"),
            ({"tags": [f"t{i}" for i in range(21)]}, "tags"),
            ({"tags": ["x" * 51]}, "tags"),
            ({"body": "x" * 100_001}, "body"),
            ({"excerpt": "x" * 501}, "excerpt"),
            ({"tags": "not-a-list"}, "tags"),
            ({"tags": ["ok", "  "]}, "tags"),
            ({"status": "scheduled"}, "status"),
            ({"published_at": "yesterday"}, "published_at"),
        ],
    )
    def test_invalid_bodies_are_400_and_change_nothing(self, author_client, fields, field):
        response = new_post(author_client, **fields)
        assert response.status_code == 400
        assert field in response.json()
        assert not Post.objects.exists()

    def test_limits_are_inclusive(self, author_client):
        response = new_post(author_client, title="x" * 200, tags=[f"t{i}" for i in range(20)])
        assert response.status_code == 201
        assert len(response.data["tags"]) == 20

    def test_server_fields_in_the_body_are_ignored(self, author_client, author, other_user):
        response = new_post(
            author_client,
            author=other_user.username,
            slug="my-own-slug",
            like_count=99,
            comment_count=7,
            created_at="2001-01-01T00:00:00Z",
            id=12345,
            body_html="<script>x</script>",
            reading_time=42,
        )
        assert response.status_code == 201
        post = Post.objects.get()
        assert post.author == author
        assert is_slug_of(post.slug, "hello-world")
        assert (post.like_count, post.comment_count, post.reading_time) == (0, 0, 1)
        assert post.created_at.year == timezone.now().year
        assert post.id != 12345
        assert "script" not in post.body_html


class TestReadVisibility:
    @pytest.fixture
    def posts(self, author):
        return {
            "public": PostFactory(author=author, slug="public"),
            "draft": PostFactory(author=author, slug="draft", draft=True),
            "scheduled": PostFactory(author=author, slug="scheduled", scheduled=True),
        }

    def test_list_shows_only_public_posts_to_everyone(
        self, posts, anon_client, author_client, other_client, staff_client
    ):
        for client in (anon_client, author_client, other_client, staff_client):
            response = client.get(POSTS)
            assert response.status_code == 200
            assert slugs(response) == ["public"]
            assert response.data["count"] == 1
            assert set(response.data["results"][0]) == LIST_FIELDS

    @pytest.mark.parametrize("which", ["draft", "scheduled"])
    def test_non_public_post_is_404_for_strangers(self, posts, anon_client, other_client, which):
        url = detail_url(posts[which])
        for client in (anon_client, other_client):
            assert client.get(url).status_code == 404
            assert client.get(f"{url}comments/").status_code == 404
        assert other_client.post(f"{url}like/").status_code == 404
        assert other_client.post(f"{url}comments/", {"body": "hi"}).status_code == 404
        assert other_client.patch(url, {"title": "mine"}).status_code == 404
        assert other_client.delete(url).status_code == 404
        assert Post.objects.filter(pk=posts[which].pk, title=posts[which].title).exists()

    @pytest.mark.parametrize("which", ["public", "draft", "scheduled"])
    def test_author_and_staff_see_every_status(self, posts, author_client, staff_client, which):
        for client in (author_client, staff_client):
            response = client.get(detail_url(posts[which]))
            assert response.status_code == 200
            assert response.data["status"] == ("published" if which == "public" else which)
            assert set(response.data) == DETAIL_FIELDS

    def test_unknown_slug_is_404(self, anon_client):
        assert anon_client.get(detail_url("nothing-here")).status_code == 404


class TestScheduling:
    def test_future_published_at_schedules_then_turns_public_by_itself(
        self, author_client, other_client, anon_client
    ):
        when = timezone.now() + timedelta(hours=2)
        response = new_post(author_client, status="published", published_at=when.isoformat())
        assert response.status_code == 201
        assert response.data["status"] == "scheduled"
        slug = response.data["slug"]
        assert anon_client.get(detail_url(slug)).status_code == 404
        assert anon_client.get(POSTS).data["count"] == 0
        assert author_client.get("/api/v1/auth/me/posts/?status=scheduled").data["count"] == 1

        # Time passes: nothing runs, the post is simply public now.
        Post.objects.filter(slug=slug).update(published_at=timezone.now() - timedelta(seconds=1))
        response = other_client.get(detail_url(slug))
        assert response.status_code == 200
        assert response.data["status"] == "published"
        assert slugs(anon_client.get(POSTS)) == [slug]


class TestUpdate:
    @pytest.fixture
    def post(self, author):
        return PostFactory(author=author, title="Original title", slug="original-title", body="old")

    def test_author_patches(self, post, author_client):
        response = author_client.patch(detail_url(post), {"body": "# New\n\nbody"})
        assert response.status_code == 200
        assert response.data["body_html"].startswith("<h1>New</h1>")
        post.refresh_from_db()
        assert post.body == "# New\n\nbody"
        assert post.title == "Original title"

    def test_author_puts(self, post, author_client):
        response = author_client.put(
            detail_url(post), {"title": "Put", "body": "b", "status": "published", "tags": ["x"]}
        )
        assert response.status_code == 200
        assert response.data["title"] == "Put" and response.data["tags"] == ["x"]

    def test_put_without_status_keeps_a_published_post_published(self, post, author_client, anon_client):
        response = author_client.put(detail_url(post), {"title": "Put again", "body": "new body"})
        assert response.status_code == 200
        assert response.data["status"] == "published"
        assert anon_client.get(detail_url(post)).status_code == 200

    def test_new_post_without_status_is_a_draft(self, author_client, anon_client):
        response = author_client.post("/api/v1/posts/", {"title": "Quiet", "body": "draft body"})
        assert response.status_code == 201 and response.data["status"] == "draft"
        assert anon_client.get(detail_url(response.data["slug"])).status_code == 404

    def test_put_needs_every_required_field(self, post, author_client):
        response = author_client.put(detail_url(post), {"title": "only the title"})
        assert response.status_code == 400 and "body" in response.data
        post.refresh_from_db()
        assert post.title == "Original title"

    def test_editing_the_title_keeps_the_slug(self, post, author_client):
        response = author_client.patch(detail_url(post), {"title": "A brand new title"})
        assert response.status_code == 200
        assert response.data["slug"] == "original-title"
        assert author_client.get(detail_url("original-title")).data["title"] == "A brand new title"

    def test_server_fields_cannot_be_changed(self, post, author_client, other_user):
        post.like_count = 3
        post.save()
        created = Post.objects.get(pk=post.pk).created_at
        response = author_client.patch(
            detail_url(post),
            {
                "author": other_user.username,
                "slug": "hijacked",
                "like_count": 1000,
                "created_at": "2001-01-01T00:00:00Z",
                "id": 999,
                "title": "Changed",
            },
        )
        assert response.status_code == 200
        fresh = Post.objects.get(pk=post.pk)
        assert fresh.title == "Changed"
        assert (fresh.author_id, fresh.slug, fresh.like_count, fresh.created_at) == (
            post.author_id,
            "original-title",
            3,
            created,
        )

    def test_tags_replaced_only_when_sent(self, post, author_client):
        post.tags.set([TagFactory(name="keep")])
        author_client.patch(detail_url(post), {"title": "t"})
        assert list(post.tags.values_list("slug", flat=True)) == ["keep"]
        response = author_client.patch(detail_url(post), {"tags": ["New one", "keep"]})
        assert sorted(response.data["tags"]) == ["keep", "new-one"]
        assert sorted(author_client.get(detail_url(post)).data["tags"]) == ["keep", "new-one"]
        assert author_client.patch(detail_url(post), {"tags": []}).data["tags"] == []
        assert not post.tags.exists()

    def test_other_user_gets_403_and_nothing_changes(self, post, other_client):
        assert other_client.patch(detail_url(post), {"title": "mine"}).status_code == 403
        assert other_client.put(detail_url(post), {"title": "mine", "body": "b"}).status_code == 403
        assert other_client.delete(detail_url(post)).status_code == 403
        post.refresh_from_db()
        assert post.title == "Original title"

    def test_anonymous_gets_401(self, post, anon_client):
        assert anon_client.patch(detail_url(post), {"title": "x"}).status_code == 401
        assert anon_client.delete(detail_url(post)).status_code == 401
        assert Post.objects.filter(pk=post.pk).exists()

    def test_staff_edits_and_deletes_anyones_post(self, post, staff_client, author):
        response = staff_client.patch(detail_url(post), {"title": "Moderated"})
        assert response.status_code == 200
        post.refresh_from_db()
        assert post.title == "Moderated" and post.author == author
        draft = PostFactory(author=author, draft=True)
        assert staff_client.patch(detail_url(draft), {"body": "fixed"}).status_code == 200
        assert staff_client.delete(detail_url(draft)).status_code == 204
        assert staff_client.delete(detail_url(post)).status_code == 204
        assert not Post.objects.exists()

    def test_author_deletes_own_post(self, post, author_client):
        assert author_client.delete(detail_url(post)).status_code == 204
        assert author_client.get(detail_url(post)).status_code == 404

    def test_unpublishing_hides_it_again(self, post, author_client, anon_client):
        assert author_client.patch(detail_url(post), {"status": "draft"}).data["status"] == "draft"
        assert anon_client.get(detail_url(post)).status_code == 404

    def test_invalid_patch_changes_nothing(self, post, author_client):
        response = author_client.patch(detail_url(post), {"title": "x" * 201, "body": "new"})
        assert response.status_code == 400
        post.refresh_from_db()
        assert post.body == "old"


class TestSlugs:
    def test_two_posts_with_one_title_get_distinct_slugs(self, author_client, other_client):
        first = new_post(author_client, title="Same title").data["slug"]
        second = new_post(other_client, title="Same title").data["slug"]
        third = new_post(author_client, title="Same title").data["slug"]
        assert len({first, second, third}) == 3
        assert all(is_slug_of(slug, "same-title") for slug in (first, second, third))
        assert set(Post.objects.filter(title="Same title").values_list("slug", flat=True)) == {
            first,
            second,
            third,
        }

    @pytest.mark.parametrize(
        ("title", "expected"),
        [
            ("Привет, мир", "privet-mir"),
            ("Ünïcödé café", "unicode-cafe"),
            ("東京タワー", "dongjingtawa"),
        ],
    )
    def test_non_latin_titles_are_transliterated(self, author_client, title, expected):
        response = new_post(author_client, title=title)
        assert response.status_code == 201
        assert is_slug_of(response.data["slug"], expected)
        assert author_client.get(detail_url(response.data["slug"])).data["title"] == title

    @pytest.mark.parametrize("hidden", ["draft", "scheduled"])
    def test_a_new_slug_says_nothing_about_posts_the_caller_cannot_see(
        self, author_client, other_user, hidden
    ):
        # Another user's post the caller cannot see: a new post with its title once got a
        # suffixed slug, and a title nobody had used a bare one.
        PostFactory(author=other_user, title="Alice draft zebra", slug="alice-draft-zebra", **{hidden: True})
        assert author_client.get(detail_url("alice-draft-zebra")).status_code == 404
        same_title = new_post(author_client, title="Alice draft zebra").data["slug"]
        unused_title = new_post(author_client, title="Unused title zebra").data["slug"]
        assert is_slug_of(same_title, "alice-draft-zebra"), same_title
        assert is_slug_of(unused_title, "unused-title-zebra"), unused_title

    @pytest.mark.parametrize("title", ["★☆✓", "!!!", "---", "🎉", "🙂🙂"])
    def test_symbol_titles_still_get_a_slug(self, author_client, title):
        response = new_post(author_client, title=title)
        assert response.status_code == 201
        slug = response.data["slug"]
        assert slug and slug.strip("-") == slug
        assert author_client.get(detail_url(slug)).status_code == 200

    def test_symbol_only_titles_twice_are_unique(self, author_client):
        a = new_post(author_client, title="★").data["slug"]
        b = new_post(author_client, title="☆").data["slug"]
        assert a and b and a != b

    def test_long_title_slug_fits(self, author_client):
        response = new_post(author_client, title="word " * 40)
        assert response.status_code == 201
        again = new_post(author_client, title="word " * 40)
        assert again.status_code == 201
        assert len(again.data["slug"]) <= 255


def _elements_and_attributes(markup: str) -> tuple[set[str], list[tuple[str, str, str]]]:
    tags: set[str] = set()
    attributes: list[tuple[str, str, str]] = []

    class Collector(HTMLParser):
        def handle_starttag(self, tag, attrs):
            tags.add(tag)
            attributes.extend((tag, name, value or "") for name, value in attrs)

    Collector().feed(markup)
    return tags, attributes


HOSTILE_BODIES = [
    "<script>alert(1)</script>",
    "<ScRiPt>alert(1)</sCrIpT>",
    "<style>body{display:none}</style>",
    '<iframe src="https://evil.example"></iframe>',
    '<object data="x.swf"></object>',
    '<embed src="x.swf">',
    '<img src="x" onerror="alert(1)">',
    '<p onclick="alert(1)" style="color:red">hi</p>',
    "<IMG SRC=x OnError=alert(1)>",
    '<svg onload="alert(1)"><circle/></svg>',
    '<a href="javascript:alert(1)">x</a>',
    '<a href="JaVaScRiPt:alert(1)">x</a>',
    '<a href=" javascript:alert(1)">x</a>',
    '<a href="&#106;avascript:alert(1)">x</a>',
    '<a href="&#x6A;&#x61;&#x76;&#x61;&#x73;&#x63;&#x72;&#x69;&#x70;&#x74;&#x3A;alert(1)">x</a>',
    '<a href="java&#x09;script:alert(1)">x</a>',
    '<a href="jav\tascript:alert(1)">x</a>',
    '<a href="vbscript:msgbox(1)">x</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>',
    '<img src="data:image/svg+xml;base64,PHN2Zz4=">',
    "[click](javascript:alert(1))",
    "[click](JAVASCRIPT:alert(1))",
    "[click](&#x6A;avascript:alert(1))",
    "[click](vbscript:msgbox(1))",
    "![img](data:text/html;base64,PHNjcmlwdD4=)",
    "[ref]\n\n[ref]: javascript:alert(1)",
    '<form action="javascript:alert(1)"><button formaction="javascript:alert(1)">x</button></form>',
    '<math><mi xlink:href="javascript:alert(1)">x</mi></math>',
    "<div><scr<script>ipt>alert(1)</script></div>",
    '<a href="https://ok.example" onmouseover="alert(1)">ok</a>',
]
BAD_SCHEMES = ("javascript:", "vbscript:", "data:")


class TestBody:
    @pytest.mark.parametrize("body", HOSTILE_BODIES)
    def test_body_html_is_sanitised(self, author_client, body):
        response = new_post(author_client, body=body)
        assert response.status_code == 201
        tags, attributes = _elements_and_attributes(response.data["body_html"])
        assert not tags & {"script", "style", "iframe", "object", "embed", "svg", "math", "form"}
        for tag, name, value in attributes:
            assert not name.startswith("on"), (tag, name)
            assert name != "style"
            compact = "".join(value.split()).lower()
            assert not compact.startswith(BAD_SCHEMES), (tag, name, value)
        # The stored copy is what lists and pages serve.
        assert Post.objects.get().body_html == response.data["body_html"]

    def test_safe_markdown_survives(self, author_client):
        body = "# Title\n\n**bold** [link](https://example.com) `code`\n\n| a |\n|---|\n| b |"
        html = new_post(author_client, body=body).data["body_html"]
        assert "<h1>Title</h1>" in html and "<strong>bold</strong>" in html
        assert 'href="https://example.com"' in html and "<code>code</code>" in html
        assert "<table>" in html

    def test_excerpt_is_derived_when_blank(self, author_client):
        body = "# Heading\n\nThe **first** paragraph. " + "More words here. " * 100
        response = new_post(author_client, body=body, excerpt="")
        excerpt = response.data["excerpt"]
        # From the paragraphs: a heading would run into the next sentence.
        assert excerpt.startswith("The first paragraph.")
        assert "Heading" not in excerpt
        assert "<" not in excerpt and "**" not in excerpt
        assert len(excerpt) <= 281 and excerpt.endswith("…")

    def test_derived_excerpt_follows_a_body_edit_but_a_written_one_stays(self, author_client):
        slug = new_post(author_client, body="First version.").data["slug"]
        response = author_client.patch(detail_url(slug), {"body": "Second version."})
        assert response.data["excerpt"] == "Second version."
        author_client.patch(detail_url(slug), {"excerpt": "Hand written."})
        response = author_client.patch(detail_url(slug), {"body": "Third version."})
        assert response.data["excerpt"] == "Hand written."

    def test_given_excerpt_is_kept(self, author_client):
        assert new_post(author_client, excerpt="Mine.").data["excerpt"] == "Mine."

    def test_reading_time_is_at_least_one_and_grows(self, author_client):
        short = new_post(author_client, title="a", body="one word").data["reading_time"]
        medium = new_post(author_client, title="b", body="word " * 450).data["reading_time"]
        long = new_post(author_client, title="c", body="word " * 2000).data["reading_time"]
        assert short == 1
        assert 1 < medium < long

    def test_reading_time_of_text_without_spaces(self, author_client):
        chinese = new_post(author_client, title="zh", body="这是一个很长的句子。" * 300).data["reading_time"]
        mixed = new_post(author_client, title="mix", body="東京 tower " * 400).data["reading_time"]
        assert chinese >= 5
        assert mixed > 2

    def test_reading_time_follows_an_edit(self, author_client):
        slug = new_post(author_client, body="short").data["slug"]
        response = author_client.patch(detail_url(slug), {"body": "word " * 1000})
        assert response.data["reading_time"] > 1


def test_author_display_in_list(anon_client):
    post = PostFactory(author__username="writer", author__display_name="W. Riter", tags=["b", "a"])
    item = anon_client.get(POSTS).data["results"][0]
    assert item["author"] == {"username": "writer", "display_name": "W. Riter"}
    assert sorted(item["tags"]) == ["a", "b"]
    assert item["url"] == f"http://testserver/api/v1/posts/{post.slug}/"
    assert item["category"] is None


def test_liked_flag_in_detail(author, other_user):
    post = PostFactory(author=author)
    client = client_for(other_user)
    client.post(f"{detail_url(post)}like/")
    assert client.get(detail_url(post)).data["liked"] is True
    assert client_for(author).get(detail_url(post)).data["liked"] is False


def test_anonymous_readers_see_every_change_at_once(author, author_client, other_client, anon_client):
    """Whatever the API caches for anonymous readers, a write shows up on the next read."""
    assert anon_client.get(POSTS).data["count"] == 0
    slug = new_post(author_client, status="published", tags=["t"]).data["slug"]
    assert slugs(anon_client.get(POSTS)) == [slug]
    assert anon_client.get(detail_url(slug)).data["like_count"] == 0
    other_client.post(f"{detail_url(slug)}like/")
    other_client.post(f"{detail_url(slug)}comments/", {"body": "first"})
    item = anon_client.get(POSTS).data["results"][0]
    assert (item["like_count"], item["comment_count"]) == (1, 1)
    assert anon_client.get(f"{detail_url(slug)}comments/").data["count"] == 1
    author_client.patch(detail_url(slug), {"title": "Renamed", "tags": ["u"]})
    detail = anon_client.get(detail_url(slug)).data
    assert (detail["title"], detail["tags"]) == ("Renamed", ["u"])
    assert [t["slug"] for t in anon_client.get("/api/v1/tags/").data["results"]] == ["u"]
    author_client.patch(detail_url(slug), {"status": "draft"})
    assert anon_client.get(detail_url(slug)).status_code == 404
    assert anon_client.get(POSTS).data["count"] == 0
    assert anon_client.get(f"/api/v1/users/{author.username}/").data["post_count"] == 0
    author_client.patch(detail_url(slug), {"status": "published"})
    assert anon_client.get(POSTS).data["count"] == 1
    author_client.delete(detail_url(slug))
    assert anon_client.get(detail_url(slug)).status_code == 404
    assert anon_client.get(POSTS).data["count"] == 0
