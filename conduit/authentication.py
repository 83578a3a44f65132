"""``Authorization: Token <jwt>``: RealWorld's keyword for our simplejwt access tokens."""

from rest_framework.request import Request
from rest_framework_simplejwt.exceptions import AuthenticationFailed

from accounts.authentication import JWTAuthentication

# RealWorld clients send "Token"; "Bearer" is accepted too so one token works everywhere.
KEYWORDS = {b"token", b"bearer"}


class ConduitTokenAuthentication(JWTAuthentication):
    """simplejwt access tokens (the ones /api/v1/ issues too) under the ``Token`` keyword.

    A header with another scheme is ignored (anonymous); a malformed or invalid token is a 401.
    The user is looked up as /api/v1/ does (``accounts.authentication``), so a signed token
    whose user id is no id (``"abc"``, ``[3]``) is a 401 here too, not a 500.
    """

    www_authenticate_realm = "api"

    def authenticate_header(self, request: Request) -> str:
        return f'Token realm="{self.www_authenticate_realm}"'

    def get_raw_token(self, header: bytes) -> bytes | None:
        parts = header.split()
        if not parts or parts[0].lower() not in KEYWORDS:
            return None
        if len(parts) != 2:
            raise AuthenticationFailed("Authorization header must contain two space-delimited values")
        return parts[1]
