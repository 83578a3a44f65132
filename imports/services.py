"""Moving in and out: imports from WordPress and Ghost, and the export in Ghost's format.

Each import runs in one transaction (a file that fails part-way changes nothing; a dry
run rolls back at the end) and streams: the file is read one element or row at a time
(``imports.wordpress``, ``imports.ghost``) and written in batches, so memory holds a
batch, not the file, whatever its size.

Writes: users through ``accounts.services.save_user`` (which claims their usernames);
posts, tags, comments and links by a bulk path of its own, since per-row services would
announce every old post: like ``seed_blog`` it emits no webhook and no notification, marks
public posts as announced (``announced_at``) so the beat does not announce them either
(scheduled ones are, when their time comes), sets the counters itself, and invalidates the
cached pages once at the end (``caching.bump``).

Idempotent: every object created (or matched: an existing user with the author's address,
an existing tag of that name) gets an ``ImportRecord`` keyed by system, site, kind and id
there; an object already recorded is skipped, so a second run of one file creates nothing.
"""

import hashlib
import html
import json
import re
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import IO, Any
from urllib.parse import unquote, urlsplit

from anyascii import anyascii
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import connection, models, transaction
from django.db.models import Exists, F, OuterRef, Q
from django.test.utils import override_settings
from django.urls import Resolver404, resolve
from django.utils import timezone
from django.utils.crypto import salted_hmac

from accounts.models import User
from accounts.services import save_user, username_available
from imports import bodies, ghost, wordpress
from imports.models import OLD_PATH_MAX_LENGTH, ImportRecord, OldLink
from posts import caching, rendering
from posts.bulk import explicit_timestamps
from posts.models import COMMENT_MAX_LENGTH, TITLE_MAX_LENGTH, Category, Comment, Post, Tag
from posts.services import SLUG_MAX_LENGTH, normalise_tag_names, slug_base, slug_candidate

BATCH_SIZE = 200
UNTITLED = "Untitled"
FALLBACK_AUTHOR = "unknown-author"
USERNAME_BASE_LENGTH = 100
RENAME_ATTEMPTS = 10_000

Kind = ImportRecord.Kind
System = ImportRecord.System


class ImportFailed(Exception):
    """The file cannot be imported: not an export of that system, or unreadable."""


# --- The summary ------------------------------------------------------------------------

# label: (singular, plural)
LABELS = {
    "user": ("user", "users"),
    "commenter": (
        "commenter (a user without password or address)",
        "commenters (users without password or address)",
    ),
    "category": ("category", "categories"),
    "tag": ("tag", "tags"),
    "post": ("post", "posts"),
    "comment": ("comment", "comments"),
    "attachment": ("attachment (recorded by URL)", "attachments (recorded by URL)"),
    "old link": ("old link", "old links"),
    "user before": ("author imported before", "authors imported before"),
    "user matched": (
        "author matched an existing user by address",
        "authors matched existing users by address",
    ),
    "commenter before": ("commenter imported before", "commenters imported before"),
    "category before": ("category imported before", "categories imported before"),
    "tag before": ("tag imported before", "tags imported before"),
    "post before": ("post imported before", "posts imported before"),
    "comment before": ("comment imported before", "comments imported before"),
    "attachment before": ("attachment recorded before", "attachments recorded before"),
    "page": ("page (no pages here)", "pages (no pages here)"),
    "menu item": ("menu item", "menu items"),
    "pingback": ("pingback or trackback", "pingbacks and trackbacks"),
    "empty comment": ("empty comment", "empty comments"),
    "internal tag": ("internal tag (#...)", "internal tags (#...)"),
    "co-author": ("co-author (a post has one author here)", "co-authors (a post has one author here)"),
    "own path": ("old link that is one of this site's paths", "old links that are this site's paths"),
    "link taken": ("old link another post has", "old links other posts have"),
    "trash": ("post in the trash", "posts in the trash"),
    "auto-draft": ("auto-draft", "auto-drafts"),
}


@dataclass
class Summary:
    """What a run created and skipped, by kind, for the command to print."""

    title: str
    dry_run: bool = False
    created: Counter[str] = field(default_factory=Counter)
    skipped: Counter[str] = field(default_factory=Counter)
    notes: list[str] = field(default_factory=list)

    @staticmethod
    def _phrase(counts: Counter[str]) -> str:
        parts = []
        for label, n in counts.items():
            if n:
                singular, plural = LABELS.get(label, (label, f"{label}s"))
                parts.append(f"{n} {singular if n == 1 else plural}")
        return ", ".join(parts)

    def lines(self) -> list[str]:
        created = self._phrase(self.created)
        lines = [self.title]
        if self.dry_run:
            lines.append("Dry run: nothing was saved.")
        verb = "Would create" if self.dry_run else "Created"
        if created:
            lines.append(f"{verb}: {created}.")
        else:
            lines.append(f"{verb} nothing: everything in this file was imported before, or is skipped.")
        if skipped := self._phrase(self.skipped):
            lines.append(f"Skipped: {skipped}.")
        lines.extend(self.notes)
        return lines


# --- Progress ---------------------------------------------------------------------------

Progress = Callable[[str, int | None], AbstractContextManager[Any]]


@contextmanager
def no_progress(label: str, total: int | None) -> Iterator[Any]:
    class _Bar:
        def update(self, n: int = 1) -> None:
            pass

    yield _Bar()


class _CountingReader:
    """A binary file that tells a progress bar how many bytes the parser has read."""

    def __init__(self, source: IO[bytes], bar: Any) -> None:
        self.source = source
        self.bar = bar
        self.position = 0

    def read(self, size: int = -1) -> bytes:
        data = self.source.read(size)
        self.position += len(data)
        self.bar.update(len(data))
        return data

    def seek(self, offset: int, whence: int = 0) -> int:
        position = self.source.seek(offset, whence)
        self.bar.update(position - self.position)  # back to the start: the bar too
        self.position = position
        return position


def _size(source: IO[bytes]) -> int | None:
    try:
        position = source.tell()
        end = source.seek(0, 2)
        source.seek(position)
    except (OSError, ValueError):
        return None
    return end


