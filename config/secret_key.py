"""Which secret keys a process may sign with.

``SECRET_KEY`` signs sessions, password-reset links and the JWTs: whoever knows it can
forge a token for any user, staff included. A key written in this repository is known to
everyone, and a short or repetitive one can be guessed, so outside DEBUG the settings
refuse them at start-up (production always, local when DEBUG is turned off); Django's own
``check --deploy`` only warns, and only when someone runs it.

The test settings are the one exception: DEBUG off, and a key of their own that production
refuses. They never serve anyone.
"""

from collections.abc import Iterable

from django.core.exceptions import ImproperlyConfigured

# The thresholds of Django's own check (security.W009, django.core.checks.security.base),
# not imported from there: that module pulls in the database layer before settings exist.
SECRET_KEY_INSECURE_PREFIX = "django-insecure-"  # noqa: S105 - a marker, not a key
SECRET_KEY_MIN_LENGTH = 50
SECRET_KEY_MIN_UNIQUE_CHARACTERS = 5

# Both carry Django's own mark for keys nobody should deploy, which production refuses.
DEVELOPMENT_SECRET_KEY = f"{SECRET_KEY_INSECURE_PREFIX}local-development-key-change-me-0123456789"
TEST_SECRET_KEY = f"{SECRET_KEY_INSECURE_PREFIX}test-settings-only-never-accepted-by-production-0123456789"

# Published with the repository, so anyone may sign with them: docker/.env.example's
# placeholder, and the dummies that scripts, the Dockerfile, the Makefile, the bench
# settings and the tests once used (they make a throwaway key at run time now). Someone
# may have copied one into a real deployment.
PUBLISHED_SECRET_KEYS = frozenset(
    {
        "change-me-to-a-long-random-string",
        "check-deploy-dummy-secret-key-0123456789-abcdefghijklmnop",
        "bench-only-secret-key-not-for-any-real-deployment-0123456789",
        "collectstatic-only-not-a-secret-0123456789abcdefghijklmnopqrstuvwxyz",
        "scale-test-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
        "realworld-suite-dummy-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
        "live-test-dummy-secret-key-not-for-production-0123456789abcdef",
        "test-production-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
    }
)

HOW_TO_MAKE_ONE = "python -c 'import secrets; print(secrets.token_urlsafe(50))'"


def secret_key_weakness(key: str) -> str | None:
    """Why ``key`` must not sign anything outside development, or None when it may."""
    if key == DEVELOPMENT_SECRET_KEY:
        return "it is the development key, which the settings use when DJANGO_SECRET_KEY is not set"
    if key in PUBLISHED_SECRET_KEYS:
        return "it is written in this repository"
    if key.startswith(SECRET_KEY_INSECURE_PREFIX):
        return f"it starts with {SECRET_KEY_INSECURE_PREFIX!r}, Django's mark for a key not to deploy"
    if len(key) < SECRET_KEY_MIN_LENGTH:
        return f"it is shorter than {SECRET_KEY_MIN_LENGTH} characters"
    if len(set(key)) < SECRET_KEY_MIN_UNIQUE_CHARACTERS:
        return f"it has fewer than {SECRET_KEY_MIN_UNIQUE_CHARACTERS} distinct characters"
    return None


def require_unguessable_secret_keys(key: str, fallbacks: Iterable[str] = ()) -> None:
    """Raise ImproperlyConfigured unless ``key`` and every fallback are fit to sign with.

    Fallbacks count too: Django still accepts sessions and password-reset links signed
    with them. The message names the variable, never the key, since it ends up in logs.
    """
    named = [("DJANGO_SECRET_KEY", key), *(("DJANGO_SECRET_KEY_FALLBACKS", old) for old in fallbacks)]
    for variable, value in named:
        if reason := secret_key_weakness(value):
            raise ImproperlyConfigured(
                f"{variable} is not fit to sign sessions and tokens with while DEBUG is off: "
                f"{reason}. Set a new random key (make one with: {HOW_TO_MAKE_ONE})."
            )
