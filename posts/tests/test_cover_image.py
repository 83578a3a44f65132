"""A post's cover image: how lists and the detail show it, who may set it, and what
happens when the image goes."""

import pytest

from images import services as image_services
from posts import services
from posts.models import Post
from posts.tests.factories import PostFactory

pytestmark = pytest.mark.django_db


def image_ref_keys() -> set[str]:
    return {"id", "url", "width", "height", "alt", "renditions"}


def new_post(client, **fields):
    return client.post("/api/v1/posts/", {"title": "Covered", "body": "Text.", **fields}, format="json")


def test_list_and_detail_show_the_cover_with_absolute_urls(anon_client, author, image_of):
    cover = image_of(author, width=1200, height=800, alt="Mountains")
    post = PostFactory(author=author, cover_image=cover)

    item = anon_client.get("/api/v1/posts/").json()["results"][0]
    detail = anon_client.get(f"/api/v1/posts/{post.slug}/").json()

    for shown in (item["cover_image"], detail["cover_image"]):
        assert set(shown) == image_ref_keys()
        assert shown["id"] == cover.pk
        assert (shown["width"], shown["height"], shown["alt"]) == (1200, 800, "Mountains")
        assert shown["url"] == f"http://testserver/media/{cover.file}"
        assert [r["width"] for r in shown["renditions"]] == [600, 1000]
        assert all(r["url"].startswith("http://testserver/media/images/") for r in shown["renditions"])
        assert all(r["content_type"] == "image/webp" for r in shown["renditions"])


def test_urls_are_built_on_site_url_when_it_is_set(anon_client, author, image_of, settings):
    settings.SITE_URL = "https://blog.example.com"
    post = PostFactory(author=author, cover_image=image_of(author))
    shown = anon_client.get(f"/api/v1/posts/{post.slug}/").json()["cover_image"]
    assert shown["url"].startswith("https://blog.example.com/media/images/")


def test_a_post_without_a_cover_shows_null(anon_client, author):
    post = PostFactory(author=author)
    assert anon_client.get("/api/v1/posts/").json()["results"][0]["cover_image"] is None
    assert anon_client.get(f"/api/v1/posts/{post.slug}/").json()["cover_image"] is None


def test_the_author_sets_changes_and_clears_the_cover(author_client, author, image_of):
    first, second = image_of(author), image_of(author, width=800, height=800)

    created = new_post(author_client, cover_image=first.pk)
    assert created.status_code == 201, created.json()
    assert created.json()["cover_image"]["id"] == first.pk
    slug = created.json()["slug"]

    changed = author_client.patch(f"/api/v1/posts/{slug}/", {"cover_image": second.pk}, format="json")
    assert changed.status_code == 200
    assert changed.json()["cover_image"]["id"] == second.pk

    untouched = author_client.patch(f"/api/v1/posts/{slug}/", {"title": "Renamed"}, format="json")
    assert untouched.json()["cover_image"]["id"] == second.pk

    cleared = author_client.patch(f"/api/v1/posts/{slug}/", {"cover_image": None}, format="json")
    assert cleared.status_code == 200
    assert cleared.json()["cover_image"] is None
    assert Post.objects.get(slug=slug).cover_image is None


def test_another_users_image_is_a_400_naming_cover_image(author_client, other_user, image_of):
    theirs = image_of(other_user)
    response = new_post(author_client, cover_image=theirs.pk)
    assert response.status_code == 400
    assert set(response.json()) == {"cover_image"}
    assert not Post.objects.exists()


@pytest.mark.parametrize("value", [999_999, 0, -1, 2**63, "abc", True, 1.5, [], {}])
def test_an_unknown_or_malformed_id_is_a_400_naming_cover_image(author_client, value):
    response = new_post(author_client, cover_image=value)
    assert response.status_code == 400
    assert "cover_image" in response.json()


def test_editing_with_someone_elses_image_is_a_400_and_keeps_the_cover(
    author_client, author, other_user, image_of
):
    mine = image_of(author)
    post = PostFactory(author=author, cover_image=mine)
    response = author_client.patch(
        f"/api/v1/posts/{post.slug}/", {"cover_image": image_of(other_user).pk}, format="json"
    )
    assert response.status_code == 400 and "cover_image" in response.json()
    post.refresh_from_db()
    assert post.cover_image_id == mine.pk


def test_staff_may_give_a_post_one_of_its_authors_images(staff_client, author, image_of):
    post = PostFactory(author=author)
    authors = image_of(author)
    response = staff_client.patch(f"/api/v1/posts/{post.slug}/", {"cover_image": authors.pk}, format="json")
    assert response.status_code == 200
    assert response.json()["cover_image"]["id"] == authors.pk


def test_deleting_the_image_leaves_the_post_without_a_cover(anon_client, author, image_of):
    cover = image_of(author)
    post = PostFactory(author=author, cover_image=cover)
    image_services.delete_image(image=cover)
    post.refresh_from_db()
    assert post.cover_image is None
    assert anon_client.get(f"/api/v1/posts/{post.slug}/").json()["cover_image"] is None


def test_the_schema_describes_cover_image_for_reading_and_writing(anon_client):
    schema = anon_client.get("/api/v1/schema/", {"format": "json"}).json()
    components = schema["components"]["schemas"]
    read = components["PostList"]["properties"]["cover_image"]
    assert "ImageRef" in str(read) and read.get("nullable") is True
    written = components["PostWriteRequest"]["properties"]["cover_image"]
    assert written["type"] == "integer" and written.get("nullable") is True


def test_a_cover_deleted_after_the_check_is_refused_not_a_database_error(author, image_of):
    """The face checked the image; it was deleted before the post was saved."""
    cover = image_of(author)
    post = PostFactory(author=author)
    image_services.delete_image(image=cover)
    with pytest.raises(image_services.NotYourImage):
        services.create_post(author=author, title="Late", body="Text.", cover_image=cover)
    with pytest.raises(image_services.NotYourImage):
        services.update_post(post=post, cover_image=cover)
    assert list(Post.objects.all()) == [post]
    post.refresh_from_db()
    assert post.cover_image_id is None