def _timestamps() -> AbstractContextManager[None]:
    return explicit_timestamps(
        Post._meta.get_field("created_at"),
        Post._meta.get_field("updated_at"),
        Comment._meta.get_field("created_at"),
        Comment._meta.get_field("updated_at"),
    )


# --- Rows on their way in ----------------------------------------------------------------


@dataclass(slots=True)
class CommentRow:
    source_id: str
    body: str
    hidden: bool
    created_at: datetime
    # A user of the import (an author), or else a visitor to find or make a user for.
    author_id: int | None = None
    visitor: str = ""  # the visitor's key: address, or name when they left none
    visitor_name: str = ""


@dataclass(slots=True)
class PostRow:
    source_id: str
    title: str
    slug_hint: str
    author_id: int
    body: str
    status: str
    published_at: datetime | None
    created_at: datetime
    updated_at: datetime
    excerpt: str = ""
    old_url: str = ""
    # (source id, name, slug hint, description)
    category: tuple[str, str, str, str] | None = None
    tags: list[tuple[str, str]] = field(default_factory=list)  # (source id, name)
    comments: list[CommentRow] = field(default_factory=list)


def old_path(url: str) -> str | None:
    """The path of an old permalink as a request for it has ``path_info`` (percent-decoded),
    or None when it has none worth keeping (the site's root, as ``/?p=123`` links have)."""
    if not url:
        return None
    try:
        path = unquote(urlsplit(url.strip()).path)
    except ValueError:
        return None
    if not path.startswith("/") or path == "/" or "\x00" in path or len(path) > OLD_PATH_MAX_LENGTH:
        return None
    return path


def is_site_path(path: str) -> bool:
    """Whether a URL of this site answers ``path``: it then wins over an old link."""
    try:
        resolve(path)
    except Resolver404:
        return False
    return True


def _username_base(text: str, fallback: str) -> str:
    ascii_text = re.sub(r"[^\w.@+-]+", "-", anyascii(text), flags=re.ASCII)
    return ascii_text.strip("-.")[:USERNAME_BASE_LENGTH] or fallback


def _clean_email(email: str) -> str:
    email = email.strip()
    if not email or len(email) > 254:
        return ""
    try:
        validate_email(email)
    except ValidationError:
        return ""
    return User.objects.normalize_email(email)


def _tag_slug(name: str) -> str | None:
    return next(iter(normalise_tag_names([name])), None)


def _chunks(rows: Iterable[Any], size: int = BATCH_SIZE) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


