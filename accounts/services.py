"""Writes to accounts that do more than one thing: sign-up and changes of an account,
which claim its username in the same transaction, and revoking refresh tokens.

A username an account has held stays that account's for as long as the account exists
(``UsernameClaim``): a rename does not free the old name for anyone else, so links to the
old profile never lead to a stranger (issue 12, finding 8), and the owner may take it
back. Deleting the account frees its names, as it always freed its current one. Every
face that creates or renames an account goes through here: /api/v1/ sign-up, Conduit's
sign-up and ``PUT /api/user``, the admin.
"""

from collections.abc import Collection
from typing import Any

from django.db import IntegrityError, transaction
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from accounts.models import User, UsernameClaim, UserQuerySet


class AccountConflict(Exception):
    """Another account has the value of ``field``."""

    field = ""


class UsernameTaken(AccountConflict):
    """Another account holds this username, or held it before a rename."""

    field = "username"


class EmailTaken(AccountConflict):
    field = "email"


def _other_accounts(user: User | None) -> UserQuerySet:
    return User.objects.exclude(pk=user.pk) if user is not None and user.pk is not None else User.objects


def username_available(username: str, *, for_user: User | None = None) -> bool:
    """Whether ``for_user`` (None: a new account) may take ``username``: no other account
    holds it, in any case, now or before a rename."""
    if _other_accounts(for_user).with_username(username).exists():
        return False
    claims = UsernameClaim.objects.filter(name=username.lower())
    if for_user is not None and for_user.pk is not None:
        claims = claims.exclude(user=for_user)
    return not claims.exists()


def email_available(email: str, *, for_user: User | None = None) -> bool:
    """Whether no other account has ``email``, in any case."""
    return not _other_accounts(for_user).with_email(email).exists()


def _claim(user: User, username: str) -> None:
    claim, _ = UsernameClaim.objects.get_or_create(name=username.lower(), defaults={"user": user})
    if claim.user_id != user.pk:
        raise UsernameTaken()


def _conflict(user: User) -> AccountConflict | None:
    """Which of the user's unique values another account took first, after a failed save."""
    if not username_available(user.username, for_user=user):
        return UsernameTaken()
    if user.email and not email_available(user.email, for_user=user):
        return EmailTaken()
    return None


def save_user(*, user: User, update_fields: Collection[str] | None = None) -> User:
    """Save ``user``, new or changed, with its username claimed for it in the same
    transaction; on a rename the previous name stays claimed by the user.

    Raises ``UsernameTaken`` or ``EmailTaken`` when another account has them, even when it
    won a race for them a moment ago: the unique constraints decide.
    """
    adding = user._state.adding
    try:
        with transaction.atomic():
            if adding:
                user.save()
                _claim(user, user.username)
            else:
                previous = User.objects.filter(pk=user.pk).values_list("username", flat=True).get()
                if previous.lower() != user.username.lower():
                    # A name taken before claims existed has no row yet: give it one.
                    UsernameClaim.objects.get_or_create(name=previous.lower(), defaults={"user": user})
                    _claim(user, user.username)
                user.save(update_fields=update_fields)
    except (IntegrityError, AccountConflict) as exc:
        if adding:  # the insert was rolled back: the instance is still a new one
            user.pk = None
            user._state.adding = True
        if isinstance(exc, AccountConflict):
            raise
        conflict = _conflict(user)
        if conflict is None:
            raise  # some other constraint failed
        raise conflict from exc
    return user


def register(*, username: str, email: str, password: str, **fields: Any) -> User:
    """Create an account, normalised as ``User.objects.create_user`` does; raises
    ``UsernameTaken`` or ``EmailTaken``."""
    user = User(
        username=User.normalize_username(username), email=User.objects.normalize_email(email), **fields
    )
    user.set_password(password)
    return save_user(user=user)


def revoke_refresh_tokens(user: User) -> int:
    """Blacklist every outstanding refresh token of ``user``; returns how many."""
    pending = OutstandingToken.objects.filter(user=user, blacklistedtoken__isnull=True)
    rows = [BlacklistedToken(token=token) for token in pending]
    BlacklistedToken.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


def update_account(*, user: User, password: str | None = None, **fields: Any) -> User:
    """Set ``fields`` of ``user`` and, if given, a new password, which revokes every refresh
    token issued before, all in one transaction. A new username is claimed and the old one
    stays the user's (``save_user``); raises ``UsernameTaken`` or ``EmailTaken``."""
    with transaction.atomic():
        for name, value in fields.items():
            setattr(user, name, value)
        update_fields = list(fields)
        if password is not None:
            user.set_password(password)
            update_fields.append("password")
            revoke_refresh_tokens(user)
        if update_fields:
            save_user(user=user, update_fields=update_fields)
    return user
