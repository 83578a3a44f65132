"""Forms of the account pages (settings, password reset). They only check input; the
writes are ``accounts.services``', as for every other face."""

from typing import Any

from django import forms
from django.contrib.auth import password_validation

from accounts import services
from accounts.models import User
from accounts.serializers import EMAIL_TAKEN

PASSWORD_MAX_LENGTH = 128
PASSWORDS_DIFFER = "The two passwords differ."


def _password(label: str, autocomplete: str) -> forms.CharField:
    return forms.CharField(
        label=label,
        strip=False,
        max_length=PASSWORD_MAX_LENGTH,
        widget=forms.PasswordInput(attrs={"autocomplete": autocomplete}),
    )


class PageForm(forms.Form):
    """Each field is described by its error slot (``templates/web/_field.html``)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            field.widget.attrs.setdefault("aria-describedby", f"id_{name}-error")


class PasswordResetRequestForm(PageForm):
    email = forms.EmailField(max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email"}))


class NewPasswordForm(PageForm):
    """A new password typed twice. The password validators run in the service (for a
    reset) or in ``PasswordChangeForm``, with the account they are for."""

    new_password = _password("New password", "new-password")
    new_password_again = _password("New password, again", "new-password")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("new_password") and data.get("new_password_again") not in (None, data["new_password"]):
            self.add_error("new_password_again", PASSWORDS_DIFFER)
        return data


class PasswordChangeForm(NewPasswordForm):
    old_password = _password("Current password", "current-password")

    field_order = ["old_password", "new_password", "new_password_again"]

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_old_password(self) -> str:
        value = self.cleaned_data["old_password"]
        if not self.user.check_password(value):
            raise forms.ValidationError("The current password is not correct.")
        return value

    def clean_new_password(self) -> str:
        value = self.cleaned_data["new_password"]
        password_validation.validate_password(value, user=self.user)
        return value


class ProfileForm(PageForm):
    display_name = forms.CharField(max_length=100, required=False)
    bio = forms.CharField(max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 4}))
    email = forms.EmailField(max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email"}))

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_email(self) -> str:
        value = User.objects.normalize_email(self.cleaned_data["email"])
        if not services.email_available(value, for_user=self.user):
            raise forms.ValidationError(EMAIL_TAKEN)
        return value

    def changes(self) -> dict[str, Any]:
        """The fields whose value differs from the account's."""
        return {name: value for name, value in self.cleaned_data.items() if getattr(self.user, name) != value}


class NotificationsForm(PageForm):
    notify_comments = forms.BooleanField(required=False, label="Someone comments on one of my posts")
    notify_followed_posts = forms.BooleanField(required=False, label="An author I follow publishes a post")


class DeleteAccountForm(PageForm):
    """The password, which confirms a deletion; ``accounts.services.delete_account`` checks it."""

    password = _password("Your password", "current-password")