class _Importer:
    """One import run: its records, the users and terms it finds or makes, and the
    batches of posts it writes. Only authors are kept in memory (a site has few); all
    else is looked up per batch, one query per kind."""

    def __init__(self, *, system: str, summary: Summary, restricted_as_drafts: bool) -> None:
        self.system = system
        self.site = ""
        self.summary = summary
        self.restricted_as_drafts = restricted_as_drafts
        self.started = timezone.now()
        self.restricted = 0
        self.authors: dict[str, int] = {}  # the old site's author key -> user id
        self.fallback_user: int | None = None
        self.fallback_created = False
        # Terms (categories, tags, commenters) met in this run, so that each one imported
        # before is counted once: bounded by the distinct terms, not by the posts.
        self.met: dict[str, set[str]] = defaultdict(set)

    # Records ---------------------------------------------------------------------------

    def records(self, *kinds: str) -> models.QuerySet[ImportRecord]:
        return ImportRecord.objects.filter(system=self.system, site=self.site, kind__in=kinds)

    def known(self, kind: str, source_ids: Iterable[str]) -> dict[str, int | None]:
        """Source id -> object id of those imported before, in one query."""
        ids = list(dict.fromkeys(source_ids))
        if not ids:
            return {}
        return dict(self.records(kind).filter(source_id__in=ids).values_list("source_id", "object_id"))

    def remember(self, kind: str, entries: Iterable[tuple[str, int | None, str]]) -> None:
        ImportRecord.objects.bulk_create(
            ImportRecord(
                system=self.system, site=self.site, kind=kind, source_id=source, object_id=pk, url=url
            )
            for source, pk, url in entries
        )

    def meet(self, label: str, sources: Iterable[str], *, before: bool) -> None:
        """Note terms met; those ``before`` (recorded by an earlier run) are counted once."""
        new = [source for source in sources if source not in self.met[label]]
        self.met[label].update(new)
        if before:
            self.summary.skipped[f"{label} before"] += len(new)

    # Users -------------------------------------------------------------------------------

    def _free_username(self, base: str) -> str:
        """``base``, else ``base-<system>``, ``base-<system>-2``, ...: the first name no
        account holds or held. Deterministic: the same database gives the same name."""
        for candidate in (base, f"{base}-{self.system}"):
            if username_available(candidate):
                return candidate
        for n in range(2, RENAME_ATTEMPTS):
            if username_available(candidate := f"{base}-{self.system}-{n}"):
                return candidate
        raise ImportFailed(f"No free username for {base!r}.")

    def _create_user(
        self,
        *,
        username: str,
        fallback: str,
        email: str,
        display_name: str,
        bio: str = "",
        active: bool = True,
    ) -> int:
        user = User(
            username=self._free_username(_username_base(username, fallback)),
            email=email,
            display_name=" ".join(display_name.split())[:100],
            bio=bio[:2000],
            is_active=active,
        )
        # Nobody knows a password for them: they choose one through a password reset.
        user.set_unusable_password()
        save_user(user=user)
        return user.pk

    def author(
        self,
        *,
        key: str,
        username: str,
        email: str = "",
        display_name: str = "",
        bio: str = "",
        active: bool = True,
    ) -> int:
        """The user for one of the old site's authors: the one recorded before, else an
        existing user with the author's address (the same person), else a new user."""
        if key in self.authors:
            return self.authors[key]
        known = self.known(Kind.USER, [key])
        pk = known.get(key)
        if pk is not None and User.objects.filter(pk=pk).exists():
            self.summary.skipped["user before"] += 1
        else:
            email = _clean_email(email)
            pk = User.objects.with_email(email).values_list("pk", flat=True).first() if email else None
            if pk is not None:
                self.summary.skipped["user matched"] += 1
            else:
                pk = self._create_user(
                    username=username, fallback="author", email=email, display_name=display_name, bio=bio,
                    active=active,
                )  # fmt: skip
                self.summary.created["user"] += 1
                if key == "":
                    self.fallback_created = True
            if key in known:  # recorded, but that user was deleted since
                self.records(Kind.USER).filter(source_id=key).update(object_id=pk)
            else:
                self.remember(Kind.USER, [(key, pk, "")])
        self.authors[key] = pk
        return pk

    def fallback_author(self) -> int:
        """Posts whose author the file does not name go to one user, ``unknown-author``."""
        if self.fallback_user is None:
            self.fallback_user = self.author(key="", username=FALLBACK_AUTHOR, display_name="Unknown author")
        return self.fallback_user

    def drop_unused_fallback(self) -> None:
        """Forget ``unknown-author`` when this run made it and nothing ended up being theirs."""
        pk = self.fallback_user
        if not self.fallback_created or pk is None:
            return
        if Post.objects.filter(author_id=pk).exists() or Comment.objects.filter(author_id=pk).exists():
            return
        self.records(Kind.USER).filter(source_id="").delete()
        User.objects.filter(pk=pk).delete()
        self.summary.created["user"] -= 1
        self.authors.pop("", None)
        self.fallback_user, self.fallback_created = None, False

    def visitors(self, people: dict[str, str]) -> dict[str, int]:
        """Users for visitors who commented (key -> name): one per address (or per name,
        when they left none), without a password and without the address: the old site
        never verified those, so here they would prove nothing."""
        sources = {key: "commenter:" + hashlib.sha256(key.encode()).hexdigest()[:40] for key in people}
        known = self.known(Kind.USER, sources.values())
        self.meet("commenter", known, before=True)
        users: dict[str, int] = {}
        for key, source in sources.items():
            pk = known.get(source)
            if pk is None:
                self.meet("commenter", [source], before=False)
                name = people[key] or "Anonymous"
                pk = self._create_user(
                    username=name.lower(), fallback="commenter", email="", display_name=name
                )
                self.remember(Kind.USER, [(source, pk, "")])
                self.summary.created["commenter"] += 1
            users[key] = pk
        return users

    # Terms -------------------------------------------------------------------------------

    def categories(self, terms: dict[str, tuple[str, str, str]]) -> dict[str, int]:
        """Category ids for source id -> (name, slug hint, description): recorded ones,
        else existing ones of that slug or name, else new ones."""
        known = self.known(Kind.CATEGORY, terms)
        result = {source: pk for source, pk in known.items() if pk is not None}
        self.meet("category", result, before=True)
        for source, (name, slug_hint, description) in terms.items():
            if source in result:
                continue
            self.meet("category", [source], before=False)
            name = " ".join(name.split())[:100] or unquote(source)[:100] or "Category"
            slug = slug_base(unquote(slug_hint) or name, fallback="category", max_length=120)
            category = Category.objects.filter(Q(slug=slug) | Q(name=name)).first()
            if category is None:
                category = Category.objects.create(name=name, slug=slug, description=description[:2000])
                self.summary.created["category"] += 1
            result[source] = category.pk
            if source in known:
                self.records(Kind.CATEGORY).filter(source_id=source).update(object_id=category.pk)
            else:
                self.remember(Kind.CATEGORY, [(source, category.pk, "")])
        return result

    def tags(self, terms: dict[str, str]) -> dict[str, int]:
        """Tag ids for source id -> name: recorded ones, else existing ones of that slug or
        name, else new ones (names normalised as the API normalises them)."""
        known = self.known(Kind.TAG, terms)
        result = {source: pk for source, pk in known.items() if pk is not None}
        self.meet("tag", result, before=True)
        self.meet("tag", [source for source in terms if source not in result], before=False)
        slugs = {
            source: slug
            for source, name in terms.items()
            if source not in result and (slug := _tag_slug(name or unquote(source)))
        }
        if not slugs:
            return result
        names = normalise_tag_names(
            name or unquote(source) for source, name in terms.items() if source in slugs
        )
        existing: dict[str, int] = {}
        for tag in Tag.objects.filter(Q(slug__in=names) | Q(name__in=names.values())):
            existing.setdefault(tag.slug, tag.pk)
            existing.setdefault(_tag_slug(tag.name) or tag.slug, tag.pk)
        missing = {slug: name for slug, name in names.items() if slug not in existing}
        if missing:
            # ignore_conflicts: a tag the API created a moment ago is simply used.
            Tag.objects.bulk_create([Tag(slug=s, name=n) for s, n in missing.items()], ignore_conflicts=True)
            existing.update(Tag.objects.filter(slug__in=missing).values_list("slug", "pk"))
            self.summary.created["tag"] += len(missing)
        for source, slug in slugs.items():
            result[source] = existing[slug]
            if source in known:
                self.records(Kind.TAG).filter(source_id=source).update(object_id=existing[slug])
        self.remember(Kind.TAG, [(source, result[source], "") for source in slugs if source not in known])
        return result

    # Posts -------------------------------------------------------------------------------

    def status(
        self, status: str, published_at: datetime | None, *, restricted: bool
    ) -> tuple[str, datetime | None]:
        """Our status and date for a post: drafts have no date; a published post without
        one is dated now. ``restricted``: password-protected or members-only there."""
        if status != Post.Status.PUBLISHED:
            return Post.Status.DRAFT, None
        if restricted:
            self.restricted += 1
            if self.restricted_as_drafts:
                return Post.Status.DRAFT, None
        return Post.Status.PUBLISHED, published_at or self.started

    def _unique_slugs(self, rows: list[PostRow]) -> list[str]:
        """Each row's slug: the old one (transliterated) when free, else with the source id
        appended, else with a random suffix as every new post gets."""
        bases = [slug_base(unquote(row.slug_hint) or row.title, fallback="post") for row in rows]
        seconds = [
            slug_base(f"{base[: SLUG_MAX_LENGTH - 25]}-{row.source_id[:24]}", fallback="post")
            for base, row in zip(bases, rows, strict=True)
        ]
        taken = set(Post.objects.filter(slug__in={*bases, *seconds}).values_list("slug", flat=True))
        slugs = []
        for base, second in zip(bases, seconds, strict=True):
            slug = base if base not in taken else second
            while slug in taken:
                slug = slug_candidate(base)
                if Post.objects.filter(slug=slug).exists():
                    taken.add(slug)
            taken.add(slug)
            slugs.append(slug)
        return slugs

    def add_posts(self, rows: list[PostRow]) -> None:
        """Insert the rows not imported before, with their tags, comments and old links;
        a row imported before only brings the comments its post does not have yet."""
        if not rows:
            return
        self._resolve_visitors(rows)
        known = self.known(Kind.POST, [row.source_id for row in rows])
        new: dict[str, PostRow] = {}
        again: list[tuple[int, list[CommentRow]]] = []
        for row in rows:
            if row.source_id in known or row.source_id in new:
                self.summary.skipped["post before"] += 1
                if (pk := known.get(row.source_id)) is not None and row.comments:
                    again.append((pk, row.comments))
            else:
                new[row.source_id] = row
        if again:
            self.add_comments(again, existing_posts=True)
        if not new:
            return
        fresh = list(new.values())
        categories = self.categories({row.category[0]: row.category[1:] for row in fresh if row.category})
        tag_ids = self.tags({source: name for row in fresh for source, name in row.tags})
        posts = []
        for row, slug in zip(fresh, self._unique_slugs(fresh), strict=True):
            public = row.status == Post.Status.PUBLISHED and row.published_at <= self.started
            post = Post(
                title=(row.title.strip() or UNTITLED)[:TITLE_MAX_LENGTH],
                slug=slug,
                author_id=row.author_id,
                category_id=categories.get(row.category[0]) if row.category else None,
                body=row.body,
                excerpt=row.excerpt[:500],
                status=row.status,
                published_at=row.published_at,
                # As seed_blog does: an old post is not news, so nobody is told of it.
                announced_at=row.published_at if public else None,
                created_at=row.created_at,
                updated_at=row.updated_at,
                comment_count=sum(1 for comment in row.comments if not comment.hidden),
            )
            post.render()
            posts.append(post)
        with _timestamps():
            posts = Post.objects.bulk_create(posts)
        self.summary.created["post"] += len(posts)
        pairs = list(zip(fresh, posts, strict=True))
        self.remember(Kind.POST, [(row.source_id, post.pk, row.old_url) for row, post in pairs])
        links = {(post.pk, tag_ids[s]) for row, post in pairs for s, _ in row.tags if s in tag_ids}
        through = Post.tags.through
        through.objects.bulk_create([through(post_id=p, tag_id=t) for p, t in sorted(links)])
        self.add_comments([(post.pk, row.comments) for row, post in pairs if row.comments])
        self.add_old_links([(post.pk, row.old_url) for row, post in pairs])

    def _resolve_visitors(self, rows: list[PostRow]) -> None:
        people = {c.visitor: c.visitor_name for row in rows for c in row.comments if c.author_id is None}
        if not people:
            return
        users = self.visitors(people)
        for row in rows:
            for comment in row.comments:
                if comment.author_id is None:
                    comment.author_id = users[comment.visitor]

    def add_comments(
        self, batches: list[tuple[int, list[CommentRow]]], *, existing_posts: bool = False
    ) -> None:
        known = self.known(Kind.COMMENT, [c.source_id for _, comments in batches for c in comments])
        objects: list[Comment] = []
        sources: list[str] = []
        shown: Counter[int] = Counter()
        for post_id, comments in batches:
            for comment in comments:
                if comment.source_id in known:
                    self.summary.skipped["comment before"] += 1
                    continue
                objects.append(
                    Comment(
                        post_id=post_id,
                        author_id=comment.author_id,
                        body=comment.body[:COMMENT_MAX_LENGTH],
                        is_hidden=comment.hidden,
                        created_at=comment.created_at,
                        updated_at=comment.created_at,
                    )
                )
                sources.append(comment.source_id)
                shown[post_id] += not comment.hidden
        if not objects:
            return
        with _timestamps():
            objects = Comment.objects.bulk_create(objects)
        self.summary.created["comment"] += len(objects)
        self.remember(Kind.COMMENT, [(s, c.pk, "") for s, c in zip(sources, objects, strict=True)])
        if existing_posts:  # new posts were inserted with their count already
            for post_id, n in shown.items():
                if n:
                    Post.objects.filter(pk=post_id).update(comment_count=F("comment_count") + n)

    def add_old_links(self, links: list[tuple[int, str]]) -> None:
        paths: dict[str, int] = {}
        for post_id, url in links:
            path = old_path(url)
            if path is None:
                continue
            if is_site_path(path):
                self.summary.skipped["own path"] += 1
            elif path in paths:
                self.summary.skipped["link taken"] += 1
            else:
                paths[path] = post_id
        if not paths:
            return
        taken = set(OldLink.objects.filter(path__in=paths).values_list("path", flat=True))
        self.summary.skipped["link taken"] += len(taken)
        fresh = [OldLink(path=path, post_id=pk) for path, pk in paths.items() if path not in taken]
        OldLink.objects.bulk_create(fresh)
        self.summary.created["old link"] += len(fresh)

    def finish(self) -> None:
        self.drop_unused_fallback()
        if self.restricted:
            what = "made drafts" if self.restricted_as_drafts else "imported as public posts: review them"
            self.summary.notes.append(
                f"{self.restricted} password-protected or members-only posts {what} "
                "(posts here are public or drafts; see --restricted-as-drafts)."
            )


