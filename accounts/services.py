"""Writes to accounts, whichever face receives them (/api/v1/, Conduit's /api/, the admin):
sign-up and changes of an account, which claim its username in the same transaction; a
new password, which revokes the refresh tokens issued before; follows; spending a refresh
token; deleting an account with everything it owns. They raise domain errors
(``AccountConflict``, ``CannotFollowSelf``, ``RefreshTokenSpent``, ``WrongPassword``) that
each face turns into its own error shape.

A username an account has held stays that account's for as long as the account exists
(``UsernameClaim``): a rename does not free the old name for anyone else, so links to the
old profile never lead to a stranger (issue 12, finding 8), and the owner may take it
back. Deleting the account frees its names, as it always freed its current one. Every
face that creates or changes an account goes through here: /api/v1/ sign-up, profile and
password change, Conduit's sign-up and ``PUT /api/user``, the admin.

Email: a password reset by mail (Django's token generator: single use, expiring), and the
verification of an address, mailed after sign-up and after every change of address (a
signed key naming the account and the address, so it dies with a change of address).
Mail is written to the outbox in the write's transaction (``notifications.mail``).
"""

from collections.abc import Collection
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.tokens import default_token_generator
from django.core import signing
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken
from rest_framework_simplejwt.utils import datetime_from_epoch

from accounts.models import Follow, User, UsernameClaim, UserQuerySet
from images.models import Image
from images.services import NotYourImage
from notifications import mail
from posts import caching, events
from posts.models import Comment, Like, Post

# What anyone may see of an account, on its profile and on the posts and comments that
# show their author (Conduit's authors carry the bio and the image): changing one moves
# the cache generation (posts.caching), as a follow does. The username comes first.
SHOWN_PUBLICLY = ("username", "display_name", "bio", "image", "avatar_id", "date_joined", "is_active")


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


class EmailNotVerified(Exception):
    """With ``REQUIRE_VERIFIED_EMAIL``, an account whose address is not verified may not
    make anything public: publish a post or comment. Each face answers it with a 403."""

    detail = (
        "Verify your email address to publish and comment: follow the link we emailed you, "
        "or ask for a new one on your settings page. Drafts need no verified address."
    )


class AccountGone(Exception):
    """The account a write is for was deleted while the write was on its way: its
    credentials are dead, and every face answers 401 (``config.exceptions``)."""


class WrongPassword(Exception):
    """The password that confirms an account's deletion is not the account's."""


class InvalidResetLink(Exception):
    """The password reset link is not one we made, was used already, or has expired."""


class PasswordRejected(Exception):
    """The new password fails the password validators; ``messages`` says why."""

    def __init__(self, messages: list[str]) -> None:
        super().__init__(" ".join(messages))
        self.messages = messages


