"""Races on PostgreSQL through the RealWorld API, the ones ``tests/security/test_races.py``
runs through /api/v1/: the database constraints and the services' row locks decide, and
the loser gets the error a lone request would have got, never a 500."""

import pytest

from accounts.models import Follow, User
from accounts.tests.factories import UserFactory
from conduit.tests.conftest import token_client
from conftest import run_at_once
from posts.models import Comment, Like, Post
from posts.tests.factories import PostFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]

N = 12
ARTICLE_GONE = {"errors": {"article": ["not found"]}}


@pytest.fixture
def writers(postgres_only):
    return [UserFactory(username=f"writer{i}") for i in range(N)]


def test_concurrent_registrations_of_one_username(postgres_only):
    def register(i):
        user = {"username": "racer" if i % 2 else "RACER", "email": f"r{i}@example.com", "password": "x" * 12}
        return token_client().post("/api/users", {"user": user}, format="json").status_code

    codes = run_at_once(N, register)

    assert codes.count(201) == 1, codes
    assert codes.count(409) == N - 1, codes
    assert User.objects.with_username("racer").count() == 1


def test_concurrent_registrations_of_one_email_in_two_cases(postgres_only):
    def register(i):
        email = "Shared@Example.com" if i % 2 else "shared@example.com"
        user = {"username": f"distinct{i}", "email": email, "password": "x" * 12}
        return token_client().post("/api/users", {"user": user}, format="json").status_code

    codes = run_at_once(N, register)

    assert codes.count(201) == 1, codes
    assert codes.count(409) == N - 1, codes
    assert User.objects.with_email("shared@example.com").count() == 1 == User.objects.count()


def test_concurrent_favorites_count_once(writers):
    post = PostFactory(author=writers[0])

    codes = run_at_once(
        N, lambda _: token_client(writers[1]).post(f"/api/articles/{post.slug}/favorite").status_code
    )

    assert codes == [200] * N
    post.refresh_from_db()
    assert post.like_count == 1 == Like.objects.filter(post=post).count()


def test_favorites_and_unfavorites_by_many_users_keep_the_count_exact(writers):
    post = PostFactory(author=writers[0])

    def toggle(i):
        client = token_client(writers[i % N])
        method = client.post if i < N else client.delete
        return method(f"/api/articles/{post.slug}/favorite").status_code

    codes = run_at_once(2 * N, toggle)

    assert set(codes) == {200}, codes
    post.refresh_from_db()
    assert post.like_count == Like.objects.filter(post=post).count()
    count = token_client().get(f"/api/articles/{post.slug}").json()["article"]["favoritesCount"]
    assert count == post.like_count


def test_articles_with_one_title_at_once_get_distinct_slugs(writers):
    def create(i):
        article = {"title": "Hello", "description": "d", "body": "b", "tagList": ["Brand New"]}
        return token_client(writers[i]).post("/api/articles", {"article": article}, format="json")

    responses = run_at_once(N, create)

    assert [response.status_code for response in responses] == [201] * N
    slugs = {response.json()["article"]["slug"] for response in responses}
    assert len(slugs) == N == Post.objects.filter(title="Hello", tags__slug="brand-new").count()


def test_concurrent_follows_and_unfollows(writers):
    target = writers[0]

    def follow(i):
        return token_client(writers[1 + i % (N - 1)]).post(f"/api/profiles/{target.username}/follow")

    responses = run_at_once(2 * N, follow)
    assert {response.status_code for response in responses} == {200}
    assert all(response.json()["profile"]["following"] for response in responses)
    assert Follow.objects.filter(followed=target).count() == N - 1  # each pair once

    def toggle(i):
        client = token_client(writers[1 + i % (N - 1)])
        method = client.post if i % 2 else client.delete
        return method(f"/api/profiles/{target.username}/follow").status_code

    assert set(run_at_once(2 * N, toggle)) == {200}
    pairs = list(Follow.objects.filter(followed=target).values_list("follower_id", flat=True))
    assert len(pairs) == len(set(pairs))


def test_comments_and_favorites_while_the_article_is_deleted(writers):
    """The deletion locks the article's row, as /api/v1/'s does: each comment or favorite
    lands first (and goes with the article) or finds it gone (a 404), and the deletion
    never fails on a comment or favorite that arrived meanwhile."""
    post = PostFactory(author=writers[0])
    url = f"/api/articles/{post.slug}"

    def act(i):
        client = token_client(writers[i])
        if i == N // 2:
            return token_client(writers[0]).delete(url)
        if i % 2:
            return client.post(f"{url}/favorite")
        return client.post(f"{url}/comments", {"comment": {"body": f"comment {i}"}}, format="json")

    responses = run_at_once(N, act)

    assert responses[N // 2].status_code == 204
    others = [response for i, response in enumerate(responses) if i != N // 2]
    assert all(response.status_code in (200, 201, 404) for response in others), others
    assert all(response.json() == ARTICLE_GONE for response in others if response.status_code == 404)
    assert not Post.objects.filter(pk=post.pk).exists()
    assert not Comment.objects.filter(post_id=post.pk).exists()  # no orphan survived
    assert not Like.objects.filter(post_id=post.pk).exists()


def test_comments_and_comment_deletions_keep_the_count_exact(writers):
    post = PostFactory(author=writers[0])
    url = f"/api/articles/{post.slug}/comments"
    first = [
        token_client(writers[i])
        .post(url, {"comment": {"body": "early"}}, format="json")
        .json()["comment"]["id"]
        for i in range(N // 2)
    ]

    def act(i):
        client = token_client(writers[i])
        if i < N // 2:
            return client.delete(f"{url}/{first[i]}").status_code
        return client.post(url, {"comment": {"body": "late"}}, format="json").status_code

    codes = run_at_once(N, act)

    assert codes == [204] * (N // 2) + [201] * (N - N // 2), codes
    post.refresh_from_db()
    assert Comment.objects.filter(post=post).count() == N - N // 2 == post.comment_count
