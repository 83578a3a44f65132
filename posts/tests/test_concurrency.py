"""Races on PostgreSQL: many likes of one post, one title twice, follows and unfollows."""

import pytest

from accounts.models import Follow
from accounts.tests.factories import UserFactory
from conftest import client_for, run_at_once
from posts.models import Like, Post
from posts.tests.factories import PostFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]


def test_many_users_liking_twice_leave_an_exact_count(postgres_only):
    post = PostFactory()
    users = UserFactory.create_batch(8)
    clients = [client_for(user) for user in users]

    def like(i):
        return clients[i // 2].post(f"/api/v1/posts/{post.slug}/like/").status_code

    codes = run_at_once(16, like)
    assert codes == [200] * 16
    post.refresh_from_db()
    assert post.like_count == Like.objects.filter(post=post).count() == 8


def test_liking_and_unliking_at_once_keeps_the_count_true(postgres_only):
    post = PostFactory()
    clients = [client_for(user) for user in UserFactory.create_batch(6)]

    def toggle(i):
        client = clients[i % 6]
        method = client.post if i < 6 else client.delete
        return method(f"/api/v1/posts/{post.slug}/like/").status_code

    codes = run_at_once(12, toggle)
    assert set(codes) == {200}, codes
    post.refresh_from_db()
    assert post.like_count == Like.objects.filter(post=post).count()


def test_two_posts_with_one_title_at_once_get_unique_slugs(postgres_only):
    clients = [client_for(user) for user in UserFactory.create_batch(6)]

    def create(i):
        response = clients[i].post("/api/v1/posts/", {"title": "Breaking news", "body": "b"}, format="json")
        return response.status_code, response.json().get("slug")

    results = run_at_once(6, create)
    assert [code for code, _ in results] == [201] * 6, results
    slugs = [slug for _, slug in results]
    assert len(set(slugs)) == 6 and all(slug.startswith("breaking-news-") for slug in slugs)
    assert set(Post.objects.values_list("slug", flat=True)) == set(slugs)


def test_concurrent_follow_and_unfollow_never_fail(postgres_only):
    star = UserFactory(username="star")
    fans = UserFactory.create_batch(4)
    clients = [client_for(user) for user in fans]

    def follow(i):
        client = clients[i % 4]
        method = client.post if i % 3 else client.delete
        return method("/api/v1/users/star/follow/").status_code

    codes = run_at_once(12, follow)
    assert set(codes) == {200}, codes
    count = Follow.objects.filter(followed=star).count()
    assert client_for(None).get("/api/v1/users/star/").data["follower_count"] == count <= 4


def test_posts_tagged_with_one_new_tag_at_once_all_get_it(postgres_only):
    clients = [client_for(user) for user in UserFactory.create_batch(6)]

    def create(i):
        body = {"title": f"Post {i}", "body": "b", "tags": ["Brand New", f"own{i}"], "status": "published"}
        return clients[i].post("/api/v1/posts/", body, format="json").status_code

    assert run_at_once(6, create) == [201] * 6
    assert Post.objects.filter(tags__slug="brand-new").count() == 6
    assert client_for(None).get("/api/v1/tags/").data["results"][0] == {
        "name": "Brand New",
        "slug": "brand-new",
        "post_count": 6,
    }


def test_concurrent_comments_leave_an_exact_count(postgres_only):
    post = PostFactory()
    clients = [client_for(user) for user in UserFactory.create_batch(8)]

    def comment(i):
        return clients[i].post(f"/api/v1/posts/{post.slug}/comments/", {"body": f"c{i}"}).status_code

    assert run_at_once(8, comment) == [201] * 8
    post.refresh_from_db()
    assert post.comment_count == 8
