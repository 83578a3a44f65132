"""The pages in a real headless Chromium (Debian's), driven by Playwright's sync API
against pytest-django's live server.

Every page a test opens records console errors, uncaught exceptions, dialogs and the
URLs it requests; the checks at the end of each test say no script failed, no dialog
opened and nothing was fetched from another host. Screenshots for the README are
written to $BLOG_SCREENSHOT_DIR (docs/ with `make screenshots`), else to a temporary folder.

Skipped only when /usr/bin/chromium is missing; CI installs it and sets
BLOG_REQUIRE_BROWSER=1, which turns a missing browser into a failure.
"""

import base64
import io
import math
import os
import re
import tempfile
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image as Picture
from PIL import ImageDraw

from accounts.tests.factories import PASSWORD, UserFactory
from images import services as image_services
from images.models import Image
from posts.models import Post
from posts.tests.factories import CommentFactory, LikeFactory, PostFactory
from web.tests.browser import require_chromium


@pytest.fixture(autouse=True, scope="module")
def _allow_orm_beside_playwright():
    # Playwright's sync API runs an event loop in this thread; the test's own ORM calls
    # (factories, assertions) are still plain synchronous code. Scoped to this module so
    # that later tests (and their subprocesses) do not inherit the switch.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        yield


# `make screenshots` writes them to docs/ for the README; ordinary runs keep the tree clean.
DOCS = Path(os.environ.get("BLOG_SCREENSHOT_DIR") or Path(tempfile.gettempdir()) / "blog-screenshots")
DOCS.mkdir(parents=True, exist_ok=True)
TIMEOUT_MS = 15_000

require_chromium()

from playwright import sync_api  # noqa: E402  (pinned in requirements/dev.txt)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


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
        if href == "/static/nope.png":
            continue  # the image that is not ours, shown as a link to it: a real link
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


# --- Images ------------------------------------------------------------------------------


def test_covers_avatars_and_body_images_load_from_the_site_only(open_page, image_of):
    writer = UserFactory(username="painter", display_name="The Painter")
    writer.avatar = image_of(writer, width=640, height=480)
    writer.save()
    cover = image_of(writer, width=1600, height=900, alt="A wide cover")
    photo = image_of(writer, width=1200, height=800, alt="stored")
    post = PostFactory(
        author=writer,
        cover_image=cover,
        body=f"Ours:\n\n![A photo](/media/{photo.file})\n\nTheirs: ![A chart](https://elsewhere.example/c.png)",
    )

    watched = open_page()
    page = watched.page
    page.goto(post.get_absolute_url())
    for selector in ("img.cover", "img.avatar", ".prose img"):
        assert_loaded(page, selector)
    sync_api.expect(page.locator(".prose a", has_text="A chart")).to_have_attribute(
        "href", "https://elsewhere.example/c.png"
    )
    # The browser picked a rendition for the column, not the 1600-pixel original.
    assert "-1000." in page.locator("img.cover").evaluate("el => el.currentSrc")
    page.goto(f"/authors/{writer.username}/")
    assert_loaded(page, "img.avatar")


def assert_loaded(page, selector: str) -> None:
    """The one image ``selector`` finds is decoded: its file was served and is an image."""
    image = page.locator(selector)
    sync_api.expect(image).to_have_count(1)
    image.scroll_into_view_if_needed()  # lazy images load when they come into view
    page.wait_for_function("el => el.complete && el.naturalWidth > 0", arg=image.element_handle())


# --- The editor's images ---------------------------------------------------------------


def landscape(
    width: int = 1200,
    height: int = 800,
    *,
    sky=((250, 200, 120), (235, 120, 90)),
    sun=(255, 240, 200),
    hills=((120, 80, 110), (70, 50, 80)),
) -> bytes:
    """A real JPEG made with Pillow: a sky fading down, a sun and rolling hills."""
    picture = Picture.new("RGB", (width, height))
    draw = ImageDraw.Draw(picture)
    top, bottom = sky
    for y in range(height):
        t = y / (height - 1)
        draw.line(
            [(0, y), (width, y)], fill=tuple(round(a + (b - a) * t) for a, b in zip(top, bottom, strict=True))
        )
    radius, cx, cy = height // 9, width * 0.68, height * 0.42
    draw.ellipse([cx - radius, cy - radius, cx + radius, cy + radius], fill=sun)
    for i, colour in enumerate(hills):  # the farther first
        base = height * (0.6 + 0.14 * i)
        xs = [width * step / 24 for step in range(25)]
        ridge = [(x, base - math.sin(x / width * math.pi * (2 + i) + i) * height * 0.07) for x in xs]
        draw.polygon([(0, height), *ridge, (width, height)], fill=colour)
    buffer = io.BytesIO()
    picture.save(buffer, "JPEG", quality=88)
    return buffer.getvalue()


