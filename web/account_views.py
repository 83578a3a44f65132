"""Account pages: settings (with the export and the deletion of the account), password
reset, address verification and unsubscribing.

Plain Django forms that work without JavaScript, posting to the page itself; the writes
are ``accounts.services``' and ``notifications.services``', and each form spends the same
throttle budget as the API endpoint that does the same thing, so a page is no way around
it. Links that arrive by mail never act on GET (mail scanners fetch links): they show a
button that POSTs.
"""

from types import SimpleNamespace

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout, update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from accounts import selectors, services
from accounts.serializers import EMAIL_TAKEN
from accounts.throttles import (
    AuthRateThrottle,
    password_reset_wait,
    throttled_detail,
    verification_mail_wait,
)
from accounts.views import INCORRECT_PASSWORD, INVALID_RESET_LINK
from notifications import services as notifications
from web.forms import (
    DeleteAccountForm,
    NewPasswordForm,
    NotificationsForm,
    PasswordChangeForm,
    PasswordResetRequestForm,
    ProfileForm,
)

LOGIN_URL = "web:login"
PASSWORD_FIELDS = ("old_password", "new_password", "new_password_again")
NOTIFICATION_NAMES = {
    "comments": "comments on your posts",
    "followed_posts": "new posts by authors you follow",
}


def budget_wait(request: HttpRequest, scope: str) -> int | None:
    """Spend one request of the client address's budget ``scope``: the one the API view
    with that ``throttle_scope`` spends. None when allowed, else the seconds to wait."""
    throttle = AuthRateThrottle()
    if throttle.allow_request(request, SimpleNamespace(throttle_scope=scope)):
        return None
    return max(1, int(throttle.wait() or 1))


def _throttled(response: HttpResponse, wait: int) -> HttpResponse:
    response.status_code = 429
    response["Retry-After"] = str(wait)
    return response


def _private(response: HttpResponse) -> HttpResponse:
    # The page's URL holds a secret (a reset token, a key): no other site gets it.
    response["Referrer-Policy"] = "no-referrer"
    return response


# --- Settings ---------------------------------------------------------------------------


@sensitive_post_parameters(*PASSWORD_FIELDS)
@never_cache
@login_required(login_url=LOGIN_URL)
@csrf_protect
@require_http_methods(["GET", "POST"])
def settings_page(request: HttpRequest) -> HttpResponse:
    """Profile (name, bio, email), password, notifications, and the verification mail
    again when the address is unverified. Each form posts ``action`` to this page."""
    user = request.user
    forms = {
        "profile": ProfileForm(
            user=user, initial={"display_name": user.display_name, "bio": user.bio, "email": user.email}
        ),
        "password": PasswordChangeForm(user=user),
        "notifications": NotificationsForm(
            initial={
                "notify_comments": user.notify_comments,
                "notify_followed_posts": user.notify_followed_posts,
            }
        ),
    }
    context: dict = {}
    status = 200
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "profile":
            form = ProfileForm(request.POST, user=user)
            if form.is_valid():
                changes = form.changes()
                try:
                    services.update_account(user=user, **changes)
                except services.AccountConflict:  # taken since the form checked it
                    user.refresh_from_db()
                    form.add_error("email", EMAIL_TAKEN)
                else:
                    note = (
                        " We sent a link to the new address: follow it to verify it."
                        if "email" in changes
                        else ""
                    )
                    messages.success(request, f"Your profile is saved.{note}")
                    return HttpResponseRedirect(reverse("web:settings"))
            forms["profile"] = form
        elif action == "password":
            wait = budget_wait(request, "password")
            if wait is not None:
                context["password_refusal"] = throttled_detail(wait)
                return _throttled(render(request, "web/settings.html", {"forms": forms, **context}), wait)
            form = PasswordChangeForm(request.POST, user=user)
            if form.is_valid():
                services.update_account(user=user, password=form.cleaned_data["new_password"])
                update_session_auth_hash(request, user)  # this browser stays logged in, no other
                messages.success(request, "Your password is changed. Other devices are logged out.")
                return HttpResponseRedirect(reverse("web:settings"))
            forms["password"] = form
        elif action == "notifications":
            form = NotificationsForm(request.POST)
            if form.is_valid():
                services.update_account(user=user, **form.cleaned_data)
                messages.success(request, "Your mail choices are saved.")
                return HttpResponseRedirect(reverse("web:settings"))
            forms["notifications"] = form
        elif action == "resend":
            wait = verification_mail_wait(request)
            if wait is not None:
                messages.error(request, throttled_detail(wait))
            elif services.resend_verification(user=user):
                messages.success(request, f"We sent the link to {user.email} again.")
            else:
                messages.info(request, "Your address is verified already.")
            return HttpResponseRedirect(reverse("web:settings"))
        else:
            return HttpResponseBadRequest("Unknown action.")
        status = 400
    return render(request, "web/settings.html", {"forms": forms, **context}, status=status)