def _run(importer: _Importer, *, dry_run: bool, work: Callable[[], None]) -> Summary:
    # With DEBUG on, Django would keep every multi-kilobyte INSERT it runs.
    with override_settings(DEBUG=False), transaction.atomic():
        work()
        importer.finish()
        if dry_run:
            transaction.set_rollback(True)
    if not dry_run and any(importer.summary.created.values()):
        caching.bump(posts=True)  # the rows went in past the services: invalidate once
    return importer.summary


# --- WordPress ----------------------------------------------------------------------------

WP_STATUSES = {
    "publish": Post.Status.PUBLISHED,
    "future": Post.Status.PUBLISHED,  # scheduled: published, dated in the future
    "draft": Post.Status.DRAFT,
    "pending": Post.Status.DRAFT,
    "private": Post.Status.DRAFT,
}
WP_SKIPPED_STATUSES = {"trash": "trash", "auto-draft": "auto-draft"}
WP_SKIPPED_TYPES = {"page": "page", "nav_menu_item": "menu item"}
WP_TAG_DOMAINS = ("post_tag", "tag")  # WXR 1.0 says "tag"


def site_key(url: str) -> str:
    """The old site, scheme and trailing slash left out: an http:// and an https://
    export of one blog are one source."""
    parts = urlsplit(url.strip())
    if not parts.netloc:
        return url.strip()[:200]
    return f"{parts.netloc.lower()}{parts.path.rstrip('/')}"[:200]


