"""Accounts and objects for the fuzzer: two users who must not see each other's drafts.

Run with ``manage.py shell < scripts/fuzz_setup.py`` against the fuzzing database.
"""

from django.utils import timezone

from accounts.models import User
from posts import services
from posts.models import Category

PASSWORD = "fuzz-password-not-secret-42"  # noqa: S105 - a throwaway database's test accounts

category, _ = Category.objects.get_or_create(slug="general", defaults={"name": "General"})
for name in ("fuzz-alice", "fuzz-bob"):
    user = User.objects.create_user(username=name, email=f"{name}@example.com", password=PASSWORD)
    services.create_post(
        author=user,
        title=f"{name} public",
        body="Hello **world**.",
        status="published",
        published_at=timezone.now(),
        category=category,
        tags=["fuzz", name],
    )
    draft = services.create_post(author=user, title=f"{name} draft", body="Private draft.", tags=["draft"])
    services.add_comment(post=draft, author=user, body="A note on my own draft.")
User.objects.create_user(username="fuzz-staff", email="staff@example.com", password=PASSWORD, is_staff=True)
print("fuzz fixtures: 3 users, 4 posts")
