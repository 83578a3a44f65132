"""Imports in the admin: what each import created, and the old links (deletable, to stop
one redirecting)."""

from django.contrib import admin

from imports.models import ImportRecord, OldLink


@admin.register(ImportRecord)
class ImportRecordAdmin(admin.ModelAdmin):
    list_display = ["system", "site", "kind", "source_id", "object_id", "created_at"]
    list_filter = ["system", "kind"]
    search_fields = ["source_id", "url"]
    readonly_fields = ["system", "site", "kind", "source_id", "object_id", "url", "created_at"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(OldLink)
class OldLinkAdmin(admin.ModelAdmin):
    list_display = ["path", "post"]
    search_fields = ["path"]
    raw_id_fields = ["post"]
    list_select_related = ["post"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
