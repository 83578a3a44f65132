"""The blog: posts with drafts and scheduling, tags, categories, comments and likes.

Counters (``comment_count``, ``like_count``) are columns kept in step by the writes in
``posts.services`` with ``F()`` updates (``posts.signals`` recounts what a user's deletion
cascades to), so lists never count rows per item and ordering by them uses an index.
"""

from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from posts import rendering
from posts.querysets import CategoryQuerySet, CommentQuerySet, PostQuerySet, TagQuerySet

TITLE_MAX_LENGTH = 200
BODY_MAX_LENGTH = 100_000  # rendering is linear; this bounds a request to well under a second
COMMENT_MAX_LENGTH = 5000


class Category(models.Model):
    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=120, unique=True)
    description = models.TextField(blank=True, max_length=2000)

    objects = CategoryQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return self.name


class Tag(models.Model):
    name = models.CharField(max_length=50, unique=True)
    slug = models.SlugField(max_length=60, unique=True)

    objects = TagQuerySet.as_manager()

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.name


class Post(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"

    title = models.CharField(max_length=TITLE_MAX_LENGTH)
    slug = models.SlugField(max_length=255, unique=True)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="posts")
    category = models.ForeignKey(
        Category, on_delete=models.SET_NULL, null=True, blank=True, related_name="posts"
    )
    tags = models.ManyToManyField(Tag, blank=True, related_name="posts")
    body = models.TextField(max_length=BODY_MAX_LENGTH, help_text="Markdown.")
    body_html = models.TextField(editable=False, default="")
    excerpt = models.CharField(max_length=500, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    published_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    reading_time = models.PositiveIntegerField(default=1, editable=False)
    comment_count = models.PositiveIntegerField(default=0, editable=False)
    like_count = models.PositiveIntegerField(default=0, editable=False)
    # Filled by a trigger on PostgreSQL (see migrations); unused and NULL on SQLite.
    search_vector = SearchVectorField(null=True, editable=False)
    # One of the author's uploads; deleting the image leaves the post without a cover.
    cover_image = models.ForeignKey(
        "images.Image", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # When the post was announced as public (post.published, followers told); NULL while it
    # is not public or not yet announced (a scheduled post before the beat's next run).
    # Written only by posts.events' conditional updates, never by save().
    announced_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = PostQuerySet.as_manager()

    class Meta:
        ordering = ["-published_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["draft", "published"]), name="posts_post_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(status="draft") | Q(published_at__isnull=False),
                name="posts_post_published_has_date",
            ),
        ]
        indexes = [
            # Every post by date: staff and authors' lists, the admin, date ranges.
            models.Index(F("published_at").desc(), F("id").desc(), name="posts_post_pub_idx"),
            # The public list alone: deep pages walk it index-only for their ids, and
            # filtered counts (tag, category) check visibility without reading the table.
            models.Index(
                F("published_at").desc(),
                F("id").desc(),
                name="posts_post_public_idx",
                condition=Q(status="published"),
            ),
            models.Index(fields=["author", "status", "-published_at"], name="posts_post_author_pub_idx"),
            models.Index(fields=["category", "-published_at"], name="posts_post_category_pub_idx"),
            # An author's and a category's public posts, newest first, by an index walk
            # that stops after the page, and counted from the index alone.
            models.Index(
                fields=["author", "-published_at", "-id"],
                name="posts_post_author_public_idx",
                condition=Q(status="published"),
            ),
            models.Index(
                fields=["category", "-published_at", "-id"],
                name="posts_post_cat_public_idx",
                condition=Q(status="published"),
            ),
            models.Index(fields=["title"], name="posts_post_title_idx"),
            models.Index(fields=["-like_count", "-published_at"], name="posts_post_likes_idx"),
            models.Index(fields=["-comment_count", "-published_at"], name="posts_post_comments_idx"),
            # The beat's question: which published posts are not announced yet (scheduled
            # ones, until their time comes and the beat announces them). Small: every
            # announced post leaves it.
            models.Index(
                fields=["published_at"],
                name="posts_post_unannounced_idx",
                condition=Q(status="published", announced_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def save(self, *args, **kwargs) -> None:
        self.render()
        if self.status == self.Status.PUBLISHED and self.published_at is None:
            self.published_at = timezone.now()
        update_fields = kwargs.get("update_fields")
        if update_fields is None and not self._state.adding and not kwargs.get("force_insert"):
            # An update writes every loaded field but announced_at (as Django would write
            # the loaded ones): an instance read before the post was announced must not
            # undo the announcement (posts.events).
            kwargs["update_fields"] = {
                field.attname
                for field in self._meta.concrete_fields
                if not field.primary_key and field.attname != "announced_at"
            } - self.get_deferred_fields()
        elif update_fields is not None and "body" in update_fields:
            kwargs["update_fields"] = {*update_fields, "body_html", "excerpt", "reading_time"}
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("web:post-detail", kwargs={"slug": self.slug})

    @property
    def display_status(self) -> str:
        """``draft``, ``scheduled`` (published, but its time has not come) or ``published``."""
        if self.status == self.Status.PUBLISHED and self.published_at and self.published_at > timezone.now():
            return "scheduled"
        return self.status

    @property
    def is_public(self) -> bool:
        return self.display_status == "published"

    def render(self) -> None:
        """Derive ``body_html``, the excerpt (when blank) and the reading time from ``body``.

        Called on every save so that no list or page ever renders Markdown per request.
        """
        rendered = rendering.render_body(self.body)
        self.body_html = rendered.html
        if not self.excerpt.strip():
            self.excerpt = rendered.excerpt
        self.reading_time = rendered.reading_time


class Tagging(models.Model):
    """A row of ``Post.tags``' table, as PostgreSQL keeps it: each post-tag link carries
    a copy of its post's ``status`` and ``published_at``, so that a tag's public posts are
    read newest first from one index (``posts_post_tags_public_idx``) instead of joining
    every post that has the tag.

    Triggers keep the copies (``posts/migrations/0005_tag_lists.py``): a link takes its
    post's values when it is inserted, and a post's status or date change reaches its
    links in the same statement, whichever path wrote it. Read-only, PostgreSQL only (on
    SQLite the columns do not exist): writes go through ``Post.tags``.
    """

    id = models.BigAutoField(primary_key=True)
    post = models.ForeignKey(Post, on_delete=models.DO_NOTHING, related_name="+")
    tag = models.ForeignKey(Tag, on_delete=models.DO_NOTHING, related_name="+")
    post_status = models.CharField(max_length=10)
    post_published_at = models.DateTimeField(null=True)

    class Meta:
        managed = False
        db_table = "posts_post_tags"

    def __str__(self) -> str:
        return f"post {self.post_id} tagged {self.tag_id}"


class Comment(models.Model):
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="comments")
    body = models.TextField(max_length=COMMENT_MAX_LENGTH)
    is_hidden = models.BooleanField(default=False, help_text="Hidden by a moderator: shown to staff only.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CommentQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["post", "created_at", "id"], name="posts_comment_post_idx")]

    def __str__(self) -> str:
        return f"{self.author} on {self.post}"


class Like(models.Model):
    # The unique (user, post) index serves lookups by user; post has its own FK index.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="likes", db_index=False
    )
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="likes")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "post"], name="posts_like_unique_user_post")]

    def __str__(self) -> str:
        return f"{self.user} likes {self.post}"
