"""``make bench-imports``: the time and peak memory of the imports and the export, at two
sizes, to show that they stream (memory barely grows with the file).

For each size (10,000 and 100,000 posts; ``BENCH_IMPORT_SIZES`` to change) it writes a
generated WordPress export (authors, nested categories, tags, posts with HTML bodies and a
comment each, a few pages and attachments) and a Ghost 5 export (posts before the users
who wrote them, authors only in ``posts_authors``, as Ghost writes them), then, each in a
freshly created PostgreSQL database (``BENCH_IMPORTS_DATABASE_URL``, default
``postgres://postgres@127.0.0.1:5432/blog_bench_imports``, dropped and re-created):
``import_wordpress`` then ``export_blog``, and ``import_ghost`` then ``export_blog``. Each
command runs in a process of its own; its wall time and peak resident memory (the
kernel's ``ru_maxrss`` for that process) are printed side by side for the two sizes, with
the ratio of the larger to the smaller.
"""

# ruff: noqa: S603, S311  (runs manage.py; pseudo-random test data)
import json
import os
import random
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from xml.sax.saxutils import escape

import psycopg

from bench.run import admin_url

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/blog_bench_imports"
WORDS = [
    "river",
    "stone",
    "water",
    "light",
    "morning",
    "field",
    "garden",
    "winter",
    "harbour",
    "bridge",
    "valley",
    "forest",
    "city",
    "north",
    "quiet",
    "window",
    "letter",
    "engine",
    "paper",
    "silver",
    "market",
    "island",
    "summer",
    "bread",
    "music",
]
AUTHORS = 20
COMMENTERS = 50
CATEGORIES = 30
TAGS = 200


