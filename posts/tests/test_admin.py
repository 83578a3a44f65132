"""The admin, as an editor uses it: every page loads, search, moderation actions keep
the counters exact, and changelists cost the same number of queries at any size."""

import pytest
from django.contrib import admin
from django.contrib.messages.storage.fallback import FallbackStorage
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.tests.factories import FollowFactory, UserFactory
from images.models import Image
from posts.models import Category, Comment, Post, Tag
from posts.tests.factories import CategoryFactory, CommentFactory, LikeFactory, PostFactory, TagFactory

pytestmark = pytest.mark.django_db

MODELS = ["accounts.user", "accounts.follow", "posts.post", "posts.comment", "posts.tag", "posts.category"]


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


@pytest.fixture
def post(author):
    category = CategoryFactory(name="Databases")
    return PostFactory(author=author, title="Indexes in practice", category=category, tags=["postgres"])


def _objects(post):
    comment = CommentFactory(post=post)
    return {
        "accounts.user": post.author,
        "accounts.follow": FollowFactory(),
        "posts.post": post,
        "posts.comment": comment,
        "posts.tag": post.tags.first(),
        "posts.category": post.category,
    }


@pytest.mark.parametrize("model", MODELS)
def test_changelist_add_and_change_pages_load(admin_client, post, model):
    obj = _objects(post)[model]
    app, name = model.split(".")
    for url in (
        reverse(f"admin:{app}_{name}_changelist"),
        reverse(f"admin:{app}_{name}_add"),
        reverse(f"admin:{app}_{name}_change", args=[obj.pk]),
    ):
        response = admin_client.get(url)
        assert response.status_code == 200, url


def test_admin_needs_staff(client, other_user):
    client.force_login(other_user)
    response = client.get(reverse("admin:posts_post_changelist"))
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_post_search_by_title(admin_client, author):
    PostFactory(author=author, title="Tuning autovacuum")
    PostFactory(author=author, title="Writing clean templates")
    response = admin_client.get(reverse("admin:posts_post_changelist"), {"q": "autovacuum"})
    assert [p.title for p in response.context["cl"].result_list] == ["Tuning autovacuum"]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"status__exact": "draft"}, {"Draft one"}),
        ({"status__exact": "published"}, {"Public one", "Scheduled one"}),
        ({"tags__id__exact": "TAG"}, {"Public one"}),
    ],
)
def test_post_filters(admin_client, author, params, expected):
    tag = TagFactory(name="python")
    PostFactory(author=author, title="Public one", tags=[tag])
    PostFactory(author=author, title="Draft one", draft=True)
    PostFactory(author=author, title="Scheduled one", scheduled=True)
    params = {key: str(tag.pk) if value == "TAG" else value for key, value in params.items()}
    response = admin_client.get(reverse("admin:posts_post_changelist"), params)
    assert {p.title for p in response.context["cl"].result_list} == expected


def test_user_search(admin_client):
    UserFactory(username="grace", display_name="Grace Hopper")
    UserFactory(username="alan", display_name="Alan Turing")
    response = admin_client.get(reverse("admin:accounts_user_changelist"), {"q": "hopper"})
    assert [u.username for u in response.context["cl"].result_list] == ["grace"]


def test_comment_search(admin_client, post):
    CommentFactory(post=post, body="Great point about vacuum")
    CommentFactory(post=post, body="Nice")
    response = admin_client.get(reverse("admin:posts_comment_changelist"), {"q": "vacuum"})
    assert [c.body for c in response.context["cl"].result_list] == ["Great point about vacuum"]


def test_adding_a_post_gives_it_a_unique_slug(admin_client, author, post):
    url = reverse("admin:posts_post_add")
    data = {
        "title": post.title,
        "author": author.pk,
        "body": "# Hello\n\nWorld",
        "excerpt": "",
        "status": "published",
        "published_at_0": "",
        "published_at_1": "",
        "comments-TOTAL_FORMS": "0",
        "comments-INITIAL_FORMS": "0",
    }
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    created = Post.objects.exclude(pk=post.pk).get(title=post.title)
    assert created.slug.startswith("indexes-in-practice")
    assert created.slug != post.slug
    assert created.body_html.startswith("<h1>Hello</h1>")
    assert created.published_at is not None


def change_form_data(post, *, comments: int = 0, **fields) -> dict:
    """The post's admin change form as the browser submits it, with ``fields`` changed
    and ``comments`` inline comment forms announced."""
    return {
        "title": post.title,
        "author": post.author_id,
        "body": post.body,
        "excerpt": post.excerpt,
        "status": "published",
        "published_at_0": post.published_at.strftime("%Y-%m-%d"),
        "published_at_1": post.published_at.strftime("%H:%M:%S"),
        "category": post.category_id,
        "tags": [t.pk for t in post.tags.all()],
        "comments-TOTAL_FORMS": str(comments),
        "comments-INITIAL_FORMS": str(comments),
        **fields,
    }


def test_editing_a_post_keeps_its_slug(admin_client, post):
    slug = post.slug
    url = reverse("admin:posts_post_change", args=[post.pk])
    data = change_form_data(post, title="A new title")
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    post.refresh_from_db()
    assert post.title == "A new title"
    assert post.slug == slug


def _action(admin_client, model: str, action: str, objects) -> None:
    app, name = model.split(".")
    response = admin_client.post(
        reverse(f"admin:{app}_{name}_changelist"),
        {"action": action, "_selected_action": [o.pk for o in objects]},
    )
    assert response.status_code == 302


