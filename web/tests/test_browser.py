"""The pages in a real headless Chromium (Debian's), driven by Playwright's sync API
against pytest-django's live server.

Every page a test opens records console errors, uncaught exceptions, dialogs and the
URLs it requests; the checks at the end of each test say no script failed, no dialog
opened and nothing was fetched from another host. Screenshots for the README are
written to $BLOG_SCREENSHOT_DIR (docs/ with `make screenshots`), else to a temporary folder.

Skipped only when /usr/bin/chromium is missing; CI installs it and sets
BLOG_REQUIRE_BROWSER=1, which turns a missing browser into a failure.
"""

import os
import tempfile
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.utils import timezone

from accounts.tests.factories import PASSWORD, UserFactory
from posts.models import Post
from posts.tests.factories import CommentFactory, LikeFactory, PostFactory


@pytest.fixture(autouse=True, scope="module")
def _allow_orm_beside_playwright():
    # Playwright's sync API runs an event loop in this thread; the test's own ORM calls
    # (factories, assertions) are still plain synchronous code. Scoped to this module so
    # that later tests (and their subprocesses) do not inherit the switch.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        yield


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
# `make screenshots` writes them to docs/ for the README; ordinary runs keep the tree clean.
DOCS = Path(os.environ.get("BLOG_SCREENSHOT_DIR") or Path(tempfile.gettempdir()) / "blog-screenshots")
DOCS.mkdir(parents=True, exist_ok=True)
TIMEOUT_MS = 15_000

if not Path(CHROMIUM).exists() and os.environ.get("BLOG_REQUIRE_BROWSER") != "1":
    pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)", allow_module_level=True)

from playwright import sync_api  # noqa: E402  (pinned in requirements/dev.txt)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def chromium():
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@dataclass
class Watched:
    """A page and what it did: console errors, uncaught errors, dialogs, requests."""

    page: object
    errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    def assert_clean(self, origin: str) -> None:
        assert self.errors == [], self.errors
        assert self.dialogs == [], self.dialogs
        foreign = [
            url for url in self.requests if not url.startswith(origin + "/") and not url.startswith("data:")
        ]
        assert foreign == [], foreign


@pytest.fixture
def open_page(chromium, live_server):
    """``open_page(javascript=True, **context_options)``: a fresh browser context (its own
    cookies) and page, watched. Every page is checked clean when the test ends."""
    contexts, watched_pages = [], []

    def _open(javascript: bool = True, **options) -> Watched:
        options.setdefault("viewport", {"width": 1280, "height": 860})
        options.setdefault("timezone_id", settings.TIME_ZONE)  # the browser's local time = the server's
        context = chromium.new_context(base_url=live_server.url, java_script_enabled=javascript, **options)
        context.set_default_timeout(TIMEOUT_MS)
        page = context.new_page()
        watched = Watched(page)
        page.on("console", lambda msg: msg.type == "error" and watched.errors.append(msg.text))
        page.on("pageerror", lambda exc: watched.errors.append(f"uncaught: {exc}"))
        page.on("request", lambda req: watched.requests.append(req.url))

        def on_dialog(dialog):
            watched.dialogs.append(f"{dialog.type}: {dialog.message}")
            dialog.dismiss()

        page.on("dialog", on_dialog)
        contexts.append(context)
        watched_pages.append(watched)
        return watched

    yield _open
    try:
        for watched in watched_pages:
            watched.assert_clean(live_server.url)
    finally:
        for context in contexts:
            context.close()


def log_in(page, username: str, password: str = PASSWORD, next_path: str = "/me/") -> None:
    page.goto(f"/login/?next={next_path}")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    # Not a glob: "/login/?next=/me/" itself ends with "/me/".
    page.wait_for_url(lambda url: urlsplit(url).path == urlsplit(next_path).path)


def sample_posts() -> None:
    """A few readable posts for the screenshots."""
    ada = UserFactory(username="ada", display_name="Ada Lovelace", bio="Notes on engines and numbers.")
    grace = UserFactory(username="grace", display_name="Grace Hopper")
    now = timezone.now()
    samples = [
        (
            ada,
            "The analytical engine weaves patterns",
            "engines, history",
            "The engine weaves algebraic patterns just as the Jacquard loom weaves flowers and "
            "leaves. It can arrange and combine its numbers as freely as letters.",
        ),
        (
            grace,
            "Nanoseconds you can hold in your hand",
            "hardware, teaching",
            "A nanosecond is about thirty centimetres of wire: the distance light travels in a "
            "billionth of a second. Hand one to a student and latency stops being abstract.",
        ),
        (
            ada,
            "Notes on a translation, with notes on the notes",
            "writing, history",
            "The notes ended up three times longer than the paper they annotate. That is what "
            "happens when the translator understands the machine better than the author.",
        ),
        (
            grace,
            "Why the compiler should do the boring part",
            "compilers, python",
            "People were told computers could only do arithmetic. Teaching one to translate "
            "words into code freed programmers for the parts that need thought.",
        ),
    ]
    for minutes, (user, title, tags, opening) in enumerate(samples, start=1):
        paragraph = "The rest of the post takes its time, one idea to a paragraph, with room to breathe. "
        PostFactory(
            author=user,
            title=title,
            body=f"{opening}\n\n" + "\n\n".join([paragraph * 4] * 6),
            excerpt="",
            tags=[t.strip() for t in tags.split(",")],
            published_at=now - timedelta(minutes=30 * minutes),
        )


