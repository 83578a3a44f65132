"""JWT authentication that answers 401, never 500, whatever the token's claims hold."""

from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from rest_framework_simplejwt import authentication
from rest_framework_simplejwt.exceptions import InvalidToken
from rest_framework_simplejwt.tokens import Token

from accounts.models import User


class JWTAuthentication(authentication.JWTAuthentication):
    """simplejwt's bearer authentication, with a malformed user id (a string where the
    primary key is a number) treated as an invalid token rather than an error."""

    def get_user(self, validated_token: Token) -> User:
        try:
            return super().get_user(validated_token)
        except (ValueError, TypeError, OverflowError) as exc:
            raise InvalidToken("Token contained no recognizable user identification") from exc


class JWTAuthenticationScheme(SimpleJWTScheme):
    """The schema's ``jwtAuth`` bearer scheme, for this subclass."""

    target_class = JWTAuthentication
