"""Races on PostgreSQL: many requests released at once, each thread with its own
connection (as separate gunicorn workers). No 5xx, no lost or duplicated row, and the
denormalised counters equal the rows they count."""

import pytest
from rest_framework.test import APIClient

from accounts.models import Follow, User
from accounts.tests.factories import UserFactory
from conftest import client_for, run_at_once
from posts.models import Comment, Like, Post
from posts.tests.factories import PostFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]

N = 12


@pytest.fixture
def writers(postgres_only):
    return [UserFactory(username=f"writer{i}") for i in range(N)]


def test_concurrent_signups_one_username_one_email_and_distinct_ones(postgres_only):
    password = "a-fine-passw0rd"

    def sign_up(i):
        if i < N:  # one username in two cases, distinct emails
            body = {"username": "SameX" if i % 2 else "samex", "email": f"u{i}@example.com"}
        else:  # distinct usernames, one email in two cases
            body = {
                "username": f"distinct{i}",
                "email": "Shared@Example.com" if i % 2 else "shared@example.com",
            }
        return APIClient().post("/api/v1/auth/register/", {**body, "password": password}, format="json")

    codes = [response.status_code for response in run_at_once(2 * N, sign_up)]
    assert sorted(set(codes)) == [201, 400], codes
    assert User.objects.with_username("samex").count() == 1
    assert User.objects.with_email("shared@example.com").count() == 1
    assert codes.count(201) == 2 == User.objects.count()


def test_concurrent_likes_by_one_user_make_one_like(writers):
    post = PostFactory(author=writers[0], slug="liked")
    client = client_for(writers[1])
    codes = run_at_once(N, lambda _: client_for(writers[1]).post("/api/v1/posts/liked/like/").status_code)
    assert codes == [200] * N
    assert Like.objects.filter(post=post).count() == 1
    post.refresh_from_db()
    assert post.like_count == 1
    assert client.get("/api/v1/posts/liked/").json()["like_count"] == 1


def test_concurrent_likes_and_unlikes_by_many_users_keep_the_count_exact(writers):
    post = PostFactory(author=writers[0], slug="popular")

    def like_or_unlike(i):
        client = client_for(writers[i % N])
        method = client.post if i < N else client.delete
        return method("/api/v1/posts/popular/like/").status_code

    codes = run_at_once(2 * N, like_or_unlike)
    assert set(codes) == {200}, codes
    post.refresh_from_db()
    assert post.like_count == Like.objects.filter(post=post).count()
    assert Like.objects.filter(post=post).values("user").distinct().count() == Like.objects.count()


def test_same_title_posts_all_succeed_with_distinct_slugs(writers):
    codes = run_at_once(
        N,
        lambda i: client_for(writers[i]).post(
            "/api/v1/posts/", {"title": "Hello", "body": "x"}, format="json"
        ),
    )
    assert [response.status_code for response in codes] == [201] * N
    slugs = {response.json()["slug"] for response in codes}
    assert len(slugs) == N == Post.objects.filter(title="Hello").count()


def test_concurrent_follows_and_unfollows(writers):
    target = writers[0]

    def follow(i):
        client = client_for(writers[1 + i % (N - 1)])
        return client.post(f"/api/v1/users/{target.username}/follow/").status_code

    assert set(run_at_once(2 * N, follow)) == {200}
    assert Follow.objects.filter(followed=target).count() == N - 1  # each pair once

    def toggle(i):
        client = client_for(writers[1 + i % (N - 1)])
        method = client.post if i % 2 else client.delete
        return method(f"/api/v1/users/{target.username}/follow/").status_code

    assert set(run_at_once(2 * N, toggle)) == {200}
    pairs = Follow.objects.filter(followed=target).values_list("follower_id", flat=True)
    assert len(pairs) == len(set(pairs))
    profile = APIClient().get(f"/api/v1/users/{target.username}/").json()
    assert profile["follower_count"] == len(pairs)


def test_comments_while_the_post_is_deleted(writers):
    post = PostFactory(author=writers[0], slug="doomed")

    def act(i):
        if i == N // 2:
            return client_for(writers[0]).delete("/api/v1/posts/doomed/").status_code
        body = {"body": f"comment {i}"}
        return client_for(writers[i]).post("/api/v1/posts/doomed/comments/", body, format="json").status_code

    codes = run_at_once(N, act)
    assert codes[N // 2] == 204
    assert all(code in (201, 404) for i, code in enumerate(codes) if i != N // 2), codes
    assert not Post.objects.filter(pk=post.pk).exists()
    assert not Comment.objects.filter(post_id=post.pk).exists()  # no orphan survived


def test_comments_and_comment_deletions_keep_the_count_exact(writers):
    post = PostFactory(author=writers[0], slug="busy")
    first = [
        client_for(writers[i])
        .post("/api/v1/posts/busy/comments/", {"body": "early"}, format="json")
        .json()["id"]
        for i in range(N // 2)
    ]

    def act(i):
        if i < N // 2:
            return client_for(writers[i]).delete(f"/api/v1/comments/{first[i]}/").status_code
        return (
            client_for(writers[i])
            .post("/api/v1/posts/busy/comments/", {"body": "late"}, format="json")
            .status_code
        )

    codes = run_at_once(N, act)
    assert codes == [204] * (N // 2) + [201] * (N - N // 2), codes
    post.refresh_from_db()
    assert Comment.objects.filter(post=post).count() == N - N // 2 == post.comment_count
