"""seed_blog: realistic, reproducible, safe to run twice, counters exact."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import Count, Q

from accounts.models import Follow, User
from posts.models import Category, Comment, Like, Post, Tag, Tagging

pytestmark = pytest.mark.django_db

SMALL = {"users": 6, "posts": 40, "comments": 60, "likes": 80, "follows": 12}


def seed(**options) -> str:
    # The test settings run with DEBUG off, where the demo admin must be asked for.
    out = StringIO()
    call_command("seed_blog", stdout=out, stderr=StringIO(), **{**SMALL, "demo_admin": True, **options})
    return out.getvalue()


def snapshot() -> dict:
    return {
        "users": list(User.objects.exclude(username="admin").order_by("id").values_list("username", "bio")),
        "posts": list(
            Post.objects.order_by("id").values_list(
                "title", "slug", "author__username", "status", "body", "category__slug"
            )
        ),
        "tags": list(Post.tags.through.objects.order_by("id").values_list("post__slug", "tag__slug")),
        "comments": list(Comment.objects.order_by("id").values_list("author__username", "body")),
        "likes": sorted(Like.objects.values_list("post__slug", "user__username")),
        "follows": sorted(Follow.objects.values_list("follower__username", "followed__username")),
    }


def assert_counters_exact() -> None:
    posts = Post.objects.annotate(
        comments_n=Count("comments", filter=Q(comments__is_hidden=False), distinct=True),
        likes_n=Count("likes", distinct=True),
    )
    wrong = [(p.slug, p.comment_count, p.comments_n, p.like_count, p.likes_n) for p in posts]
    wrong = [w for w in wrong if w[1] != w[2] or w[3] != w[4]]
    assert wrong == []


def test_seed_creates_what_it_says():
    out = seed(seed=3)
    assert User.objects.filter(is_superuser=False).count() == SMALL["users"]
    assert Post.objects.count() == SMALL["posts"]
    assert Comment.objects.count() == SMALL["comments"]
    assert Like.objects.count() == SMALL["likes"]
    assert Follow.objects.count() == SMALL["follows"]
    assert Tag.objects.exists()
    assert Category.objects.exists()
    assert "admin" in out and "demo-password-123" in out
    assert_counters_exact()


def test_posts_are_realistic_markdown_mostly_public():
    seed(seed=4, posts=60)
    public = Post.objects.public().count()
    assert 40 <= public < 60  # most public; some drafts and scheduled
    assert Post.objects.drafts().exists() or Post.objects.scheduled().exists()
    for post in Post.objects.all():
        assert 1024 <= len(post.body.encode()) <= 3072
        assert "## " in post.body
        assert "<h2>" in post.body_html
        assert post.excerpt and post.reading_time >= 1
        assert post.slug and post.title
    assert Post.objects.filter(body__contains="```").exists()
    assert Post.objects.filter(body__contains="](http").exists()
    # Comments and likes only on posts a reader can see.
    assert not Comment.objects.exclude(post__in=Post.objects.public()).exists()
    assert not Like.objects.exclude(post__in=Post.objects.public()).exists()


def test_same_seed_same_data():
    seed(seed=11)
    first = snapshot()
    for model in (Like, Comment, Post, Follow, Tag, Category):
        model.objects.all().delete()
    User.objects.all().delete()
    # Post ids do not restart after a delete, so neither would the slugs' numbers.
    first["posts"] = [row[:1] + row[2:] for row in first["posts"]]
    first["tags"] = [tag for _, tag in first["tags"]]
    seed(seed=11)
    second = snapshot()
    second["posts"] = [row[:1] + row[2:] for row in second["posts"]]
    second["tags"] = [tag for _, tag in second["tags"]]
    assert second["users"] == first["users"]
    assert second["posts"] == first["posts"]
    assert second["tags"] == first["tags"]
    assert second["comments"] == first["comments"]
    assert second["follows"] == first["follows"]


def test_different_seed_different_data():
    seed(seed=1)
    titles = list(Post.objects.order_by("id").values_list("title", flat=True))
    seed(seed=2)
    assert list(Post.objects.order_by("id").values_list("title", flat=True)[len(titles) :]) != titles


def test_safe_to_run_twice_with_the_same_seed():
    seed(seed=5)
    out = seed(seed=5)
    assert "Created" in out
    assert Post.objects.count() == 2 * SMALL["posts"]
    assert User.objects.filter(is_superuser=False).count() == 2 * SMALL["users"]
    assert User.objects.filter(username="admin").count() == 1
    assert Tag.objects.count() == Tag.objects.values("slug").distinct().count()
    assert_counters_exact()


def test_if_empty_does_nothing_when_posts_exist():
    seed(seed=6)
    before = (User.objects.count(), Post.objects.count(), Comment.objects.count())
    out = seed(seed=6, if_empty=True)
    assert "nothing to do" in out
    assert (User.objects.count(), Post.objects.count(), Comment.objects.count()) == before


def test_if_empty_seeds_an_empty_database():
    seed(seed=6, if_empty=True)
    assert Post.objects.count() == SMALL["posts"]


def test_admin_is_created_once_and_can_log_in(client):
    seed(seed=7)
    admin = User.objects.get(username="admin")
    assert admin.is_superuser and admin.is_staff
    assert admin.check_password("demo-password-123")
    admin.set_password("changed-by-the-operator")
    admin.save()
    seed(seed=8)
    admin.refresh_from_db()
    assert admin.check_password("changed-by-the-operator")  # never reset


def test_with_debug_off_the_demo_admin_is_refused_unless_asked_for(settings):
    settings.DEBUG = False  # a real site: admin / demo-password-123 would let anyone in
    with pytest.raises(CommandError, match="--no-demo-admin"):
        call_command("seed_blog", stdout=StringIO(), stderr=StringIO(), **SMALL)
    assert not User.objects.exists() and not Post.objects.exists()

    seed(seed=16, demo_admin=False)
    assert not User.objects.filter(username="admin").exists()
    assert Post.objects.count() == SMALL["posts"]
    seed(seed=17, demo_admin=True)
    assert User.objects.get(username="admin").is_superuser


def test_with_debug_on_the_demo_admin_is_created_as_make_run_expects(settings):
    settings.DEBUG = True
    out = StringIO()
    call_command("seed_blog", "--if-empty", stdout=out, stderr=StringIO(), **SMALL)
    assert User.objects.get(username="admin").check_password("demo-password-123")
    assert "demo-password-123" in out.getvalue()


def test_demo_users_share_the_demo_password():
    seed(seed=9, users=2, posts=1, comments=0, likes=0, follows=0)
    user = User.objects.exclude(username="admin").first()
    assert user.check_password("demo-password-123")


def test_existing_usernames_are_not_reused(author):
    seed(seed=10)
    names = list(User.objects.values_list("username", flat=True))
    assert len({n.lower() for n in names}) == len(names)


def test_likes_are_capped_by_the_possible_pairs():
    seed(seed=12, users=2, posts=3, likes=1000, follows=1000)
    public = Post.objects.public().count()
    assert Like.objects.count() == public * 2
    assert Follow.objects.count() == 2
    assert_counters_exact()


def test_users_only():
    seed(seed=15, users=3, posts=0, comments=5, likes=5, follows=2)
    assert User.objects.filter(is_superuser=False).count() == 3
    assert not Post.objects.exists()
    assert Follow.objects.count() == 2


def test_bad_options_are_refused():
    with pytest.raises(CommandError):
        seed(posts=-1)
    with pytest.raises(CommandError):
        seed(users=0, posts=5)
    assert not Post.objects.exists()


def assert_search_as_the_trigger_makes_it() -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM posts_post WHERE search_vector IS DISTINCT FROM ("
            "setweight(to_tsvector('english', coalesce(title, '')), 'A') || "
            "setweight(to_tsvector('english', coalesce(excerpt, '')), 'B') || "
            "setweight(to_tsvector('english', coalesce(body, '')), 'C'))"
        )
        assert cursor.fetchone()[0] == 0
        cursor.execute("SELECT tgenabled FROM pg_trigger WHERE tgname = 'posts_post_search_vector_trigger'")
        assert cursor.fetchone()[0] == "O"  # enabled again
        cursor.execute("SHOW session_replication_role")
        assert cursor.fetchone()[0] == "origin"  # restored, even inside an outer transaction
        cursor.execute("SELECT 1 FROM pg_indexes WHERE indexname = 'posts_post_search_vector_gin'")
        assert cursor.fetchone() is not None  # rebuilt


def test_search_vectors_match_the_trigger(postgres_only):
    """The fast PostgreSQL path computes the vectors itself; they must equal the trigger's."""
    seed(seed=13, posts=1500, comments=10, likes=10)
    assert_search_as_the_trigger_makes_it()
    # The trigger still works for posts written afterwards.
    post = Post.objects.first()
    Post.objects.filter(pk=post.pk).update(title="Zymurgy for beginners")
    assert Post.objects.filter(pk=post.pk, search_vector__isnull=False).exists()
    from django.contrib.postgres.search import SearchQuery

    assert Post.objects.filter(search_vector=SearchQuery("zymurgy")).count() == 1