def photo_file(folder: Path, name: str, **options) -> Path:
    path = folder / name
    path.write_bytes(landscape(**options))
    return path


def choose_files(page, button: str, *paths: Path) -> None:
    """Click ``button`` and pick ``paths`` in the file chooser it opens."""
    with page.expect_file_chooser() as chooser:
        page.get_by_role("button", name=button, exact=True).click()
    chooser.value.set_files(list(paths))


def media_urls(markdown: str) -> list[tuple[str, str]]:
    """The (alt, path) of each image in ``markdown``."""
    return [(alt, urlsplit(url).path) for alt, url in re.findall(r"!\[([^\]]*)\]\(([^)\s]+)\)", markdown)]


def forget_expected_failures(watched: Watched, status: int) -> None:
    # The browser logs each refused request as a failed resource; those were expected.
    assert all(f"status of {status}" in error for error in watched.errors), watched.errors
    watched.errors.clear()


def test_an_image_added_with_the_button_goes_in_at_the_cursor_and_shows(open_page, tmp_path):
    writer = UserFactory(username="photographer")
    watched = open_page()
    page = watched.page
    log_in(page, "photographer", next_path="/write/")
    page.get_by_label("Title").fill("A morning at the harbour")
    body = page.get_by_label("Body")
    body.fill("Before.\n\nAfter.")
    body.evaluate("el => el.setSelectionRange(9, 9)")  # at the start of "After."

    choose_files(page, "Add image", photo_file(tmp_path, "harbour [at] dawn.jpg"))
    status = page.locator("[data-image-status]")
    sync_api.expect(status.locator("#ed-image-label")).to_have_text(
        "Added “harbour [at] dawn.jpg” to the body."
    )
    sync_api.expect(status.locator("progress")).to_have_js_property("value", 100)
    sync_api.expect(status).to_contain_text("100%")
    image = Image.objects.get(owner=writer)
    value = body.input_value()
    assert media_urls(value) == [("harbour at dawn", f"/media/{image.file}")]
    assert value.startswith("Before.\n\n![harbour at dawn](") and value.endswith(")\n\nAfter.")
    assert image.alt == "harbour at dawn"

    # The preview is the server's rendering: the image with its renditions.
    page.get_by_role("button", name="Preview").click()
    shown = page.locator("[data-preview] img")
    sync_api.expect(shown).to_have_attribute("srcset", re.compile(r"-600\.webp 600w, .*-1000\.webp 1000w"))
    sync_api.expect(shown).to_have_attribute("alt", "harbour at dawn")
    assert_loaded(page, "[data-preview] img")

    page.get_by_role("button", name="Write", exact=True).click()
    page.get_by_role("button", name="Publish").click()
    page.wait_for_url("**/posts/a-morning-at-the-harbour-*/")
    sync_api.expect(page.locator(".prose img")).to_have_attribute("src", f"/media/{image.file}")
    sync_api.expect(page.locator(".prose img")).to_have_attribute("srcset", re.compile(r"-600\.webp 600w"))
    assert_loaded(page, ".prose img")


DROP_FILES = """([files, kind]) => {
  const transfer = new DataTransfer();
  for (const [name, encoded] of files) {
    const bytes = Uint8Array.from(atob(encoded), (c) => c.charCodeAt(0));
    transfer.items.add(new File([bytes], name, { type: "image/jpeg" }));
  }
  const body = document.querySelector("#ed-body");
  const init = { bubbles: true, cancelable: true };
  const events = kind === "drop"
    ? ["dragenter", "dragover", "drop"].map((t) => new DragEvent(t, { ...init, dataTransfer: transfer }))
    : [new ClipboardEvent("paste", { ...init, clipboardData: transfer })];
  for (const event of events) body.dispatchEvent(event);
}"""


