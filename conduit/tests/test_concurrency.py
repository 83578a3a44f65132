"""Races on PostgreSQL through the RealWorld API: the database constraints decide, and
the loser gets the error a lone request would have got, never a 500."""

import pytest

from accounts.models import User
from accounts.tests.factories import UserFactory
from conduit.tests.conftest import token_client
from conftest import run_at_once
from posts.models import Like
from posts.tests.factories import PostFactory

pytestmark = [pytest.mark.django_db(transaction=True)]


def test_concurrent_registrations_of_one_username(postgres_only):
    def register(i):
        user = {"username": "racer" if i % 2 else "RACER", "email": f"r{i}@example.com", "password": "x" * 12}
        return token_client().post("/api/users", {"user": user}, format="json").status_code

    codes = run_at_once(12, register)

    assert codes.count(201) == 1, codes
    assert codes.count(409) == 11, codes
    assert User.objects.filter(username__iexact="racer").count() == 1


def test_concurrent_favorites_count_once(postgres_only):
    post = PostFactory()
    fan = UserFactory()

    codes = run_at_once(
        8, lambda _: token_client(fan).post(f"/api/articles/{post.slug}/favorite").status_code
    )

    assert codes == [200] * 8
    post.refresh_from_db()
    assert post.like_count == 1 == Like.objects.filter(post=post).count()
