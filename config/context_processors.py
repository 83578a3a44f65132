from django.conf import settings
from django.http import HttpRequest


def site(request: HttpRequest) -> dict[str, str | bool]:
    return {"SITE_NAME": settings.SITE_NAME, "REQUIRE_VERIFIED_EMAIL": settings.REQUIRE_VERIFIED_EMAIL}
