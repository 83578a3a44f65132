"""Admin for users, their usernames and follows."""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.db.models import QuerySet
from django.http import HttpRequest

from accounts import services
from accounts.models import Follow, User, UsernameClaim
from images.admin import THUMBNAIL_WIDTH, picture
from images.services import NotYourImage


class UsernameAvailableMixin(forms.ModelForm):
    """Refuses a username another account holds or held (``accounts.services``)."""

    def clean_username(self) -> str | None:
        parent = getattr(super(), "clean_username", None)
        username = parent() if parent else self.cleaned_data.get("username")
        account = self.instance if self.instance.pk is not None else None
        if username and not services.username_available(username, for_user=account):
            raise forms.ValidationError(
                User._meta.get_field("username").error_messages["unique"], code="unique"
            )
        return username


class UserCreationForm(UsernameAvailableMixin, AdminUserCreationForm):
    pass


class UserEditForm(UsernameAvailableMixin, UserChangeForm):
    pass


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    """Django's user admin plus the public profile fields (``display_name``, ``bio``) and
    the address's verification and mail choices.
    Saves and deletes go through ``accounts.services``, so a rename here keeps the old
    name the user's, as everywhere else, and the post pages that show the user follow."""

    form = UserEditForm
    add_form = UserCreationForm

    list_display = (
        "username",
        "email",
        "email_verified",
        "display_name",
        "is_staff",
        "is_active",
        "date_joined",
    )
    list_filter = ("is_staff", "is_superuser", "is_active", "email_verified", "date_joined")
    # The author autocomplete on posts searches here.
    search_fields = ("username", "email", "display_name")
    ordering = ("username",)
    fieldsets = (
        *DjangoUserAdmin.fieldsets[:1],
        (
            "Profile",
            {
                "fields": (
                    "first_name",
                    "last_name",
                    "email",
                    "display_name",
                    "bio",
                    "avatar",
                    "avatar_preview",
                )
            },
        ),
        (
            # Staff may mark an address verified (or not) by hand; an email changed here sends
            # no verification mail.
            "Email",
            {"fields": ("email_verified", "notify_comments", "notify_followed_posts")},
        ),
        *DjangoUserAdmin.fieldsets[2:],
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("username", "email", "password1", "password2")}),
    )
    # Any upload: staff may set one that is not the user's (say, a placeholder).
    autocomplete_fields = ("avatar",)
    readonly_fields = ("avatar_preview",)

    @admin.display(description="avatar preview")
    def avatar_preview(self, user: User) -> str:
        if user.avatar_id is None:
            return "No avatar."
        return picture(user.avatar, width=THUMBNAIL_WIDTH, smallest=True)

    def save_model(self, request: HttpRequest, obj: User, form: forms.ModelForm, change: bool) -> None:
        try:
            services.save_user(user=obj)
        except NotYourImage:
            # Its owner deleted the chosen avatar while the form was being sent.
            obj.avatar = None
            services.save_user(user=obj)
            self.message_user(
                request,
                "The avatar image was deleted meanwhile: the account was saved without one.",
                messages.WARNING,
            )

    def delete_model(self, request: HttpRequest, obj: User) -> None:
        services.delete_users(users=User.objects.filter(pk=obj.pk))

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        services.delete_users(users=queryset)


@admin.register(UsernameClaim)
class UsernameClaimAdmin(admin.ModelAdmin):
    """Names accounts hold or held. Deleting one gives the name back to everyone (say, to
    settle a dispute); the services create them, never staff by hand."""

    list_display = ("name", "user", "created_at")
    list_select_related = ("user",)
    search_fields = ("name", "user__username")
    readonly_fields = ("name", "user", "created_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: UsernameClaim | None = None) -> bool:
        return False


@admin.register(Follow)
class FollowAdmin(admin.ModelAdmin):
    """Follows; saves and deletes go through ``accounts.services`` (profiles show counts)."""

    list_display = ("follower", "followed", "created_at")
    list_select_related = ("follower", "followed")
    search_fields = ("follower__username", "followed__username")
    autocomplete_fields = ("follower", "followed")
    date_hierarchy = "created_at"

    def save_model(self, request: HttpRequest, obj: Follow, form: forms.ModelForm, change: bool) -> None:
        services.save_follow(follow=obj)

    def delete_model(self, request: HttpRequest, obj: Follow) -> None:
        services.delete_follows(follows=Follow.objects.filter(pk=obj.pk))

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        services.delete_follows(follows=queryset)
