"""Admin for editors: posts, comment moderation, tags and categories.

Counters are never edited by hand: every admin path that changes comments (actions,
deletes, the inline on a post) ends with ``services.recount`` of the posts it touched.
Every save, delete and action goes through ``posts.services``, which invalidates the
anonymous response cache (``posts.caching``); Django's own ``save()``/``delete()`` would
leave it stale.
"""

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from images.admin import PREVIEW_WIDTH, picture
from images.services import NotYourImage
from posts import services
from posts.models import Category, Comment, Post, Tag


class PostAdminForm(forms.ModelForm):
    class Meta:
        model = Post
        fields = [
            "title",
            "author",
            "body",
            "excerpt",
            "cover_image",
            "status",
            "published_at",
            "category",
            "tags",
        ]

    def clean(self) -> dict:
        cleaned = super().clean()
        # As in the API: publishing without a date means now. Set here, before the model's
        # constraints are validated (a published post must have a date).
        if cleaned.get("status") == Post.Status.PUBLISHED and not cleaned.get("published_at"):
            cleaned["published_at"] = timezone.now()
        return cleaned


class CommentInline(admin.TabularInline):
    """Moderation on the post's page: hide or delete. Comments are written by readers, so
    none is added here, and the author is shown, not edited (an editable author widget
    would cost a query per comment)."""

    model = Comment
    fields = ("author", "body", "is_hidden", "created_at")
    readonly_fields = ("author", "created_at")
    extra = 0
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Post | None = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        # The change link shows str(comment), which names its author and post.
        return super().get_queryset(request).select_related("author", "post")