# Counts the page's XMLHttpRequests under way: "most" is how many were ever at once.
COUNT_REQUESTS = """(() => {
  const seen = (window.requestsSeen = { open: 0, most: 0, sent: 0 });
  const send = XMLHttpRequest.prototype.send;
  XMLHttpRequest.prototype.send = function (...args) {
    seen.open += 1;
    seen.sent += 1;
    seen.most = Math.max(seen.most, seen.open);
    // readystatechange (DONE) comes before "load", whose handler starts the next upload.
    this.addEventListener("readystatechange", () => { if (this.readyState === 4) seen.open -= 1; });
    return send.apply(this, args);
  };
})();"""


def test_images_dropped_or_pasted_on_the_body_upload_one_after_another(open_page):
    writer = UserFactory(username="dropper")
    watched = open_page()
    page = watched.page
    page.add_init_script(COUNT_REQUESTS)
    log_in(page, "dropper", next_path="/write/")
    body = page.get_by_label("Body")
    body.fill("Intro.")
    body.evaluate("el => el.setSelectionRange(el.value.length, el.value.length)")

    two = [[name, base64.b64encode(landscape(700, 500)).decode()] for name in ("first.jpg", "second.jpg")]
    page.evaluate(DROP_FILES, [two, "drop"])
    label = page.locator("#ed-image-label")
    sync_api.expect(label).to_have_text("Added “second.jpg” (2 of 2) to the body.")
    assert page.evaluate("window.requestsSeen") == {"open": 0, "most": 1, "sent": 2}  # never two at once

    pasted = [["image.png", base64.b64encode(landscape(300, 200)).decode()]]
    page.evaluate(DROP_FILES, [pasted, "paste"])
    sync_api.expect(label).to_have_text("Added “image.png” to the body.")

    first, second, third = Image.objects.filter(owner=writer).order_by("id")
    value = body.input_value()
    assert media_urls(value) == [
        ("first", f"/media/{first.file}"),
        ("second", f"/media/{second.file}"),
        ("image", f"/media/{third.file}"),
    ]
    assert value.startswith("Intro.\n\n![first](")


def test_a_cover_picked_in_the_editor_shows_on_the_post_until_removed(open_page, tmp_path):
    writer = UserFactory(username="coverer")
    post = PostFactory(author=writer, title="Postcards", body="Wish you were here.")
    watched = open_page()
    page = watched.page
    log_in(page, "coverer", next_path=f"/write/{post.slug}/")
    sync_api.expect(page.get_by_label("Title")).to_have_value("Postcards")
    picker = page.get_by_role("group", name="Cover image")
    sync_api.expect(picker).to_contain_text("No cover image.")
    sync_api.expect(picker.get_by_role("button", name="Remove cover")).to_be_hidden()

    choose_files(page, "Upload cover image", photo_file(tmp_path, "postcard.jpg"))
    sync_api.expect(picker.locator("#ed-cover-label")).to_have_text(
        "“postcard.jpg” is the cover; save to keep it."
    )
    assert_loaded(page, "[data-cover-thumb]")
    page.get_by_role("button", name="Update").click()
    page.wait_for_url(f"**/posts/{post.slug}/")
    post.refresh_from_db()
    assert post.cover_image is not None and post.cover_image.owner == writer
    sync_api.expect(page.locator("img.cover")).to_have_attribute("src", f"/media/{post.cover_image.file}")
    assert_loaded(page, "img.cover")

    # Editing again shows the cover; removing it and saving takes it off the post.
    page.get_by_role("link", name="Edit post").click()
    thumb = page.locator("[data-cover-thumb]")
    sync_api.expect(thumb).to_be_visible()
    assert Path(post.cover_image.file).stem in thumb.get_attribute("src")
    picker.get_by_role("button", name="Remove cover").click()
    sync_api.expect(picker).to_contain_text("No cover image.")
    sync_api.expect(picker.get_by_role("button", name="Upload cover image")).to_be_focused()
    page.get_by_role("button", name="Update").click()
    page.wait_for_url(f"**/posts/{post.slug}/")
    sync_api.expect(page.locator(".prose")).to_contain_text("Wish you were here.")
    sync_api.expect(page.locator("img.cover")).to_have_count(0)
    post.refresh_from_db()
    assert post.cover_image is None