# --- The story ------------------------------------------------------------------------


def test_writer_and_reader_story(open_page, live_server):
    sample_posts()
    writer = open_page()
    page = writer.page

    # A new user signs up and lands in the editor.
    page.goto("/")
    page.get_by_role("link", name="Sign up").click()
    page.get_by_label("Username").fill("newwriter")
    page.get_by_label("Email").fill("newwriter@example.com")
    page.get_by_label("Display name").fill("Nell Writer")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()
    page.wait_for_url("**/write/")

    # They write a draft, with a Markdown preview rendered by the server.
    page.get_by_label("Title").fill("Field notes from a slow river")
    page.get_by_label("Body").fill(
        "## Morning\n\nThe water was **still**, and the herons were *patient*.\n\n"
        "- fog\n- reeds\n- a kingfisher\n\n> Nothing in a hurry.\n"
    )
    page.get_by_label("Tags").fill("nature, travel")
    page.get_by_role("button", name="Preview").click()
    preview = page.locator("[data-preview]")
    sync_api.expect(preview.locator("strong")).to_have_text("still")
    sync_api.expect(preview.locator("h2")).to_have_text("Morning")
    page.screenshot(path=DOCS / "screenshot-editor.png", full_page=True)
    page.get_by_role("button", name="Write", exact=True).click()
    page.get_by_role("button", name="Save draft").click()
    sync_api.expect(page.locator("[data-status]")).to_contain_text("Draft")
    page.wait_for_url("**/write/field-notes-from-a-slow-river-*/")  # the slug's random suffix
    post = Post.objects.get(title="Field notes from a slow river")
    assert post.status == "draft" and post.author.username == "newwriter"

    # "My posts" lists the draft.
    page.get_by_role("link", name="My posts").click()
    item = page.locator(".my-post", has_text="Field notes from a slow river")
    sync_api.expect(item.locator(".badge")).to_have_text("Draft")

    # A logged-out visitor does not see it.
    visitor = open_page()
    visitor.page.goto("/")
    sync_api.expect(visitor.page.locator(".post-list")).to_contain_text("The analytical engine")
    sync_api.expect(visitor.page.locator("main")).not_to_contain_text("Field notes from a slow river")
    assert visitor.page.request.get(f"/posts/{post.slug}/").status == 404

    # The author publishes it and it reaches the home page.
    item.get_by_role("link", name="Edit").click()
    sync_api.expect(page.get_by_label("Title")).to_have_value("Field notes from a slow river")
    page.get_by_role("button", name="Publish").click()
    page.wait_for_url(f"**/posts/{post.slug}/")
    sync_api.expect(page.locator(".prose strong")).to_have_text("still")
    visitor.page.reload()
    sync_api.expect(visitor.page.locator(".post-list")).to_contain_text("Field notes from a slow river")

    # Another user comments and likes.
    UserFactory(username="reader", display_name="Rita Reader")
    reader = open_page()
    log_in(reader.page, "reader", next_path=f"/posts/{post.slug}/")
    reader.page.get_by_label("Add a comment").fill("Lovely. <b>Not bold</b> & calm.")
    reader.page.get_by_role("button", name="Post comment").click()
    comment = reader.page.locator(".comment", has_text="Lovely.")
    sync_api.expect(comment.locator(".comment-body")).to_have_text("Lovely. <b>Not bold</b> & calm.")
    like = reader.page.locator("[data-like]")
    like.click()
    sync_api.expect(like).to_have_attribute("aria-pressed", "true")
    sync_api.expect(like.locator("[data-like-count]")).to_have_text("1")
    reader.page.get_by_role("button", name="Follow Nell Writer").click()
    sync_api.expect(reader.page.get_by_role("button", name="Following Nell Writer")).to_be_visible()
    reader.page.reload()
    sync_api.expect(reader.page.locator("[data-like]")).to_have_attribute("aria-pressed", "true")
    sync_api.expect(reader.page.locator(".comment-body")).to_have_text("Lovely. <b>Not bold</b> & calm.")
    post.refresh_from_db()
    assert (post.like_count, post.comment_count) == (1, 1)

    # The author edits it...
    page.reload()
    sync_api.expect(page.locator("[data-like-count]")).to_have_text("1")
    page.screenshot(path=DOCS / "screenshot-post.png", full_page=True)
    page.get_by_role("link", name="Edit post").click()
    page.wait_for_url(f"**/write/{post.slug}/")
    sync_api.expect(page.get_by_label("Body")).to_have_value(post.body)
    page.get_by_label("Body").fill(post.body + "\nEvening: *the fog lifted*.\n")
    page.get_by_role("button", name="Update").click()
    page.wait_for_url(f"**/posts/{post.slug}/")
    sync_api.expect(page.locator(".prose em", has_text="the fog lifted")).to_be_visible()

    # ...logs out, and the writer pages then ask for a login.
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(f"{live_server.url}/")
    for path in ["/write/", f"/write/{post.slug}/", "/me/"]:
        page.goto(path)
        assert "/login/?next=" in page.url
        sync_api.expect(page.get_by_role("heading", name="Log in")).to_be_visible()

    # The home page, as a visitor sees it, for the README.
    visitor.page.goto("/")
    visitor.page.screenshot(path=DOCS / "screenshot-home.png", full_page=True)


