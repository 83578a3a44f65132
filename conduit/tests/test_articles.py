"""Articles are our posts, favorites our likes, the feed our feed: through the RealWorld API."""

import re

import pytest

from accounts.tests.factories import FollowFactory, UserFactory
from conduit.tests.conftest import token_client
from posts.models import Comment, Like, Post
from posts.tests.factories import CommentFactory, LikeFactory, PostFactory, TagFactory

pytestmark = pytest.mark.django_db

NEW_ARTICLE = {
    "title": "How to train your dragon",
    "description": "Ever wonder how?",
    "body": "You have to *believe*",
    "tagList": ["dragons", "training"],
}


def create(client, **fields):
    return client.post("/api/articles", {"article": {**NEW_ARTICLE, **fields}}, format="json")


def test_created_article_is_a_published_post_visible_through_api_v1(author_conduit, author, anon_client):
    response = create(author_conduit)

    assert response.status_code == 201
    article = response.json()["article"]
    assert article["title"] == NEW_ARTICLE["title"]
    assert article["description"] == "Ever wonder how?"
    assert article["body"] == "You have to *believe*"
    assert article["tagList"] == ["dragons", "training"]
    assert article["favorited"] is False
    assert article["favoritesCount"] == 0
    assert article["author"] == {"username": "author", "bio": author.bio, "image": None, "following": False}
    post = Post.objects.get(slug=article["slug"])
    assert (post.author, post.excerpt, post.is_public) == (author, "Ever wonder how?", True)

    v1 = anon_client.get(f"/api/v1/posts/{article['slug']}/")
    assert v1.status_code == 200
    assert v1.json()["title"] == NEW_ARTICLE["title"]


def test_post_written_through_api_v1_is_an_article(author, anon_client):
    post = PostFactory(author=author, tags=["django"], excerpt="Short")
    LikeFactory(post=post)

    response = anon_client.get(f"/api/articles/{post.slug}")

    assert response.status_code == 200
    article = response.json()["article"]
    assert (article["title"], article["description"], article["body"]) == (post.title, "Short", post.body)
    assert article["tagList"] == ["django"]
    assert article["favoritesCount"] == 1


def test_duplicate_titles_get_distinct_slugs(author_conduit):
    first = create(author_conduit).json()["article"]["slug"]
    second = create(author_conduit).json()["article"]["slug"]

    assert first != second


def test_a_new_slug_says_nothing_about_a_draft_the_caller_cannot_see(author_conduit, other_user):
    PostFactory(author=other_user, title="Alice draft zebra", slug="alice-draft-zebra", draft=True)

    same_title = create(author_conduit, title="Alice draft zebra").json()["article"]["slug"]
    unused_title = create(author_conduit, title="Unused title zebra").json()["article"]["slug"]

    # Both the title's slug with a random suffix: a bare slug told that no post had the title.
    assert re.fullmatch(r"alice-draft-zebra-[0-9a-f]{6}", same_title), same_title
    assert re.fullmatch(r"unused-title-zebra-[0-9a-f]{6}", unused_title), unused_title


@pytest.mark.parametrize("field", ["title", "description", "body"])
def test_blank_required_fields_are_422(author_conduit, field):
    response = create(author_conduit, **{field: "   " if field == "body" else ""})

    assert response.status_code == 422
    assert response.json() == {"errors": {field: ["can't be blank"]}}
    assert not Post.objects.exists()


def test_writing_needs_a_token(anon_client):
    response = create(anon_client)

    assert response.status_code == 401
    assert response.json() == {"errors": {"token": ["is missing"]}}


def test_list_is_public_posts_newest_first_without_bodies(anon_client, author):
    older = PostFactory(author=author)
    newer = create(token_client(author)).json()["article"]["slug"]
    PostFactory(author=author, draft=True)
    PostFactory(author=author, scheduled=True)

    response = anon_client.get("/api/articles")

    assert response.status_code == 200
    body = response.json()
    assert body["articlesCount"] == 2
    assert [a["slug"] for a in body["articles"]] == [newer, older.slug]
    assert "body" not in body["articles"][0]


def test_list_filters_by_tag_author_and_favorited(anon_client, author, other_user):
    tagged = PostFactory(author=author, tags=["Django"])
    by_other = PostFactory(author=other_user)
    liked = PostFactory(author=author)
    LikeFactory(post=liked, user=other_user)

    def slugs(query):
        return [a["slug"] for a in anon_client.get(f"/api/articles?{query}").json()["articles"]]

    assert slugs("tag=Django") == [tagged.slug]
    assert slugs("tag=unknown") == []
    assert slugs(f"author={other_user.username.upper()}") == [by_other.slug]
    assert slugs(f"favorited={other_user.username}") == [liked.slug]


