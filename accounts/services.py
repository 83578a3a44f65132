"""Writes to accounts, whichever face receives them (/api/v1/, Conduit's /api/, the admin):
sign-up and changes of an account, which claim its username in the same transaction; a
new password, which revokes the refresh tokens issued before; follows; spending a refresh
token. They raise domain errors (``AccountConflict``, ``CannotFollowSelf``,
``RefreshTokenSpent``) that each face turns into its own error shape.

A username an account has held stays that account's for as long as the account exists
(``UsernameClaim``): a rename does not free the old name for anyone else, so links to the
old profile never lead to a stranger (issue 12, finding 8), and the owner may take it
back. Deleting the account frees its names, as it always freed its current one. Every
face that creates or changes an account goes through here: /api/v1/ sign-up, profile and
password change, Conduit's sign-up and ``PUT /api/user``, the admin.
"""

from collections.abc import Collection
from typing import Any

from django.db import IntegrityError, transaction
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken
from rest_framework_simplejwt.utils import datetime_from_epoch

from accounts.models import Follow, User, UsernameClaim, UserQuerySet
from images.models import Image
from images.services import NotYourImage
from posts import caching

# What post lists and details show of their author: changing one invalidates them.
SHOWN_ON_POSTS = ("username", "display_name")


class AccountConflict(Exception):
    """Another account has the value of ``field``."""

    field = ""


class UsernameTaken(AccountConflict):
    """Another account holds this username, or held it before a rename."""

    field = "username"


class EmailTaken(AccountConflict):
    field = "email"


class CannotFollowSelf(Exception):
    """An account cannot follow itself (a check constraint says so too)."""


class RefreshTokenSpent(Exception):
    """The refresh token was revoked already (or has no id to revoke it by)."""


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
    won a race for them a moment ago: the unique constraints decide. A change of what
    posts show of their author (``SHOWN_ON_POSTS``) invalidates the cached post pages;
    nothing else about an account does (a login saves ``last_login``: no page changes).
    """
    adding = user._state.adding
    try:
        with transaction.atomic():
            if adding:
                user.save()
                _claim(user, user.username)
            else:
                shown = User.objects.filter(pk=user.pk).values_list(*SHOWN_ON_POSTS).get()
                previous = shown[0]
                if previous.lower() != user.username.lower():
                    # A name taken before claims existed has no row yet: give it one.
                    UsernameClaim.objects.get_or_create(name=previous.lower(), defaults={"user": user})
                    _claim(user, user.username)
                user.save(update_fields=update_fields)
                if shown != tuple(getattr(user, field) for field in SHOWN_ON_POSTS):
                    caching.bump()
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


def delete_users(*, users: UserQuerySet) -> int:
    """Delete ``users`` with everything they wrote (their posts, comments, likes, follows);
    the counters of posts they touched are recounted (``posts.signals``). Returns how many
    accounts were deleted."""
    with transaction.atomic():
        deleted = users.delete()[1].get(User._meta.label, 0)
        caching.bump(posts=True)
    return deleted


def register(*, username: str, email: str, password: str, **fields: Any) -> User:
    """Create an account, normalised as ``User.objects.create_user`` does; raises
    ``UsernameTaken`` or ``EmailTaken``."""
    user = User(
        username=User.normalize_username(username), email=User.objects.normalize_email(email), **fields
    )
    user.set_password(password)
    return save_user(user=user)


def revoke_refresh_tokens(*, user: User) -> int:
    """Blacklist every outstanding refresh token of ``user``; returns how many."""
    pending = OutstandingToken.objects.filter(user=user, blacklistedtoken__isnull=True)
    rows = [BlacklistedToken(token=token) for token in pending]
    BlacklistedToken.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


def update_account(*, user: User, password: str | None = None, **fields: Any) -> User:
    """Set ``fields`` of ``user`` and, if given, a new password, which revokes every refresh
    token issued before, all in one transaction. A new username is claimed and the old one
    stays the user's (``save_user``); raises ``UsernameTaken`` or ``EmailTaken``, and
    ``NotYourImage`` for an ``avatar`` deleted since the face checked it."""
    with transaction.atomic():
        avatar = fields.get("avatar")
        # Locked until the save commits: a deletion of the image waits for it, or it is gone
        # already (its deletion cleared the avatars it saw, not this uncommitted one).
        if (
            avatar is not None
            and not Image.objects.select_for_update(no_key=True).filter(pk=avatar.pk).exists()
        ):
            raise NotYourImage(avatar.pk)
        for name, value in fields.items():
            setattr(user, name, value)
        update_fields = list(fields)
        if password is not None:
            user.set_password(password)
            update_fields.append("password")
            revoke_refresh_tokens(user=user)
        if update_fields:
            save_user(user=user, update_fields=update_fields)
    return user


def spend_refresh_token(*, token: RefreshToken) -> None:
    """Blacklist ``token`` (on logout, or when it is traded for a new pair); raises
    ``RefreshTokenSpent`` unless this call is the one that did it.

    The unique constraint on the blacklist decides races: when one refresh token is sent
    several times at once, exactly one request creates the row and the others fail.
    """
    jti = token.payload.get(jwt_settings.JTI_CLAIM)
    if not jti:
        raise RefreshTokenSpent("Token has no id.")
    try:
        with transaction.atomic():
            outstanding, _ = OutstandingToken.objects.get_or_create(
                jti=jti,
                defaults={
                    "user_id": token.payload.get(jwt_settings.USER_ID_CLAIM),
                    "token": str(token),
                    "expires_at": datetime_from_epoch(token.payload["exp"]),
                },
            )
            _, created = BlacklistedToken.objects.get_or_create(token=outstanding)
    except IntegrityError as exc:
        raise RefreshTokenSpent("Token is blacklisted.") from exc
    if not created:
        raise RefreshTokenSpent("Token is blacklisted.")


def follow(*, follower: User, followed: User) -> None:
    """``follower`` follows ``followed``; idempotent. Raises ``CannotFollowSelf``."""
    if follower.pk == followed.pk:
        raise CannotFollowSelf()
    try:
        with transaction.atomic():
            Follow.objects.get_or_create(follower=follower, followed=followed)
    except IntegrityError:
        pass  # a concurrent request created the same follow (unique pair): the outcome is the same


def unfollow(*, follower: User, followed: User) -> None:
    """``follower`` no longer follows ``followed``; idempotent."""
    Follow.objects.filter(follower=follower, followed=followed).delete()
