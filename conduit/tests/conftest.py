"""Clients that speak RealWorld: ``Authorization: Token <jwt>``."""

import pytest
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken


def token_client(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Token {AccessToken.for_user(user)}")
    return client


@pytest.fixture
def author_conduit(author):
    return token_client(author)


@pytest.fixture
def other_conduit(other_user):
    return token_client(other_user)


@pytest.fixture
def staff_conduit(staff_user):
    return token_client(staff_user)
