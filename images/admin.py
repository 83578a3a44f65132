"""Admin for uploaded images: browse with thumbnails, edit the alt text, delete.

Images are uploaded through the API and the editor, where they are checked and
re-encoded; the admin adds none. Deleting goes through ``images.services``, which
removes the stored files too.
"""

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.defaultfilters import filesizeformat
from django.utils.html import format_html

from images import services
from images.models import Image, media_url

THUMBNAIL_WIDTH = 120
PREVIEW_WIDTH = 600


def picture(image: Image, *, width: int, smallest: bool) -> str:
    name, natural_width, natural_height = (
        image.smallest if smallest else (image.file, image.width, image.height)
    )
    shown = min(width, natural_width)
    return format_html(
        '<img src="{}" width="{}" height="{}" alt="{}" loading="lazy">',
        media_url(name),
        shown,
        max(1, round(natural_height * shown / natural_width)),
        image.alt,
    )


@admin.register(Image)
class ImageAdmin(admin.ModelAdmin):
    list_display = ("thumbnail", "file", "owner", "file_size", "dimensions", "content_type", "created_at")
    list_display_links = ("thumbnail", "file")
    list_filter = (("owner", admin.RelatedOnlyFieldListFilter), "content_type", "created_at")
    list_select_related = ("owner",)
    search_fields = ("file", "alt", "owner__username")
    date_hierarchy = "created_at"
    ordering = ("-created_at", "-id")
    list_per_page = 50
    show_full_result_count = False
    fields = ("preview", "alt", "owner", "file", "dimensions", "file_size", "content_type", "created_at")
    readonly_fields = ("preview", "owner", "file", "dimensions", "file_size", "content_type", "created_at")

    @admin.display(description="image")
    def thumbnail(self, image: Image) -> str:
        return picture(image, width=THUMBNAIL_WIDTH, smallest=True)

    @admin.display(description="preview")
    def preview(self, image: Image) -> str:
        return picture(image, width=PREVIEW_WIDTH, smallest=False)

    @admin.display(description="size", ordering="size")
    def file_size(self, image: Image) -> str:
        return filesizeformat(image.size)

    @admin.display(description="dimensions")
    def dimensions(self, image: Image) -> str:
        return f"{image.width} x {image.height}"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Image, form, change: bool) -> None:
        services.set_alt(image=obj, alt=obj.alt)

    def delete_model(self, request: HttpRequest, obj: Image) -> None:
        services.delete_image(image=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Image]) -> None:
        for image in queryset:
            services.delete_image(image=image)
