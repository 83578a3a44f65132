"""``GET /api/v1/auth/me/export/``: everything the caller owns, as one JSON document."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.tests.factories import FollowFactory, UserFactory
from conftest import client_for
from posts.models import Post
from posts.tests.factories import CategoryFactory, CommentFactory, LikeFactory, PostFactory

pytestmark = pytest.mark.django_db

EXPORT = "/api/v1/auth/me/export/"
KEYS = {"exported_at", "profile", "posts", "comments", "likes", "follows", "uploads"}


@pytest.fixture
def life(author, other_user, image_of):
    """What ``author`` owns, and things around it that are not theirs."""
    cover = image_of(author, width=1200, height=800, alt="Cover")
    author.avatar = image_of(author, width=300, height=300, alt="Me")
    author.notify_comments = False
    author.save()
    news = CategoryFactory(name="News")
    public = PostFactory(
        author=author, title="Public one", category=news, tags=["sql", "go"], cover_image=cover
    )
    public.body = "Hello **world**"
    public.save()
    draft = PostFactory(author=author, title="A draft", draft=True)
    scheduled = PostFactory(author=author, title="Later", scheduled=True)
    theirs = PostFactory(author=other_user, title="Theirs")
    withdrawn = PostFactory(author=other_user, title="Withdrawn later", slug="withdrawn")
    mine_on_theirs = CommentFactory(post=theirs, author=author, body="Nice post")
    hidden = CommentFactory(post=theirs, author=author, body="Rude remark", is_hidden=True)
    on_withdrawn = CommentFactory(post=withdrawn, author=author, body="Good one")
    CommentFactory(post=public, author=other_user, body="Not the author's comment")
    LikeFactory(post=theirs, user=author)
    LikeFactory(post=withdrawn, user=author)
    LikeFactory(post=public, user=other_user)
    FollowFactory(follower=author, followed=other_user)
    FollowFactory(follower=other_user, followed=author)
    gone = UserFactory(username="gone", is_active=False)
    FollowFactory(follower=gone, followed=author)
    image_of(other_user)
    Post.objects.filter(pk=withdrawn.pk).update(status=Post.Status.DRAFT)
    return {
        "posts": [public, draft, scheduled],
        "comments": [mine_on_theirs, hidden, on_withdrawn],
        "theirs": theirs,
        "cover": cover,
    }


def test_the_export_holds_everything_the_caller_owns_and_nothing_else(
    author_client, author, other_user, life
):
    response = author_client.get(EXPORT)

    assert response.status_code == 200, response.content
    data = response.json()
    assert set(data) == KEYS

    profile = data["profile"]
    assert profile["username"] == "author" and profile["email"] == author.email
    assert profile["notify_comments"] is False and profile["notify_followed_posts"] is True
    assert profile["avatar"]["alt"] == "Me"

    posts = data["posts"]
    assert [p["title"] for p in posts] == ["Public one", "A draft", "Later"]
    assert [p["status"] for p in posts] == ["published", "draft", "scheduled"]
    public = posts[0]
    assert public["body"] == "Hello **world**" and "<strong>world</strong>" in public["body_html"]
    assert public["tags"] == ["go", "sql"] and public["category"] == {"slug": "news", "name": "News"}
    assert public["cover_image"]["id"] == life["cover"].pk
    assert public["author"]["username"] == "author"
    assert "liked" not in public
    # The API's detail, without the viewer's ``liked``.
    detail = author_client.get(f"/api/v1/posts/{public['slug']}/").json()
    detail.pop("liked")
    assert public == detail

    comments = data["comments"]
    assert [(c["body"], c["post"], c["hidden"]) for c in comments] == [
        ("Nice post", life["theirs"].slug, False),
        ("Rude remark", life["theirs"].slug, True),
        ("Good one", None, False),  # its post went back to draft: no slug, no title
    ]
    assert set(comments[0]) == {"id", "post", "body", "hidden", "created_at", "updated_at"}
    assert [like["post"] for like in data["likes"]] == [life["theirs"].slug, None]

    assert [p["username"] for p in data["follows"]["following"]] == ["other"]
    assert [p["username"] for p in data["follows"]["followers"]] == ["other"]  # not the deactivated one
    assert set(data["follows"]["following"][0]) == {"username", "display_name", "created_at"}

    uploads = data["uploads"]
    assert len(uploads) == 2 and {u["alt"] for u in uploads} == {"Cover", "Me"}
    assert set(uploads[0]) == {
        "id",
        "url",
        "width",
        "height",
        "content_type",
        "size",
        "alt",
        "renditions",
        "created_at",
    }
    assert uploads[0]["url"].startswith("http://testserver/media/")
    assert "Not the author's comment" not in response.content.decode()
    assert "password" not in response.content.decode()


def test_the_export_is_a_private_download_named_after_the_account(author_client):
    response = author_client.get(EXPORT)

    assert response["Content-Type"] == "application/json"
    today = timezone.now().date().isoformat()
    assert response["Content-Disposition"] == f'attachment; filename="blog-export-author-{today}.json"'
    assert response["Cache-Control"] == "private, no-store"


def test_anonymous_callers_get_a_401(anon_client):
    response = anon_client.get(EXPORT)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_staff_and_other_users_export_only_their_own(staff_client, other_client, life):
    for client, username in ((staff_client, "staff"), (other_client, "other")):
        data = client.get(EXPORT).json()
        assert data["profile"]["username"] == username
        assert all(post["author"]["username"] == username for post in data["posts"])
    staff = staff_client.get(EXPORT).json()
    assert staff["posts"] == staff["comments"] == staff["likes"] == staff["uploads"] == []


def test_a_new_account_exports_an_empty_life(author_client):
    data = author_client.get(EXPORT).json()
    assert data["posts"] == data["comments"] == data["likes"] == data["uploads"] == []
    assert data["follows"] == {"following": [], "followers": []}


def test_the_export_costs_the_same_queries_for_few_and_many_posts(author, other_user, image_of):
    client = client_for(author)
    tags = ["a", "b"]

    def grow(count: int) -> None:
        for _ in range(count):
            post = PostFactory(
                author=author,
                tags=tags,
                category=CategoryFactory(),
                cover_image=image_of(author, width=200, height=100),
            )
            CommentFactory(post=post, author=author)
            LikeFactory(post=PostFactory(author=other_user), user=author)
            FollowFactory(follower=author, followed=UserFactory())
            FollowFactory(follower=UserFactory(), followed=author)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            response = client.get(EXPORT)
        assert response.status_code == 200
        return len(captured)

    grow(2)
    few = queries()
    grow(12)
    many = queries()

    assert client.get(EXPORT).json()["posts"][13]["tags"] == ["a", "b"]
    assert few == many, (few, many)
    assert many <= 10  # the user, then one read per kind of thing


def test_a_scheduled_post_exports_its_date(author_client, author):
    later = timezone.now() + timedelta(days=3)
    PostFactory(author=author, status=Post.Status.PUBLISHED, published_at=later)
    [post] = author_client.get(EXPORT).json()["posts"]
    assert post["status"] == "scheduled" and post["published_at"].startswith(later.date().isoformat())


def test_the_schema_documents_the_export_and_its_download_header(anon_client):
    schema = anon_client.get("/api/v1/schema/?format=json").json()
    operation = schema["paths"]["/api/v1/auth/me/export/"]["get"]
    ok = operation["responses"]["200"]
    assert ok["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/AccountExport"}
    assert "Content-Disposition" in ok["headers"]
    assert "401" in operation["responses"]
    export = schema["components"]["schemas"]["AccountExport"]
    assert set(export["properties"]) == KEYS
