"""Admin for users and follows."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from accounts.models import Follow, User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    """Django's user admin plus the public profile fields (``display_name``, ``bio``)."""

    list_display = ("username", "email", "display_name", "is_staff", "is_active", "date_joined")
    list_filter = ("is_staff", "is_superuser", "is_active", "date_joined")
    # The author autocomplete on posts searches here.
    search_fields = ("username", "email", "display_name")
    ordering = ("username",)
    fieldsets = (
        *DjangoUserAdmin.fieldsets[:1],
        ("Profile", {"fields": ("first_name", "last_name", "email", "display_name", "bio")}),
        *DjangoUserAdmin.fieldsets[2:],
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("username", "email", "password1", "password2")}),
    )


@admin.register(Follow)
class FollowAdmin(admin.ModelAdmin):
    list_display = ("follower", "followed", "created_at")
    list_select_related = ("follower", "followed")
    search_fields = ("follower__username", "followed__username")
    autocomplete_fields = ("follower", "followed")
    date_hierarchy = "created_at"