def log(message: str) -> None:
    print(f"[bench-imports {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def sentence(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words)).capitalize() + "."


def body(rng: random.Random) -> str:
    """About 1.5 KB of classic-editor HTML: paragraphs by blank lines, a list, some markup."""
    paragraphs = [" ".join(sentence(rng, rng.randint(8, 16)) for _ in range(3)) for _ in range(4)]
    items = "\n".join(f"<li>{sentence(rng, 4)}</li>" for _ in range(3))
    return (
        f"<!-- wp:paragraph -->\n<p>{paragraphs[0]} <strong>{rng.choice(WORDS)}</strong></p>\n"
        f"<!-- /wp:paragraph -->\n\n{paragraphs[1]}\n\n<ul>\n{items}\n</ul>\n\n"
        f"{paragraphs[2]}\n<em>{sentence(rng, 5)}</em>\n\n{paragraphs[3]}"
    )


def cdata(value: str) -> str:
    return "<![CDATA[" + value.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def write_wxr(path: Path, posts: int, seed: int = 1) -> None:
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8") as out:
        out.write(
            '<?xml version="1.0" encoding="UTF-8" ?>\n<rss version="2.0" '
            'xmlns:excerpt="http://wordpress.org/export/1.2/excerpt/" '
            'xmlns:content="http://purl.org/rss/1.0/modules/content/" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:wp="http://wordpress.org/export/1.2/">\n'
            "<channel><title>Bench</title><link>https://bench.example.com</link>\n"
            "<wp:wxr_version>1.2</wp:wxr_version>"
            "<wp:base_site_url>https://bench.example.com</wp:base_site_url>"
            "<wp:base_blog_url>https://bench.example.com</wp:base_blog_url>\n"
        )
        for n in range(1, AUTHORS + 1):
            out.write(
                f"<wp:author><wp:author_id>{n}</wp:author_id><wp:author_login>{cdata(f'writer{n}')}"
                f"</wp:author_login><wp:author_email>{cdata(f'writer{n}@bench.example.com')}</wp:author_email>"
                f"<wp:author_display_name>{cdata(f'Writer {n}')}</wp:author_display_name></wp:author>\n"
            )
        for n in range(1, CATEGORIES + 1):
            parent = f"topic-{(n - 1) // 5}" if n > 5 else ""
            out.write(
                f"<wp:category><wp:category_nicename>{cdata(f'topic-{n}')}</wp:category_nicename>"
                f"<wp:category_parent>{cdata(parent)}</wp:category_parent>"
                f"<wp:cat_name>{cdata(f'Topic {n}')}</wp:cat_name></wp:category>\n"
            )
        for n in range(1, TAGS + 1):
            out.write(
                f"<wp:tag><wp:tag_slug>{cdata(f'tag-{n}')}</wp:tag_slug>"
                f"<wp:tag_name>{cdata(f'Tag {n}')}</wp:tag_name></wp:tag>\n"
            )
        for n in range(1, posts + 1):
            day = 1 + n % 28
            date = f"20{10 + n % 14:02d}-{1 + n % 12:02d}-{day:02d} {n % 24:02d}:{n % 60:02d}:00"
            slug = f"post-{n}-{rng.choice(WORDS)}"
            tags = "".join(
                f'<category domain="post_tag" nicename="tag-{t}">{cdata(f"Tag {t}")}</category>'
                for t in rng.sample(range(1, TAGS + 1), 2)
            )
            category = rng.randint(1, CATEGORIES)
            comment_id = n  # one comment per item
            visitor = rng.randint(1, COMMENTERS)
            comment = (
                f"<wp:comment><wp:comment_id>{comment_id}</wp:comment_id>"
                f"<wp:comment_author>{cdata(f'Reader {visitor}')}</wp:comment_author>"
                f"<wp:comment_author_email>{cdata(f'reader{visitor}@example.net')}</wp:comment_author_email>"
                f"<wp:comment_date_gmt>{cdata(date)}</wp:comment_date_gmt>"
                f"<wp:comment_content>{cdata(sentence(rng, 12))}</wp:comment_content>"
                f"<wp:comment_approved>{cdata('1' if n % 10 else '0')}</wp:comment_approved>"
                "<wp:comment_type>comment</wp:comment_type><wp:comment_parent>0</wp:comment_parent>"
                "<wp:comment_user_id>0</wp:comment_user_id></wp:comment>"
            )
            kind = "page" if n % 500 == 0 else "attachment" if n % 250 == 0 else "post"
            attachment = f"https://bench.example.com/up/{n}.jpg" if kind == "attachment" else ""
            out.write(
                f"<item><title>{escape(sentence(rng, 6))}</title>"
                f"<link>https://bench.example.com/{date[:4]}/{date[5:7]}/{slug}/</link>"
                f"<dc:creator>{cdata(f'writer{1 + n % AUTHORS}')}</dc:creator>"
                f"<content:encoded>{cdata(body(rng))}</content:encoded><excerpt:encoded>{cdata('')}</excerpt:encoded>"
                f"<wp:post_id>{n}</wp:post_id><wp:post_date>{cdata(date)}</wp:post_date>"
                f"<wp:post_date_gmt>{cdata(date)}</wp:post_date_gmt><wp:post_name>{cdata(slug)}</wp:post_name>"
                f"<wp:status>{cdata('draft' if n % 20 == 0 else 'publish')}</wp:status>"
                f"<wp:post_type>{cdata(kind)}</wp:post_type>"
                f"<wp:attachment_url>{cdata(attachment)}"
                f'</wp:attachment_url><category domain="category" nicename="topic-{category}">'
                f"{cdata(f'Topic {category}')}</category>{tags}{comment}</item>\n"
            )
        out.write("</channel></rss>\n")


def write_ghost(path: Path, posts: int, seed: int = 2) -> None:
    """A Ghost 5 export: tables in alphabetical order (posts before users), mobiledoc
    with cards besides the HTML (so the HTML is what is imported), no ``author_id``."""
    rng = random.Random(seed)

    def oid(kind: int, n: int) -> str:
        return f"65{kind:02x}{n:020x}"

    def table(out, name: str, rows, first: bool = False) -> None:
        out.write(("" if first else ",") + f'\n"{name}": [')
        for i, row in enumerate(rows):
            out.write(("," if i else "") + "\n" + json.dumps(row))
        out.write("]")

    def post_rows():
        for n in range(1, posts + 1):
            html = "".join(f"<p>{' '.join(sentence(rng, 12) for _ in range(3))}</p>" for _ in range(4))
            status = "draft" if n % 20 == 0 else "published"
            date = f"20{10 + n % 14:02d}-{1 + n % 12:02d}-{1 + n % 28:02d}T{n % 24:02d}:00:00.000Z"
            yield {
                "id": oid(1, n),
                "uuid": f"00000000-0000-4000-8000-{n:012x}",
                "title": sentence(rng, 6),
                "slug": f"post-{n}-{rng.choice(WORDS)}",
                "mobiledoc": json.dumps(
                    {
                        "version": "0.3.1",
                        "atoms": [],
                        "cards": [["hr", {}]],
                        "markups": [],
                        "sections": [[10, 0]],
                    }
                ),
                "lexical": None,
                "html": html,
                "plaintext": html.replace("<p>", "").replace("</p>", "\n\n"),
                "type": "page" if n % 500 == 0 else "post",
                "status": status,
                "visibility": "public",
                "created_at": date,
                "updated_at": date,
                "published_at": date if status == "published" else None,
                "custom_excerpt": None,
            }

    with path.open("w", encoding="utf-8") as out:
        out.write('{"db": [{"meta": {"exported_on": 1700000000000, "version": "5.70.0"}, "data": {')
        table(out, "posts", post_rows(), first=True)
        table(
            out,
            "posts_authors",
            ({"id": oid(2, n), "post_id": oid(1, n), "author_id": oid(4, 1 + n % AUTHORS), "sort_order": 0}
             for n in range(1, posts + 1)),
        )  # fmt: skip
        table(
            out,
            "posts_tags",
            ({"id": oid(3, 2 * n + i), "post_id": oid(1, n), "tag_id": oid(5, t), "sort_order": i}
             for n in range(1, posts + 1) for i, t in enumerate(rng.sample(range(1, TAGS + 1), 2))),
        )  # fmt: skip
        table(
            out,
            "tags",
            ({"id": oid(5, n), "name": f"Tag {n}", "slug": f"tag-{n}", "visibility": "public"}
             for n in range(1, TAGS + 1)),
        )  # fmt: skip
        table(
            out,
            "users",
            ({"id": oid(4, n), "name": f"Writer {n}", "slug": f"writer{n}",
              "email": f"writer{n}@bench.example.com",
              "status": "active"} for n in range(1, AUTHORS + 1)),
        )  # fmt: skip
        out.write("\n}}]}\n")


# --- Running the commands -------------------------------------------------------------


def fresh_database(database_url: str, template: str | None) -> None:
    url, name = admin_url(database_url)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))


