"""The admin site: Django's, with its login counted like every other way in."""

from django.contrib import admin
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.utils.decorators import method_decorator

from accounts.throttles import login_throttled


class AdminSite(admin.AdminSite):
    """``admin.site``: its login form spends the client address's login budget, shared
    with the token endpoint, ``/login/`` and Conduit's login, so that it is no way
    around that budget (it had none: issue 12, finding 3). Failed logins were already
    counted by django-axes, through ``authenticate()``."""

    @method_decorator(login_throttled)
    @login_not_required
    def login(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        return super().login(request, extra_context)
