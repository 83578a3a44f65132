"""A user's avatar: one of their own uploads, on their private and public profiles."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts import services
from accounts.models import User
from conftest import client_for
from images import services as image_services

pytestmark = pytest.mark.django_db

ME = "/api/v1/auth/me/"


def test_profiles_show_null_without_an_avatar(author_client, anon_client, author):
    assert author_client.get(ME).json()["avatar"] is None
    assert anon_client.get(f"/api/v1/users/{author.username}/").json()["avatar"] is None


def test_the_user_sets_and_clears_their_avatar(author_client, anon_client, author, image_of):
    mine = image_of(author, width=800, height=800, alt="Me")

    response = author_client.patch(ME, {"avatar": mine.pk}, format="json")
    assert response.status_code == 200, response.json()
    avatar = response.json()["avatar"]
    assert set(avatar) == {"id", "url", "width", "height", "alt", "renditions"}
    assert avatar["id"] == mine.pk and avatar["alt"] == "Me"
    assert avatar["url"] == f"http://testserver/media/{mine.file}"
    assert [r["width"] for r in avatar["renditions"]] == [600]

    assert author_client.get(ME).json()["avatar"] == avatar
    public = anon_client.get(f"/api/v1/users/{author.username.upper()}/").json()
    assert public["avatar"] == avatar

    cleared = author_client.patch(ME, {"avatar": None}, format="json")
    assert cleared.status_code == 200 and cleared.json()["avatar"] is None
    assert User.objects.get(pk=author.pk).avatar_id is None


def test_other_fields_leave_the_avatar_alone(author_client, author, image_of):
    author.avatar = image_of(author)
    author.save()
    response = author_client.patch(ME, {"bio": "Hello"}, format="json")
    assert response.json()["avatar"]["id"] == author.avatar_id


def test_another_users_image_is_a_400_naming_avatar(author_client, author, other_user, image_of):
    response = author_client.patch(ME, {"avatar": image_of(other_user).pk}, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"avatar"}
    assert User.objects.get(pk=author.pk).avatar_id is None


@pytest.mark.parametrize("value", [123_456, 0, -5, 2**63, "x", True, 2.5, [], {"id": 1}])
def test_an_unknown_or_malformed_avatar_is_a_400_naming_avatar(author_client, value):
    response = author_client.patch(ME, {"avatar": value}, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"avatar"}


def test_deleting_the_image_leaves_the_user_without_an_avatar(author_client, author, image_of):
    mine = image_of(author)
    author_client.patch(ME, {"avatar": mine.pk}, format="json")
    image_services.delete_image(image=mine)
    assert author_client.get(ME).json()["avatar"] is None


def test_the_public_profile_reads_the_avatar_in_its_one_query(author, other_user, image_of):
    author.avatar = image_of(author)
    author.save()
    for client in (client_for(None), client_for(other_user)):
        with CaptureQueriesContext(connection) as queries:
            data = client.get(f"/api/v1/users/{author.username}/").json()
        assert data["avatar"]["id"] == author.avatar_id
        assert len(queries) <= 2


def test_the_schema_reads_an_image_and_writes_an_id(anon_client):
    schemas = anon_client.get("/api/v1/schema/", {"format": "json"}).json()["components"]["schemas"]
    assert "ImageRef" in str(schemas["PrivateProfile"]["properties"]["avatar"])
    assert "ImageRef" in str(schemas["PublicProfile"]["properties"]["avatar"])
    written = schemas["PatchedPrivateProfileRequest"]["properties"]["avatar"]
    assert written["type"] == "integer" and written.get("nullable") is True


def test_an_avatar_deleted_after_the_check_is_refused_not_a_database_error(author, image_of):
    mine = image_of(author)
    bio = author.bio
    image_services.delete_image(image=mine)
    with pytest.raises(image_services.NotYourImage):
        services.update_account(user=author, avatar=mine, bio="New")
    stored = User.objects.get(pk=author.pk)
    assert stored.avatar_id is None and stored.bio == bio


def test_an_avatar_deleted_while_the_admin_form_was_sent_saves_the_user_without_it(
    rf, staff_user, author, image_of
):
    """The admin's form checked the image a moment before; its owner deleted it since: the
    account is saved without an avatar and staff are told, instead of a failure at commit."""
    from django.contrib import admin
    from django.contrib.messages.storage.fallback import FallbackStorage

    image = image_of(author)
    author.avatar_id, author.bio = image.pk, "Changed in the admin"
    image_services.delete_image(image=image)
    request = rf.post("/admin/")
    request.user, request.session = staff_user, {}
    request._messages = FallbackStorage(request)
    admin.site._registry[User].save_model(request, author, form=None, change=True)
    stored = User.objects.get(pk=author.pk)
    assert (stored.bio, stored.avatar_id) == ("Changed in the admin", None)
    assert [str(m) for m in request._messages] == [
        "The avatar image was deleted meanwhile: the account was saved without one."
    ]
