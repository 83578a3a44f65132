"""The post detail: the body and its HTML, the author and the counters, read in one query
(plus the tags' on SQLite) that never reads the author's private columns or the post's
search vector; an author reads and edits their own draft."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from posts.tests.factories import PostFactory


def test_detail_shows_the_post_without_reading_private_columns(db, anon_client):
    post = PostFactory(body="Some **bold** words.")
    with CaptureQueriesContext(connection) as queries:
        response = anon_client.get(f"/api/v1/posts/{post.slug}/")
    assert response.status_code == 200
    data = response.json()
    assert data["body"] == "Some **bold** words."
    assert "<strong>bold</strong>" in data["body_html"]
    assert data["author"]["username"] == post.author.username
    sql = " ".join(q["sql"] for q in queries.captured_queries)
    assert "search_vector" not in sql
    assert '"accounts_user"."password"' not in sql
    # Nothing deferred is loaded afterwards: one query (plus the tags' on SQLite).
    assert len(queries.captured_queries) == (1 if connection.vendor == "postgresql" else 2)


def test_author_still_reads_and_edits_own_draft(author, author_client):
    post = PostFactory(author=author, draft=True, title="Draft")
    response = author_client.get(f"/api/v1/posts/{post.slug}/")
    assert response.status_code == 200
    assert response.json()["liked"] is False
    response = author_client.patch(f"/api/v1/posts/{post.slug}/", {"title": "Renamed"}, format="json")
    assert response.status_code == 200
    assert response.json()["title"] == "Renamed"