@sensitive_post_parameters("password")
@never_cache
@login_required(login_url=LOGIN_URL)
@csrf_protect
@require_http_methods(["GET", "POST"])
def delete_account(request: HttpRequest) -> HttpResponse:
    """GET says what goes with the account and asks for its password; the POST deletes it
    (``accounts.services.delete_account``, as ``DELETE /api/v1/auth/me/``, spending the
    same budget), logs out and says goodbye."""
    user = request.user
    form = DeleteAccountForm(request.POST if request.method == "POST" else None)
    context: dict = {"form": form, "owned": selectors.owned_counts(user=user)}
    if request.method == "POST":
        wait = budget_wait(request, "delete-account")
        if wait is not None:
            context["refusal"] = throttled_detail(wait)
            return _throttled(render(request, "web/delete_account.html", context), wait)
        if form.is_valid():
            try:
                services.delete_account(user=user, password=form.cleaned_data["password"])
            except services.WrongPassword:
                form.add_error("password", INCORRECT_PASSWORD)
            else:
                username = user.username
                logout(request)
                # A page, not a redirect with a message: the home page shows no messages,
                # and sending this again finds no session (the login page).
                return render(request, "web/account_deleted.html", {"username": username})
        return render(request, "web/delete_account.html", context, status=400)
    return render(request, "web/delete_account.html", context)


# --- Password reset -----------------------------------------------------------------------


@never_cache
@csrf_protect
@require_http_methods(["GET", "POST"])
def password_reset(request: HttpRequest) -> HttpResponse:
    """Ask for a reset link. The same page follows for an address with no account."""
    form = PasswordResetRequestForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        if not form.is_valid():
            return render(request, "web/password_reset.html", {"form": form}, status=400)
        email = form.cleaned_data["email"]
        wait = password_reset_wait(request, email)
        if wait is not None:
            response = render(
                request, "web/password_reset.html", {"form": form, "refusal": throttled_detail(wait)}
            )
            return _throttled(response, wait)
        services.request_password_reset(email=email)
        context = {"email": email, "valid_for": services.duration_text(settings.PASSWORD_RESET_TIMEOUT)}
        return render(request, "web/password_reset_sent.html", context)
    return render(request, "web/password_reset.html", {"form": form})


@sensitive_post_parameters("new_password", "new_password_again")
@never_cache
@csrf_protect
@require_http_methods(["GET", "POST"])
def password_reset_confirm(request: HttpRequest, uid: str, token: str) -> HttpResponse:
    """Choose a new password through a mailed link; then log in with it."""

    def invalid(status: int) -> HttpResponse:
        context = {"invalid": INVALID_RESET_LINK}
        return _private(render(request, "web/password_reset_confirm.html", context, status=status))

    if request.method == "GET":
        try:
            services.check_reset_link(uid=uid, token=token)
        except services.InvalidResetLink:
            return invalid(200)
        return _private(render(request, "web/password_reset_confirm.html", {"form": NewPasswordForm()}))

    wait = budget_wait(request, "password-reset-confirm")
    if wait is not None:
        context = {"form": NewPasswordForm(request.POST), "refusal": throttled_detail(wait)}
        return _throttled(_private(render(request, "web/password_reset_confirm.html", context)), wait)
    form = NewPasswordForm(request.POST)
    if form.is_valid():
        try:
            services.reset_password(uid=uid, token=token, new_password=form.cleaned_data["new_password"])
        except services.InvalidResetLink:
            return invalid(400)
        except services.PasswordRejected as exc:
            form.add_error("new_password", exc.messages)
        else:
            messages.success(request, "Your password is changed. Log in with it.")
            return HttpResponseRedirect(reverse("web:login"))
    return _private(render(request, "web/password_reset_confirm.html", {"form": form}, status=400))


# --- Links in mail ---------------------------------------------------------------------------


@never_cache
@csrf_protect
@require_http_methods(["GET", "POST"])
def verify_email(request: HttpRequest, key: str) -> HttpResponse:
    """GET shows a button; its POST verifies the address and says so, or says why not."""
    if request.method == "GET":
        return _private(render(request, "web/verify_email.html", {"state": "ask"}))
    wait = budget_wait(request, "verify-email")
    if wait is not None:
        context = {"state": "ask", "refusal": throttled_detail(wait)}
        return _throttled(_private(render(request, "web/verify_email.html", context)), wait)
    try:
        user = services.verify_email(key=key)
    except services.InvalidVerificationKey as exc:
        context = {"state": "failed", "reason": exc.reason}
        return _private(render(request, "web/verify_email.html", context, status=400))
    return _private(render(request, "web/verify_email.html", {"state": "done", "email": user.email}))


# Mail clients that offer RFC 8058's one-click unsubscribe POST here themselves, with no
# cookie: no CSRF token can come with it. The signed token is the authority, and all it
# can do is stop a kind of mail.
@csrf_exempt
@never_cache
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """GET asks (with a button); POST turns the notification off, with no login."""
    try:
        if request.method == "POST":
            target = notifications.unsubscribe(token=token)
        else:
            target = notifications.read_unsubscribe_token(token=token)
    except notifications.BadUnsubscribeToken:
        return _private(render(request, "web/unsubscribe.html", {"state": "invalid"}, status=400))
    context = {
        "state": "done" if request.method == "POST" else "ask",
        "what": NOTIFICATION_NAMES[target.kind],
    }
    return _private(render(request, "web/unsubscribe.html", context))
