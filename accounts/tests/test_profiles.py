"""Public profiles and follows."""

import pytest

from accounts.models import Follow
from accounts.tests.factories import FollowFactory, UserFactory

pytestmark = pytest.mark.django_db

PUBLIC_FIELDS = {
    "username",
    "display_name",
    "bio",
    "avatar",
    "date_joined",
    "post_count",
    "follower_count",
    "following_count",
    "following",
}


def profile_url(username):
    return f"/api/v1/users/{username}/"


def follow_url(username):
    return f"/api/v1/users/{username}/follow/"


class TestPublicProfile:
    def test_shape_and_no_email(self, anon_client, author):
        response = anon_client.get(profile_url(author.username))
        assert response.status_code == 200
        assert set(response.data) == PUBLIC_FIELDS
        assert author.email not in response.content.decode()
        assert response.data["following"] is False

    def test_username_is_case_insensitive(self, anon_client, author):
        assert anon_client.get(profile_url(author.username.upper())).status_code == 200

    def test_unknown_user_is_404_json(self, anon_client):
        response = anon_client.get(profile_url("ghost"))
        assert response.status_code == 404 and "detail" in response.json()

    def test_counts_and_following_flag(self, other_client, author, other_user):
        FollowFactory(follower=other_user, followed=author)
        FollowFactory(follower=UserFactory(), followed=author)
        FollowFactory(follower=author, followed=UserFactory())
        data = other_client.get(profile_url(author.username)).data
        assert (data["follower_count"], data["following_count"], data["following"]) == (2, 1, True)


class TestFollow:
    def test_follow_and_unfollow_are_idempotent(self, other_client, author):
        for _ in range(2):
            response = other_client.post(follow_url(author.username))
            assert response.status_code == 200
            assert response.json() == {"following": True, "follower_count": 1}
        for _ in range(2):
            response = other_client.delete(follow_url(author.username))
            assert response.json() == {"following": False, "follower_count": 0}
        assert not Follow.objects.exists()

    def test_following_yourself_is_400(self, author_client, author):
        response = author_client.post(follow_url(author.username))
        assert response.status_code == 400
        assert not Follow.objects.exists()

    def test_anonymous_is_401(self, anon_client, author):
        assert anon_client.post(follow_url(author.username)).status_code == 401

    def test_unknown_user_is_404(self, author_client):
        assert author_client.post(follow_url("ghost")).status_code == 404

    def test_staff_follows_like_anyone(self, staff_client, author):
        assert staff_client.post(follow_url(author.username)).data["following"] is True
