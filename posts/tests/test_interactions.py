"""Likes, comments, tags, categories, my posts, the feed and profile counts over the API."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.tests.factories import FollowFactory, UserFactory
from conftest import client_for
from posts.models import Category, Comment, Like, Post
from posts.tests.factories import CategoryFactory, CommentFactory, LikeFactory, PostFactory, TagFactory

pytestmark = pytest.mark.django_db


def like_url(post) -> str:
    return f"/api/v1/posts/{post.slug}/like/"


def comments_url(post) -> str:
    return f"/api/v1/posts/{post.slug}/comments/"


def comment_url(comment) -> str:
    return f"/api/v1/comments/{comment.pk}/"


@pytest.fixture
def post(author):
    return PostFactory(author=author, slug="the-post")


class TestLikes:
    def test_like_and_unlike_are_idempotent_and_count(self, post, other_client, author_client):
        for _ in range(2):
            response = other_client.post(like_url(post))
            assert response.status_code == 200
            assert response.json() == {"liked": True, "like_count": 1}
        assert author_client.post(like_url(post)).json() == {"liked": True, "like_count": 2}
        for _ in range(2):
            response = other_client.delete(like_url(post))
            assert response.status_code == 200
            assert response.json() == {"liked": False, "like_count": 1}
        assert Like.objects.count() == 1
        assert other_client.get(f"/api/v1/posts/{post.slug}/").data["like_count"] == 1

    def test_unliking_what_was_never_liked(self, post, other_client):
        assert other_client.delete(like_url(post)).json() == {"liked": False, "like_count": 0}

    def test_anonymous_cannot_like(self, post, anon_client):
        assert anon_client.post(like_url(post)).status_code == 401
        assert anon_client.delete(like_url(post)).status_code == 401
        assert not Like.objects.exists()

    def test_author_may_like_own_draft_others_get_404(self, author, author_client, other_client):
        draft = PostFactory(author=author, draft=True)
        assert author_client.post(like_url(draft)).status_code == 200
        assert other_client.post(like_url(draft)).status_code == 404
        assert Like.objects.count() == 1

    def test_get_is_not_allowed(self, post, other_client):
        assert other_client.get(like_url(post)).status_code == 405


class TestCommentList:
    def test_oldest_first_and_paginated(self, post, anon_client):
        now = timezone.now()
        made = [CommentFactory(post=post) for _ in range(5)]
        for i, comment in enumerate(made):
            Comment.objects.filter(pk=comment.pk).update(created_at=now - timedelta(minutes=10 - i))
        CommentFactory(post=PostFactory())  # another post's comment
        first = anon_client.get(comments_url(post), {"page_size": 3})
        assert first.status_code == 200
        assert first.data["count"] == 5
        ids = [c["id"] for c in first.data["results"]]
        second = anon_client.get(first.data["next"])
        ids += [c["id"] for c in second.data["results"]]
        assert ids == [c.pk for c in made]
        item = first.data["results"][0]
        assert set(item) == {"id", "post", "author", "body", "created_at", "updated_at"}
        assert item["post"] == post.slug
        assert set(item["author"]) == {"username", "display_name"}

    def test_hidden_comments_only_for_staff(self, post, anon_client, author_client, staff_client):
        CommentFactory(post=post)
        CommentFactory(post=post, is_hidden=True)
        assert anon_client.get(comments_url(post)).data["count"] == 1
        assert author_client.get(comments_url(post)).data["count"] == 1
        assert staff_client.get(comments_url(post)).data["count"] == 2

    def test_page_past_end_is_404(self, post, anon_client):
        assert anon_client.get(comments_url(post), {"page": 2}).status_code == 404


class TestCommentCreate:
    def test_create_counts(self, post, other_client, other_user):
        response = other_client.post(comments_url(post), {"body": "  Nice post!  "})
        assert response.status_code == 201
        assert response.data["body"] == "Nice post!"
        assert response.data["author"]["username"] == other_user.username
        assert response.data["post"] == post.slug
        assert other_client.get(f"/api/v1/posts/{post.slug}/").data["comment_count"] == 1

    @pytest.mark.parametrize("body", ["", "   ", "x" * 5001])
    def test_body_length_rules(self, post, other_client, body):
        response = other_client.post(comments_url(post), {"body": body})
        assert response.status_code == 400 and "body" in response.data
        assert not Comment.objects.exists()
        post.refresh_from_db()
        assert post.comment_count == 0

    @pytest.mark.parametrize("body", ["x", "x" * 5000])
    def test_body_limits_inclusive(self, post, other_client, body):
        assert other_client.post(comments_url(post), {"body": body}).status_code == 201

    def test_missing_body_is_400(self, post, other_client):
        assert other_client.post(comments_url(post), {}).status_code == 400

    def test_anonymous_cannot_comment(self, post, anon_client):
        assert anon_client.post(comments_url(post), {"body": "hi"}).status_code == 401
        assert not Comment.objects.exists()

    def test_server_fields_ignored(self, post, other_client, other_user, author):
        other = PostFactory()
        response = other_client.post(
            comments_url(post),
            {
                "body": "hi",
                "author": author.username,
                "post": other.slug,
                "id": 777,
                "created_at": "2001-01-01",
            },
        )
        comment = Comment.objects.get()
        assert (comment.author, comment.post) == (other_user, post)
        assert response.data["id"] == comment.pk != 777
        assert comment.created_at.year == timezone.now().year


class TestCommentDetail:
    @pytest.fixture
    def comment(self, post, other_user):
        return CommentFactory(post=post, author=other_user, body="original")

    def test_anyone_reads(self, comment, anon_client):
        response = anon_client.get(comment_url(comment))
        assert response.status_code == 200 and response.data["body"] == "original"

    def test_comment_author_edits_and_deletes(self, comment, other_client, post):
        response = other_client.patch(comment_url(comment), {"body": "edited"})
        assert response.status_code == 200 and response.data["body"] == "edited"
        assert other_client.patch(comment_url(comment), {"body": ""}).status_code == 400
        assert Comment.objects.get().body == "edited"
        assert other_client.delete(comment_url(comment)).status_code == 204
        post.refresh_from_db()
        assert post.comment_count == 0

    def test_post_author_deletes_but_cannot_edit(self, comment, author_client):
        assert author_client.patch(comment_url(comment), {"body": "censored"}).status_code == 403
        assert Comment.objects.get().body == "original"
        assert author_client.delete(comment_url(comment)).status_code == 204
        assert not Comment.objects.exists()

    def test_third_user_gets_403(self, comment):
        stranger = client_for(UserFactory())
        assert stranger.patch(comment_url(comment), {"body": "mine"}).status_code == 403
        assert stranger.delete(comment_url(comment)).status_code == 403
        assert Comment.objects.get().body == "original"

    def test_anonymous_gets_401(self, comment, anon_client):
        assert anon_client.patch(comment_url(comment), {"body": "x"}).status_code == 401
        assert anon_client.delete(comment_url(comment)).status_code == 401

    def test_staff_edits_and_deletes(self, comment, staff_client):
        assert staff_client.patch(comment_url(comment), {"body": "moderated"}).status_code == 200
        assert Comment.objects.get().body == "moderated"
        assert staff_client.delete(comment_url(comment)).status_code == 204

    def test_put_is_not_allowed(self, comment, other_client):
        assert other_client.put(comment_url(comment), {"body": "x"}).status_code == 405

    def test_patch_cannot_move_or_reassign(self, comment, other_client, author):
        other = PostFactory()
        other_client.patch(comment_url(comment), {"post": other.slug, "author": author.username, "body": "b"})
        fresh = Comment.objects.get()
        assert (fresh.post_id, fresh.author_id) == (comment.post_id, comment.author_id)

    @pytest.mark.parametrize("state", [{"draft": True}, {"scheduled": True}])
    def test_comments_on_non_public_posts_are_404_for_strangers(self, author, other_client, state):
        hidden_post = PostFactory(author=author, **state)
        comment = CommentFactory(post=hidden_post, author=author)
        assert other_client.get(comment_url(comment)).status_code == 404
        assert client_for(None).get(comment_url(comment)).status_code == 404
        assert client_for(author).get(comment_url(comment)).status_code == 200

    def test_hidden_comment_is_404_for_non_staff(self, post, anon_client, staff_client):
        hidden = CommentFactory(post=post, is_hidden=True)
        assert anon_client.get(comment_url(hidden)).status_code == 404
        assert staff_client.get(comment_url(hidden)).status_code == 200


class TestTags:
    def test_most_used_first_and_public_counts_only(self, author, anon_client):
        popular, rare, secret = TagFactory(name="popular"), TagFactory(name="rare"), TagFactory(name="secret")
        for _ in range(3):
            PostFactory(tags=[popular])
        PostFactory(tags=[rare, popular])
        PostFactory(author=author, draft=True, tags=[rare, secret])
        PostFactory(author=author, scheduled=True, tags=[rare, secret])
        TagFactory(name="unused")
        response = anon_client.get("/api/v1/tags/")
        assert response.status_code == 200
        assert response.data["results"] == [
            {"name": "popular", "slug": "popular", "post_count": 4},
            {"name": "rare", "slug": "rare", "post_count": 1},
        ]
        assert response.data["count"] == 2
        assert anon_client.get("/api/v1/tags/secret/").status_code == 404

    def test_not_writable(self, staff_client):
        assert staff_client.post("/api/v1/tags/", {"name": "x"}).status_code == 405


class TestCategories:
    def test_list_counts_public_posts(self, author, anon_client):
        python = CategoryFactory(name="Python", slug="python")
        CategoryFactory(name="Empty", slug="empty")
        PostFactory(category=python)
        PostFactory(category=python, author=author, draft=True)
        PostFactory(category=python, author=author, scheduled=True)
        response = anon_client.get("/api/v1/categories/")
        assert response.status_code == 200
        by_slug = {c["slug"]: c for c in response.data["results"]}
        assert by_slug["python"]["post_count"] == 1
        assert by_slug["empty"]["post_count"] == 0
        assert set(by_slug["python"]) == {"name", "slug", "description", "post_count"}

    def test_staff_creates_with_derived_slug(self, staff_client):
        response = staff_client.post("/api/v1/categories/", {"name": "Machine Learning Ünï"})
        assert response.status_code == 201
        assert response.data == {
            "name": "Machine Learning Ünï",
            "slug": "machine-learning-uni",
            "description": "",
            "post_count": 0,
        }
        response = staff_client.post(
            "/api/v1/categories/", {"name": "Other", "slug": "custom", "description": "d"}
        )
        assert response.status_code == 201 and response.data["slug"] == "custom"

    def test_duplicate_name_or_slug_is_400(self, staff_client):
        CategoryFactory(name="Python", slug="python")
        assert staff_client.post("/api/v1/categories/", {"name": "Python"}).status_code == 400
        assert staff_client.post("/api/v1/categories/", {"name": "python"}).status_code == 400
        assert staff_client.post("/api/v1/categories/", {"name": "Py", "slug": "python"}).status_code == 400
        assert Category.objects.count() == 1

    def test_staff_edits(self, staff_client):
        CategoryFactory(name="Python", slug="python")
        response = staff_client.patch("/api/v1/categories/python/", {"name": "Python 3", "description": "d"})
        assert response.status_code == 200
        assert response.data["slug"] == "python"
        assert Category.objects.get().name == "Python 3"

    def test_staff_deletes_and_posts_stay_uncategorised(self, staff_client, anon_client):
        post = PostFactory(category=CategoryFactory(name="Python", slug="python"))
        assert staff_client.delete("/api/v1/categories/python/").status_code == 204
        assert anon_client.get(f"/api/v1/posts/{post.slug}/").data["category"] is None

    def test_others_cannot_write(self, anon_client, author_client):
        CategoryFactory(name="Python", slug="python")
        assert anon_client.post("/api/v1/categories/", {"name": "X"}).status_code == 401
        assert author_client.post("/api/v1/categories/", {"name": "X"}).status_code == 403
        assert author_client.patch("/api/v1/categories/python/", {"name": "X"}).status_code == 403
        assert anon_client.patch("/api/v1/categories/python/", {"name": "X"}).status_code == 401
        assert author_client.delete("/api/v1/categories/python/").status_code == 403
        assert list(Category.objects.values_list("name", flat=True)) == ["Python"]


class TestMyPosts:
    URL = "/api/v1/auth/me/posts/"

    @pytest.fixture
    def mine(self, author):
        PostFactory(author=UserFactory())  # someone else's
        return {
            "draft": PostFactory(author=author, draft=True),
            "scheduled": PostFactory(author=author, scheduled=True),
            "published": PostFactory(author=author),
        }

    def test_every_status_of_my_own_posts(self, mine, author_client):
        response = author_client.get(self.URL)
        assert response.status_code == 200
        assert {p["slug"] for p in response.data["results"]} == {p.slug for p in mine.values()}
        assert {p["status"] for p in response.data["results"]} == {"draft", "scheduled", "published"}

    @pytest.mark.parametrize("status", ["draft", "scheduled", "published"])
    def test_status_filter(self, mine, author_client, status):
        response = author_client.get(self.URL, {"status": status})
        assert [p["slug"] for p in response.data["results"]] == [mine[status].slug]

    def test_bad_status_is_400(self, mine, author_client):
        response = author_client.get(self.URL, {"status": "secret"})
        assert response.status_code == 400 and "status" in response.data

    def test_filters_like_the_post_list(self, mine, author_client):
        mine["draft"].tags.set([TagFactory(name="wip")])
        assert author_client.get(self.URL, {"tag": "wip"}).data["count"] == 1

    def test_drafts_first_then_newest(self, mine, author_client):
        older = PostFactory(author=mine["draft"].author, published_at=timezone.now() - timedelta(days=3))
        response = author_client.get(self.URL)
        assert [p["slug"] for p in response.data["results"]] == [
            mine["draft"].slug,
            mine["scheduled"].slug,
            mine["published"].slug,
            older.slug,
        ]

    @pytest.mark.parametrize(
        ("ordering", "expected"),
        [
            ("-published_at", ["draft", "scheduled", "published"]),
            ("published_at", ["published", "scheduled", "draft"]),
        ],
    )
    def test_explicit_date_ordering_places_drafts_alike_on_every_database(
        self, mine, author_client, ordering, expected
    ):
        # Drafts have no date: newest first puts them first, oldest first puts them last.
        response = author_client.get(self.URL, {"ordering": ordering})
        assert [p["slug"] for p in response.data["results"]] == [mine[name].slug for name in expected]

    def test_anonymous_is_401(self, anon_client):
        assert anon_client.get(self.URL).status_code == 401


class TestFeed:
    URL = "/api/v1/feed/"

    def test_public_posts_of_followed_authors_newest_first(self, author, other_user, other_client):
        FollowFactory(follower=other_user, followed=author)
        old = PostFactory(author=author, published_at=timezone.now() - timedelta(days=2))
        new = PostFactory(author=author)
        PostFactory(author=author, draft=True)
        PostFactory(author=author, scheduled=True)
        PostFactory()  # not followed
        PostFactory(author=other_user)  # own posts are not the feed
        response = other_client.get(self.URL)
        assert response.status_code == 200
        assert [p["slug"] for p in response.data["results"]] == [new.slug, old.slug]
        assert response.data["count"] == 2

    def test_follow_then_unfollow_over_the_api(self, author, other_client):
        PostFactory(author=author)
        assert other_client.get(self.URL).data["count"] == 0
        other_client.post(f"/api/v1/users/{author.username}/follow/")
        assert other_client.get(self.URL).data["count"] == 1
        other_client.delete(f"/api/v1/users/{author.username}/follow/")
        assert other_client.get(self.URL).data["count"] == 0

    def test_filters_and_pagination_apply(self, author, other_user, other_client):
        FollowFactory(follower=other_user, followed=author)
        for _ in range(3):
            PostFactory(author=author)
        PostFactory(author=author, tags=["x"])
        assert other_client.get(self.URL, {"tag": "x"}).data["count"] == 1
        assert len(other_client.get(self.URL, {"page_size": 2}).data["results"]) == 2

    def test_anonymous_is_401(self, anon_client):
        assert anon_client.get(self.URL).status_code == 401


class TestProfileCounts:
    def test_post_count_counts_public_posts_only(self, author, anon_client, author_client):
        PostFactory(author=author)
        PostFactory(author=author)
        PostFactory(author=author, draft=True)
        PostFactory(author=author, scheduled=True)
        for client in (anon_client, author_client):
            assert client.get(f"/api/v1/users/{author.username}/").data["post_count"] == 2

    def test_scheduled_post_counts_once_its_time_comes(self, author, anon_client):
        scheduled = PostFactory(author=author, scheduled=True)
        assert anon_client.get(f"/api/v1/users/{author.username}/").data["post_count"] == 0
        Post.objects.filter(pk=scheduled.pk).update(published_at=timezone.now() - timedelta(seconds=1))
        assert anon_client.get(f"/api/v1/users/{author.username}/").data["post_count"] == 1

    def test_follow_self_is_400(self, author, author_client):
        assert author_client.post(f"/api/v1/users/{author.username}/follow/").status_code == 400


def test_like_and_comment_counters_drop_when_a_user_is_deleted(post):
    fan = UserFactory()
    LikeFactory(post=post, user=fan)
    CommentFactory(post=post, author=fan)
    fan.delete()
    post.refresh_from_db()
    assert (post.like_count, post.comment_count) == (0, 0)
