"""The events that post and comment writes emit, once each, from every face that writes
(the API, Conduit, the admin), and the scheduled posts' announcements by the beat."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.tests.factories import UserFactory
from conduit.tests.conftest import token_client
from conftest import client_for
from notifications import services as notifications
from outbox.models import Message
from posts import events, services
from posts.models import Post
from posts.tasks import announce_due_posts
from posts.tests.factories import PostFactory
from webhooks.tests.conftest import emitted, emitted_documents
from webhooks.tests.factories import WebhookFactory

pytestmark = pytest.mark.django_db

API = "/api/v1/posts/"


@pytest.fixture(autouse=True)
def listening(staff_user):
    """A webhook subscribed to every event (its messages are what these tests read)."""
    return WebhookFactory(created_by=staff_user)


@pytest.fixture
def told(monkeypatch):
    """What the notifications were asked to tell: ``[("post_published", post_id), ...]``."""
    calls: list[tuple[str, int]] = []
    monkeypatch.setattr(notifications, "post_published", lambda *, post: calls.append(("post", post.pk)))
    monkeypatch.setattr(
        notifications, "comment_added", lambda *, comment: calls.append(("comment", comment.pk))
    )
    return calls


@pytest.fixture
def public_post(author):
    return PostFactory(author=author, title="Public", tags=["sql"])


@pytest.fixture
def draft(author):
    return PostFactory(author=author, draft=True, title="Draft")


def future() -> str:
    return (timezone.now() + timedelta(days=1)).isoformat()


# --- The API ---------------------------------------------------------------------------------


def test_creating_a_draft_emits_post_added_only(author_client, told):
    response = author_client.post(API, {"title": "T", "body": "B"}, format="json")
    assert response.status_code == 201
    assert emitted() == ["post.added"]
    assert told == []


def test_creating_a_public_post_emits_added_then_published_and_tells_followers(author_client, told):
    response = author_client.post(API, {"title": "T", "body": "B", "status": "published"}, format="json")
    post = Post.objects.get()
    assert emitted() == ["post.added", "post.published"]
    assert told == [("post", post.pk)]
    assert post.announced_at is not None
    [document] = emitted_documents("post.published")
    assert document["data"]["slug"] == response.json()["slug"]


def test_creating_a_scheduled_post_publishes_nothing_yet(author_client, told):
    author_client.post(API, {"title": "T", "body": "B", "status": "published", "published_at": future()})
    assert emitted() == ["post.added"]
    assert told == [] and Post.objects.get().announced_at is None


def test_publishing_a_draft_emits_published(author_client, draft, told):
    author_client.patch(f"{API}{draft.slug}/", {"status": "published"}, format="json")
    assert emitted() == ["post.published"]
    assert told == [("post", draft.pk)]


def test_editing_a_public_post_emits_published_edited_with_the_previous_values(
    author_client, public_post, told
):
    before = public_post.updated_at
    response = author_client.patch(
        f"{API}{public_post.slug}/", {"title": "Better title", "tags": ["sql", "postgres"]}, format="json"
    )
    assert response.status_code == 200
    assert emitted() == ["post.published.edited"]
    [document] = emitted_documents("post.published.edited")
    data = document["data"]
    assert data["title"] == "Better title" and data["tags"] == ["postgres", "sql"]
    previous = data["previous"]
    assert previous["title"] == "Public" and previous["tags"] == ["sql"]
    assert set(previous) == {"title", "tags", "updated_at"}
    assert previous["updated_at"].startswith(before.isoformat()[:19])
    assert told == []  # an edit tells no followers


def test_an_edit_that_changes_nothing_shown_emits_nothing(author_client, public_post):
    author_client.patch(f"{API}{public_post.slug}/", {"title": "Public"}, format="json")
    assert emitted() == []


def test_editing_a_draft_emits_nothing(author_client, draft):
    author_client.patch(f"{API}{draft.slug}/", {"title": "Still a draft"}, format="json")
    assert emitted() == []


def test_unpublishing_emits_unpublished_and_publishing_again_announces_again(
    author_client, public_post, told
):
    url = f"{API}{public_post.slug}/"
    author_client.patch(url, {"status": "draft"}, format="json")
    assert emitted() == ["post.unpublished"]
    public_post.refresh_from_db()
    assert public_post.announced_at is None

    author_client.patch(url, {"status": "published"}, format="json")
    assert emitted() == ["post.unpublished", "post.published"]
    assert told == [("post", public_post.pk)]


def test_rescheduling_a_public_post_into_the_future_unpublishes_it(author_client, public_post):
    author_client.patch(f"{API}{public_post.slug}/", {"published_at": future()}, format="json")
    assert emitted() == ["post.unpublished"]


def test_deleting_a_post_emits_deleted_with_the_post_as_it_was(author_client, public_post):
    assert author_client.delete(f"{API}{public_post.slug}/").status_code == 204
    assert emitted() == ["post.deleted"]
    [document] = emitted_documents("post.deleted")
    assert document["data"]["slug"] == public_post.slug and document["data"]["title"] == "Public"


def test_commenting_emits_comment_added_and_tells_the_author(other_client, public_post, told):
    response = other_client.post(f"{API}{public_post.slug}/comments/", {"body": "Nice"}, format="json")
    assert response.status_code == 201
    assert emitted() == ["comment.added"]
    [document] = emitted_documents("comment.added")
    assert document["data"] == response.json()
    assert told == [("comment", response.json()["id"])]


def test_likes_and_comment_deletions_emit_nothing(other_client, author_client, public_post):
    other_client.post(f"{API}{public_post.slug}/like/")
    comment = services.add_comment(post=public_post, author=public_post.author, body="x")
    Message.objects.all().delete()
    author_client.delete(f"/api/v1/comments/{comment.pk}/")
    assert emitted() == []


def test_the_post_in_a_payload_is_its_detail_without_liked_and_with_absolute_urls(
    settings, author_client, public_post
):
    settings.SITE_URL = "https://blog.example.com"
    author_client.patch(f"{API}{public_post.slug}/", {"title": "Edited"}, format="json")
    [document] = emitted_documents("post.published.edited")
    detail = author_client.get(f"{API}{public_post.slug}/").json()
    data = {key: value for key, value in document["data"].items() if key != "previous"}
    assert "liked" not in data
    assert data["url"] == f"https://blog.example.com/api/v1/posts/{public_post.slug}/"
    assert data["body_html"] == detail["body_html"]
    assert set(data) == set(detail) - {"liked"}
    assert document["event"] == "post.published.edited"
    assert document["created_at"].endswith("Z")


# --- Conduit -------------------------------------------------------------------------------------


def test_conduit_writes_emit_the_same_events(author, told):
    client = token_client(author)
    article = {"title": "Conduit", "description": "d", "body": "b", "tagList": ["x"]}
    slug = client.post("/api/articles", {"article": article}, format="json").json()["article"]["slug"]
    assert emitted() == ["post.added", "post.published"]

    client.put(f"/api/articles/{slug}", {"article": {"title": "Conduit 2", "tagList": ["y"]}}, format="json")
    assert emitted()[2:] == ["post.published.edited"]
    [edited] = emitted_documents("post.published.edited")
    assert edited["data"]["tags"] == ["y"] and edited["data"]["previous"]["tags"] == ["x"]
    assert edited["data"]["previous"]["title"] == "Conduit"

    token_client(UserFactory()).post(
        f"/api/articles/{slug}/comments", {"comment": {"body": "hi"}}, format="json"
    )
    client.delete(f"/api/articles/{slug}")
    assert emitted()[3:] == ["comment.added", "post.deleted"]
    assert [kind for kind, _ in told] == ["post", "comment"]


# --- The admin -----------------------------------------------------------------------------------


@pytest.fixture
def admin(client):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


def admin_form(post: Post, **changes) -> dict:
    form = {
        "title": post.title,
        "author": post.author_id,
        "body": post.body,
        "excerpt": post.excerpt,
        "status": post.status,
        "published_at_0": post.published_at.strftime("%Y-%m-%d") if post.published_at else "",
        "published_at_1": post.published_at.strftime("%H:%M:%S") if post.published_at else "",
        "tags": [tag.pk for tag in post.tags.all()] if post.pk else [],
        "comments-TOTAL_FORMS": 0,
        "comments-INITIAL_FORMS": 0,
    }
    return {**form, **changes}


def test_admin_add_change_and_delete_emit_each_event_once(admin, author, told):
    new = Post(author=author, title="From the admin", body="b", status="published")
    response = admin.post("/admin/posts/post/add/", admin_form(new, published_at_0="", published_at_1=""))
    assert response.status_code == 302, response.content[:2000]
    post = Post.objects.get()
    assert emitted() == ["post.added", "post.published"]

    response = admin.post(f"/admin/posts/post/{post.pk}/change/", admin_form(post, title="Retitled"))
    assert response.status_code == 302
    assert emitted()[2:] == ["post.published.edited"]
    [edited] = emitted_documents("post.published.edited")
    assert edited["data"]["previous"]["title"] == "From the admin"

    admin.post(f"/admin/posts/post/{post.pk}/delete/", {"post": "yes"})
    assert emitted()[3:] == ["post.deleted"]
    assert told == [("post", post.pk)]


def test_admin_edit_shows_the_new_tags_in_the_payload(admin, public_post):
    from posts.tests.factories import TagFactory

    extra = TagFactory(name="new-tag")
    form = admin_form(public_post, tags=[*[t.pk for t in public_post.tags.all()], extra.pk])
    assert admin.post(f"/admin/posts/post/{public_post.pk}/change/", form).status_code == 302
    [edited] = emitted_documents("post.published.edited")
    assert edited["data"]["tags"] == ["new-tag", "sql"] and edited["data"]["previous"]["tags"] == ["sql"]


def test_admin_publish_and_unpublish_actions_emit_per_post(admin, author, public_post, told):
    drafts = [PostFactory(author=author, draft=True) for _ in range(2)]
    ids = [post.pk for post in drafts]
    admin.post("/admin/posts/post/", {"action": "publish_now", "_selected_action": ids})
    assert emitted() == ["post.published", "post.published"]
    assert sorted(pk for _, pk in told) == sorted(ids)

    # Filtered by status, as the changelist may be: the queryset matches nothing after.
    admin.post(
        "/admin/posts/post/?status__exact=published",
        {"action": "unpublish", "_selected_action": [*ids, public_post.pk]},
    )
    assert emitted()[2:] == ["post.unpublished"] * 3


def test_admin_publishing_an_already_public_post_emits_nothing(admin, public_post):
    admin.post("/admin/posts/post/", {"action": "publish_now", "_selected_action": [public_post.pk]})
    assert emitted() == []


# --- Transactions, subscriptions, bulk paths ----------------------------------------------------


def test_a_rolled_back_write_sends_nothing(author, receiver, hook, django_capture_on_commit_callbacks, told):
    def failing() -> None:
        with transaction.atomic():
            services.create_post(author=author, title="Doomed", body="x", status="published")
            raise RuntimeError("the write failed")

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        failing()
    assert not Message.objects.exists()
    assert receiver.requests == []
    assert not Post.objects.exists()


def test_only_active_webhooks_subscribed_to_the_event_are_told(listening, author):
    listening.delete()
    comments_only = WebhookFactory(events=["comment.added"])
    WebhookFactory(is_active=False)
    post = services.create_post(author=author, title="T", body="x", status="published")
    assert emitted() == []
    services.add_comment(post=post, author=author, body="c")
    assert [m.payload["webhook"] for m in Message.objects.all()] == [comments_only.pk]


def test_each_subscribed_webhook_gets_its_own_message_with_the_same_body(author):
    WebhookFactory()
    services.create_post(author=author, title="T", body="x")
    messages = list(Message.objects.all())
    assert len(messages) == 2 and len({m.payload["webhook"] for m in messages}) == 2
    assert len({m.payload["body"] for m in messages}) == 1


def test_with_no_webhook_a_write_renders_no_payload(listening, author):
    listening.delete()
    with CaptureQueriesContext(connection) as queries:
        services.create_post(author=author, title="T", body="x", status="published")
    sql = [query["sql"] for query in queries.captured_queries]
    # One look for listeners per event; the post's representation (its tags) never read.
    assert sum("webhooks_webhook" in each for each in sql) == 2
    assert not any("posts_tag" in each for each in sql)
    assert emitted() == []


def test_seeding_and_recounting_emit_nothing():
    call_command(
        "seed_blog",
        stdout=StringIO(),
        stderr=StringIO(),
        users=4,
        posts=30,
        comments=20,
        likes=20,
        follows=4,
        demo_admin=True,
    )
    services.recount()
    assert emitted() == []
    public = Post.objects.public()
    assert public.exists() and not public.filter(announced_at__isnull=True).exists()
    assert not Post.objects.drafts().filter(announced_at__isnull=False).exists()
    assert not Post.objects.scheduled().filter(announced_at__isnull=False).exists()
    assert announce_due_posts() == 0  # the archive is not announced again


# --- Scheduled posts and the beat ----------------------------------------------------------------


def _time_passes(post: Post) -> None:
    Post.objects.filter(pk=post.pk).update(published_at=timezone.now() - timedelta(seconds=5))


def test_a_scheduled_post_is_announced_once_when_its_time_comes(
    author, receiver, hook, listening, django_capture_on_commit_callbacks, told
):
    listening.delete()
    scheduled = services.create_post(
        author=author,
        title="Later",
        body="x",
        status="published",
        published_at=timezone.now() + timedelta(hours=1),
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert announce_due_posts() == 0  # not yet
    _time_passes(scheduled)
    with django_capture_on_commit_callbacks(execute=True):
        assert announce_due_posts() == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert announce_due_posts() == 0  # a second beat, or the task run again

    assert receiver.events() == ["post.published"]
    assert receiver.requests[0].document["data"]["status"] == "published"
    assert told == [("post", scheduled.pk)]


def test_a_publish_and_the_beat_announce_a_post_once_between_them(author_client, author, told):
    scheduled = PostFactory(author=author, scheduled=True)
    _time_passes(scheduled)
    # The author edits it just after its time came, before the beat ran: the edit announces it.
    author_client.patch(f"{API}{scheduled.slug}/", {"title": "Edited at the last minute"}, format="json")
    assert announce_due_posts() == 0
    assert emitted() == ["post.published"]
    assert told == [("post", scheduled.pk)]


def test_a_save_from_an_instance_read_before_the_announcement_does_not_undo_it(author, told):
    scheduled = PostFactory(author=author, scheduled=True)
    stale = Post.objects.get(pk=scheduled.pk)  # read while unannounced
    _time_passes(scheduled)
    assert announce_due_posts() == 1
    stale.published_at = timezone.now() - timedelta(seconds=5)
    services.save_post(post=stale)  # e.g. an admin form opened before
    assert Post.objects.get(pk=scheduled.pk).announced_at is not None
    assert announce_due_posts() == 0
    assert emitted().count("post.published") == 1 and len(told) == 1


def test_the_migration_marks_posts_already_public_as_announced(author):
    import importlib

    from django.apps import apps

    migration = importlib.import_module("posts.migrations.0007_post_announced_at")
    public = PostFactory(author=author, announced_at=None)
    scheduled = PostFactory(author=author, scheduled=True)
    draft = PostFactory(author=author, draft=True)
    migration.mark_public_posts_announced(apps, None)
    public.refresh_from_db()
    assert public.announced_at == public.published_at
    assert Post.objects.filter(pk__in=[scheduled.pk, draft.pk], announced_at__isnull=True).count() == 2


def test_the_beat_runs_every_thirty_seconds(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["posts-announce"]
    assert entry["task"] == "posts.tasks.announce_due_posts" and entry["schedule"] == 30.0


def test_one_post_that_fails_to_announce_does_not_stop_the_others(author, monkeypatch):
    first, second = (PostFactory(author=author, scheduled=True) for _ in range(2))
    _time_passes(first)
    _time_passes(second)
    real = events.announce

    def flaky(*, post, now=None):
        if post.pk == first.pk:
            raise RuntimeError("database hiccup")
        return real(post=post, now=now)

    monkeypatch.setattr(events, "announce", flaky)
    assert announce_due_posts() == 1
    first.refresh_from_db()
    assert first.announced_at is None  # the next beat tries it again


@pytest.mark.django_db(transaction=True)
@pytest.mark.postgres
def test_beats_racing_announce_a_post_once(postgres_only):
    from conftest import run_at_once

    WebhookFactory()
    scheduled = PostFactory(scheduled=True)
    _time_passes(scheduled)
    results = run_at_once(6, lambda i: announce_due_posts())
    assert sum(results) == 1
    assert emitted().count("post.published") == 2  # two webhooks, one announcement


@pytest.mark.django_db(transaction=True)
@pytest.mark.postgres
def test_a_publish_racing_the_beat_announces_once(postgres_only):
    from conftest import run_at_once

    scheduled = PostFactory(scheduled=True)
    _time_passes(scheduled)
    author = scheduled.author

    def either(i: int) -> None:
        if i % 2:
            announce_due_posts()
        else:
            client_for(author).patch(f"{API}{scheduled.slug}/", {"title": f"Edit {i}"}, format="json")

    run_at_once(6, either)
    assert emitted().count("post.published") == 1
