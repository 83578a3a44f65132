"""Old links keep working: an imported post's old permalink answers 301 to the post,
unless the path is one of this site's own; anything else still 404s."""

import pytest
from django.test import Client

from imports.models import OldLink
from imports.tests.wxr import WItem, build
from posts.tests.factories import PostFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def client():
    return Client()


def test_a_wordpress_permalink_redirects_to_the_imported_post(wordpress_import, client):
    wordpress_import(build([WItem(1, link="https://river.example.com/2021/03/04/hello-river/")]))
    response = client.get("/2021/03/04/hello-river/")
    assert response.status_code == 301
    assert response["Location"] == "/posts/hello-river/"
    assert client.get(response["Location"]).status_code == 200


def test_the_query_string_goes_along_and_the_trailing_slash_is_optional(wordpress_import, client):
    wordpress_import(build([WItem(1, link="https://river.example.com/2021/03/04/hello-river/")]))
    assert client.get("/2021/03/04/hello-river?utm_source=x").headers["Location"] == (
        "/posts/hello-river/?utm_source=x"
    )
    assert client.head("/2021/03/04/hello-river/").status_code == 301


def test_a_non_latin_permalink_redirects(wordpress_import, client):
    link = "https://river.example.com/2021/03/%d0%bf%d1%80%d0%b8%d0%b2%d0%b5%d1%82/"
    wordpress_import(
        build([WItem(1, title="Привет", slug="%d0%bf%d1%80%d0%b8%d0%b2%d0%b5%d1%82", link=link)])
    )
    response = client.get("/2021/03/%D0%BF%D1%80%D0%B8%D0%B2%D0%B5%D1%82/")
    assert response.status_code == 301
    assert response["Location"] == "/posts/privet/"


def test_a_ghost_permalink_redirects(ghost_import, ghost_export, client):
    ghost_import(ghost_export("v2_export.json"))
    response = client.get("/welcome/")
    assert (response.status_code, response["Location"]) == (301, "/posts/welcome/")


def test_the_sites_own_paths_win(client):
    post = PostFactory(slug="mine")
    for path in ("/feed/", "/login/", "/posts/gone/", "/api/v1/posts/"):
        OldLink.objects.create(path=path, post=post)  # as if an import had let them in
    assert client.get("/feed/").status_code == 200
    assert client.get("/login/").status_code == 200
    assert client.get("/posts/gone/").status_code == 404  # a post of ours that is gone
    response = client.get("/api/v1/posts/?page=abc")
    assert response.status_code != 301


def test_unknown_paths_still_404(client, django_assert_max_num_queries):
    PostFactory(slug="mine")
    with django_assert_max_num_queries(1):
        assert client.get("/no/such/page/").status_code == 404


def test_an_old_link_to_a_post_nobody_may_see_is_a_404(client, author):
    draft = PostFactory(slug="secret-plans", draft=True, author=author)
    scheduled = PostFactory(slug="coming-soon", scheduled=True, author=author)
    OldLink.objects.create(path="/2020/secret/", post=draft)
    OldLink.objects.create(path="/2020/soon/", post=scheduled)
    client.force_login(author)
    assert client.get("/2020/secret/").status_code == 404
    assert client.get("/2020/soon/").status_code == 404


def test_only_reads_are_redirected(client):
    OldLink.objects.create(path="/2021/old/", post=PostFactory(slug="mine"))
    assert client.post("/2021/old/").status_code in (403, 404, 405)
    assert client.get("/2021/old/").status_code == 301


def test_a_redirect_costs_one_query(client, django_assert_num_queries):
    OldLink.objects.create(path="/2021/old/", post=PostFactory(slug="mine"))
    with django_assert_num_queries(1):
        assert client.get("/2021/old/").status_code == 301
