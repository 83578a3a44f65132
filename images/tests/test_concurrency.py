"""Races on PostgreSQL: an image deleted (or pruned) while a request makes it a cover or
an avatar. The deletion locks the image's row, as those writes do: whichever comes
second waits or finds the image gone, and no request fails with a database error."""

from collections.abc import Callable
from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.utils import timezone

from accounts.models import User
from conftest import client_for, run_at_once
from images.models import Image
from posts.models import Post
from posts.tests.factories import PostFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]

ROUNDS = 6
ME = "/api/v1/auth/me/"


def media(image: Image) -> str:
    return f"/api/v1/media/{image.pk}/"


def set_cover_of_new_post(client, image: Image, author) -> tuple[Any, Callable[[], int | None]]:
    response = client.post(
        "/api/v1/posts/", {"title": "Raced", "body": "Text.", "cover_image": image.pk}, format="json"
    )
    slug = response.json().get("slug")
    return response, lambda: Post.objects.get(slug=slug).cover_image_id if slug else None


def set_cover_of_existing_post(client, image: Image, author) -> tuple[Any, Callable[[], int | None]]:
    post = Post.objects.filter(author=author).first() or PostFactory(author=author)
    response = client.patch(f"/api/v1/posts/{post.slug}/", {"cover_image": image.pk}, format="json")
    return response, lambda: Post.objects.get(pk=post.pk).cover_image_id


def set_avatar(client, image: Image, author) -> tuple[Any, Callable[[], int | None]]:
    response = client.patch(ME, {"avatar": image.pk}, format="json")
    return response, lambda: User.objects.get(pk=author.pk).avatar_id


@pytest.mark.parametrize(
    ("field", "use"),
    [
        ("cover_image", set_cover_of_new_post),
        ("cover_image", set_cover_of_existing_post),
        ("avatar", set_avatar),
    ],
    ids=["new post's cover", "post's cover", "avatar"],
)
def test_deleting_an_image_while_it_is_being_used_leaves_nothing_pointing_at_it(
    postgres_only, author, image_of, field, use
):
    deleter, user = client_for(author), client_for(author)
    PostFactory(author=author)
    for _ in range(ROUNDS):
        image = image_of(author)
        outcome = {}

        def race(i: int, image=image, outcome=outcome) -> int:
            if i == 0:
                return deleter.delete(media(image)).status_code
            response, outcome["read"] = use(user, image, author)
            if response.status_code == 400:
                assert set(response.json()) == {field}, response.json()
            return response.status_code

        deleted, used = run_at_once(2, race)

        assert deleted == 204
        assert used in {200, 201, 400}
        assert not Image.objects.filter(pk=image.pk).exists()
        # Made a cover or an avatar before the deletion (which cleared it), or refused.
        assert outcome["read"]() is None
        assert not default_storage.exists(image.file)


def test_two_deletions_of_one_image_at_once_both_succeed_quietly(postgres_only, author, image_of):
    clients = [client_for(author), client_for(author)]
    image = image_of(author)
    PostFactory(author=author, cover_image=image)

    codes = run_at_once(2, lambda i: clients[i].delete(media(image)).status_code)

    assert set(codes) <= {204, 404}, codes
    assert not Image.objects.filter(pk=image.pk).exists()
    assert Post.objects.get().cover_image_id is None


def test_pruning_never_deletes_an_image_made_a_cover_meanwhile(postgres_only, author, image_of):
    client = client_for(author)
    post = PostFactory(author=author)
    for _ in range(ROUNDS):
        Post.objects.filter(pk=post.pk).update(cover_image=None)
        image = image_of(author, width=100, height=100)
        Image.objects.filter(pk=image.pk).update(created_at=timezone.now() - timedelta(days=40))

        def race(i: int, image=image) -> int | None:
            if i == 0:
                call_command("prune_media", "--older-than", "30", stdout=StringIO())
                return None
            return client.patch(
                f"/api/v1/posts/{post.slug}/", {"cover_image": image.pk}, format="json"
            ).status_code

        _, code = run_at_once(2, race)

        post.refresh_from_db()
        if code == 200:  # the cover was set: the prune left the image alone
            assert post.cover_image_id == image.pk
            assert Image.objects.filter(pk=image.pk).exists()
        else:  # pruned first: the cover was refused
            assert code == 400
            assert not Image.objects.filter(pk=image.pk).exists()
            assert post.cover_image_id is None