def test_a_cover_refused_on_save_shows_its_error_beside_the_picker(open_page, tmp_path):
    writer = UserFactory(username="unlucky-cover")
    watched = open_page()
    page = watched.page
    log_in(page, "unlucky-cover", next_path="/write/")
    page.get_by_label("Title").fill("Gone before saving")
    page.get_by_label("Body").fill("Text.")
    choose_files(page, "Upload cover image", photo_file(tmp_path, "fleeting.jpg", width=400, height=300))
    sync_api.expect(page.locator("#ed-cover-label")).to_contain_text("is the cover")
    # Deleted from the media library (in another tab, say) before the post is saved.
    image_services.delete_image(image=Image.objects.get(owner=writer))

    page.get_by_role("button", name="Save draft").click()
    sync_api.expect(page.locator("#ed-cover_image-error")).to_have_text("No image of yours has this id.")
    sync_api.expect(page.get_by_role("button", name="Replace cover image")).to_have_attribute(
        "aria-invalid", "true"
    )
    sync_api.expect(page.locator("[data-form-error]")).to_be_hidden()
    assert not Post.objects.filter(title="Gone before saving").exists()
    forget_expected_failures(watched, 400)


def test_a_file_that_is_not_an_image_shows_its_error_beside_the_button(open_page, tmp_path, settings):
    UserFactory(username="prankster")
    settings.MEDIA_MAX_BYTES = 5_000
    fake = tmp_path / "holiday.jpg"
    fake.write_text("<html><script>alert('not an image')</script></html>")
    watched = open_page()
    page = watched.page
    uploads = []
    page.on("request", lambda r: r.method == "POST" and "/api/v1/media/" in r.url and uploads.append(r.url))
    log_in(page, "prankster", next_path="/write/")
    body = page.get_by_label("Body")
    body.fill("Unchanged.")

    choose_files(page, "Add image", fake)
    error = page.locator("#ed-image-error")
    sync_api.expect(error).to_have_text(
        "“holiday.jpg”: Upload a JPEG, PNG, GIF or WebP image; this file is not one."
    )
    sync_api.expect(page.get_by_role("button", name="Add image")).to_have_attribute("aria-invalid", "true")
    sync_api.expect(page.locator("#ed-image-label")).to_have_text("“holiday.jpg” was not uploaded.")

    # A file over the limit is refused before it is sent.
    choose_files(page, "Add image", photo_file(tmp_path, "huge.jpg"))
    sync_api.expect(error).to_contain_text("“huge.jpg”: It is ")
    sync_api.expect(error).to_contain_text("the largest image accepted is 5000 bytes.")
    assert len(uploads) == 1
    assert body.input_value() == "Unchanged."
    assert not Image.objects.exists()
    forget_expected_failures(watched, 400)


def test_post_with_images_screenshot(open_page):
    """The README's picture of a post with a cover and an image in its body."""
    writer = UserFactory(username="marina", display_name="Marina Keel", bio="Boats, tides and harbours.")

    def upload(data: bytes, alt: str) -> Image:
        file = SimpleUploadedFile("photo.jpg", data, content_type="image/jpeg")
        return image_services.upload_image(owner=writer, file=file, alt=alt)

    writer.avatar = upload(landscape(400, 400, sky=((120, 170, 220), (200, 220, 240))), "")
    writer.save()
    cover = upload(landscape(1600, 800), "Hills at sunset above the bay")
    inline = upload(
        landscape(
            1200,
            800,
            sky=((110, 160, 215), (215, 230, 245)),
            sun=(255, 250, 225),
            hills=((90, 130, 110), (50, 90, 70)),
        ),
        "",
    )
    post = PostFactory(
        author=writer,
        title="Low tide, high hills",
        tags=["travel", "photography"],
        body=(
            "The tide went out at six and took the colour of the sky with it. By seven the "
            "mudflats were copper, and the hills above the bay had turned the violet they "
            "only manage for a quarter of an hour.\n\n"
            f"![The valley at noon, green under a pale sky](/media/{inline.file})\n\n"
            "At noon the same valley was another country: green, patient, and full of sheep "
            "who had no opinion about the light."
        ),
        cover_image=cover,
    )
    watched = open_page()
    page = watched.page
    page.goto(post.get_absolute_url())
    assert_loaded(page, "img.cover")
    assert_loaded(page, ".prose img")
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=DOCS / "screenshot-post-images.png", full_page=True)


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