class _WordPress:
    def __init__(self, importer: _Importer) -> None:
        self.importer = importer
        self.summary = importer.summary
        self.declared: dict[str, wordpress.Author] = {}  # login (lowered) -> author
        self.logins: dict[str, str] = {}  # WordPress user id -> login (lowered)
        self.category_terms: dict[str, wordpress.Term] = {}  # nicename -> category (few)
        self.pending: list[PostRow] = []
        self.pending_tags: dict[str, str] = {}
        self.attachments: list[wordpress.Item] = []

    def run(self, records: Iterable[wordpress.Record]) -> None:
        for record in records:
            if isinstance(record, wordpress.Site):
                self.importer.site = site_key(record.url)
                self.summary.title = f"WordPress import of {record.url or 'a site without a URL'}"
            elif isinstance(record, wordpress.Author):
                self.declare(record)
            elif isinstance(record, wordpress.Term):
                self.term(record)
            elif isinstance(record, wordpress.Item):
                self.item(record)
        self.flush_tags()
        self.flush()
        self.flush_attachments()

    def declare(self, author: wordpress.Author) -> None:
        if not author.login:
            return
        self.declared[author.login.lower()] = author
        if author.wp_id:
            self.logins[author.wp_id] = author.login.lower()
        self.user(author.login)

    def user(self, login: str) -> int:
        """The user for a login: a declared author, or one made from the login alone (WXR
        1.0 declares no authors); posts without any go to ``unknown-author``."""
        if not login.strip():
            return self.importer.fallback_author()
        author = self.declared.get(login.lower(), wordpress.Author(login=login))
        return self.importer.author(
            key=login.lower(), username=author.login, email=author.email, display_name=author.display_name
        )

    def term(self, term: wordpress.Term) -> None:
        slug = term.slug or term.name
        if not slug:
            return
        if term.kind == "category":
            self.category_terms[slug] = term
            self.importer.categories({slug: (term.name, slug, term.description)})
        else:
            self.pending_tags[slug] = term.name or unquote(slug)
            if len(self.pending_tags) >= BATCH_SIZE:
                self.flush_tags()

    def item(self, item: wordpress.Item) -> None:
        if item.post_type == "attachment":
            self.attachments.append(item)
            if len(self.attachments) >= BATCH_SIZE:
                self.flush_attachments()
            return
        if item.post_type != "post":
            self.summary.skipped[
                WP_SKIPPED_TYPES.get(item.post_type, f"{item.post_type or 'untyped'} item")
            ] += 1
            return
        if item.status in WP_SKIPPED_STATUSES:
            self.summary.skipped[WP_SKIPPED_STATUSES[item.status]] += 1
            return
        status, published_at = self.importer.status(
            WP_STATUSES.get(item.status, Post.Status.DRAFT), item.date, restricted=bool(item.password)
        )
        created = item.date or self.importer.started
        row = PostRow(
            source_id=item.wp_id or item.link or item.title,
            title=item.title,
            slug_hint=item.slug,
            author_id=self.user(item.creator),
            body=bodies.html_body(item.content),
            excerpt=" ".join(bodies.html_to_text(item.excerpt).split()),
            status=status,
            published_at=published_at,
            created_at=created,
            updated_at=created,
            old_url=item.link,
            comments=self.comments(item),
        )
        self.categorise(row, item.terms)
        self.pending.append(row)
        if len(self.pending) >= BATCH_SIZE:
            self.flush()

    def _ancestors(self, slug: str) -> list[str]:
        chain, seen = [], {slug}
        parent = self.category_terms[slug].parent if slug in self.category_terms else ""
        while parent and parent not in seen:
            seen.add(parent)
            chain.append(parent)
            parent = self.category_terms[parent].parent if parent in self.category_terms else ""
        return chain

    def _category_slug(self, nicename: str, name: str) -> str:
        if nicename:
            return nicename
        # WXR 1.0 also lists a post's categories by name alone.
        for slug, term in self.category_terms.items():
            if term.name == name:
                return slug
        return name

    def categorise(self, row: PostRow, terms: list[tuple[str, str, str]]) -> None:
        """The post's first category is its category here (one per post); its other
        categories and the ancestors of all of them become tags, so that a parent
        category's posts, its children's included, are still found together."""
        categories: list[str] = []
        tags: dict[str, str] = {}
        with_domain = any(domain == "category" for domain, _, _ in terms)
        for domain, nicename, name in terms:
            if domain in WP_TAG_DOMAINS and (nicename or name):
                tags.setdefault(nicename or name, name)
            elif domain == "category" or (domain == "" and not with_domain):
                slug = self._category_slug(nicename, name)
                if slug and slug not in categories:
                    categories.append(slug)
                    self.category_terms.setdefault(
                        slug, wordpress.Term(kind="category", slug=slug, name=name)
                    )
        if categories:
            first = self.category_terms[categories[0]]
            row.category = (first.slug, first.name, first.slug, first.description)
            related = categories[1:] + [a for slug in categories for a in self._ancestors(slug)]
            for slug in dict.fromkeys(related):
                if slug != first.slug:
                    term = self.category_terms.get(slug)
                    tags.setdefault(f"category:{slug}", term.name if term else unquote(slug))
        row.tags = list(tags.items())

    def comments(self, item: wordpress.Item) -> list[CommentRow]:
        rows: list[CommentRow] = []
        for comment in item.comments:
            if comment.kind in ("pingback", "trackback"):
                self.summary.skipped["pingback"] += 1
                continue
            text = bodies.html_to_text(comment.content)
            if not text:
                self.summary.skipped["empty comment"] += 1
                continue
            row = CommentRow(
                source_id=comment.wp_id or f"{item.wp_id}:{len(rows)}",
                body=text,
                # Approved ("1") is shown; held for moderation ("0"), spam and trash hidden.
                hidden=comment.approved != "1",
                created_at=comment.date or item.date or self.importer.started,
            )
            login = self.logins.get(comment.user_id) if comment.user_id != "0" else None
            if login is not None:
                row.author_id = self.user(login)
            else:
                row.visitor = comment.email.lower() or f"name:{comment.author.lower()}"
                row.visitor_name = comment.author
            # A reply is a comment on the same post (comments here are not threaded).
            rows.append(row)
        return rows

    def flush_tags(self) -> None:
        if self.pending_tags:
            self.importer.tags(self.pending_tags)
            self.pending_tags = {}

    def flush(self) -> None:
        self.flush_tags()
        self.importer.add_posts(self.pending)
        self.pending = []

    def flush_attachments(self) -> None:
        items, self.attachments = self.attachments, []
        known = self.importer.known(Kind.ATTACHMENT, [item.wp_id for item in items])
        fresh: dict[str, str] = {}
        for item in items:
            if item.wp_id in known or item.wp_id in fresh:
                self.summary.skipped["attachment before"] += 1
            else:
                fresh[item.wp_id] = item.attachment_url or item.link
        self.importer.remember(Kind.ATTACHMENT, [(source, None, url) for source, url in fresh.items()])
        self.summary.created["attachment"] += len(fresh)