class InvalidVerificationKey(Exception):
    """The verification key cannot verify anything; ``reason`` says why, for the user."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


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


def _lock_avatar(user: User) -> None:
    """Lock the avatar's row until the save commits, or raise ``NotYourImage`` if it is
    gone. A deletion of the image then waits for the save, or happened already: it cleared
    the avatars it saw, not this uncommitted one, and the deferred foreign key would fail
    at commit (a 500) without this check."""
    chosen = User._meta.get_field("avatar").get_cached_value(user, None)
    image_id = chosen.pk if chosen is not None else user.avatar_id
    if chosen is not None and image_id is None:  # deleted through this very instance
        raise NotYourImage(None)
    if image_id is not None and not Image.objects.select_for_update(no_key=True).filter(pk=image_id).exists():
        raise NotYourImage(image_id)


def save_user(*, user: User, update_fields: Collection[str] | None = None) -> User:
    """Save ``user``, new or changed, with its username claimed for it in the same
    transaction; on a rename the previous name stays claimed by the user.

    Raises ``NotYourImage`` when its avatar was deleted since the face checked it,
    ``AccountGone`` when the account was, and ``UsernameTaken`` or ``EmailTaken`` when
    another account has them, even when it won a race for them a moment ago: the unique
    constraints decide. A change of what
    anyone may see of the account (``SHOWN_PUBLICLY``) invalidates the cached pages;
    nothing else about an account does (a login saves ``last_login``: no page changes).
    """
    adding = user._state.adding
    try:
        with transaction.atomic():
            if update_fields is None or "avatar" in update_fields:
                _lock_avatar(user)
            if adding:
                user.save()
                _claim(user, user.username)
            else:
                hold_account(user_id=user.pk)
                shown = User.objects.filter(pk=user.pk).values_list(*SHOWN_PUBLICLY).get()
                previous = shown[0]
                if previous.lower() != user.username.lower():
                    # A name taken before claims existed has no row yet: give it one.
                    UsernameClaim.objects.get_or_create(name=previous.lower(), defaults={"user": user})
                    _claim(user, user.username)
                user.save(update_fields=update_fields)
                if shown != tuple(getattr(user, field) for field in SHOWN_PUBLICLY):
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
    """Delete ``users`` with everything they own: their posts (each told to webhooks as
    ``post.deleted``, as deleting the post alone would), comments, likes, follows both
    ways, uploads (the stored files go when the deletion commits: ``images.signals``) and
    the names they held. Their refresh tokens are revoked, and the access tokens they
    still hold answer 401 from the next request on (no such account). The counters of
    other posts they liked or commented on are recounted (``posts.signals``). Every face
    that deletes an account comes here: the account's own deletion, the admin. Returns
    how many accounts were deleted.

    Writes of these accounts may be under way at the same moment. Each locks the rows it
    needs (a post, an image) and then holds its account (``hold_account``). So this locks
    the rows it will change first (their posts, the posts they liked or commented on,
    their images) and the accounts last, and waits for nothing once it holds them: a
    write that held its account first has committed by then, and is deleted here with
    the rest; one that comes after finds its account gone (``AccountGone``, a 401). When
    such a write added a row meanwhile (a comment on another post), the accounts' locks
    are let go (a savepoint) and the rows locked again, rather than waiting for that
    row's lock while holding the account that its writer waits for: a deadlock."""
    with transaction.atomic():
        ids = list(users.order_by().values_list("pk", flat=True))
        for _attempt in range(LOCK_ATTEMPTS):
            if not ids:
                return 0
            rows = _rows_of(ids, lock=True)
            try:
                with transaction.atomic():
                    locked = User.objects.select_for_update().filter(pk__in=ids).order_by("pk")
                    ids = list(locked.values_list("pk", flat=True))
                    # No write of theirs can add to these now: each holds its account first.
                    if _rows_of(ids, lock=False) <= rows or _attempt == LOCK_ATTEMPTS - 1:
                        return _delete_locked_users(ids)
                    raise _RowsAdded()
            except _RowsAdded:
                continue
    return 0


LOCK_ATTEMPTS = 5


class _RowsAdded(Exception):
    """A write of the accounts being deleted added a row before they were locked."""


def _rows_of(ids: list[int], *, lock: bool) -> set[tuple[str, int]]:
    """The rows deleting the accounts ``ids`` changes besides their own: their posts and
    the posts they liked or commented on (counters), and their images."""
    touched = Q(pk__in=Like.objects.filter(user_id__in=ids).values("post_id")) | Q(
        pk__in=Comment.objects.filter(author_id__in=ids).values("post_id")
    )
    posts = Post.objects.filter(Q(author_id__in=ids) | touched).order_by("pk")
    images = Image.objects.filter(owner_id__in=ids).order_by("pk")
    if lock:
        posts, images = posts.select_for_update(), images.select_for_update()
    return {("post", pk) for pk in posts.values_list("pk", flat=True)} | {
        ("image", pk) for pk in images.values_list("pk", flat=True)
    }


def _delete_locked_users(ids: list[int]) -> int:
    if not ids:
        return 0
    events.posts_deleted(posts=Post.objects.filter(author_id__in=ids))
    _revoke_refresh_tokens(user_ids=ids)
    deleted = User.objects.filter(pk__in=ids).delete()[1].get(User._meta.label, 0)
    caching.bump(posts=True)
    return deleted


