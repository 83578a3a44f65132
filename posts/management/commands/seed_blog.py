"""``manage.py seed_blog``: realistic demo data, fast enough for 100,000 posts.

Speed comes from doing per-row work once, not per row:

- Markdown is rendered once per body in a pool of a few hundred bodies, which posts
  share; ``body_html``, ``excerpt`` and ``reading_time`` are copied from the pool, since
  ``bulk_create`` never calls ``Post.save()``.
- Every row goes in with ``bulk_create`` in batches; PostgreSQL's trigger fills
  ``search_vector`` on insert.
- Comments and likes are planned before the posts are inserted, so the counters are
  set on the posts as they go in, instead of an UPDATE of every post afterwards.
- Passwords are hashed once and the hash shared by every demo user.

Reproducible: ``--seed`` fixes every choice (dates are relative to now). Safe to run
twice: slugs end in a number above every existing post id, usernames and emails are
checked against the database, tags and categories are reused.
"""

import argparse
import contextlib
import random
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError, connection, models, transaction
from django.db.models import Max
from django.db.models.functions import Lower
from django.test.utils import override_settings
from django.utils import timezone
from faker import Faker
from tqdm import tqdm

from accounts.models import Follow, User
from posts import caching, rendering
from posts.bulk import explicit_timestamps
from posts.models import Category, Comment, Like, Post, Tag
from posts.services import slug_base

BATCH_SIZE = 2000
BODY_POOL_SIZE = 300
COMMENT_POOL_SIZE = 1000
DEMO_PASSWORD = "demo-password-123"  # noqa: S105 - a documented demo login, never production
ADMIN_USERNAME = "admin"
SHARE_DRAFT = 0.08
SHARE_SCHEDULED = 0.04
SHARE_HIDDEN_COMMENTS = 0.03
HISTORY_DAYS = 3 * 365

CATEGORIES = {
    "Engineering": "How we build and run software.",
    "Databases": "PostgreSQL, SQLite, indexes and queries.",
    "Python": "The language, its libraries and its tooling.",
    "Web": "HTTP, browsers, APIs and the front end.",
    "Operations": "Deploying, monitoring and keeping things up.",
    "Career": "Teams, interviews and growing as an engineer.",
    "Security": "Threats, defences and the boring parts that matter.",
    "Notes": "Short posts and things worth remembering.",
}
TAGS = [
    "Python", "Django", "PostgreSQL", "SQLite", "Redis", "Docker", "Kubernetes", "Linux",
    "Testing", "Performance", "Security", "APIs", "REST", "GraphQL", "JavaScript",
    "TypeScript", "CSS", "HTML", "Rust", "Go", "Async", "Caching", "Observability",
    "Logging", "CI", "Git", "Open source", "Architecture", "Refactoring", "Databases",
    "Indexes", "Migrations", "Celery", "Search", "Accessibility", "Career", "Remote work",
    "Code review", "Debugging", "Tooling",
]  # fmt: skip
TECH = [
    "Django", "PostgreSQL", "Python", "Redis", "SQLite", "Docker", "gunicorn", "nginx",
    "pytest", "Celery", "asyncio", "Rust", "Go", "TypeScript", "React", "htmx", "Git",
    "Kubernetes", "GitHub Actions", "the Django ORM", "Django REST framework", "uv",
]  # fmt: skip
CONCEPTS = [
    "database indexes", "connection pooling", "full-text search", "query plans",
    "background jobs", "rate limiting", "feature flags", "zero-downtime deploys",
    "structured logging", "caching", "pagination", "migrations", "code review",
    "error budgets", "load testing", "type hints", "dependency injection", "N+1 queries",
    "transactions", "race conditions", "idempotency", "API versioning", "observability",
    "test fixtures", "monorepos", "on-call", "technical debt", "data modelling",
]  # fmt: skip
TITLE_PATTERNS = [
    "How to use {concept} with {tech}",
    "A practical guide to {concept}",
    "Understanding {concept} in {tech}",
    "Why we moved from {tech} to {tech2}",
    "{n} lessons from a year of {concept}",
    "What I wish I knew about {concept}",
    "Debugging {concept} in production",
    "{tech} tips: {concept} done right",
    "The hidden cost of {concept}",
    "{concept_cap}: a field guide for {tech} developers",
    "Getting started with {tech}",
    "Scaling {tech} to a million rows",
    "{n} mistakes I made with {concept}",
    "Notes on {concept} and {concept2}",
    "Is {tech} still worth it for {concept}?",
    "From zero to {tech}: {concept} in a weekend",
]
CODE_SNIPPETS = [
    ("python", "def slugify(title: str) -> str:\n    return \"-\".join(title.lower().split())\n"),
    ("python", "posts = Post.objects.public().select_related(\"author\")[:20]\nfor post in posts:\n"
     "    print(post.title, post.author)\n"),
    ("sql", "EXPLAIN ANALYZE\nSELECT id, title FROM posts_post\nWHERE status = 'published'\n"
     "ORDER BY published_at DESC\nLIMIT 20;\n"),
    ("bash", "python -m venv .venv\n.venv/bin/pip install -r requirements.txt\n"
     ".venv/bin/python manage.py migrate\n"),
    ("javascript", "const res = await fetch(\"/api/v1/posts/?page_size=20\");\n"
     "const { results } = await res.json();\n"),
    ("python", "with transaction.atomic():\n    Like.objects.create(user=user, post=post)\n"
     "    Post.objects.filter(pk=post.pk).update(like_count=F(\"like_count\") + 1)\n"),
]  # fmt: skip


