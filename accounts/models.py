"""Users, the usernames they hold, and follows.

Usernames and emails are unique case-insensitively, by database constraints on
``Lower(...)``: ``Alice`` blocks ``alice`` even when two sign-ups race. A username an
account has held stays that account's (``UsernameClaim``), so a rename frees it for nobody.
"""

from django.contrib.auth.models import AbstractUser
from django.contrib.auth.models import UserManager as DjangoUserManager
from django.contrib.auth.validators import ASCIIUsernameValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower


class UserQuerySet(models.QuerySet):
    # ``iexact`` compiles to UPPER(...) on PostgreSQL, which the LOWER(...) unique indexes
    # cannot serve; comparing Lower(field) with a lowered value uses them. Usernames are
    # ASCII, so Python's and the database's lower() agree.
    def with_username(self, username: str) -> "UserQuerySet":
        """Users whose username equals ``username`` ignoring case (at most one)."""
        return self.alias(username_lower=Lower("username")).filter(username_lower=username.lower())

    def with_email(self, email: str) -> "UserQuerySet":
        """Users whose email equals ``email`` ignoring case (at most one)."""
        return self.alias(email_lower=Lower("email")).filter(email_lower=email.lower())


class UserManager(DjangoUserManager.from_queryset(UserQuerySet)):
    def get_by_natural_key(self, username: str) -> "User":
        # Login treats the username case-insensitively; the constraint keeps it unambiguous.
        return self.with_username(username).get()


class User(AbstractUser):
    # ASCII only: case folding then means the same thing on PostgreSQL and SQLite.
    username_validator = ASCIIUsernameValidator()

    username = models.CharField(
        "username",
        max_length=150,
        unique=True,
        help_text="150 characters or fewer: letters, digits and @/./+/-/_ only.",
        validators=[username_validator],
        error_messages={"unique": "A user with that username already exists."},
    )
    email = models.EmailField("email address", blank=True)
    display_name = models.CharField(max_length=100, blank=True)
    bio = models.TextField(max_length=2000, blank=True)
    # Avatar URL, only exposed by the RealWorld (Conduit) API under /api/; NULL when unset.
    image = models.URLField("avatar URL", max_length=2000, null=True, blank=True)
    # One of the user's own uploads, shown on their profile and beside their name.
    avatar = models.ForeignKey(
        "images.Image", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    # Whether the owner proved they read mail at ``email`` (the link mailed after sign-up
    # and after each change of address). With DJANGO_REQUIRE_VERIFIED_EMAIL, unverified
    # accounts may not publish or comment (accounts.services.require_verified_email).
    email_verified = models.BooleanField(default=False)
    # Which notifications the user gets by mail (notifications/); each has a one-click
    # unsubscribe link that turns it off.
    notify_comments = models.BooleanField(
        default=True, help_text="Mail me when someone comments on my posts."
    )
    notify_followed_posts = models.BooleanField(
        default=True, help_text="Mail me when an author I follow publishes a post."
    )

    objects = UserManager()

    class Meta:
        ordering = ["username"]
        constraints = [
            models.UniqueConstraint(Lower("username"), name="accounts_user_username_ci_unique"),
            models.UniqueConstraint(
                Lower("email"),
                condition=~Q(email=""),
                name="accounts_user_email_ci_unique",
            ),
        ]

    def __str__(self) -> str:
        return self.username

    @property
    def public_name(self) -> str:
        return self.display_name or self.username


class UsernameClaim(models.Model):
    """A username, case-folded, that belongs to ``user`` for as long as that account exists:
    one it holds or held before a rename (``accounts.services`` writes them).

    The unique name decides races: a sign-up and a rename that want one name, or a name
    being released while someone signs up for it, cannot both succeed.
    """

    name = models.CharField(max_length=150, unique=True)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="username_claims")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            # Stored folded, so the unique index on the column compares names ignoring case.
            models.CheckConstraint(
                condition=Q(name=Lower("name")), name="accounts_usernameclaim_name_folded"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Follow(models.Model):
    """``follower`` follows ``followed``: one row per pair, never oneself."""

    # No single-column indexes: the unique (follower, followed) index serves lookups by
    # follower, and (followed, follower) lookups and counts by followed.
    follower = models.ForeignKey(User, on_delete=models.CASCADE, related_name="following_set", db_index=False)
    followed = models.ForeignKey(User, on_delete=models.CASCADE, related_name="follower_set", db_index=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["follower", "followed"], name="accounts_follow_unique_pair"),
            models.CheckConstraint(condition=~Q(follower=F("followed")), name="accounts_follow_not_self"),
        ]
        indexes = [models.Index(fields=["followed", "follower"], name="accounts_follow_followed_idx")]

    def __str__(self) -> str:
        return f"{self.follower} → {self.followed}"
