"""A client generated from the served schema by a generator nobody here wrote
(openapi-python-client, pinned in requirements/dev.txt) works against a live server.

The test fetches ``/api/v1/schema/`` from pytest-django's live server, generates a Python
package from it (offline: the generator only reads the file), imports it, and walks a
writer's and a reader's story through the generated functions only: sign up, log in,
upload an image (multipart), write a draft, publish it, list with filters and pages,
comment, like, log out. Every answer is parsed into the generated models, so a schema
that lied about a type, a nullable field or a status code fails here.
"""

import datetime
import importlib
import subprocess
import sys
import urllib.request
from pathlib import Path
from types import ModuleType

import pytest
from django.utils import timezone

from accounts.models import User
from images.tests import files
from posts.tests.factories import PostFactory

pytestmark = pytest.mark.django_db(transaction=True)

GENERATOR = Path(sys.executable).with_name("openapi-python-client")
PACKAGE = "blog_api_client"
PASSWORD = "a-long-and-unusual-passphrase-42"
# No post-generation hooks: they would run ruff from PATH on the generated code.
CONFIG = f"package_name_override: {PACKAGE}\nproject_name_override: {PACKAGE}\npost_hooks: []\n"


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    """Where the generated package goes, once per module (the ``api`` fixture fills it)."""
    return tmp_path_factory.mktemp("generated")