def import_wordpress(
    *,
    source: IO[bytes],
    dry_run: bool = False,
    restricted_as_drafts: bool = False,
    progress: Progress = no_progress,
) -> Summary:
    """Import a WordPress export (WXR 1.0 to 1.2) from ``source`` (a binary file).
    ``ImportFailed``, with nothing changed, when it is not one or is malformed."""
    summary = Summary("WordPress import", dry_run=dry_run)
    importer = _Importer(system=System.WORDPRESS, summary=summary, restricted_as_drafts=restricted_as_drafts)

    def work() -> None:
        with progress("WordPress", _size(source)) as bar:
            try:
                _WordPress(importer).run(wordpress.read_wxr(_CountingReader(source, bar)))
            except wordpress.NotAnExport as exc:
                raise ImportFailed(str(exc)) from exc

    return _run(importer, dry_run=dry_run, work=work)


# --- Ghost --------------------------------------------------------------------------------

GHOST_STATUSES = {"published": Post.Status.PUBLISHED, "scheduled": Post.Status.PUBLISHED}
CATEGORY_TAG_SLUG_PREFIX = "hash-category-"


class _Ghost:
    """Ghost's tables in the order their references need: users and tags, then posts,
    then the links between them (posts_authors, posts_tags), each a pass over the file."""

    def __init__(self, importer: _Importer, source: IO[bytes], progress: Progress) -> None:
        self.importer = importer
        self.summary = importer.summary
        self.source = source
        self.progress = progress

    def rows(self, table: str) -> Iterator[dict[str, Any]]:
        with self.progress(table, _size(self.source)) as bar:
            yield from ghost.rows(_CountingReader(self.source, bar), table)

    def run(self) -> None:
        for user in self.rows("users"):
            slug, name = str(user.get("slug") or ""), str(user.get("name") or "")
            self.importer.author(
                key=str(user.get("id", "")),
                username=slug or name or "author",
                email=str(user.get("email") or ""),
                # Ghost requires a name: one that is the slug means "no name of their own"
                # (our export writes the username there for users without a display name).
                display_name=name if name != slug else "",
                bio=str(user.get("bio") or ""),
                active=user.get("status") != "inactive",
            )
        for batch in _chunks(self.rows("tags")):
            self.tags(batch)
        for batch in _chunks(self.rows("posts")):
            self.importer.add_posts([row for post in batch if (row := self.post(post)) is not None])
        for batch in _chunks(self.rows("posts_authors")):
            self.authors(batch)
        for batch in _chunks(self.rows("posts_tags")):
            self.links(batch)

    def tags(self, batch: list[dict[str, Any]]) -> None:
        categories: dict[str, tuple[str, str, str]] = {}
        tags: dict[str, str] = {}
        for tag in batch:
            source = str(tag.get("id", ""))
            name = str(tag.get("name") or "")
            if name.startswith(ghost.CATEGORY_TAG_PREFIX):
                categories[source] = (
                    name.removeprefix(ghost.CATEGORY_TAG_PREFIX).strip(),
                    str(tag.get("slug") or "").removeprefix(CATEGORY_TAG_SLUG_PREFIX),
                    str(tag.get("description") or ""),
                )
            elif tag.get("visibility") == "internal" or name.startswith("#"):
                # Ghost's internal tags drive its themes; readers never see them.
                self.summary.skipped["internal tag"] += 1
            elif source:
                tags[source] = name or str(tag.get("slug") or "")
        if categories:
            self.importer.categories(categories)
        if tags:
            self.importer.tags(tags)

    def post(self, post: dict[str, Any]) -> PostRow | None:
        if ghost.is_page(post):
            self.summary.skipped["page"] += 1
            return None
        markdown = ghost.markdown_source(post.get("mobiledoc"))
        if markdown is not None:
            body = markdown  # written in Markdown: the source itself, as editable as ours
        elif post.get("html"):
            body = bodies.html_body(str(post["html"]).replace(ghost.GHOST_URL, ""), paragraphs=False)
        else:
            body = bodies.html_body(html.escape(str(post.get("plaintext") or ""), quote=False))
        created = ghost.parse_date(post.get("created_at")) or self.importer.started
        status, published_at = self.importer.status(
            GHOST_STATUSES.get(str(post.get("status")), Post.Status.DRAFT),
            ghost.parse_date(post.get("published_at")),
            restricted=post.get("visibility") not in (None, "public"),
        )
        author = self.importer.authors.get(str(post.get("author_id") or ""))
        slug = str(post.get("slug") or "")
        return PostRow(
            source_id=str(post.get("id", "")),
            title=str(post.get("title") or ""),
            slug_hint=slug,
            author_id=author if author is not None else self.importer.fallback_author(),
            body=body,
            excerpt=str(post.get("custom_excerpt") or ""),
            status=status,
            published_at=published_at,
            created_at=created,
            updated_at=ghost.parse_date(post.get("updated_at")) or created,
            old_url=f"/{slug}/" if slug else "",
        )

    def _created_posts(self, sources: Iterable[str]) -> dict[str, int]:
        """This run's posts, by source id: links go to them alone (a post imported before
        keeps the author and tags it has now)."""
        rows = self.importer.records(Kind.POST).filter(
            source_id__in=set(sources), created_at__gte=self.importer.started
        )
        return {source: pk for source, pk in rows.values_list("source_id", "object_id") if pk is not None}

    def authors(self, batch: list[dict[str, Any]]) -> None:
        """A post's first author (Ghost 1+: posts_authors) is its author here, for posts
        whose row named none (Ghost 5 rows have no ``author_id``)."""
        primary = []
        for row in batch:
            if str(row.get("sort_order", 0)) in ("0", "None"):
                primary.append(row)
            else:
                self.summary.skipped["co-author"] += 1
        fallback = self.importer.fallback_user
        if fallback is None or not primary:
            return
        posts = self._created_posts(str(row.get("post_id")) for row in primary)
        stand_in = set(
            Post.objects.filter(pk__in=posts.values(), author_id=fallback).values_list("pk", flat=True)
        )
        fixes = {}
        for row in primary:
            post = posts.get(str(row.get("post_id")))
            author = self.importer.authors.get(str(row.get("author_id")))
            if post in stand_in and author is not None:
                fixes[post] = author
        if fixes:
            Post.objects.bulk_update([Post(pk=p, author_id=a) for p, a in fixes.items()], ["author"])

    def links(self, batch: list[dict[str, Any]]) -> None:
        posts = self._created_posts(str(row.get("post_id")) for row in batch)
        if not posts:
            return
        sources = {str(row.get("tag_id")) for row in batch}
        terms = self.importer.records(Kind.TAG, Kind.CATEGORY).filter(source_id__in=sources)
        tag_ids, category_ids = {}, {}
        for source, kind, pk in terms.values_list("source_id", "kind", "object_id"):
            (tag_ids if kind == Kind.TAG else category_ids)[source] = pk
        links, categories = set(), {}
        for row in batch:
            post, term = posts.get(str(row.get("post_id"))), str(row.get("tag_id"))
            if post is None:
                continue
            if tag_ids.get(term) is not None:
                links.add((post, tag_ids[term]))
            elif category_ids.get(term) is not None:
                categories.setdefault(post, category_ids[term])
        through = Post.tags.through
        through.objects.bulk_create(
            [through(post_id=p, tag_id=t) for p, t in sorted(links)], ignore_conflicts=True
        )
        if categories:
            Post.objects.bulk_update([Post(pk=p, category_id=c) for p, c in categories.items()], ["category"])