def hold_account(*, user_id: int) -> None:
    """Keep the account from being deleted until the current transaction ends, or raise
    ``AccountGone`` if it was deleted meanwhile. For writes that reference an account
    (a post, a comment, a like, an upload, a new refresh token, a change of the account):
    called after the write's own row locks, as ``delete_users`` takes them in that order.

    PostgreSQL's ``FOR KEY SHARE``: it holds up a deletion only, not other writes of the
    account. SQLite runs one write at a time: there, whether the row exists."""
    if connection.vendor == "postgresql":
        table = connection.ops.quote_name(User._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT 1 FROM {table} WHERE id = %s FOR KEY SHARE", [user_id])  # noqa: S608
            held = cursor.fetchone() is not None
    else:
        held = User.objects.filter(pk=user_id).exists()
    if not held:
        raise AccountGone()


def delete_account(*, user: User, password: str) -> None:
    """The owner deletes their own account (``delete_users``), confirming it with its
    password; ``WrongPassword`` otherwise, and nothing is deleted. An account without a
    usable password (an imported author) sets one through a password reset first."""
    if not password or not user.check_password(password):
        raise WrongPassword()
    delete_users(users=User.objects.filter(pk=user.pk))


def register(*, username: str, email: str, password: str, **fields: Any) -> User:
    """Create an account, normalised as ``User.objects.create_user`` does; raises
    ``UsernameTaken`` or ``EmailTaken``."""
    user = User(
        username=User.normalize_username(username), email=User.objects.normalize_email(email), **fields
    )
    user.set_password(password)
    with transaction.atomic():
        save_user(user=user)
        send_verification_email(user=user)
    return user


def revoke_refresh_tokens(*, user: User) -> int:
    """Blacklist every outstanding refresh token of ``user``; returns how many."""
    return _revoke_refresh_tokens(user_ids=[user.pk])


def _revoke_refresh_tokens(*, user_ids: Collection[int]) -> int:
    pending = OutstandingToken.objects.filter(user_id__in=user_ids, blacklistedtoken__isnull=True)
    rows = [BlacklistedToken(token=token) for token in pending.only("pk")]
    BlacklistedToken.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


def update_account(*, user: User, password: str | None = None, **fields: Any) -> User:
    """Set ``fields`` of ``user`` and, if given, a new password, which revokes every refresh
    token issued before, all in one transaction. A new username is claimed and the old one
    stays the user's (``save_user``); raises ``UsernameTaken`` or ``EmailTaken``, and
    ``NotYourImage`` for an ``avatar`` deleted since the face checked it.

    A new address (other than by letter case) is unverified: a verification mail goes to
    it when the change commits."""
    with transaction.atomic():
        email_changed = "email" in fields and fields["email"].casefold() != user.email.casefold()
        if email_changed and "email_verified" not in fields:
            fields["email_verified"] = False
        for name, value in fields.items():
            setattr(user, name, value)
        update_fields = list(fields)
        if password is not None:
            user.set_password(password)
            update_fields.append("password")
            revoke_refresh_tokens(user=user)
        if update_fields:
            save_user(user=user, update_fields=update_fields)
        if email_changed:
            send_verification_email(user=user)
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
    """``follower`` follows ``followed``; idempotent. Raises ``CannotFollowSelf``.

    Both profiles show their counts of follows: a new one moves the cache generation."""
    if follower.pk == followed.pk:
        raise CannotFollowSelf()
    try:
        with transaction.atomic():
            _, created = Follow.objects.get_or_create(follower=follower, followed=followed)
            if created:
                caching.bump()
    except IntegrityError:
        pass  # a concurrent request created the same follow (unique pair): the outcome is the same


def unfollow(*, follower: User, followed: User) -> None:
    """``follower`` no longer follows ``followed``; idempotent."""
    with transaction.atomic():
        deleted, _ = Follow.objects.filter(follower=follower, followed=followed).delete()
        if deleted:
            caching.bump()


@transaction.atomic
def save_follow(*, follow: Follow) -> Follow:
    """Save a follow as a form built it (the admin's)."""
    follow.save()
    caching.bump()
    return follow


@transaction.atomic
def delete_follows(*, follows: QuerySet[Follow]) -> int:
    """Delete ``follows`` (the admin's); returns how many."""
    deleted = follows.delete()[1].get(Follow._meta.label, 0)
    caching.bump()
    return deleted


# --- Email: verified addresses and password resets ---------------------------------------

VERIFY_EMAIL_MAX_AGE = timedelta(days=7)
_VERIFY_EMAIL_SALT = "accounts.verify-email"
UID_MAX_LENGTH = 64  # far above any bigint's base64, far below anything costly
USER_ID_MAX = 2**63 - 1


def require_verified_email(*, user_id: int) -> None:
    """Raise ``EmailNotVerified`` when ``REQUIRE_VERIFIED_EMAIL`` is on and the account has
    no verified address. Staff are exempt: whoever made them staff vouched for them, and
    the admin publishes without this rule anyway. Costs a query only when the rule is on."""
    if not settings.REQUIRE_VERIFIED_EMAIL:
        return
    flags = User.objects.filter(pk=user_id).values_list("email_verified", "is_staff").first()
    if flags is None or not any(flags):
        raise EmailNotVerified()


def duration_text(seconds: int) -> str:
    """``3600`` -> "1 hour", for mail that says how long a link works."""
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            count = seconds // size
            return f"{count} {unit}{'' if count == 1 else 's'}"
    return f"{seconds} seconds"


def verification_key(*, user: User) -> str:
    """A signed, dated key naming the account and its current address (in any case), so
    that it stops working when the address changes or after ``VERIFY_EMAIL_MAX_AGE``."""
    payload = {"u": user.pk, "e": user.email.casefold()}
    return signing.TimestampSigner(salt=_VERIFY_EMAIL_SALT).sign_object(payload)


def send_verification_email(*, user: User) -> None:
    """Mail ``user`` the link that verifies their address, when the current transaction
    commits. Nothing for an account without an address."""
    if not user.email:
        return
    url = mail.absolute_url(reverse("web:verify-email", args=[verification_key(user=user)]))
    mail.send(
        template="verify_email",
        to=[user.email],
        context={
            "username": user.username,
            "email": user.email,
            "verify_url": url,
            "valid_for": duration_text(int(VERIFY_EMAIL_MAX_AGE.total_seconds())),
        },
    )


def resend_verification(*, user: User) -> bool:
    """Mail the verification link again; False (and no mail) when the address is verified
    already or there is none."""
    if user.email_verified or not user.email:
        return False
    send_verification_email(user=user)
    return True


def verify_email(*, key: str) -> User:
    """Mark the address ``key`` names as verified; ``InvalidVerificationKey`` when the key
    is not ours, has expired, names an address the account no longer has, or was used."""
    signer = signing.TimestampSigner(salt=_VERIFY_EMAIL_SALT)
    try:
        data = signer.unsign_object(key, max_age=VERIFY_EMAIL_MAX_AGE)
    except signing.SignatureExpired as exc:
        raise InvalidVerificationKey(
            "This link has expired. Ask for a new one on your settings page."
        ) from exc
    except (signing.BadSignature, ValueError) as exc:
        raise InvalidVerificationKey("This link is not valid. Check that it was copied whole.") from exc
    user_id = data.get("u") if isinstance(data, dict) else None
    email = data.get("e") if isinstance(data, dict) else None
    if not isinstance(user_id, int) or not isinstance(email, str):
        raise InvalidVerificationKey("This link is not valid. Check that it was copied whole.")
    with transaction.atomic():
        user = User.objects.select_for_update().filter(pk=user_id, is_active=True).first()
        if user is None:
            raise InvalidVerificationKey("This link is not valid. Check that it was copied whole.")
        if user.email.casefold() != email:
            raise InvalidVerificationKey("This link is for an address your account no longer has.")
        if user.email_verified:
            raise InvalidVerificationKey("This link was used already: the address is verified.")
        User.objects.filter(pk=user.pk).update(email_verified=True)
        user.email_verified = True
    return user


def reset_link_path(*, user: User) -> str:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    return reverse("web:password-reset-confirm", args=[uid, token])


def request_password_reset(*, email: str) -> None:
    """Mail a password reset link to the active account with ``email`` (any case), when
    the current transaction commits; to its stored address, never to the one typed.

    Whether or not such an account exists, the same work is done: one lookup, a token,
    the mail rendered and an outbox message stored (with no recipient for an unknown
    address), so that neither the answer nor its timing tells who has an account here."""
    user = User.objects.with_email(email).filter(is_active=True).first() if email else None
    # An unknown address gets a stand-in account (never saved) to make the same token for.
    target = user if user is not None else User(pk=0, username="", email=email)
    mail.send(
        template="password_reset",
        to=[user.email] if user is not None else [],
        context={
            "username": target.username,
            "reset_url": mail.absolute_url(reset_link_path(user=target)),
            "valid_for": duration_text(settings.PASSWORD_RESET_TIMEOUT),
        },
    )


def _reset_user(uid: str, *, lock: bool = False) -> User | None:
    if not isinstance(uid, str) or len(uid) > UID_MAX_LENGTH:
        return None
    try:
        user_id = int(urlsafe_base64_decode(uid).decode())
    except (ValueError, UnicodeDecodeError):
        return None
    if not 1 <= user_id <= USER_ID_MAX:
        return None
    users = User.objects.select_for_update() if lock else User.objects
    return users.filter(pk=user_id, is_active=True).first()


def check_reset_link(*, uid: str, token: str) -> User:
    """The account a reset link is for; ``InvalidResetLink`` when it is not one we made,
    has been used (the token changes with the password) or is older than
    ``PASSWORD_RESET_TIMEOUT``."""
    user = _reset_user(uid)
    if user is None or not default_token_generator.check_token(user, token):
        raise InvalidResetLink()
    return user


def reset_password(*, uid: str, token: str, new_password: str) -> User:
    """Set a new password through a reset link. The link then stops working (its token
    is made from the password hash), every refresh token of the account is revoked, and
    the address counts as verified (the link was read there).

    The account row is locked while the token is checked, so that two requests with one
    link cannot both succeed. Raises ``InvalidResetLink``, then ``PasswordRejected``."""
    with transaction.atomic():
        user = _reset_user(uid, lock=True)
        if user is None or not default_token_generator.check_token(user, token):
            raise InvalidResetLink()
        try:
            password_validation.validate_password(new_password, user=user)
        except DjangoValidationError as exc:
            raise PasswordRejected(list(exc.messages)) from exc
        fields: dict[str, Any] = {} if user.email_verified else {"email_verified": True}
        update_account(user=user, password=new_password, **fields)
    return user
