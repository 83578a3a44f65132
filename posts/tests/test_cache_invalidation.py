"""What clears the anonymous response cache (``POSTS_RESPONSE_CACHE``), through every face:
a login keeps it, and each write that changes a post list or detail clears it, whether it
comes from the API, the pages (the API with the browser's session), Conduit or the admin."""

from collections.abc import Callable

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.tests.factories import PASSWORD, UserFactory
from conduit.tests.conftest import token_client
from conftest import client_for
from posts.models import Post
from posts.tests.conftest import assert_write_clears_the_cache, contents
from posts.tests.factories import PostFactory
from posts.tests.test_admin import change_form_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def root(db):
    return UserFactory(username="root", is_staff=True, is_superuser=True)


def urls(post: Post) -> list[str]:
    return ["/api/v1/posts/", f"/api/v1/posts/{post.slug}/"]


def snapshot(client, post: Post) -> list[bytes]:
    return contents(client, urls(post))


def assert_still_served_from_the_cache(anon_client, post: Post, action: Callable[[], None]) -> None:
    """After ``action``, anonymous readers get the same list and detail, with no query."""
    before = snapshot(anon_client, post)
    action()
    with CaptureQueriesContext(connection) as queries:
        after = snapshot(anon_client, post)
    assert after == before
    assert len(queries) == 0, [q["sql"] for q in queries.captured_queries]


# --- A login keeps the cache --------------------------------------------------------------


def _api_token(user) -> None:
    credentials = {"username": user.username, "password": PASSWORD}
    response = Client().post("/api/v1/auth/token/", credentials, content_type="application/json")
    assert response.status_code == 200, response.content


