"""Lists of public posts by tag, author and category without joining every post.

- Partial indexes of the published posts by author and by category, newest first.
- On PostgreSQL, ``Post.tags``' table carries a copy of each link's post's ``status`` and
  ``published_at`` (``posts.models.Tagging``), kept by triggers, with an index of the
  published links by tag, newest first: a tag's page stops after its rows, and its count
  is an index-only scan of that tag's entries. The date is copied, not "is public", so a
  scheduled post still turns public with no write. On SQLite nothing changes here.
"""

from django.conf import settings
from django.db import migrations, models

from posts.migrations._postgresql import run

FORWARD = [
    "ALTER TABLE posts_post_tags ADD COLUMN post_status varchar(10), ADD COLUMN post_published_at timestamptz",
    """
    UPDATE posts_post_tags AS link SET post_status = post.status, post_published_at = post.published_at
    FROM posts_post AS post WHERE post.id = link.post_id
    """,
    """
    CREATE FUNCTION posts_post_tags_copy_post() RETURNS trigger AS $$
    BEGIN
        SELECT status, published_at INTO NEW.post_status, NEW.post_published_at
        FROM posts_post WHERE id = NEW.post_id;
        RETURN NEW;
    END
    $$ LANGUAGE plpgsql
    """,
    """
    CREATE TRIGGER posts_post_tags_copy_post
    BEFORE INSERT OR UPDATE OF post_id ON posts_post_tags
    FOR EACH ROW EXECUTE FUNCTION posts_post_tags_copy_post()
    """,
    """
    CREATE FUNCTION posts_post_to_tags() RETURNS trigger AS $$
    BEGIN
        UPDATE posts_post_tags SET post_status = NEW.status, post_published_at = NEW.published_at
        WHERE post_id = NEW.id;
        RETURN NULL;
    END
    $$ LANGUAGE plpgsql
    """,
    """
    CREATE TRIGGER posts_post_to_tags
    AFTER UPDATE OF status, published_at ON posts_post
    FOR EACH ROW
    WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.published_at IS DISTINCT FROM NEW.published_at)
    EXECUTE FUNCTION posts_post_to_tags()
    """,
    """
    CREATE INDEX posts_post_tags_public_idx
    ON posts_post_tags (tag_id, post_published_at DESC, post_id DESC) WHERE post_status = 'published'
    """,
]
BACKWARD = [
    "DROP INDEX IF EXISTS posts_post_tags_public_idx",
    "DROP TRIGGER IF EXISTS posts_post_to_tags ON posts_post",
    "DROP FUNCTION IF EXISTS posts_post_to_tags()",
    "DROP TRIGGER IF EXISTS posts_post_tags_copy_post ON posts_post_tags",
    "DROP FUNCTION IF EXISTS posts_post_tags_copy_post()",
    "ALTER TABLE posts_post_tags DROP COLUMN post_status, DROP COLUMN post_published_at",
]


class Migration(migrations.Migration):
    dependencies = [
        ("posts", "0004_public_posts_index"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="Tagging",
            fields=[
                ("id", models.BigAutoField(primary_key=True, serialize=False)),
                ("post_status", models.CharField(max_length=10)),
                ("post_published_at", models.DateTimeField(null=True)),
            ],
            options={
                "db_table": "posts_post_tags",
                "managed": False,
            },
        ),
        migrations.AddIndex(
            model_name="post",
            index=models.Index(
                condition=models.Q(("status", "published")),
                fields=["author", "-published_at", "-id"],
                name="posts_post_author_public_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="post",
            index=models.Index(
                condition=models.Q(("status", "published")),
                fields=["category", "-published_at", "-id"],
                name="posts_post_cat_public_idx",
            ),
        ),
        migrations.RunPython(run(FORWARD), run(BACKWARD), elidable=False),
    ]