class Command(BaseCommand):
    help = (
        "Fill the database with realistic demo users, posts, tags, categories, comments, likes "
        "and follows, and an `admin` superuser (with DEBUG off, only with --demo-admin). "
        "Reproducible with --seed; safe to run twice."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--users", type=int, default=50, help="users to create (default 50)")
        parser.add_argument("--posts", type=int, default=500, help="posts to create (default 500)")
        parser.add_argument(
            "--comments", type=int, default=None, help="comments to create (default 2 per post)"
        )
        parser.add_argument("--likes", type=int, default=None, help="likes to create (default 3 per post)")
        parser.add_argument(
            "--follows", type=int, default=None, help="follows to create (default 5 per user)"
        )
        parser.add_argument("--seed", type=int, default=None, help="random seed, for reproducible data")
        parser.add_argument(
            "--if-empty", action="store_true", help="do nothing when the database already has posts"
        )
        parser.add_argument(
            "--demo-admin",
            action=argparse.BooleanOptionalAction,
            default=None,
            help=(
                f"create the {ADMIN_USERNAME!r} superuser with the demo password, or not "
                "(default: create it when DEBUG is on; with DEBUG off one of the two is required)"
            ),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        counts = {name: options[name] for name in ("users", "posts", "comments", "likes", "follows")}
        if counts["comments"] is None:
            counts["comments"] = 2 * counts["posts"]
        if counts["likes"] is None:
            counts["likes"] = 3 * counts["posts"]
        if counts["follows"] is None:
            counts["follows"] = 5 * counts["users"]
        for name, value in counts.items():
            if value < 0:
                raise CommandError(f"--{name} must be zero or more.")
        if counts["posts"] and not counts["users"]:
            raise CommandError("Posts need authors: give --users 1 or more.")
        demo_admin = options["demo_admin"]
        if demo_admin is None:
            if not settings.DEBUG:
                # DEBUG off is a real site, where a superuser whose password is in the README
                # lets anyone into the admin.
                raise CommandError(
                    f"DEBUG is off: the {ADMIN_USERNAME!r} superuser would have the published demo "
                    "password. Pass --no-demo-admin to seed without it (createsuperuser makes a real "
                    "one), or --demo-admin to create it anyway."
                )
            demo_admin = True

        self.verbosity = options["verbosity"]
        if options["if_empty"] and Post.objects.exists():
            self.stdout.write(f"The database already has posts ({Post.objects.count()}); nothing to do.")
            self._print_login()
            return

        seed = options["seed"] if options["seed"] is not None else random.randrange(2**32)
        started = time.monotonic()
        seeder = Seeder(seed=seed, progress=self._progress)
        # With DEBUG on, Django would keep (and format) every multi-megabyte INSERT.
        with override_settings(DEBUG=False), transaction.atomic():
            with _bulk_load_session():
                created = seeder.run(**counts)
            admin_created = demo_admin and self._ensure_admin()
        # The rows went in past the services (bulk inserts): invalidate once, for all of them.
        caching.bump(posts=True)
        elapsed = time.monotonic() - started

        summary = ", ".join(f"{n} {name}" for name, n in created.items())
        self.stdout.write(self.style.SUCCESS(f"Created {summary} in {elapsed:.1f} s (seed {seed})."))
        if admin_created:
            self.stdout.write(f"Created the superuser {ADMIN_USERNAME!r}.")
        if counts["users"]:
            self.stdout.write(f"Demo users log in with the password {DEMO_PASSWORD!r}.")
        self._print_login()

    @contextmanager
    def _progress(self, label: str, total: int) -> Iterator[tqdm]:
        # To stderr, so that stdout stays parseable; silent at --verbosity 0.
        bar = tqdm(
            total=total,
            desc=f"{label:>8}",
            unit=" rows",
            file=sys.stderr,
            disable=self.verbosity == 0 or total == 0,
            dynamic_ncols=True,
        )
        try:
            yield bar
        finally:
            bar.close()

    def _ensure_admin(self) -> bool:
        if User.objects.with_username(ADMIN_USERNAME).exists():
            return False
        User.objects.create_superuser(
            username=ADMIN_USERNAME, email="admin@example.com", password=DEMO_PASSWORD, email_verified=True
        )
        return True

    def _print_login(self) -> None:
        if User.objects.with_username(ADMIN_USERNAME).filter(is_superuser=True).exists():
            self.stdout.write(
                f"Log in to /admin/ as {ADMIN_USERNAME!r} with the password {DEMO_PASSWORD!r} "
                "(the demo password, unless it was changed)."
            )


def _batches(items: Sequence, size: int = BATCH_SIZE) -> Iterator[Sequence]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class Seeder:
    """Plans and inserts one run of demo data. ``progress(label, total)`` is a context
    manager yielding an object with ``update(n)``."""

    def __init__(self, *, seed: int, progress) -> None:
        self.random = random.Random(seed)
        self.fake = Faker("en_US")
        self.fake.seed_instance(seed)
        self.progress = progress
        self.now = timezone.now()
        self._pool: list[dict[str, Any]] = []

    def run(self, *, users: int, posts: int, comments: int, likes: int, follows: int) -> dict[str, int]:
        categories = self.ensure_categories()
        tags = self.ensure_tags()
        user_ids = self.create_users(users)
        post_rows = self.plan_posts(posts, user_ids, categories)
        public = [i for i, row in enumerate(post_rows) if row["public"]]
        comment_rows = self.plan_comments(comments, public, post_rows, user_ids)
        like_pairs = self.plan_likes(likes, public, post_rows, user_ids)
        # Counters are final now: the posts go in with them.
        post_ids = self.insert_posts(post_rows)
        tag_links = self.insert_post_tags(post_ids, post_rows, tags)
        self.insert_comments(comment_rows, post_ids)
        self.insert_likes(like_pairs, post_ids)
        follow_count = self.insert_follows(follows, user_ids)
        return {
            "users": len(user_ids),
            "posts": len(post_ids),
            "tag links": tag_links,
            "comments": len(comment_rows),
            "likes": len(like_pairs),
            "follows": follow_count,
        }

    # --- reference data -------------------------------------------------------------

    def ensure_categories(self) -> list[int]:
        wanted = {slug_base(name, fallback="category"): (name, text) for name, text in CATEGORIES.items()}
        Category.objects.bulk_create(
            [Category(slug=slug, name=name, description=text) for slug, (name, text) in wanted.items()],
            ignore_conflicts=True,
        )
        return list(Category.objects.filter(slug__in=wanted).order_by("slug").values_list("id", flat=True))

    def ensure_tags(self) -> list[int]:
        wanted = {slug_base(name, fallback="tag"): name for name in TAGS}
        Tag.objects.bulk_create([Tag(slug=s, name=n) for s, n in wanted.items()], ignore_conflicts=True)
        return list(Tag.objects.filter(slug__in=wanted).order_by("slug").values_list("id", flat=True))

    # --- users ----------------------------------------------------------------------

    def create_users(self, count: int) -> list[int]:
        if not count:
            return []
        password = make_password(DEMO_PASSWORD)  # hashed once: argon2 is slow by design
        rows: list[User] = []
        taken: set[str] = set()
        for _ in range(count):
            first, last = self.fake.first_name(), self.fake.last_name()
            username = slug_base(self.fake.user_name(), fallback="reader").replace("-", "")[:24]
            while username in taken:
                username = f"{username}{self.random.randint(0, 9)}"
            taken.add(username)
            rows.append(
                User(
                    username=username,
                    email=f"{username}@example.com",
                    first_name=first,
                    last_name=last,
                    display_name=f"{first} {last}",
                    bio=self.fake.sentence(nb_words=12) if self.random.random() < 0.8 else "",
                    password=password,
                    # Demo accounts may publish and comment whatever DJANGO_REQUIRE_VERIFIED_EMAIL says.
                    email_verified=True,
                    date_joined=self.now
                    - timedelta(days=self.random.randint(HISTORY_DAYS, HISTORY_DAYS + 400)),
                )
            )
        # Names already in the database (an earlier run, or real people) get a number,
        # until none clashes.
        clashing = self._existing_names(taken)
        while clashing:
            for user in rows:
                if user.username in clashing:
                    taken.discard(user.username)
                    while user.username in taken or user.username in clashing:
                        user.username = f"{user.username}{self.random.randint(0, 9)}"
                    user.email = f"{user.username}@example.com"
                    taken.add(user.username)
            clashing = self._existing_names(taken)

        ids: list[int] = []
        with self.progress("users", len(rows)) as bar:
            for batch in _batches(rows):
                ids += [user.pk for user in User.objects.bulk_create(batch)]
                bar.update(len(batch))
        return ids

    def _existing_names(self, usernames: set[str]) -> set[str]:
        """Those of the (lower-case) names already used as a username or email name."""
        found: set[str] = set()
        for batch in _batches(sorted(usernames)):
            found.update(
                User.objects.annotate(name=Lower("username"))
                .filter(name__in=batch)
                .values_list("name", flat=True)
            )
            emails = User.objects.annotate(e=Lower("email")).filter(e__in=[f"{n}@example.com" for n in batch])
            found.update(email.split("@")[0] for email in emails.values_list("e", flat=True))
        return found

    # --- posts ----------------------------------------------------------------------

    def title(self) -> str:
        pattern = self.random.choice(TITLE_PATTERNS)
        concept, concept2 = self.random.sample(CONCEPTS, 2)
        tech, tech2 = self.random.sample(TECH, 2)
        return pattern.format(
            concept=concept,
            concept2=concept2,
            concept_cap=concept[0].upper() + concept[1:],
            tech=tech,
            tech2=tech2,
            n=self.random.choice([3, 5, 7, 10, 12]),
        )

    def markdown_body(self) -> str:
        """A 1-3 KB Markdown article: headings, paragraphs, lists, code and a link."""
        fake, rnd = self.fake, self.random
        target = rnd.randint(1100, 2800)
        link = fake.url()
        ending = (
            f"Further reading: [{fake.sentence(nb_words=4).rstrip('.')}]({link}) and "
            f"*{fake.catch_phrase().lower()}*. Questions welcome in the comments."
        )
        parts = [fake.paragraph(nb_sentences=rnd.randint(3, 5))]
        size = len(parts[0]) + len(ending)
        while size < target:
            section = [
                f"## {fake.sentence(nb_words=rnd.randint(3, 6)).rstrip('.')}",
                fake.paragraph(nb_sentences=rnd.randint(3, 6)),
            ]
            kind = rnd.random()
            if kind < 0.35:
                section.append("\n".join(f"- {fake.sentence(nb_words=rnd.randint(4, 9))}" for _ in range(3)))
            elif kind < 0.7:
                language, code = rnd.choice(CODE_SNIPPETS)
                section.append(f"```{language}\n{code}```")
            else:
                section.append("\n".join(f"{i}. {fake.sentence(nb_words=6)}" for i in range(1, 4)))
            text = "\n\n".join(section)
            if size + len(text) > 3000:
                break
            parts.append(text)
            size += len(text) + 2
        parts.append(ending)
        return "\n\n".join(parts)

    def body_pool(self) -> list[dict[str, Any]]:
        pool = []
        for _ in range(BODY_POOL_SIZE):
            body = self.markdown_body()
            rendered = rendering.render_body(body)
            pool.append(
                {
                    "body": body,
                    "body_html": rendered.html,
                    "excerpt": rendered.excerpt,
                    "reading_time": rendered.reading_time,
                }
            )
        return pool

    def plan_posts(self, count: int, user_ids: list[int], categories: list[int]) -> list[dict[str, Any]]:
        if not count:
            return []
        pool = self.body_pool()
        # Slugs end in a number above every post id so far: unique within the run and
        # against earlier runs, and readable.
        first_number = (Post.objects.aggregate(m=Max("id"))["m"] or 0) + 1
        rows = []
        rnd = self.random
        for i in range(count):
            title = self.title()
            roll = rnd.random()
            created = self.now - timedelta(seconds=rnd.randint(3600, HISTORY_DAYS * 86400))
            if roll < SHARE_DRAFT:
                status, published_at, public = Post.Status.DRAFT, None, False
            elif roll < SHARE_DRAFT + SHARE_SCHEDULED:
                status, public = Post.Status.PUBLISHED, False
                published_at = self.now + timedelta(seconds=rnd.randint(3600, 30 * 86400))
            else:
                status, public = Post.Status.PUBLISHED, True
                published_at = created + timedelta(seconds=rnd.randint(0, 3 * 86400))
                published_at = min(published_at, self.now - timedelta(minutes=1))
            updated = max(created, published_at or created)
            if public and rnd.random() < 0.2:
                updated = min(self.now, updated + timedelta(days=rnd.randint(1, 60)))
            rows.append(
                {
                    "title": title,
                    "slug": f"{slug_base(title, fallback='post', max_length=180)}-{first_number + i}",
                    "author_id": rnd.choice(user_ids),
                    "category_id": rnd.choice(categories) if rnd.random() < 0.9 else None,
                    "content": rnd.randrange(len(pool)),
                    "status": status,
                    "published_at": published_at,
                    # Demo posts already public count as announced; scheduled ones are
                    # announced by the beat when their time comes (posts.events).
                    "announced_at": published_at if public else None,
                    "created_at": created,
                    "updated_at": updated,
                    "public": public,
                    "tags": rnd.sample(range(len(TAGS)), rnd.randint(1, 4)),
                    "comment_count": 0,
                    "like_count": 0,
                }
            )
        self._pool = pool
        return rows

    def insert_posts(self, rows: list[dict[str, Any]]) -> list[int]:
        ids: list[int] = []
        fields = (Post._meta.get_field("created_at"), Post._meta.get_field("updated_at"))
        fast = PostgresPostLoader.for_connection(self._pool, new_posts=len(rows))
        with (
            self.progress("posts", len(rows)) as bar,
            explicit_timestamps(*fields),
            fast or contextlib.nullcontext(),
        ):
            for batch in _batches(rows):
                self._avoid_slug_clashes(batch)
                if fast:
                    ids += fast.insert(batch)
                else:
                    objects = [Post(**_post_fields(row), **self._pool[row["content"]]) for row in batch]
                    ids += [post.pk for post in Post.objects.bulk_create(objects)]
                bar.update(len(batch))
            if fast and fast.rebuild_index:
                bar.set_postfix_str("building the search index")
        return ids

    def _avoid_slug_clashes(self, batch: Sequence[dict[str, Any]]) -> None:
        # Only a post made elsewhere with the very same "title-number" slug can clash.
        taken = set(Post.objects.filter(slug__in=[r["slug"] for r in batch]).values_list("slug", flat=True))
        for row in batch:
            while row["slug"] in taken:
                row["slug"] = f"{row['slug']}-{self.random.randrange(16**6):06x}"

    def insert_post_tags(
        self, post_ids: list[int], post_rows: list[dict[str, Any]], tag_ids: list[int]
    ) -> int:
        # On PostgreSQL the links carry their post's status and date (posts.models.Tagging):
        # the trigger that copies them does not fire during a bulk load (replica role),
        # and looking each post up again would cost more than writing what is known.
        columns = ("post_id", "tag_id", "post_status", "post_published_at")
        links = [
            (post_id, tag_ids[t % len(tag_ids)], row["status"], row["published_at"])
            for post_id, row in zip(post_ids, post_rows, strict=True)
            for t in row["tags"]
        ]
        if connection.vendor != "postgresql":
            columns, links = columns[:2], [link[:2] for link in links]
        self.insert_rows("tags", Post.tags.through, columns, links)
        return len(links)

    def insert_rows(self, label: str, model: type[models.Model], columns: Sequence[str], rows: list) -> None:
        """Insert plain tuples: ``COPY`` on PostgreSQL (about twice the rate of a multi-row
        INSERT for these narrow rows), ``bulk_create`` elsewhere."""
        with self.progress(label, len(rows)) as bar:
            if connection.vendor == "postgresql":
                copy = f"COPY {model._meta.db_table} ({', '.join(columns)}) FROM STDIN"
                with connection.cursor() as cursor, cursor.cursor.copy(copy) as stream:
                    for batch in _batches(rows, 20_000):
                        for row in batch:
                            stream.write_row(row)
                        bar.update(len(batch))
                return
            for batch in _batches(rows, 5000):
                model.objects.bulk_create([model(**dict(zip(columns, row, strict=True))) for row in batch])
                bar.update(len(batch))

    # --- comments, likes, follows -----------------------------------------------------

    def plan_comments(
        self, count: int, public: list[int], post_rows: list[dict[str, Any]], user_ids: list[int]
    ) -> list[tuple[int, int, str, bool, datetime]]:
        if not count or not public or not user_ids:
            return []
        rnd = self.random
        texts = [
            self.fake.paragraph(nb_sentences=rnd.randint(1, 4)) for _ in range(min(COMMENT_POOL_SIZE, count))
        ]
        planned = []
        for _ in range(count):
            index = rnd.choice(public)
            row = post_rows[index]
            hidden = rnd.random() < SHARE_HIDDEN_COMMENTS
            if not hidden:
                row["comment_count"] += 1
            age = max(60, int((self.now - row["published_at"]).total_seconds()))
            when = row["published_at"] + timedelta(seconds=rnd.randint(30, age))
            planned.append((index, rnd.choice(user_ids), rnd.choice(texts), hidden, min(when, self.now)))
        return planned

    def insert_comments(self, planned: list[tuple], post_ids: list[int]) -> None:
        fields = (Comment._meta.get_field("created_at"), Comment._meta.get_field("updated_at"))
        rows = [
            (post_ids[index], author_id, body, hidden, when, when)
            for index, author_id, body, hidden, when in planned
        ]
        columns = ("post_id", "author_id", "body", "is_hidden", "created_at", "updated_at")
        with explicit_timestamps(*fields):
            self.insert_rows("comments", Comment, columns, rows)

    def plan_likes(
        self, count: int, public: list[int], post_rows: list[dict[str, Any]], user_ids: list[int]
    ) -> list[tuple[int, int]]:
        """Distinct (post index, user id) pairs; sets each planned post's ``like_count``."""
        if not public or not user_ids:
            return []
        count = min(count, len(public) * len(user_ids))
        rnd = self.random
        # Popularity is skewed, as on a real blog: a few posts get many likes...
        weights = [rnd.paretovariate(1.2) for _ in public]
        pairs = {(index, rnd.choice(user_ids)) for index in rnd.choices(public, weights=weights, k=count)}
        # ...and collisions among the popular ones are topped up evenly.
        while len(pairs) < count:
            pairs.add((rnd.choice(public), rnd.choice(user_ids)))
        planned = sorted(pairs)
        for index, _user in planned:
            post_rows[index]["like_count"] += 1
        return planned

    def insert_likes(self, pairs: list[tuple[int, int]], post_ids: list[int]) -> None:
        rows = [(post_ids[index], user, self.now) for index, user in pairs]
        self.insert_rows("likes", Like, ("post_id", "user_id", "created_at"), rows)

    def insert_follows(self, count: int, user_ids: list[int]) -> int:
        if len(user_ids) < 2:
            return 0
        count = min(count, len(user_ids) * (len(user_ids) - 1))
        pairs: set[tuple[int, int]] = set()
        rnd = self.random
        while len(pairs) < count:
            follower, followed = rnd.sample(user_ids, 2)
            pairs.add((follower, followed))
        with self.progress("follows", len(pairs)) as bar:
            for batch in _batches(sorted(pairs), 10000):
                Follow.objects.bulk_create([Follow(follower_id=a, followed_id=b) for a, b in batch])
                bar.update(len(batch))
        return len(pairs)


POST_COLUMNS = (
    "title",
    "slug",
    "author_id",
    "category_id",
    "status",
    "published_at",
    "announced_at",
    "created_at",
    "updated_at",
    "comment_count",
    "like_count",
)

# The columns above, then the pooled body's; only the title's part of the vector per row.
INSERT_POSTS_SQL = """
    INSERT INTO posts_post (title, slug, author_id, category_id, status, published_at, announced_at,
                            created_at, updated_at, comment_count, like_count,
                            body, body_html, excerpt, reading_time, search_vector)
    SELECT u.title, u.slug, u.author_id, u.category_id, u.status, u.published_at, u.announced_at,
           u.created_at, u.updated_at, u.comment_count, u.like_count,
           p.body, p.body_html, p.excerpt, p.reading_time,
           setweight(to_tsvector('english', coalesce(u.title, '')), 'A') || p.v
    FROM unnest(%s::text[], %s::text[], %s::bigint[], %s::bigint[], %s::text[], %s::timestamptz[],
                %s::timestamptz[], %s::timestamptz[], %s::timestamptz[], %s::integer[], %s::integer[],
                %s::integer[])
         AS u(title, slug, author_id, category_id, status, published_at, announced_at, created_at,
              updated_at, comment_count, like_count, n)
    JOIN seed_blog_pool p ON p.n = u.n
    RETURNING id, slug
"""


def _post_fields(row: dict[str, Any]) -> dict[str, Any]:
    return {column: row[column] for column in POST_COLUMNS}


class PostgresPostLoader:
    """Posts into PostgreSQL several times faster than ``bulk_create``, same rows.

    Measured here, three costs dominated a plain ``bulk_create``: the search trigger's
    ``to_tsvector`` over every body, inserting into the GIN index row by row, and
    sending and compressing 5 KB of body and HTML per row. So:

    - the pooled bodies go to a temporary table once, with their part of the search
      vector (excerpt B, body C) computed there once; each post is an
      ``INSERT ... SELECT`` joining that table, so only the title's vector (A) is
      computed per row and the stored bodies are copied already compressed;
    - the trigger does not fire: the load runs as ``session_replication_role = replica``
      when the role may (see ``_bulk_load_session``); otherwise the trigger is disabled
      with ``ALTER TABLE`` while the posts go in (other writers to posts then wait);
    - when the load at least doubles the table, the GIN index is dropped and rebuilt in
      one pass at the end.

    Everything happens inside the seeding transaction, so a failure rolls back the DDL
    with the rows. A test checks that the vectors equal what the trigger computes.
    """

    TRIGGER = "posts_post_search_vector_trigger"
    INDEX = "posts_post_search_vector_gin"

    def __init__(self, pool: list[dict[str, Any]], index_definition: str | None) -> None:
        self.pool = pool
        self.index_definition = index_definition
        self.rebuild_index = index_definition is not None
        self.trigger_disabled = False

    @classmethod
    def for_connection(cls, pool: list[dict[str, Any]], *, new_posts: int) -> "PostgresPostLoader | None":
        """None unless on PostgreSQL with the search trigger installed."""
        if connection.vendor != "postgresql" or not new_posts:
            return None
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT 1 FROM pg_trigger WHERE tgname = %s AND tgrelid = 'posts_post'::regclass",
                [cls.TRIGGER],
            )
            if cursor.fetchone() is None:
                return None
            cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = %s", [cls.INDEX])
            found = cursor.fetchone()
        index_definition = None
        if found and new_posts >= max(1000, Post.objects.count()):
            index_definition = found[0]
        return cls(pool, index_definition)

    def __enter__(self) -> "PostgresPostLoader":
        with connection.cursor() as cursor:
            cursor.execute("SHOW session_replication_role")
            if cursor.fetchone()[0] != "replica":
                cursor.execute(f"ALTER TABLE posts_post DISABLE TRIGGER {self.TRIGGER}")
                self.trigger_disabled = True
            if self.rebuild_index:
                cursor.execute(f"DROP INDEX {self.INDEX}")
            cursor.execute(
                "CREATE TEMP TABLE seed_blog_pool (n integer PRIMARY KEY, body text, body_html text, "
                "excerpt text, reading_time integer, v tsvector) ON COMMIT DROP"
            )
            # The trigger's expression for the excerpt (B) and the body (C).
            cursor.execute(
                "INSERT INTO seed_blog_pool (n, body, body_html, excerpt, reading_time, v) "
                "SELECT u.n - 1, u.body, u.body_html, u.excerpt, u.reading_time, "
                "setweight(to_tsvector('english', coalesce(u.excerpt, '')), 'B') || "
                "setweight(to_tsvector('english', coalesce(u.body, '')), 'C') "
                "FROM unnest(%s::text[], %s::text[], %s::text[], %s::integer[]) "
                "WITH ORDINALITY AS u(body, body_html, excerpt, reading_time, n)",
                [
                    [entry[key] for entry in self.pool]
                    for key in ("body", "body_html", "excerpt", "reading_time")
                ],
            )
        return self

    def insert(self, rows: Sequence[dict[str, Any]]) -> list[int]:
        """Insert the rows; their ids in the rows' order. The title's vector (A) joined to
        the pooled part: ``||`` shifts positions alike however ``A || B || C`` is grouped."""
        with connection.cursor() as cursor:
            cursor.execute(INSERT_POSTS_SQL, [[row[c] for row in rows] for c in (*POST_COLUMNS, "content")])
            by_slug = {slug: pk for pk, slug in cursor.fetchall()}
        return [by_slug[row["slug"]] for row in rows]

    def __exit__(self, exc_type, exc, traceback) -> None:
        if exc_type is not None:
            return  # the transaction rolls back, and the DDL with it
        with connection.cursor() as cursor:
            if self.rebuild_index:
                # CREATE INDEX refuses to run with deferred foreign-key checks pending:
                # run them now, then defer again.
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                cursor.execute("SET CONSTRAINTS ALL DEFERRED")
                cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
                cursor.execute(self.index_definition)
            if self.trigger_disabled:
                cursor.execute(f"ALTER TABLE posts_post ENABLE TRIGGER {self.TRIGGER}")
            cursor.execute("DROP TABLE seed_blog_pool")


@contextmanager
def _bulk_load_session() -> Iterator[None]:
    """On PostgreSQL, for the rest of the load: ``session_replication_role = replica`` when
    the role may (user triggers off, the search one included, and no per-row foreign-key
    checks, on ids this command has just read or inserted itself), and lz4 for TOAST.

    Both are undone at the end rather than left to the end of the transaction, which
    may be an outer one (tests, or a caller's ``atomic``).
    """
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SHOW session_replication_role")
        role = cursor.fetchone()[0]
        cursor.execute("SHOW default_toast_compression")
        compression = cursor.fetchone()[0]
        _try(cursor, "SET LOCAL session_replication_role = replica")
        _try(cursor, "SET LOCAL default_toast_compression = lz4")  # faster than pglz, when built in
    yield
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('session_replication_role', %s, true)", [role])
        cursor.execute("SELECT set_config('default_toast_compression', %s, true)", [compression])


def _try(cursor, statement: str) -> bool:
    """Run ``statement`` in a savepoint; False if the database refuses it."""
    try:
        with transaction.atomic():
            cursor.execute(statement)
    except DatabaseError:
        return False
    return True