def drop_database(database_url: str) -> None:
    url, name = admin_url(database_url)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def measured(args: list[str], env: dict[str, str]) -> tuple[float, float, float]:
    """Run ``manage.py args`` in a process of its own: wall seconds, its CPU seconds (user
    and system: what the machine's other load does not change much), its peak RSS in MB
    (``ru_maxrss``)."""
    started = time.monotonic()
    process = subprocess.Popen(
        [PYTHON, "manage.py", *args, "--verbosity", "0"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output = process.stdout.read() if process.stdout else ""
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.monotonic() - started
    if process.returncode:
        raise SystemExit(f"manage.py {' '.join(args)} failed ({process.returncode}):\n{output}")
    return seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def main() -> None:
    sizes = [int(s) for s in (os.environ.get("BENCH_IMPORT_SIZES") or "10000,100000").split(",")]
    database_url = os.environ.get("BENCH_IMPORTS_DATABASE_URL") or DEFAULT_URL
    template_url = database_url + "_template"
    _, template = admin_url(template_url)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "REDIS_URL", "DATABASE_URL"))}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.bench",
        # One key for every process: exports name rows by it (imports.services._Ids).
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_LOG_LEVEL="WARNING",
        DJANGO_DB_STATEMENT_TIMEOUT_MS="0",
    )
    log("migrating a template database")
    fresh_database(template_url, None)
    subprocess.run(
        [PYTHON, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=ROOT,
        env={**env, "DATABASE_URL": template_url},
        check=True,
    )
    results: dict[str, dict[int, tuple[float, float, float]]] = {}
    files: dict[str, dict[int, int]] = {"WordPress export": {}, "Ghost export": {}}
    with tempfile.TemporaryDirectory(prefix="bench-imports-") as folder:
        for size in sizes:
            wxr, ghost_file, out = (
                Path(folder) / f"{name}-{size}" for name in ("wp.xml", "ghost.json", "out.json")
            )
            log(f"{size:,} posts: writing the exports")
            write_wxr(wxr, size)
            write_ghost(ghost_file, size)
            files["WordPress export"][size] = wxr.stat().st_size
            files["Ghost export"][size] = ghost_file.stat().st_size
            for command, source in (("import_wordpress", wxr), ("import_ghost", ghost_file)):
                fresh_database(database_url, template)
                run_env = {**env, "DATABASE_URL": database_url}
                runs = (
                    (command, [command, str(source)]),
                    (f"export_blog (after {command})", ["export_blog", str(out)]),
                )
                for label, args in runs:
                    log(f"{size:,} posts: {label}")
                    results.setdefault(label, {})[size] = figures = measured(args, run_env)
                    log("  {:.1f} s, {:.1f} s CPU, peak {:.0f} MB".format(*figures))
            wxr.unlink()
            ghost_file.unlink()
    drop_database(database_url)
    drop_database(template_url)

    small, large = sizes[0], sizes[-1]
    print(
        f"\n| run | {small:,} posts: wall | CPU | peak RSS | {large:,} posts: wall | CPU | peak RSS "
        f"| CPU x | peak RSS x |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for label, by_size in results.items():
        (w1, c1, m1), (w2, c2, m2) = by_size[small], by_size[large]
        print(
            f"| `{label}` | {w1:.1f} s | {c1:.1f} s | {m1:.0f} MB | {w2:.1f} s | {c2:.1f} s | {m2:.0f} MB "
            f"| {c2 / c1:.1f} | {m2 / m1:.2f} |"
        )
    for label, by_size in files.items():
        small_mb, large_mb = by_size[small] / 2**20, by_size[large] / 2**20
        print(f"| {label} (the file) | {small_mb:.0f} MB | | | {large_mb:.0f} MB | | | | |")


if __name__ == "__main__":
    main()