def import_ghost(
    *,
    source: IO[bytes],
    dry_run: bool = False,
    restricted_as_drafts: bool = False,
    progress: Progress = no_progress,
) -> Summary:
    """Import a Ghost export (versions 1 to 5) from ``source`` (a seekable binary file: it
    is read once per table). ``ImportFailed``, with nothing changed, when it is not one."""
    try:
        found = ghost.version(source)
    except ghost.NotAnExport as exc:
        raise ImportFailed(str(exc)) from exc
    summary = Summary(f"Ghost import (an export of Ghost {found or 'of unknown version'})", dry_run=dry_run)
    importer = _Importer(system=System.GHOST, summary=summary, restricted_as_drafts=restricted_as_drafts)

    def work() -> None:
        try:
            _Ghost(importer, source, progress).run()
        except ghost.NotAnExport as exc:
            raise ImportFailed(str(exc)) from exc

    return _run(importer, dry_run=dry_run, work=work)


# --- Export -------------------------------------------------------------------------------

GHOST_EXPORT_VERSION = "5.0.0"
# The hex digit after the site's prefix in an exported id: which table the row is from.
_ID_KINDS = {
    "user": 1,
    "tag": 2,
    "category": 3,
    "post": 4,
    "post_author": 5,
    "post_tag": 6,
    "post_category": 7,
}


EXPORT_LABELS = {
    "users": "authors",
    "tags": "tags and categories",
    "posts": "posts",
    "posts_authors": "post authors",
    "posts_tags": "post tags and categories",
}


@dataclass
class ExportSummary:
    counts: Counter[str] = field(default_factory=Counter)

    def lines(self) -> list[str]:
        parts = ", ".join(f"{n} {table}" for table, n in self.counts.items())
        return [f"Exported {parts or 'nothing'}."]


class _Ids:
    """Ghost-style ids (24 hex digits) for our rows: 8 digits that name this site (from its
    secret key, so two sites' exports never share ids and an import of both keeps both),
    one for the table, 15 for the primary key. The same row has the same id in every export
    of the site, so importing a newer export adds only what is new."""

    def __init__(self) -> None:
        self.site = salted_hmac("imports.export-ids", "site").hexdigest()[:8]

    def __call__(self, kind: str, pk: int) -> str:
        return f"{self.site}{_ID_KINDS[kind]:x}{pk:015x}"