@admin.register(Post)
class PostAdmin(admin.ModelAdmin):
    """Posts: the slug is made once from the title by ``posts.services`` and never edited."""

    form = PostAdminForm

    list_display = (
        "title",
        "author",
        "status",
        "display_status",
        "category",
        "published_at",
        "comment_count",
        "like_count",
    )
    list_filter = ("status", "category", "tags", "author", "published_at")
    list_select_related = ("author", "category")
    search_fields = ("title",)
    date_hierarchy = "published_at"
    # Any upload: staff may give a post a cover that is not its author's.
    autocomplete_fields = ("author", "tags", "cover_image")
    ordering = ("-published_at", "-id")
    # One COUNT(*) per page instead of two: the unfiltered total is costly on a big table.
    show_full_result_count = False
    list_per_page = 50
    fieldsets = (
        (None, {"fields": ("title", "slug", "author", "body", "excerpt")}),
        ("Cover image", {"fields": ("cover_image", "cover_preview")}),
        ("Publishing", {"fields": ("status", "published_at", "category", "tags")}),
        (
            "Derived",
            {
                "classes": ("collapse",),
                "fields": ("reading_time", "comment_count", "like_count", "created_at", "updated_at"),
            },
        ),
    )
    readonly_fields = (
        "slug",
        "cover_preview",
        "reading_time",
        "comment_count",
        "like_count",
        "created_at",
        "updated_at",
    )
    inlines = (CommentInline,)
    actions = ("publish_now", "unpublish")

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        # The changelist never shows the body; the search vector is large and never shown.
        return super().get_queryset(request).defer("search_vector")

    @admin.display(description="preview")
    def cover_preview(self, post: Post) -> str:
        if post.cover_image_id is None:
            return "No cover image."
        return picture(post.cover_image, width=PREVIEW_WIDTH, smallest=False)

    @admin.display(description="visible as")
    def display_status(self, post: Post) -> str:
        return post.display_status

    def save_model(self, request: HttpRequest, obj: Post, form, change: bool) -> None:
        # The same unique-slug path as the API, race-safe against concurrent creates. The
        # tags go with it, so the post's events (webhooks) show them; the form's own
        # save_m2m then finds nothing to change.
        tags = getattr(form, "cleaned_data", {}).get("tags")
        try:
            services.save_post(post=obj, tags=tags)
        except NotYourImage:
            # Its owner deleted the chosen cover while the form was being sent.
            obj.cover_image = None
            services.save_post(post=obj, tags=tags)
            self.message_user(
                request,
                "The cover image was deleted meanwhile: the post was saved without one.",
                messages.WARNING,
            )

    def delete_model(self, request: HttpRequest, obj: Post) -> None:
        # Row-locked like the API's delete, so a like or comment racing in cannot break it.
        services.delete_post(post=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        for post in queryset:
            services.delete_post(post=post)

    def save_related(self, request: HttpRequest, form, formsets, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        # The comment inline may have added, hidden or deleted comments.
        services.recount([form.instance.pk])

    @admin.action(description="Publish selected posts now", permissions=["change"])
    def publish_now(self, request: HttpRequest, queryset: QuerySet) -> None:
        updated = services.publish_now(posts=queryset)
        self.message_user(request, f"{updated} post(s) published.", messages.SUCCESS)

    @admin.action(description="Unpublish selected posts (back to draft)", permissions=["change"])
    def unpublish(self, request: HttpRequest, queryset: QuerySet) -> None:
        updated = services.unpublish(posts=queryset)
        self.message_user(request, f"{updated} post(s) moved to draft.", messages.SUCCESS)


@admin.register(Comment)
class CommentAdmin(admin.ModelAdmin):
    """Moderation: hide, unhide or delete; the posts' comment counts follow."""

    list_display = ("short_body", "author", "post", "is_hidden", "created_at")
    list_filter = ("is_hidden", "created_at")
    list_select_related = ("author", "post")
    search_fields = ("body", "author__username", "post__title")
    autocomplete_fields = ("author", "post")
    date_hierarchy = "created_at"
    show_full_result_count = False
    actions = ("hide", "unhide")

    @admin.display(description="comment")
    def short_body(self, comment: Comment) -> str:
        return comment.body if len(comment.body) <= 80 else f"{comment.body[:79]}…"

    def _recount_posts_of(self, queryset: QuerySet) -> list[int]:
        return list(queryset.order_by().values_list("post_id", flat=True).distinct())

    @admin.action(description="Hide selected comments", permissions=["change"])
    def hide(self, request: HttpRequest, queryset: QuerySet) -> None:
        updated = services.set_comments_hidden(comments=queryset, hidden=True)
        self.message_user(request, f"{updated} comment(s) hidden.", messages.SUCCESS)

    @admin.action(description="Unhide selected comments", permissions=["change"])
    def unhide(self, request: HttpRequest, queryset: QuerySet) -> None:
        updated = services.set_comments_hidden(comments=queryset, hidden=False)
        self.message_user(request, f"{updated} comment(s) shown again.", messages.SUCCESS)

    def save_model(self, request: HttpRequest, obj: Comment, form, change: bool) -> None:
        previous_post_id = form.initial.get("post") if change else None
        super().save_model(request, obj, form, change)
        services.recount({obj.post_id, *([previous_post_id] if previous_post_id else [])})

    def delete_model(self, request: HttpRequest, obj: Comment) -> None:
        post_id = obj.post_id
        super().delete_model(request, obj)
        services.recount([post_id])

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        post_ids = self._recount_posts_of(queryset)
        super().delete_queryset(request, queryset)
        services.recount(post_ids)


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    """Tags; saves and deletes go through ``posts.services`` (every post shows its tags)."""

    list_display = ("name", "slug")
    # The tag autocomplete on posts searches here.
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}

    def save_model(self, request: HttpRequest, obj: Tag, form, change: bool) -> None:
        services.save_tag(tag=obj)

    def delete_model(self, request: HttpRequest, obj: Tag) -> None:
        services.delete_tags(tags=Tag.objects.filter(pk=obj.pk))

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        services.delete_tags(tags=queryset)


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    """Categories; saves and deletes go through ``posts.services`` (posts show theirs)."""

    list_display = ("name", "slug")
    search_fields = ("name", "slug", "description")
    prepopulated_fields = {"slug": ("name",)}

    def save_model(self, request: HttpRequest, obj: Category, form, change: bool) -> None:
        services.save_category(category=obj)

    def delete_model(self, request: HttpRequest, obj: Category) -> None:
        services.delete_categories(categories=Category.objects.filter(pk=obj.pk))

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        services.delete_categories(categories=queryset)
