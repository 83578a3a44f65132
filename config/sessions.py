"""Django's database sessions, with a cookie that cannot be a session key read as no session.

Python's cookie parser turns the octal escapes of a quoted value (``"ab\\000cd"``) into
characters, so a client can send a NUL as its session id; Django looked it up as it came,
and PostgreSQL refuses a NUL in a query (a 500 on every page, API or admin request that
reads the session). Every key Django makes is 32 characters from ``VALID_KEY_CHARS``, so a
cookie of anything else names no session: it is dropped before any query, exactly like an
unknown or expired key (the response deletes the cookie).
"""

from django.contrib.sessions.backends.base import VALID_KEY_CHARS
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.contrib.sessions.base_session import AbstractBaseSession

KEY_MAX_LENGTH = AbstractBaseSession._meta.get_field("session_key").max_length
_KEY_CHARS = frozenset(VALID_KEY_CHARS)


class SessionStore(DatabaseSessionStore):
    def _validate_session_key(self, key: str | None) -> bool:
        # Django also runs this on every key it assigns, its own new ones included.
        return bool(
            super()._validate_session_key(key) and len(key) <= KEY_MAX_LENGTH and _KEY_CHARS.issuperset(key)
        )
