"""RealWorld's ``image``: the URL a user set through Conduit, or else their avatar's."""

import pytest

from conduit.tests.conftest import token_client
from posts.tests.factories import CommentFactory, PostFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def with_avatar(author, image_of):
    author.avatar = image_of(author, width=300, height=300)
    author.save()
    return author


def test_profiles_and_authors_fall_back_to_the_avatar(with_avatar, other_user):
    avatar_url = f"http://testserver/media/{with_avatar.avatar.file}"
    post = PostFactory(author=with_avatar)
    CommentFactory(post=post, author=with_avatar)
    client = token_client(other_user)

    assert client.get("/api/profiles/author").json()["profile"]["image"] == avatar_url
    assert client.get("/api/articles").json()["articles"][0]["author"]["image"] == avatar_url
    assert client.get(f"/api/articles/{post.slug}").json()["article"]["author"]["image"] == avatar_url
    comments = client.get(f"/api/articles/{post.slug}/comments").json()["comments"]
    assert comments[0]["author"]["image"] == avatar_url
    followed = client.post("/api/profiles/author/follow").json()["profile"]
    assert followed["image"] == avatar_url and followed["following"] is True
    assert client.get("/api/articles/feed").json()["articles"][0]["author"]["image"] == avatar_url


def test_the_url_set_through_conduit_comes_first(with_avatar, author_conduit):
    mine = "https://cdn.example/me.png"
    response = author_conduit.put("/api/user", {"user": {"image": mine}}, format="json")
    assert response.status_code == 200
    assert token_client().get("/api/profiles/author").json()["profile"]["image"] == mine


def test_without_either_the_image_is_null(author, anon_client):
    PostFactory(author=author)
    assert anon_client.get("/api/profiles/author").json()["profile"]["image"] is None
    assert anon_client.get("/api/articles").json()["articles"][0]["author"]["image"] is None


def test_the_current_user_reads_only_the_url_they_set(with_avatar, author_conduit):
    """What ``GET /api/user`` gives is what ``PUT /api/user`` takes: sending it back must
    not copy the avatar's URL into the user's own setting."""
    assert author_conduit.get("/api/user").json()["user"]["image"] is None