# --- Hostile content --------------------------------------------------------------------

HOSTILE_BODY = (
    "Before.\n\n<script>alert('script')</script>\n\n"
    '<img src="/static/nope.png" onerror="alert(\'onerror\')">\n\n'
    "<svg><script>alert('svg')</script></svg>\n\n"
    "[click](javascript:alert('link'))\n\n"
    '<a href="javascript:alert(1)" onclick="alert(2)">a link</a>\n\nAfter.'
)


def test_hostile_post_and_comment_run_nothing(open_page):
    author = UserFactory(username="mallory", display_name="<img src=x onerror=alert('name')>")
    post = PostFactory(
        author=author, title="<script>alert('title')</script>", body=HOSTILE_BODY, tags=["<b>x</b>"]
    )
    CommentFactory(post=post, body="<script>alert('comment')</script><img src=x onerror=alert(3)>")
    UserFactory(username="victim")

    # Anonymous and signed-in readers; the author's editor and its preview.
    anonymous = open_page()
    anonymous.page.goto(post.get_absolute_url())
    sync_api.expect(anonymous.page.locator("h1")).to_have_text("<script>alert('title')</script>")
    sync_api.expect(anonymous.page.locator(".prose")).to_contain_text("After.")
    anonymous.page.goto("/")
    anonymous.page.goto(f"/authors/{author.username}/")

    victim = open_page()
    log_in(victim.page, "victim", next_path=post.get_absolute_url())
    links = victim.page.locator(".prose a")
    for i in range(links.count()):
        href = links.nth(i).get_attribute("href") or ""
        assert not href.lower().startswith("javascript"), href
        links.nth(i).click()  # nothing happens: no dialog, no navigation away
    victim.page.locator(".prose").hover()

    writer = open_page()
    log_in(writer.page, "mallory", next_path=f"/write/{post.slug}/")
    sync_api.expect(writer.page.get_by_label("Body")).to_have_value(HOSTILE_BODY)
    writer.page.get_by_role("button", name="Preview").click()
    sync_api.expect(writer.page.locator("[data-preview]")).to_contain_text("After.")
    assert writer.page.locator("[data-preview] script, [data-preview] [onerror]").count() == 0
    writer.page.wait_for_timeout(300)  # give any handler a chance to fire

    for watched in (anonymous, victim, writer):
        assert watched.dialogs == []
        # The broken images are meant to fail to load (that is what fires onerror).
        watched.errors[:] = [e for e in watched.errors if "status of 404" not in e]


# --- Without JavaScript, and when requests fail -----------------------------------------


def test_reader_pages_work_with_javascript_off(open_page):
    writer = UserFactory(username="plain", display_name="Plain Text")
    for i in range(3):
        PostFactory(author=writer, title=f"Readable without scripts {i}", tags=["calm"])

    watched = open_page(javascript=False)
    page = watched.page
    page.goto("/")
    sync_api.expect(page.locator(".post-list > li")).to_have_count(3)
    page.get_by_role("link", name="Readable without scripts 1").click()
    sync_api.expect(page.locator("h1")).to_have_text("Readable without scripts 1")
    page.get_by_role("link", name="Plain Text").first.click()
    sync_api.expect(page.locator(".post-list > li")).to_have_count(3)
    page.get_by_role("link", name="#calm").first.click()
    sync_api.expect(page.locator("h1")).to_contain_text("#calm")
    page.goto("/")
    page.get_by_label("Search posts").fill("without scripts 2")
    page.get_by_role("button", name="Search").click()
    sync_api.expect(page.locator(".post-list")).to_contain_text("Readable without scripts 2")

    # The login form works without JavaScript too.
    log_in(page, "plain", next_path="/me/")
    sync_api.expect(page.get_by_role("heading", name="My posts")).to_be_visible()


