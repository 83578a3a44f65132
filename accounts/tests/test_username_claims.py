"""A username an account has held is never handed to another account (issue 12,
finding 8): Conduit's ``PUT /api/user`` and the admin may rename an account, and the old
name stays that account's, on every face, in any case, while the account exists."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import User
from accounts.tests.factories import PASSWORD, UserFactory
from conduit.tests.conftest import token_client
from conftest import run_at_once

pytestmark = pytest.mark.django_db

V1_SIGN_UP = "/api/v1/auth/register/"
CONDUIT_SIGN_UP = "/api/users"


def rename(user, username: str):
    return token_client(user).put("/api/user", {"user": {"username": username}}, format="json")


def v1_sign_up(username: str, n: int = 0):
    body = {"username": username, "email": f"new{n}@example.com", "password": "a-fine-passw0rd"}
    return APIClient().post(V1_SIGN_UP, body, format="json")


def conduit_sign_up(username: str, n: int = 0):
    body = {"user": {"username": username, "email": f"conduit{n}@example.com", "password": "password123"}}
    return APIClient().post(CONDUIT_SIGN_UP, body, format="json")


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


def test_a_renamed_users_old_name_cannot_be_signed_up_for_or_taken(author, other_user):
    assert rename(author, "author-renamed").status_code == 200

    for case in ("author", "AUTHOR"):
        by_v1 = v1_sign_up(case)
        assert by_v1.status_code == 400
        assert by_v1.json() == {"username": ["A user with that username already exists."]}
        by_conduit = conduit_sign_up(case)
        assert by_conduit.status_code == 409
        assert by_conduit.json() == {"errors": {"username": ["has already been taken"]}}
        by_rename = rename(other_user, case)
        assert by_rename.status_code == 422
        assert by_rename.json() == {"errors": {"username": ["has already been taken"]}}
    # The old profile link finds nobody rather than a stranger.
    assert APIClient().get("/api/profiles/author").status_code == 404
    assert set(User.objects.values_list("username", flat=True)) == {"author-renamed", "other"}


def test_every_name_an_account_held_stays_its_own_and_it_may_take_one_back(author):
    assert rename(author, "second").status_code == 200
    assert rename(author, "third").status_code == 200

    assert v1_sign_up("second").status_code == 400
    back = rename(author, "Author")
    assert back.status_code == 200 and back.json()["user"]["username"] == "Author"
    assert v1_sign_up("third").status_code == 400
    assert rename(author, "third").status_code == 200


def test_deleting_the_account_frees_its_names(author):
    assert rename(author, "author-renamed").status_code == 200
    author.delete()

    assert v1_sign_up("author").status_code == 201
    assert conduit_sign_up("author-renamed").status_code == 201


def test_the_admin_keeps_a_renamed_users_old_name_and_refuses_it_to_others(admin_client, author):
    change = admin_client.post(
        reverse("admin:accounts_user_change", args=[author.pk]),
        {
            "username": "by-staff",
            "email": author.email,
            "date_joined_0": "2024-01-01",
            "date_joined_1": "00:00:00",
            "is_active": "on",
        },
    )
    assert change.status_code == 302, change.context["adminform"].form.errors
    author.refresh_from_db()
    assert author.username == "by-staff"

    assert v1_sign_up("author").status_code == 400
    add = admin_client.post(
        reverse("admin:accounts_user_add"),
        {"username": "Author", "usable_password": "true", "password1": PASSWORD, "password2": PASSWORD},
    )
    assert add.status_code == 200
    assert add.context["adminform"].form.errors["username"] == ["A user with that username already exists."]
    assert not User.objects.with_username("author").exists()


def test_staff_see_the_held_names_and_may_release_one(admin_client, author):
    assert rename(author, "author-renamed").status_code == 200
    listing = admin_client.get(reverse("admin:accounts_usernameclaim_changelist"), {"q": "author"})
    assert listing.status_code == 200
    claim = author.username_claims.get(name="author")

    deleted = admin_client.post(
        reverse("admin:accounts_usernameclaim_delete", args=[claim.pk]), {"post": "yes"}
    )

    assert deleted.status_code == 302
    assert v1_sign_up("author").status_code == 201


@pytest.mark.django_db(transaction=True)
def test_sign_ups_racing_a_rename_for_the_name_it_releases_all_fail(postgres_only):
    holder = UserFactory(username="wanted")

    def attempt(i: int) -> int:
        if i == 0:
            return rename(holder, "released").status_code
        return v1_sign_up("wanted" if i % 2 else "WANTED", n=i).status_code

    codes = run_at_once(8, attempt)

    # Before the rename commits the name is the holder's; after, it is still theirs.
    assert codes == [200] + [400] * 7, codes
    assert list(User.objects.with_username("wanted")) == []
    assert User.objects.get(pk=holder.pk).username == "released"