def test_publish_and_unpublish_actions(admin_client, author):
    draft = PostFactory(author=author, draft=True)
    scheduled = PostFactory(author=author, scheduled=True)
    public = PostFactory(author=author)
    public_date = public.published_at

    _action(admin_client, "posts.post", "publish_now", [draft, scheduled, public])
    assert set(Post.objects.public()) == {draft, scheduled, public}
    public.refresh_from_db()
    assert public.published_at == public_date  # already public: keeps its date

    _action(admin_client, "posts.post", "unpublish", [draft, public])
    assert set(Post.objects.drafts()) == {draft, public}
    assert set(Post.objects.public()) == {scheduled}


def test_hide_unhide_and_delete_comments_keep_the_count_exact(admin_client, post):
    comments = CommentFactory.create_batch(3, post=post)
    post.refresh_from_db()
    assert post.comment_count == 3

    _action(admin_client, "posts.comment", "hide", comments[:2])
    post.refresh_from_db()
    assert post.comment_count == 1
    assert Comment.objects.visible_to(None).filter(post=post).count() == 1

    _action(admin_client, "posts.comment", "unhide", comments[:1])
    post.refresh_from_db()
    assert post.comment_count == 2

    response = admin_client.post(
        reverse("admin:posts_comment_changelist"),
        {"action": "delete_selected", "_selected_action": [comments[0].pk, comments[1].pk], "post": "yes"},
    )
    assert response.status_code == 302
    post.refresh_from_db()
    assert post.comment_count == 1
    assert Comment.objects.filter(post=post).count() == 1


def test_deleting_one_comment_recounts(admin_client, post):
    comment, _ = CommentFactory.create_batch(2, post=post)
    response = admin_client.post(reverse("admin:posts_comment_delete", args=[comment.pk]), {"post": "yes"})
    assert response.status_code == 302
    post.refresh_from_db()
    assert post.comment_count == 1


def test_counters_are_read_only_on_the_post_form(admin_client, post):
    LikeFactory(post=post)
    response = admin_client.get(reverse("admin:posts_post_change", args=[post.pk]))
    form = response.context["adminform"].form
    assert "like_count" not in form.fields
    assert "comment_count" not in form.fields
    assert "slug" not in form.fields


def test_tag_and_category_autocomplete(admin_client, post):
    response = admin_client.get(
        reverse("admin:autocomplete"),
        {"app_label": "posts", "model_name": "post", "field_name": "tags", "term": "postg"},
    )
    assert [r["text"] for r in response.json()["results"]] == ["postgres"]
    response = admin_client.get(
        reverse("admin:autocomplete"),
        {"app_label": "posts", "model_name": "post", "field_name": "author", "term": post.author.username},
    )
    assert post.author.username in [r["text"] for r in response.json()["results"]]


def _make_rows(model: str, n: int) -> None:
    author = UserFactory()
    category = Category.objects.first() or CategoryFactory()
    tag = Tag.objects.first() or TagFactory()
    for _ in range(n):
        if model == "posts.post":
            PostFactory(author=author, category=category, tags=[tag])
        elif model == "posts.comment":
            CommentFactory(post=PostFactory(author=author), author=author)
        elif model == "accounts.user":
            UserFactory()
        elif model == "accounts.follow":
            FollowFactory()
        elif model == "posts.tag":
            TagFactory()
        elif model == "posts.category":
            CategoryFactory()


@pytest.mark.parametrize("model", MODELS)
def test_changelist_queries_do_not_grow_with_rows(admin_client, model):
    app, name = model.split(".")
    url = reverse(f"admin:{app}_{name}_changelist")
    _make_rows(model, 2)
    admin_client.get(url)  # warm the session and content types
    with CaptureQueriesContext(connection) as few:
        assert admin_client.get(url).status_code == 200
    _make_rows(model, 12)
    with CaptureQueriesContext(connection) as many:
        assert admin_client.get(url).status_code == 200
    # Filters list the users, tags and categories: one query each, whatever their number.
    assert len(many) == len(few), [q["sql"] for q in many.captured_queries]


def test_post_change_page_queries_do_not_grow_with_comments(admin_client, post):
    url = reverse("admin:posts_post_change", args=[post.pk])
    CommentFactory.create_batch(2, post=post)
    with CaptureQueriesContext(connection) as few:
        assert admin_client.get(url).status_code == 200
    CommentFactory.create_batch(10, post=post)
    with CaptureQueriesContext(connection) as many:
        assert admin_client.get(url).status_code == 200
    assert len(many) == len(few)


def test_hiding_a_comment_from_the_post_page_recounts(admin_client, post):
    comment = CommentFactory(post=post)
    url = reverse("admin:posts_post_change", args=[post.pk])
    data = change_form_data(post, comments=1) | {
        "comments-0-id": comment.pk,
        "comments-0-post": post.pk,
        "comments-0-body": comment.body,
        "comments-0-is_hidden": "on",
    }
    response = admin_client.post(url, data)
    assert response.status_code == 302
    post.refresh_from_db()
    comment.refresh_from_db()
    assert comment.is_hidden
    assert post.comment_count == 0


def test_a_cover_deleted_while_the_admin_form_was_sent_saves_the_post_without_it(
    rf, staff_user, author, image_of
):
    """The form checked the image a moment before; its owner deleted it since: the post
    is saved without a cover and staff are told, instead of a failure at commit."""
    post = PostFactory(author=author, title="Before")
    image = image_of(author)
    post.cover_image_id, post.title = image.pk, "After"
    Image.objects.filter(pk=image.pk).delete()
    request = rf.post("/admin/")
    request.user, request.session = staff_user, {}
    request._messages = FallbackStorage(request)
    admin.site._registry[Post].save_model(request, post, form=None, change=True)
    post.refresh_from_db()
    assert (post.title, post.cover_image_id) == ("After", None)
    assert [str(m) for m in request._messages] == [
        "The cover image was deleted meanwhile: the post was saved without one."
    ]