def test_a_failed_request_shows_a_message_and_a_retry(open_page):
    writer = UserFactory(username="unlucky")
    PostFactory(author=writer, title="Still here after a retry", draft=True)
    watched = open_page()
    page = watched.page
    log_in(page, "unlucky", next_path="/write/")

    failures = {"left": 1}

    def flaky(route):
        if failures["left"]:
            failures["left"] -= 1
            route.fulfill(
                status=503, content_type="application/json", body='{"detail": "Down for a moment."}'
            )
        else:
            route.continue_()

    page.route("**/api/v1/auth/me/posts/**", flaky)
    page.goto("/me/")
    alert = page.locator("[data-load-error]")
    sync_api.expect(alert).to_contain_text("Your posts could not be loaded. Down for a moment.")
    alert.get_by_role("button", name="Retry").click()
    sync_api.expect(page.locator(".my-post")).to_contain_text("Still here after a retry")
    sync_api.expect(alert).to_be_hidden()
    # The one failure was ours; the browser logs it as a failed resource.
    assert all("503" in error for error in watched.errors), watched.errors
    watched.errors.clear()


def test_signup_shows_errors_next_to_fields(open_page):
    UserFactory(username="taken")
    watched = open_page()
    page = watched.page
    page.goto("/signup/")
    page.get_by_label("Username").fill("Taken")
    page.get_by_label("Email").fill("not-an-email")
    page.get_by_label("Password").fill("a-long-enough-password-1")
    page.get_by_role("button", name="Sign up").click()
    username = page.get_by_label("Username")
    sync_api.expect(username).to_have_attribute("aria-invalid", "true")
    sync_api.expect(page.locator("#su-username-error")).to_contain_text("already exists")
    sync_api.expect(page.locator("#su-email-error")).not_to_be_empty()
    sync_api.expect(page.locator("#su-email-error")).to_contain_text("valid email")
    sync_api.expect(page.locator("#su-password-error")).to_be_empty()

    # Fixed, the form goes through and the new user is logged in.
    username.fill("fresh")
    page.get_by_label("Email").fill("fresh@example.com")
    page.get_by_role("button", name="Sign up").click()
    page.wait_for_url("**/write/")
    assert all("400" in error for error in watched.errors), watched.errors
    watched.errors.clear()


def test_phone_and_dark_mode_screenshots(open_page):
    sample_posts()
    post = Post.objects.filter(title__startswith="Nanoseconds").get()
    CommentFactory(post=post, body="This is how I finally understood latency.")
    LikeFactory(post=post)
    phone = open_page(viewport={"width": 390, "height": 844}, color_scheme="dark", is_mobile=True)
    phone.page.goto(post.get_absolute_url())
    sync_api.expect(phone.page.locator("h1")).to_have_text(post.title)
    width = phone.page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, "the post page scrolls sideways on a phone"
    phone.page.screenshot(path=DOCS / "screenshot-post-phone-dark.png", full_page=False)


def test_schedule_then_delete_a_post(open_page):
    UserFactory(username="planner")
    watched = open_page()
    page = watched.page
    log_in(page, "planner", next_path="/write/")
    page.get_by_label("Title").fill("Tomorrow's announcement")
    page.get_by_label("Body").fill("Not yet.")
    tomorrow = (timezone.localtime() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    page.get_by_label("Publish at").fill(tomorrow)
    page.get_by_role("button", name="Publish").click()
    page.wait_for_url("**/posts/tomorrows-announcement-*/")  # the slug's random suffix
    sync_api.expect(page.locator(".status-banner")).to_contain_text("Scheduled for")
    post = Post.objects.get(title="Tomorrow's announcement")
    assert post.display_status == "scheduled"

    visitor = open_page()
    visitor.page.goto("/")
    sync_api.expect(visitor.page.locator("main")).not_to_contain_text("Tomorrow's announcement")

    page.goto("/me/")
    page.get_by_role("button", name="Scheduled").click()
    sync_api.expect(page.locator(".my-post .badge")).to_have_text("Scheduled")
    page.get_by_role("link", name="Edit “Tomorrow's announcement”").click()
    sync_api.expect(page.get_by_label("Publish at")).to_have_value(tomorrow)
    delete = page.get_by_role("button", name="Delete")
    delete.click()
    sync_api.expect(page.get_by_role("button", name="Really delete?")).to_be_visible()
    page.get_by_role("button", name="Really delete?").click()
    page.wait_for_url("**/me/")
    sync_api.expect(page.locator("[data-status]")).to_have_text("No posts yet. Write your first one!")
    assert not Post.objects.filter(pk=post.pk).exists()