def test_limit_and_offset(anon_client, author):
    posts = [PostFactory(author=author) for _ in range(3)]
    newest_first = [p.slug for p in sorted(posts, key=lambda p: (p.published_at, p.pk), reverse=True)]

    page = anon_client.get("/api/articles?limit=1&offset=1").json()

    assert page["articlesCount"] == 3
    assert [a["slug"] for a in page["articles"]] == newest_first[1:2]
    assert anon_client.get("/api/articles?offset=10").json() == {"articles": [], "articlesCount": 3}


@pytest.mark.parametrize("query", ["limit=0", "limit=x", "offset=-1"])
def test_bad_paging_parameters_are_422(anon_client, query):
    response = anon_client.get(f"/api/articles?{query}")

    assert response.status_code == 422
    assert list(response.json()["errors"]) == [query.split("=")[0]]


def test_drafts_are_the_authors_only(author, other_user):
    draft = PostFactory(author=author, draft=True)

    assert token_client(author).get(f"/api/articles/{draft.slug}").status_code == 200
    hidden = token_client(other_user).get(f"/api/articles/{draft.slug}")
    assert hidden.status_code == 404
    assert hidden.json() == {"errors": {"article": ["not found"]}}


def test_update_keeps_slug_and_omitted_tags_and_empty_list_clears_them(author_conduit):
    slug = create(author_conduit).json()["article"]["slug"]

    body_only = author_conduit.put(f"/api/articles/{slug}", {"article": {"body": "New"}}, format="json")
    assert body_only.status_code == 200
    assert body_only.json()["article"]["slug"] == slug
    assert body_only.json()["article"]["tagList"] == ["dragons", "training"]
    assert Post.objects.get(slug=slug).body == "New"

    cleared = author_conduit.put(f"/api/articles/{slug}", {"article": {"tagList": []}}, format="json")
    assert cleared.json()["article"]["tagList"] == []
    assert not Post.objects.get(slug=slug).tags.exists()


@pytest.mark.parametrize("fields", [{"tagList": None}, {"title": ""}, {"tagList": "dragons"}])
def test_invalid_update_is_422_and_changes_nothing(author_conduit, fields):
    slug = create(author_conduit).json()["article"]["slug"]

    response = author_conduit.put(f"/api/articles/{slug}", {"article": fields}, format="json")

    assert response.status_code == 422
    post = Post.objects.get(slug=slug)
    assert post.title == NEW_ARTICLE["title"]
    assert post.tags.count() == 2


def test_only_the_author_or_staff_may_change_an_article(author_conduit, other_conduit, staff_conduit):
    slug = create(author_conduit).json()["article"]["slug"]

    update = other_conduit.put(f"/api/articles/{slug}", {"article": {"body": "x"}}, format="json")
    delete = other_conduit.delete(f"/api/articles/{slug}")

    assert update.status_code == delete.status_code == 403
    assert delete.json() == {"errors": {"article": ["forbidden"]}}
    assert Post.objects.get(slug=slug).body == NEW_ARTICLE["body"]
    assert (
        staff_conduit.put(f"/api/articles/{slug}", {"article": {"body": "x"}}, format="json").status_code
        == 200
    )


def test_delete(author_conduit, anon_client):
    slug = create(author_conduit).json()["article"]["slug"]

    assert author_conduit.delete(f"/api/articles/{slug}").status_code == 204
    assert not Post.objects.filter(slug=slug).exists()
    assert anon_client.get(f"/api/articles/{slug}").status_code == 404


def test_favorite_is_a_like(author, other_user, other_conduit):
    post = PostFactory(author=author)

    favorited = other_conduit.post(f"/api/articles/{post.slug}/favorite")
    assert favorited.status_code == 200
    assert favorited.json()["article"]["favorited"] is True
    assert favorited.json()["article"]["favoritesCount"] == 1
    assert Like.objects.filter(user=other_user, post=post).exists()
    assert other_conduit.post(f"/api/articles/{post.slug}/favorite").json()["article"]["favoritesCount"] == 1

    unfavorited = other_conduit.delete(f"/api/articles/{post.slug}/favorite")
    assert unfavorited.json()["article"]["favorited"] is False
    assert unfavorited.json()["article"]["favoritesCount"] == 0
    assert not Like.objects.exists()


def test_favorite_unknown_or_unauthenticated(other_conduit, anon_client):
    assert other_conduit.post("/api/articles/nope/favorite").json() == {"errors": {"article": ["not found"]}}
    assert anon_client.post("/api/articles/nope/favorite").status_code == 401


def test_feed_is_public_posts_of_followed_authors(author, other_user, anon_client):
    FollowFactory(follower=other_user, followed=author)
    public = PostFactory(author=author)
    PostFactory(author=author, draft=True)
    PostFactory()  # someone not followed

    response = token_client(other_user).get("/api/articles/feed")

    assert response.status_code == 200
    body = response.json()
    assert body["articlesCount"] == 1
    assert body["articles"][0]["slug"] == public.slug
    assert body["articles"][0]["author"]["following"] is True
    assert anon_client.get("/api/articles/feed").status_code == 401


