"""Writes to posts, whichever face receives them (/api/v1/, Conduit's /api/, the admin):
unique slugs, tags, likes, comments, counters and deletion. They raise domain errors
(``PostGone``) that each face turns into its own error shape.

Counters move by ``F()`` increments of exactly the rows inserted or deleted, so that
concurrent likes and comments leave exact counts; ``recount`` repairs them after bulk
paths (cascading deletes, admin actions, bulk loads).

Each service that changes what a post list or detail shows ends with one
``caching.bump()`` (``posts=True`` when public posts may come or go): the anonymous
response cache is invalidated here and nowhere else (see ``posts.caching``).
"""

import secrets
from collections.abc import Iterable
from typing import Any

from anyascii import anyascii
from django.db import IntegrityError, transaction
from django.db.models import Count, F, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.text import slugify

from accounts.models import User
from accounts.services import hold_account, require_verified_email
from images.models import Image
from images.services import NotYourImage
from posts import caching, events, rendering
from posts.models import Category, Comment, Like, Post, Tag

SLUG_MAX_LENGTH = 200
TAG_MAX_LENGTH = 50
MAX_TAGS_PER_POST = 20
SLUG_ATTEMPTS = 8


def slug_base(text: str, *, fallback: str, max_length: int = SLUG_MAX_LENGTH) -> str:
    """An ASCII slug for text in any script: transliterated, never empty."""
    slug = slugify(anyascii(text))[:max_length].strip("-")
    return slug or fallback


def normalise_tag_names(names: Iterable[str]) -> dict[str, str]:
    """Map slug → display name for the given tag names, dropping blanks and duplicates."""
    tags: dict[str, str] = {}
    for raw in names:
        name = " ".join(str(raw).split())[:TAG_MAX_LENGTH]
        slug = slugify(anyascii(name))[:TAG_MAX_LENGTH].strip("-")
        if slug and slug not in tags:
            tags[slug] = name
    return tags


def set_tags(*, post: Post, names: Iterable[str]) -> None:
    """Replace the post's tags; unknown tags are created, names normalised to slugs."""
    wanted = normalise_tag_names(names)
    if wanted:
        # Concurrent writers may create the same tag: ignore_conflicts keeps that harmless.
        existing = set(Tag.objects.filter(slug__in=wanted).values_list("slug", flat=True))
        missing = [Tag(slug=slug, name=name) for slug, name in wanted.items() if slug not in existing]
        Tag.objects.bulk_create(missing, ignore_conflicts=True)
    # By name too: a tag made elsewhere (admin) may have this name under another slug, and
    # then the insert above was skipped as a conflict on the unique name.
    post.tags.set(Tag.objects.filter(Q(slug__in=wanted) | Q(name__in=wanted.values())))


class PostGone(Exception):
    """The post was deleted while a write to it was on its way."""


def slug_candidate(base: str) -> str:
    """``base`` cut to fit, with a random suffix: a slug that tells nothing of other posts."""
    return f"{base[: SLUG_MAX_LENGTH - 7]}-{secrets.token_hex(3)}"


def save_with_unique_slug(post: Post) -> None:
    """Save a new post under a free slug: its title's with a random suffix, retrying on a
    collision or a race.

    Always a suffix, never the bare title when it happens to be free: whether it was free
    told the caller that a post they cannot see (someone's draft or scheduled post) has
    that title (issue 12, finding 7). A suffix that collides anyway (one chance in 16.7
    million per post with that title) is drawn again, which the caller cannot tell. With
    a suffix a slug is also never a word that sits beside slugs in a route (RealWorld's
    ``/api/articles/feed``).
    """
    base = slug_base(post.title, fallback="post")
    for _attempt in range(SLUG_ATTEMPTS):
        post.slug = slug_candidate(base)
        try:
            with transaction.atomic():
                post.save()
            return
        except IntegrityError:
            if not Post.objects.filter(slug=post.slug).exists():
                raise  # some other constraint failed
    raise IntegrityError("Could not find a free slug.")


class _Unchanged:
    """What ``update_post`` is given for a value to leave as it is."""


UNCHANGED = _Unchanged()


@transaction.atomic
def create_post(
    *, author: User, tags: Iterable[str] | None = None, cover_image: Image | None = None, **fields: Any
) -> Post:
    """Create a post by ``author`` with a unique slug made from its title. Whose image
    ``cover_image`` may be is the face's check (the API's: the caller's); one deleted
    since is ``NotYourImage``; ``EmailNotVerified`` for a post that would be public."""
    if fields.get("status") == Post.Status.PUBLISHED:
        require_verified_email(user_id=author.pk)
    _lock_image(cover_image)
    hold_account(user_id=author.pk)  # ``AccountGone`` if the author's account was just deleted
    post = Post(author=author, cover_image=cover_image, **fields)
    save_with_unique_slug(post)
    if tags is not None:
        set_tags(post=post, names=tags)
    events.post_created(post=post)
    caching.bump(posts=True)
    return post