def _page_login(user) -> None:
    response = Client().post(reverse("web:login"), {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302, response.content


def _conduit_login(user) -> None:
    credentials = {"user": {"email": user.email, "password": PASSWORD}}
    response = Client().post("/api/users/login", credentials, content_type="application/json")
    assert response.status_code == 200, response.content


def _admin_login(user) -> None:
    data = {"username": user.username, "password": PASSWORD, "next": "/admin/"}
    response = Client().post(reverse("admin:login"), data)
    assert response.status_code == 302, response.content


LOGINS = [_api_token, _page_login, _conduit_login, _admin_login]


@pytest.mark.parametrize("log_in", LOGINS, ids=[f.__name__.strip("_") for f in LOGINS])
def test_logging_in_keeps_the_cached_anonymous_list_and_detail(cached, anon_client, post, root, log_in):
    assert_still_served_from_the_cache(anon_client, post, lambda: log_in(root))


def _change_password(user) -> None:
    data = {"old_password": PASSWORD, "new_password": "another-long-password-43"}
    _ok(client_for(user).post("/api/v1/auth/password/", data), 204)


def _change_notifications(user) -> None:
    _ok(client_for(user).patch("/api/v1/auth/me/", {"notify_comments": False}))


# Not the bio, the avatar or the image: profiles show them, and so do Conduit's authors
# (config/tests/test_http_cache.py checks that their ETags move).
UNSHOWN = [_change_password, _change_notifications]


@pytest.mark.parametrize("change", UNSHOWN, ids=[f.__name__.strip("_") for f in UNSHOWN])
def test_account_changes_that_posts_do_not_show_keep_the_cache(cached, anon_client, post, author, change):
    assert_still_served_from_the_cache(anon_client, post, lambda: change(author))


# --- Each write that changes a page clears it -------------------------------------------


def _admin(root) -> Client:
    client = Client()
    client.force_login(root)
    return client


def _page(user) -> Client:
    # The pages' scripts call the API with the browser's session.
    client = Client()
    client.force_login(user)
    return client


def _ok(response, *codes: int) -> None:
    assert response.status_code in (codes or (200,)), response.content


def _admin_action(root, model: str, action: str, pks: list[int]) -> None:
    app, name = model.split(".")
    data = {"action": action, "_selected_action": pks}
    if action == "delete_selected":
        data["post"] = "yes"
    _ok(_admin(root).post(reverse(f"admin:{app}_{name}_changelist"), data), 302)


def page_new_post(post, author, root):
    data = {"title": "Another", "body": "Text", "status": "published"}
    _ok(_page(author).post("/api/v1/posts/", data, content_type="application/json"), 201)


def page_edit_post(post, author, root):
    data = {"title": "Renamed"}
    _ok(_page(author).patch(f"/api/v1/posts/{post.slug}/", data, content_type="application/json"))


def page_comment(post, author, root):
    data = {"body": "Nice"}
    _ok(_page(root).post(f"/api/v1/posts/{post.slug}/comments/", data, content_type="application/json"), 201)


def api_delete_comment(post, author, root):
    comment = post.comments.get()
    _ok(client_for(root).delete(f"/api/v1/comments/{comment.pk}/"), 204)


def api_new_category(post, author, root):
    _ok(client_for(root).post("/api/v1/categories/", {"name": "Networks"}), 201)
    post_data = {"category": "networks"}
    _ok(client_for(author).patch(f"/api/v1/posts/{post.slug}/", post_data))


def api_delete_category(post, author, root):
    _ok(client_for(root).delete("/api/v1/categories/databases/"), 204)


def conduit_new_article(post, author, root):
    article = {"article": {"title": "Another", "description": "Why", "body": "Text", "tagList": []}}
    _ok(token_client(author).post("/api/articles", article, format="json"), 201)


def conduit_edit_article(post, author, root):
    article = {"article": {"title": "Renamed"}}
    _ok(token_client(author).put(f"/api/articles/{post.slug}", article, format="json"))


def conduit_delete_article(post, author, root):
    PostFactory(author=author)  # keep the list non-empty
    _ok(token_client(author).delete(f"/api/articles/{post.slug}"), 200, 204)


def conduit_favorite(post, author, root):
    _ok(token_client(UserFactory()).post(f"/api/articles/{post.slug}/favorite"))


def conduit_comment(post, author, root):
    comment = {"comment": {"body": "Nice"}}
    _ok(token_client(root).post(f"/api/articles/{post.slug}/comments", comment, format="json"), 200, 201)


def conduit_delete_comment(post, author, root):
    comment = post.comments.get()
    _ok(token_client(comment.author).delete(f"/api/articles/{post.slug}/comments/{comment.pk}"), 200, 204)


def conduit_rename(post, author, root):
    user = {"user": {"username": "writer"}}
    _ok(token_client(author).put("/api/user", user, format="json"))


def admin_add_post(post, author, root):
    data = change_form_data(post, title="Another", excerpt="")
    _ok(_admin(root).post(reverse("admin:posts_post_add"), data), 302)


def admin_edit_post(post, author, root):
    data = change_form_data(post, title="Renamed")
    _ok(_admin(root).post(reverse("admin:posts_post_change", args=[post.pk]), data), 302)


def admin_delete_post(post, author, root):
    PostFactory(author=author)
    _ok(_admin(root).post(reverse("admin:posts_post_delete", args=[post.pk]), {"post": "yes"}), 302)


def admin_publish(post, author, root):
    draft = PostFactory(author=author, draft=True)
    _admin_action(root, "posts.post", "publish_now", [draft.pk])


def admin_unpublish(post, author, root):
    PostFactory(author=author)
    _admin_action(root, "posts.post", "unpublish", [post.pk])


def admin_hide_comment(post, author, root):
    _admin_action(root, "posts.comment", "hide", [post.comments.get().pk])


def admin_hide_comment_on_the_post_page(post, author, root):
    comment = post.comments.get()
    data = change_form_data(post, comments=1) | {
        "comments-0-id": comment.pk,
        "comments-0-post": post.pk,
        "comments-0-body": comment.body,
        "comments-0-is_hidden": "on",
    }
    _ok(_admin(root).post(reverse("admin:posts_post_change", args=[post.pk]), data), 302)


def admin_delete_comments(post, author, root):
    _admin_action(root, "posts.comment", "delete_selected", [post.comments.get().pk])


def admin_rename_tag(post, author, root):
    tag = post.tags.get()
    data = {"name": tag.name, "slug": "structured-query-language"}
    _ok(_admin(root).post(reverse("admin:posts_tag_change", args=[tag.pk]), data), 302)


def admin_delete_tag(post, author, root):
    _admin_action(root, "posts.tag", "delete_selected", [post.tags.get().pk])


def admin_rename_category(post, author, root):
    category = post.category
    data = {"name": "Data stores", "slug": "data-stores", "description": category.description}
    _ok(_admin(root).post(reverse("admin:posts_category_change", args=[category.pk]), data), 302)


def admin_delete_category(post, author, root):
    _ok(
        _admin(root).post(reverse("admin:posts_category_delete", args=[post.category_id]), {"post": "yes"}),
        302,
    )


def admin_display_name(post, author, root):
    response = _admin(root).get(reverse("admin:accounts_user_change", args=[author.pk]))
    form = response.context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None}
    data |= {"display_name": "A New Name", "date_joined_0": "2020-01-01", "date_joined_1": "00:00:00"}
    data.pop("date_joined", None)
    data.pop("last_login", None)
    data.pop("password", None)
    data.pop("groups", None)
    data.pop("user_permissions", None)
    _ok(_admin(root).post(reverse("admin:accounts_user_change", args=[author.pk]), data), 302)


def admin_delete_author(post, author, root):
    PostFactory()  # by someone else
    _admin_action(root, "accounts.user", "delete_selected", [author.pk])


WRITES = [
    page_new_post,
    page_edit_post,
    page_comment,
    api_delete_comment,
    api_new_category,
    api_delete_category,
    conduit_new_article,
    conduit_edit_article,
    conduit_delete_article,
    conduit_favorite,
    conduit_comment,
    conduit_delete_comment,
    conduit_rename,
    admin_add_post,
    admin_edit_post,
    admin_delete_post,
    admin_publish,
    admin_unpublish,
    admin_hide_comment,
    admin_hide_comment_on_the_post_page,
    admin_delete_comments,
    admin_rename_tag,
    admin_delete_tag,
    admin_rename_category,
    admin_delete_category,
    admin_display_name,
    admin_delete_author,
]


@pytest.mark.parametrize("write", WRITES, ids=[w.__name__ for w in WRITES])
def test_each_write_that_changes_a_post_page_clears_the_cache(cached, anon_client, post, author, root, write):
    assert_write_clears_the_cache(cached, anon_client, urls(post), lambda: write(post, author, root))
