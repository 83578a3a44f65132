"""JWT authentication that answers 401, never 500, whatever the token's claims hold."""

from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from rest_framework.request import Request
from rest_framework_simplejwt import authentication
from rest_framework_simplejwt.exceptions import InvalidToken
from rest_framework_simplejwt.tokens import Token

from accounts.models import User
from config import replicas


class JWTAuthentication(authentication.JWTAuthentication):
    """simplejwt's bearer authentication, with a malformed user id (a string where the
    primary key is a number) treated as an invalid token rather than an error.

    A user who wrote a moment ago (from any client) reads the primary from here on, as
    a browser does by its cookie (``config.replicas``); Conduit's ``Token`` scheme is
    this class too."""

    def authenticate(self, request: Request) -> tuple[User, Token] | None:
        authenticated = super().authenticate(request)
        if authenticated is not None:
            replicas.pin_if_recent_writer(authenticated[0])
        return authenticated

    def get_user(self, validated_token: Token) -> User:
        try:
            return super().get_user(validated_token)
        except (ValueError, TypeError, OverflowError) as exc:
            raise InvalidToken("Token contained no recognizable user identification") from exc


def user_for_access_token(raw_token: str) -> User:
    """The user ``raw_token`` authenticates as a bearer token: an access token (never a
    refresh token), validly signed, unexpired, of an existing active user. Raises
    InvalidToken or AuthenticationFailed (401s) otherwise, as a request with it would."""
    authentication = JWTAuthentication()
    return authentication.get_user(authentication.get_validated_token(raw_token))


class JWTAuthenticationScheme(SimpleJWTScheme):
    """The schema's ``jwtAuth`` bearer scheme, for this subclass."""

    target_class = JWTAuthentication