def test_comments_add_list_and_delete(author, other_user, anon_client):
    post = PostFactory(author=author)
    client = token_client(other_user)

    created = client.post(f"/api/articles/{post.slug}/comments", {"comment": {"body": "Nice"}}, format="json")
    assert created.status_code == 201
    comment = created.json()["comment"]
    assert comment["body"] == "Nice"
    assert comment["author"]["username"] == other_user.username
    post.refresh_from_db()
    assert post.comment_count == 1

    CommentFactory(post=post, is_hidden=True)
    listed = anon_client.get(f"/api/articles/{post.slug}/comments").json()["comments"]
    assert [c["id"] for c in listed] == [comment["id"]]

    assert client.delete(f"/api/articles/{post.slug}/comments/{comment['id']}").status_code == 204
    assert not Comment.objects.filter(pk=comment["id"]).exists()
    post.refresh_from_db()
    assert post.comment_count == 0


def test_comment_errors(author, other_user, author_conduit):
    post = PostFactory(author=author)
    theirs = CommentFactory(post=PostFactory(), author=author)

    blank = author_conduit.post(
        f"/api/articles/{post.slug}/comments", {"comment": {"body": ""}}, format="json"
    )
    assert blank.status_code == 422
    assert blank.json() == {"errors": {"body": ["can't be blank"]}}
    # A comment of another article is not found under this one.
    elsewhere = author_conduit.delete(f"/api/articles/{post.slug}/comments/{theirs.pk}")
    assert elsewhere.json() == {"errors": {"comment": ["not found"]}}
    assert author_conduit.get("/api/articles/nope/comments").status_code == 404


def test_comment_deletion_follows_our_moderation_rules(author, other_user):
    post = PostFactory(author=other_user)
    by_other = CommentFactory(post=post, author=other_user)
    bystander = token_client(UserFactory())

    forbidden = bystander.delete(f"/api/articles/{post.slug}/comments/{by_other.pk}")
    assert forbidden.status_code == 403
    assert forbidden.json() == {"errors": {"comment": ["forbidden"]}}

    on_my_post = CommentFactory(post=PostFactory(author=author), author=other_user)
    # The article's author may remove comments on it (moderation).
    response = token_client(author).delete(f"/api/articles/{on_my_post.post.slug}/comments/{on_my_post.pk}")
    assert response.status_code == 204
    assert Comment.objects.filter(pk=by_other.pk).exists()


def test_tags_are_those_on_public_posts(anon_client):
    PostFactory(tags=["django", "python"])
    PostFactory(tags=["django"])
    PostFactory(draft=True, tags=["secret"])
    TagFactory(name="unused")

    response = anon_client.get("/api/tags")

    assert response.status_code == 200
    assert response.json() == {"tags": ["django", "python"]}


def test_urls_do_not_redirect_to_a_trailing_slash_and_api_v1_is_untouched(anon_client):
    PostFactory()

    conduit = anon_client.get("/api/articles")
    v1 = anon_client.get("/api/v1/posts/")
    unknown = anon_client.get("/api/nothing-here")

    assert conduit.status_code == 200
    assert set(conduit.json()) == {"articles", "articlesCount"}
    assert v1.status_code == 200
    assert {"count", "results"} <= set(v1.json())
    assert unknown.status_code == 404
    assert unknown.json() == {"detail": "Not found."}


# --- Query counts ---------------------------------------------------------------------------


def _bulk_posts(n: int = 6) -> None:
    for i in range(n):
        post = PostFactory(tags=[f"t{i}", "shared"])
        LikeFactory(post=post)
        FollowFactory(followed=post.author)


@pytest.mark.parametrize("signed_in", [False, True])
def test_article_list_query_count_is_constant(django_assert_max_num_queries, author, signed_in):
    _bulk_posts()
    client = token_client(author if signed_in else None)

    # Count, the page (authors, favorited, following annotated) and the tags; plus the user.
    with django_assert_max_num_queries(3 + signed_in):
        response = client.get("/api/articles?limit=20")

    assert len(response.json()["articles"]) == 6


def test_feed_query_count_is_constant(django_assert_max_num_queries, author):
    for _ in range(5):
        post = PostFactory(tags=["x"])
        FollowFactory(follower=author, followed=post.author)

    with django_assert_max_num_queries(4):
        response = token_client(author).get("/api/articles/feed")

    assert response.json()["articlesCount"] == 5


def test_comment_list_query_count_is_constant(django_assert_max_num_queries, author):
    post = PostFactory()
    for _ in range(5):
        CommentFactory(post=post)

    # The user, the article with its tags, then the comments with their authors.
    with django_assert_max_num_queries(4):
        response = token_client(author).get(f"/api/articles/{post.slug}/comments")

    assert len(response.json()["comments"]) == 5


def test_tag_list_is_one_query(django_assert_num_queries):
    _bulk_posts()

    with django_assert_num_queries(1):
        response = token_client().get("/api/tags")

    assert len(response.json()["tags"]) == 7
