"""Full-text search on PostgreSQL: a trigger keeps ``search_vector`` in step with the
title (weight A), excerpt (B) and body (C), and a GIN index serves the ``@@`` match.

On SQLite the column stays NULL and search falls back to containment, so both
operations are no-ops there.
"""

from django.db import migrations

from posts.migrations._postgresql import run

FORWARD = [
    """
    CREATE OR REPLACE FUNCTION posts_post_search_vector_update() RETURNS trigger AS $$
    BEGIN
        NEW.search_vector :=
            setweight(to_tsvector('english', coalesce(NEW.title, '')), 'A') ||
            setweight(to_tsvector('english', coalesce(NEW.excerpt, '')), 'B') ||
            setweight(to_tsvector('english', coalesce(NEW.body, '')), 'C');
        RETURN NEW;
    END
    $$ LANGUAGE plpgsql;
    """,
    """
    CREATE TRIGGER posts_post_search_vector_trigger
    BEFORE INSERT OR UPDATE OF title, excerpt, body, search_vector ON posts_post
    FOR EACH ROW EXECUTE FUNCTION posts_post_search_vector_update();
    """,
    "UPDATE posts_post SET search_vector = NULL;",
    "CREATE INDEX IF NOT EXISTS posts_post_search_vector_gin ON posts_post USING gin (search_vector);",
]
BACKWARD = [
    "DROP INDEX IF EXISTS posts_post_search_vector_gin;",
    "DROP TRIGGER IF EXISTS posts_post_search_vector_trigger ON posts_post;",
    "DROP FUNCTION IF EXISTS posts_post_search_vector_update();",
]


class Migration(migrations.Migration):
    dependencies = [("posts", "0001_initial")]

    operations = [migrations.RunPython(run(FORWARD), run(BACKWARD), elidable=False)]
