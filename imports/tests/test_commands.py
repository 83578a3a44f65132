"""The three commands as an operator runs them: output, progress, errors, --dry-run."""

import io

import pytest
from django.core.management import CommandError, call_command

from imports.tests.conftest import GHOST_EXPORTS
from imports.tests.wxr import WComment, WItem, build
from posts.models import Post

pytestmark = pytest.mark.django_db


def run(*args, verbosity: int = 1) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err, verbosity=verbosity)
    return out.getvalue(), err.getvalue()


@pytest.fixture
def wxr_file(tmp_path):
    path = tmp_path / "river.xml"
    items = [
        WItem(1, comments=[WComment(1), WComment(2, type="pingback")]),
        WItem(2, title="About", slug="about", type="page"),
    ]
    path.write_bytes(build(items))
    return path


def test_import_wordpress_prints_what_it_created_and_skipped(wxr_file, capsys):
    out, _ = run("import_wordpress", str(wxr_file))
    assert "WordPress import of https://river.example.com" in out
    assert "Created: 1 user, 1 commenter" in out and "1 post, 1 comment, 1 old link." in out
    assert "Skipped: 1 pingback or trackback, 1 page (no pages here)." in out
    assert "WordPress: 100%" in capsys.readouterr().err  # the progress bar, on stderr


def test_a_second_run_says_it_created_nothing(wxr_file):
    run("import_wordpress", str(wxr_file))
    out, _ = run("import_wordpress", str(wxr_file), verbosity=0)
    assert "Created nothing" in out
    assert "1 post imported before" in out
    assert Post.objects.count() == 1


def test_dry_run_says_so_and_saves_nothing(wxr_file):
    out, _ = run("import_wordpress", str(wxr_file), "--dry-run", verbosity=0)
    assert "Dry run: nothing was saved." in out and "Would create: 1 user" in out
    assert not Post.objects.exists()


def test_import_ghost_reads_a_real_export(capsys):
    out, _ = run("import_ghost", str(GHOST_EXPORTS / "v4_export.json"))
    assert "Ghost import (an export of Ghost 4.1.0)" in out
    assert "7 posts" in out and "4 pages (no pages here)" in out
    assert "posts: 100%" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["import_wordpress", "import_ghost"])
def test_a_missing_file_is_a_clear_error(command, tmp_path):
    with pytest.raises(CommandError, match="Cannot read"):
        run(command, str(tmp_path / "nope"))


@pytest.mark.parametrize("command", ["import_wordpress", "import_ghost"])
def test_a_file_of_the_wrong_kind_is_a_clear_error(command, tmp_path):
    path = tmp_path / "wrong"
    path.write_bytes(b"<p>hello</p>" if command == "import_ghost" else b'{"db": []}')
    with pytest.raises(CommandError, match="Nothing was imported"):
        run(command, str(path))


def test_export_blog_writes_a_file_that_import_ghost_reads(tmp_path, wxr_file):
    run("import_wordpress", str(wxr_file), verbosity=0)
    target = tmp_path / "out.json"
    out, _ = run("export_blog", str(target), verbosity=0)
    assert "1 posts" in out and f"Wrote {target}." in out
    out, _ = run("import_ghost", str(target), verbosity=0)
    assert "Created: 1 post" in out  # a second copy: this site's own posts are not records


def test_export_blog_into_a_missing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(CommandError, match="Cannot write"):
        run("export_blog", str(tmp_path / "no" / "such" / "out.json"))