def _ghost_date(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _ghost_status(status: str, published_at: datetime | None, now: datetime) -> str:
    if status != Post.Status.PUBLISHED:
        return "draft"
    return "scheduled" if published_at is not None and published_at > now else "published"


class _JsonWriter:
    """The export written a row at a time: ``{"db": [{"meta": ..., "data": {table: [...],
    ...}}]}``; nothing but the current row is ever built in memory."""

    def __init__(self, out: IO[str]) -> None:
        self.out = out
        self.tables = 0

    def start(self, meta: dict[str, Any]) -> None:
        self.out.write('{"db": [{"meta": ' + json.dumps(meta) + ', "data": {')

    def table(self, name: str, rows: Iterable[dict[str, Any]], bar: Any) -> int:
        self.out.write(("," if self.tables else "") + "\n" + json.dumps(name) + ": [")
        self.tables += 1
        count = 0
        for row in rows:
            self.out.write(("," if count else "") + "\n" + json.dumps(row, ensure_ascii=False))
            count += 1
            bar.update(1)
        self.out.write("\n]")
        return count

    def end(self) -> None:
        self.out.write("\n}}]}\n")


def _authors() -> models.QuerySet[User]:
    return User.objects.filter(Exists(Post.objects.filter(author=OuterRef("pk")))).order_by("pk")


def _export_tables(
    ids: _Ids, now: datetime
) -> list[tuple[str, Callable[[], int], Callable[[], Iterator[dict]]]]:
    chunk = 500

    def users() -> Iterator[dict[str, Any]]:
        for user in (
            _authors()
            .values("pk", "username", "display_name", "email", "bio", "is_active", "date_joined")
            .iterator(chunk_size=chunk)
        ):
            yield {
                "id": ids("user", user["pk"]),
                "name": user["display_name"] or user["username"],
                "slug": user["username"],
                "email": user["email"] or None,
                "bio": user["bio"] or None,
                "status": "active" if user["is_active"] else "inactive",
                "visibility": "public",
                "created_at": _ghost_date(user["date_joined"]),
                "updated_at": _ghost_date(user["date_joined"]),
            }

    def tags() -> Iterator[dict[str, Any]]:
        for tag in Tag.objects.order_by("pk").values("pk", "name", "slug").iterator(chunk_size=chunk):
            yield {
                "id": ids("tag", tag["pk"]),
                "name": tag["name"],
                "slug": tag["slug"],
                "description": None,
                "visibility": "public",
            }
        # Ghost has no categories: each is an internal tag, which Ghost keeps and readers
        # never see, and which import_ghost reads back as a category.
        for category in (
            Category.objects.order_by("pk")
            .values("pk", "name", "slug", "description")
            .iterator(chunk_size=chunk)
        ):
            yield {
                "id": ids("category", category["pk"]),
                "name": f"{ghost.CATEGORY_TAG_PREFIX}{category['name']}",
                "slug": f"{CATEGORY_TAG_SLUG_PREFIX}{category['slug']}",
                "description": category["description"] or None,
                "visibility": "internal",
            }

    post_fields = (
        "pk", "title", "slug", "body", "body_html", "excerpt", "status", "published_at", "created_at",
        "updated_at", "author_id",
    )  # fmt: skip

    def posts() -> Iterator[dict[str, Any]]:
        for post in Post.objects.order_by("pk").values(*post_fields).iterator(chunk_size=chunk):
            post_id = ids("post", post["pk"])
            written = post["excerpt"] != rendering.make_excerpt(post["body_html"])
            yield {
                "id": post_id,
                "uuid": str(uuid.uuid5(uuid.NAMESPACE_URL, f"ghost-export:{post_id}")),
                "title": post["title"],
                "slug": post["slug"],
                # The Markdown itself, as Ghost keeps a Markdown post: nothing is lost.
                "mobiledoc": ghost.mobiledoc(post["body"]),
                "html": post["body_html"],
                "plaintext": rendering.html_to_text(post["body_html"]),
                "feature_image": None,
                "featured": False,
                "type": "post",
                "status": _ghost_status(post["status"], post["published_at"], now),
                "visibility": "public",
                "author_id": ids("user", post["author_id"]),
                "created_at": _ghost_date(post["created_at"]),
                "updated_at": _ghost_date(post["updated_at"]),
                "published_at": _ghost_date(post["published_at"]),
                # Only a hand-written excerpt; Ghost, like this site, derives the others.
                "custom_excerpt": post["excerpt"] if written else None,
            }

    def posts_authors() -> Iterator[dict[str, Any]]:
        for pk, author in (
            Post.objects.order_by("pk").values_list("pk", "author_id").iterator(chunk_size=chunk)
        ):
            yield {
                "id": ids("post_author", pk),
                "post_id": ids("post", pk),
                "author_id": ids("user", author),
                "sort_order": 0,
            }

    def posts_tags() -> Iterator[dict[str, Any]]:
        through = Post.tags.through.objects.order_by("pk").values_list("pk", "post_id", "tag_id")
        for pk, post, tag in through.iterator(chunk_size=chunk):
            yield {
                "id": ids("post_tag", pk),
                "post_id": ids("post", post),
                "tag_id": ids("tag", tag),
                "sort_order": 0,
            }
        categorised = (
            Post.objects.filter(category__isnull=False).order_by("pk").values_list("pk", "category_id")
        )
        for post, category in categorised.iterator(chunk_size=chunk):
            yield {
                "id": ids("post_category", post),
                "post_id": ids("post", post),
                "tag_id": ids("category", category),
                "sort_order": 1_000,
            }

    return [
        ("users", lambda: _authors().count(), users),
        ("tags", lambda: Tag.objects.count() + Category.objects.count(), tags),
        ("posts", lambda: Post.objects.count(), posts),
        ("posts_authors", lambda: Post.objects.count(), posts_authors),
        (
            "posts_tags",
            lambda: Post.tags.through.objects.count() + Post.objects.filter(category__isnull=False).count(),
            posts_tags,
        ),
    ]


def export_blog(*, destination: IO[str], progress: Progress = no_progress) -> ExportSummary:
    """Write the whole site as a Ghost export (JSON, to a text file): the authors, tags
    and categories, posts of every status with their Markdown, and the links between
    them. ``import_ghost`` reads it back into an empty site with the same posts,
    statuses, dates, authors, tags and categories. Rows are read in chunks and written
    one by one, inside one transaction (on PostgreSQL a repeatable-read snapshot: the
    file is the site as it was at one moment)."""
    summary = ExportSummary()
    ids = _Ids()
    now = timezone.now()
    writer = _JsonWriter(destination)
    # Only possible as the first statement of a transaction (not in a caller's, as tests have).
    snapshot = connection.vendor == "postgresql" and not connection.in_atomic_block
    with transaction.atomic():
        if snapshot:
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        writer.start({"exported_on": int(now.timestamp() * 1000), "version": GHOST_EXPORT_VERSION})
        for name, total, rows in _export_tables(ids, now):
            with progress(name, total()) as bar:
                summary.counts[EXPORT_LABELS[name]] = writer.table(name, rows(), bar)
        writer.end()
    return summary