def test_seeded_tag_links_carry_their_posts_status_and_date(postgres_only):
    """The bulk load writes the copies the tag lists read (its triggers do not fire)."""
    seed(seed=5, posts=300, comments=10, likes=10)
    copies = Tagging.objects.values_list("post_status", "post_published_at")
    originals = Tagging.objects.values_list("post__status", "post__published_at")
    assert copies.count() > 300
    assert list(copies.order_by("pk")) == list(originals.order_by("pk"))


def test_recount_posts_repairs_counters(author):
    from posts.tests.factories import CommentFactory, LikeFactory, PostFactory

    post, other = PostFactory(author=author), PostFactory(author=author)
    CommentFactory.create_batch(2, post=post)
    CommentFactory(post=post, is_hidden=True)
    LikeFactory(post=post)
    Post.objects.update(comment_count=9, like_count=9)  # drifted, as after manual SQL
    out = StringIO()
    call_command("recount_posts", "--post", str(post.pk), stdout=out)
    assert "Recounted 1 post" in out.getvalue()
    post.refresh_from_db()
    other.refresh_from_db()
    assert (post.comment_count, post.like_count) == (2, 1)
    assert (other.comment_count, other.like_count) == (9, 9)  # not asked for
    call_command("recount_posts", "--batch-size", "1", stdout=StringIO())
    other.refresh_from_db()
    assert (other.comment_count, other.like_count) == (0, 0)


def test_fast_path_without_the_replication_role(postgres_only, monkeypatch):
    """A role that may not set session_replication_role: the trigger is disabled by
    ALTER TABLE for the load instead, and enabled again."""
    from posts.management.commands import seed_blog

    real_try = seed_blog._try
    monkeypatch.setattr(
        seed_blog, "_try", lambda cursor, sql: False if "replication" in sql else real_try(cursor, sql)
    )
    seed(seed=14, posts=1200, comments=20, likes=20)
    assert_search_as_the_trigger_makes_it()
    assert_counters_exact()