@transaction.atomic
def update_post(
    *,
    post: Post,
    tags: Iterable[str] | None = None,
    cover_image: Image | _Unchanged | None = UNCHANGED,
    **fields: Any,
) -> Post:
    """Apply ``fields`` (never the slug, author or counters) and, if given, the tags and
    the cover image (None: no cover; one deleted since is ``NotYourImage``). ``PostGone``
    if the post was deleted meanwhile; ``EmailNotVerified`` when the post would be public
    and its author may not publish."""
    if fields.get("status", post.status) == Post.Status.PUBLISHED:
        require_verified_email(user_id=post.author_id)
    if not isinstance(cover_image, _Unchanged):
        _lock_image(cover_image)
        fields["cover_image"] = cover_image
    # Locked (after the image, in delete_image's order): an edit and the announcement
    # of the post (posts.events) take turns.
    _lock_post(post)
    before = events.snapshot(post=post)
    if (
        "body" in fields
        and "excerpt" not in fields
        and post.excerpt == rendering.make_excerpt(post.body_html)
    ):
        post.excerpt = ""  # derived from the old body, not written: derive it from the new one
    visibility = (post.status, post.published_at)
    for name, value in fields.items():
        setattr(post, name, value)
    post.save()
    if tags is not None:
        set_tags(post=post, names=tags)
    events.post_saved(post=post, before=before)
    caching.bump(posts=(post.status, post.published_at) != visibility)
    return post


def _lock_image(image: Image | None) -> None:
    """Lock the image's row until the transaction ends; ``NotYourImage`` if it is gone.

    Checked by the face a moment before, it may have been deleted since: the deletion
    clears the covers it can see, not this uncommitted one, and the deferred foreign key
    would fail at commit. Locked, the deletion waits for this post or this post finds it gone.
    """
    if image is not None and not Image.objects.select_for_update(no_key=True).filter(pk=image.pk).exists():
        raise NotYourImage(image.pk)


@transaction.atomic
def save_post(*, post: Post, tags: Iterable[Tag] | None = None) -> Post:
    """Save a post as a form built it (the admin's): a new one under a unique slug. The
    form may have changed anything, whether the post is public included; ``tags``, when
    given, are set before the post's events are told (the admin's form sets them after).

    ``NotYourImage`` when its cover image was deleted since the form checked it."""
    if post.cover_image_id is not None:
        _lock_image(Image(pk=post.cover_image_id))
    adding = post._state.adding
    before = None if adding else events.snapshot(post=post, from_database=True)
    if adding:
        save_with_unique_slug(post)
    else:
        post.save()
    if tags is not None:
        post.tags.set(tags)
    if adding:
        events.post_created(post=post)
    else:
        events.post_saved(post=post, before=before)
    caching.bump(posts=True)
    return post


def publish_now(*, posts: QuerySet[Post]) -> int:
    """Publish now those of ``posts`` that are not public yet (drafts and scheduled
    posts); posts already public keep their date. Returns how many were published."""
    now = timezone.now()
    not_public = posts.filter(Q(status=Post.Status.DRAFT) | Q(published_at__gt=now))
    with transaction.atomic():
        # Read first: ``posts`` may match nothing once they are published (a status filter).
        candidates = events.unannounced_ids(posts)
        updated = not_public.update(status=Post.Status.PUBLISHED, published_at=now, updated_at=now)
        events.announce_each(ids=candidates)
        caching.bump(posts=True)
    return updated


def unpublish(*, posts: QuerySet[Post]) -> int:
    """Move ``posts`` back to draft; returns how many."""
    with transaction.atomic():
        # Read first: ``posts`` may match nothing once they are drafts (a status filter).
        announced = events.announced_ids(posts)
        updated = posts.update(status=Post.Status.DRAFT, updated_at=timezone.now())
        events.withdraw_each(ids=announced)
        caching.bump(posts=True)
    return updated


def _lock_post(post: Post) -> None:
    """Lock the post's row until the transaction ends; ``PostGone`` if it was just deleted.

    A like or comment inserted while its post is being deleted would reference a row
    that is gone when the deferred foreign key is checked at commit: an error for one
    request or the other. With the row locked (``delete_post`` locks it too), the two take
    turns: the like or comment lands first and is deleted with the post, or finds it gone.
    """
    if not Post.objects.select_for_update(no_key=True).filter(pk=post.pk).exists():
        raise PostGone()