@pytest.fixture
def api(live_server, generated) -> ModuleType:
    """The generated package, built from the live server's own schema."""
    package_dir = generated / PACKAGE
    if not package_dir.exists():
        schema = generated / "schema.json"
        with urllib.request.urlopen(f"{live_server.url}/api/v1/schema/?format=json", timeout=30) as answer:  # noqa: S310 - the live server
            schema.write_bytes(answer.read())
        config = generated / "config.yaml"
        config.write_text(CONFIG)
        result = subprocess.run(  # noqa: S603 - the pinned generator on our own schema
            [
                str(GENERATOR),
                "generate",
                "--path",
                str(schema),
                "--config",
                str(config),
                "--output-path",
                str(package_dir),
                "--meta",
                "none",
                "--fail-on-warning",
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr
    sys.path.insert(0, str(generated))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(generated))


def module(name: str) -> ModuleType:
    return importlib.import_module(f"{PACKAGE}.{name}")


def log_in(api: ModuleType, base_url: str, username: str) -> tuple[object, str]:
    """An authenticated generated client for ``username`` and its refresh token."""
    token = module("api.auth.auth_token_create")
    body = module("models").TokenObtainPairRequest(username=username, password=PASSWORD)
    pair = token.sync(client=api.Client(base_url=base_url), body=body)
    client = api.AuthenticatedClient(base_url=base_url, token=pair.access, raise_on_unexpected_status=True)
    return client, pair.refresh


def test_a_generated_client_writes_and_reads_the_blog(api, live_server):
    models = module("models")
    types = module("types")
    register = module("api.auth.auth_register_create")
    me = module("api.auth.auth_me_retrieve")
    my_posts = module("api.auth.auth_me_posts_list")
    logout = module("api.auth.auth_logout_create")
    upload = module("api.media.media_create")
    create_post = module("api.posts.posts_create")
    edit_post = module("api.posts.posts_partial_update")
    read_post = module("api.posts.posts_retrieve")
    list_posts = module("api.posts.posts_list")
    comment = module("api.posts.posts_comments_create")
    comments = module("api.posts.posts_comments_list")
    like = module("api.posts.posts_like_create")
    delete_post = module("api.posts.posts_destroy")
    # Reads need no credentials. openapi-python-client types operations whose credentials
    # are optional as needing an AuthenticatedClient; a plain Client works for them.
    anonymous = api.Client(base_url=live_server.url, raise_on_unexpected_status=True)

    # Sign up (no credentials needed: a plain Client) and log in (the username in any case).
    signed_up = register.sync_detailed(
        client=anonymous,
        body=models.RegisterRequest(username="writer", email="writer@example.com", password=PASSWORD),
    )
    assert signed_up.status_code == 201
    profile = signed_up.parsed
    assert isinstance(profile, models.PrivateProfile)
    assert profile.username == "writer" and profile.avatar is None and profile.email_verified is False
    writer, refresh = log_in(api, live_server.url, "WRITER")
    assert me.sync(client=writer).id == profile.id

    # Upload an image (multipart) for the cover.
    image = upload.sync(
        client=writer,
        body=models.ImageUploadRequest(
            file=types.File(payload=files.png(900, 500), file_name="cover.png", mime_type="image/png"),
            alt="A red and blue cover",
        ),
    )
    assert isinstance(image, models.Image)
    assert (image.width, image.height, image.alt) == (900, 500, "A red and blue cover")
    assert [rendition.width for rendition in image.renditions] == [600]
    assert isinstance(image.created_at, datetime.datetime)

    # Write a draft, then publish it.
    draft = create_post.sync_detailed(
        client=writer,
        body=models.PostWriteRequest(
            title="Rivers in spring",
            body="The *river* is high.",
            tags=["Rivers", "spring"],
            cover_image=image.id,
        ),
    )
    assert draft.status_code == 201
    post = draft.parsed
    assert post.status == models.PostStatusEnum.DRAFT
    assert post.published_at is None and post.category is None and post.liked is False
    assert post.cover_image.id == image.id and post.tags == ["rivers", "spring"]
    assert "<em>river</em>" in post.body_html

    published = edit_post.sync(
        slug=post.slug,
        client=writer,
        body=models.PatchedPostWriteRequest(status=models.PostWriteStatusEnum.PUBLISHED),
    )
    assert published.status == models.PostStatusEnum.PUBLISHED
    assert isinstance(published.published_at, datetime.datetime)
    assert read_post.sync(slug=post.slug, client=anonymous).title == "Rivers in spring"

    # Lists: filters (a date, a datetime, any of two tags, an author) and pages.
    author = User.objects.get(pk=profile.id)
    older = PostFactory(author=author, published_at=timezone.now() - datetime.timedelta(days=400))
    page = list_posts.sync(
        client=anonymous,
        author="writer",
        tag="rivers,lakes",
        published_after=timezone.now().date() - datetime.timedelta(days=1),
        published_before=timezone.now() + datetime.timedelta(hours=1),
    )
    assert isinstance(page, models.PaginatedPostListList)
    assert [item.slug for item in page.results] == [post.slug] and page.count == 1
    first = list_posts.sync(client=anonymous, author="writer", page_size=1)
    assert first.count == 2 and [item.slug for item in first.results] == [post.slug]
    assert first.previous is None and "page=2" in first.next_
    second = list_posts.sync(client=anonymous, author="writer", page_size=1, page=2)
    assert [item.slug for item in second.results] == [older.slug] and second.next_ is None
    mine = my_posts.sync(client=writer, status=models.AuthMePostsListStatus.PUBLISHED)
    assert mine.count == 2

    # Another reader comments and likes.
    register.sync(
        client=anonymous,
        body=models.RegisterRequest(
            username="reader", email="reader@example.com", password=PASSWORD, display_name="A reader"
        ),
    )
    reader, _ = log_in(api, live_server.url, "reader")
    said = comment.sync_detailed(slug=post.slug, client=reader, body=models.CommentRequest(body="Lovely."))
    assert said.status_code == 201 and said.parsed.author.display_name == "A reader"
    assert [c.body for c in comments.sync(slug=post.slug, client=anonymous).results] == ["Lovely."]
    liked = like.sync(slug=post.slug, client=reader)
    assert (liked.liked, liked.like_count) == (True, 1)
    assert read_post.sync(slug=post.slug, client=reader).liked is True

    # Answers without a body: 204 and 205.
    assert delete_post.sync_detailed(slug=older.slug, client=writer).status_code == 204
    logged_out = logout.sync_detailed(client=anonymous, body=models.LogoutRequest(refresh=refresh))
    assert logged_out.status_code == 205