@transaction.atomic
def delete_post(*, post: Post) -> None:
    """Delete a post with its comments and likes, its row locked first (see ``_lock_post``)."""
    if Post.objects.select_for_update().filter(pk=post.pk).exists():
        events.post_deleted(post=post)  # not twice when two deletions race
    post.delete()
    caching.bump(posts=True)


def _like_count(post: Post) -> int:
    return Post.objects.filter(pk=post.pk).values_list("like_count", flat=True).get()


def like_post(*, user: User, post: Post) -> int:
    """Like ``post`` (idempotent); returns the new like count."""
    try:
        with transaction.atomic():
            _lock_post(post)
            hold_account(user_id=user.pk)  # ``AccountGone`` if the account was just deleted
            _, created = Like.objects.get_or_create(user=user, post=post)
            if created:
                Post.objects.filter(pk=post.pk).update(like_count=F("like_count") + 1)
                caching.bump()
    except IntegrityError:
        pass  # the same user liked it in a concurrent request; that one counted it
    return _like_count(post)


def unlike_post(*, user: User, post: Post) -> int:
    """Remove the like (idempotent); returns the new like count."""
    with transaction.atomic():
        _lock_post(post)
        deleted, _ = Like.objects.filter(user=user, post=post).delete()
        if deleted:
            Post.objects.filter(pk=post.pk).update(like_count=F("like_count") - deleted)
            caching.bump()
    return _like_count(post)


@transaction.atomic
def add_comment(*, post: Post, author: User, body: str) -> Comment:
    """``EmailNotVerified`` when the author may not comment yet."""
    require_verified_email(user_id=author.pk)
    _lock_post(post)
    hold_account(user_id=author.pk)  # ``AccountGone`` if the author's account was just deleted
    comment = Comment.objects.create(post=post, author=author, body=body)
    Post.objects.filter(pk=post.pk).update(comment_count=F("comment_count") + 1)
    events.comment_added(comment=comment)
    caching.bump()
    return comment


@transaction.atomic
def update_comment(*, comment: Comment, body: str) -> Comment:
    """Change a comment's text (its author's edit)."""
    comment.body = body
    comment.save()
    caching.bump()
    return comment


@transaction.atomic
def delete_comment(*, comment: Comment) -> None:
    deleted = Comment.objects.filter(pk=comment.pk).delete()[0]
    if deleted and not comment.is_hidden:
        Post.objects.filter(pk=comment.post_id).update(comment_count=F("comment_count") - deleted)
        caching.bump()


def set_comments_hidden(*, comments: QuerySet[Comment], hidden: bool) -> int:
    """Hide (moderate) or show again ``comments``; their posts' counts follow. Returns
    how many comments were changed."""
    with transaction.atomic():
        post_ids = list(comments.order_by().values_list("post_id", flat=True).distinct())
        updated = comments.update(is_hidden=hidden)
        recount(post_ids)
    return updated


def recount(post_ids: Iterable[int] | None = None) -> int:
    """Recompute the counters of the given posts (all posts when None) from their rows."""
    likes = (
        Like.objects.filter(post=OuterRef("pk")).order_by().values("post").annotate(n=Count("*")).values("n")
    )
    comments = (
        Comment.objects.filter(post=OuterRef("pk"), is_hidden=False)
        .order_by()
        .values("post")
        .annotate(n=Count("*"))
        .values("n")
    )
    posts = Post.objects.all() if post_ids is None else Post.objects.filter(pk__in=list(post_ids))
    updated = posts.update(
        like_count=Coalesce(Subquery(likes), Value(0)),
        comment_count=Coalesce(Subquery(comments), Value(0)),
    )
    # Also what the callers changed besides the counters (hidden or edited comments).
    caching.bump()
    return updated


# Tags and categories: their names and slugs show on every post that has them.


@transaction.atomic
def save_tag(*, tag: Tag) -> Tag:
    tag.save()
    caching.bump()
    return tag


@transaction.atomic
def delete_tags(*, tags: QuerySet[Tag]) -> int:
    """Delete ``tags``, taking them off their posts; returns how many."""
    deleted = tags.delete()[1].get(Tag._meta.label, 0)
    caching.bump()
    return deleted


@transaction.atomic
def save_category(*, category: Category) -> Category:
    category.save()
    caching.bump()
    return category


@transaction.atomic
def delete_categories(*, categories: QuerySet[Category]) -> int:
    """Delete ``categories``; their posts stay, uncategorised. Returns how many."""
    deleted = categories.delete()[1].get(Category._meta.label, 0)
    caching.bump()
    return deleted
