"""Notifications by mail: a comment to the post's author, a new post to the author's
followers in batches, both with text and HTML parts and a one-click unsubscribe."""

import re

import pytest
from django.db import transaction
from django.test import Client

from accounts.models import User
from accounts.tests.factories import UserFactory
from notifications import handlers, services
from notifications.tests.factories import followers_of
from outbox import services as outbox
from outbox.models import Message
from posts.tests.factories import CommentFactory, PostFactory

pytestmark = pytest.mark.django_db

UNSUBSCRIBE = re.compile(r"<(https?://[^/>]+(/unsubscribe/[^/>]+/))>")


def notify_comment(comment, capture) -> None:
    with capture(execute=True), transaction.atomic():
        services.comment_added(comment=comment)


def publish(post, capture) -> None:
    with capture(execute=True), transaction.atomic():
        services.post_published(post=post)


def unsubscribe_path(mail) -> str:
    match = UNSUBSCRIBE.fullmatch(mail.extra_headers["List-Unsubscribe"])
    assert match, mail.extra_headers
    return match.group(2)


# --- A comment, to the post's author ------------------------------------------------------


def test_the_author_gets_a_mail_quoting_the_comment_with_both_parts_and_unsubscribe_headers(
    author, other_user, django_capture_on_commit_callbacks, mailoutbox, settings
):
    settings.MAIL_SITE_URL = "https://blog.example.com"
    post = PostFactory(author=author, title="On gardens")
    comment = CommentFactory(post=post, author=other_user, body="Lovely roses.\nWhich kind?")

    notify_comment(comment, django_capture_on_commit_callbacks)

    (mail,) = mailoutbox
    assert mail.to == [author.email]
    assert other_user.public_name in mail.subject and "On gardens" in mail.subject
    assert "> Lovely roses.\n> Which kind?" in mail.body
    html = mail.alternatives[0].content
    assert mail.alternatives[0].mimetype == "text/html"
    assert "Lovely roses.<br>Which kind?" in html
    assert f"https://blog.example.com{post.get_absolute_url()}#comment-{comment.pk}" in mail.body
    header = mail.extra_headers["List-Unsubscribe"]
    assert header.startswith("<https://blog.example.com/unsubscribe/")
    assert mail.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = header[1:-1]
    assert url in mail.body and url in html  # a visible link too
    assert re.fullmatch(r"<[^@>]+@blog\.example\.com>", mail.extra_headers["Message-ID"])


def test_user_content_is_escaped_in_the_html_part_and_plain_in_the_text_part(
    author, other_user, django_capture_on_commit_callbacks, mailoutbox
):
    post = PostFactory(author=author, title="Fish & <chips>")
    comment = CommentFactory(post=post, author=other_user, body='<script>alert("x")</script> & more')

    notify_comment(comment, django_capture_on_commit_callbacks)

    (mail,) = mailoutbox
    html = mail.alternatives[0].content
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert '<script>alert("x")</script> & more' in mail.body
    assert "Fish & <chips>" in mail.subject


@pytest.mark.parametrize("case", ["own comment", "opted out", "no email", "inactive"])
def test_no_comment_mail_when_there_is_nobody_to_tell(
    case, author, other_user, django_capture_on_commit_callbacks, mailoutbox
):
    commenter = author if case == "own comment" else other_user
    if case == "opted out":
        User.objects.filter(pk=author.pk).update(notify_comments=False)
    elif case == "no email":
        User.objects.filter(pk=author.pk).update(email="")
    elif case == "inactive":
        User.objects.filter(pk=author.pk).update(is_active=False)
    comment = CommentFactory(post=PostFactory(author=author), author=commenter)

    notify_comment(comment, django_capture_on_commit_callbacks)

    assert mailoutbox == []
    assert not Message.objects.exists()


def test_a_comment_whose_write_rolled_back_sends_nothing(
    author, other_user, django_capture_on_commit_callbacks, mailoutbox
):
    comment = CommentFactory(post=PostFactory(author=author), author=other_user)

    def failing_write() -> None:
        with transaction.atomic():
            services.comment_added(comment=comment)
            raise RuntimeError("the write failed")

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        failing_write()
    assert mailoutbox == []


def test_a_long_comment_is_quoted_cut(author, other_user, django_capture_on_commit_callbacks, mailoutbox):
    comment = CommentFactory(post=PostFactory(author=author), author=other_user, body="word " * 1000)
    notify_comment(comment, django_capture_on_commit_callbacks)
    assert "…" in mailoutbox[0].body
    assert len(mailoutbox[0].body) < 3000


# --- A new post, to the author's followers, in batches ---------------------------------------------


def test_450_followers_get_450_mails_in_several_batches_and_those_who_opted_out_get_none(
    author, django_capture_on_commit_callbacks, mailoutbox
):
    followers = followers_of(author, 450)
    followers_of(author, 5, prefix="quiet", notify_followed_posts=False)
    followers_of(author, 5, prefix="mailless", email="")
    followers_of(author, 5, prefix="gone", is_active=False)
    UserFactory(username="stranger")  # follows nobody
    post = PostFactory(author=author, title="Spring news")

    publish(post, django_capture_on_commit_callbacks)

    recipients = sorted(address for mail in mailoutbox for address in mail.to)
    assert recipients == sorted(user.email for user in followers)
    batches = Message.objects.filter(topic=services.NEW_POST_TOPIC)
    assert sorted(len(batch.payload["user_ids"]) for batch in batches) == [50, 200, 200]
    assert Message.objects.filter(topic=services.FAN_OUT_TOPIC).count() == 3
    assert all(message.state == "delivered" for message in Message.objects.all())
    mail = mailoutbox[0]
    assert "Spring news" in mail.subject and author.public_name in mail.subject
    assert post.get_absolute_url() in mail.body and post.get_absolute_url() in mail.alternatives[0].content
    assert mail.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert len({mail.extra_headers["Message-ID"] for mail in mailoutbox}) == 450


def test_a_batch_costs_the_same_few_queries_whatever_its_size(
    author, django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    followers = followers_of(author, services.BATCH_SIZE)
    post = PostFactory(author=author)
    small = Message.objects.create(
        topic=services.NEW_POST_TOPIC, payload={"post_id": post.pk, "user_ids": [followers[0].pk]}
    )
    full = Message.objects.create(
        topic=services.NEW_POST_TOPIC,
        payload={"post_id": post.pk, "user_ids": [user.pk for user in followers]},
    )
    fan_out = Message.objects.create(topic=services.FAN_OUT_TOPIC, payload={"post_id": post.pk, "after": 0})

    # Claim, post, recipients, done: nothing per recipient.
    with django_assert_max_num_queries(5):
        assert outbox.deliver(message_id=small.pk) == "delivered"
    with django_assert_max_num_queries(5):
        assert outbox.deliver(message_id=full.pk) == "delivered"
    # Claim, post, the batch's ids, two messages stored, done.
    with django_capture_on_commit_callbacks(execute=False), django_assert_max_num_queries(9):
        assert outbox.deliver(message_id=fan_out.pk) == "delivered"


def test_an_author_without_followers_stores_nothing(author, django_capture_on_commit_callbacks):
    publish(PostFactory(author=author), django_capture_on_commit_callbacks)
    assert not Message.objects.exists()


def test_a_post_no_longer_public_when_its_batch_runs_is_not_announced(
    author, django_capture_on_commit_callbacks, mailoutbox
):
    followers_of(author, 3)
    post = PostFactory(author=author)
    with django_capture_on_commit_callbacks(execute=False), transaction.atomic():
        services.post_published(post=post)
    post.status = post.Status.DRAFT
    post.save()

    for message in Message.objects.all():
        outbox.deliver(message_id=message.pk)

    assert mailoutbox == []


def test_someone_who_unsubscribed_after_the_fan_out_is_not_mailed(author, mailoutbox):
    first, second = followers_of(author, 2)
    post = PostFactory(author=author)
    message = Message.objects.create(
        topic=services.NEW_POST_TOPIC, payload={"post_id": post.pk, "user_ids": [first.pk, second.pk]}
    )
    User.objects.filter(pk=second.pk).update(notify_followed_posts=False)

    outbox.deliver(message_id=message.pk)

    assert [mail.to for mail in mailoutbox] == [[first.email]]


# --- Unsubscribing ----------------------------------------------------------------------------------


def test_one_click_unsubscribe_works_without_a_login_or_csrf_token(
    author, other_user, django_capture_on_commit_callbacks, mailoutbox
):
    comment = CommentFactory(post=PostFactory(author=author), author=other_user)
    notify_comment(comment, django_capture_on_commit_callbacks)
    path = unsubscribe_path(mailoutbox[0])
    mail_client = Client(enforce_csrf_checks=True)  # as a mail client posts: no cookie at all

    response = mail_client.post(
        path, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )

    assert response.status_code == 200
    author.refresh_from_db()
    assert author.notify_comments is False
    assert author.notify_followed_posts is True  # only the kind the link names
    assert mail_client.post(path).status_code == 200  # again: still fine


def test_opening_the_unsubscribe_link_asks_and_changes_nothing(author, client):
    token = services.unsubscribe_token(user=author, kind="followed_posts")

    response = client.get(f"/unsubscribe/{token}/")

    assert response.status_code == 200
    page = response.content.decode()
    assert "new posts by authors you follow" in page and '<form method="post">' in page
    author.refresh_from_db()
    assert author.notify_followed_posts is True
    assert response["Referrer-Policy"] == "no-referrer"


@pytest.mark.parametrize("token", ["garbage", "eyJ1IjoxLCJrIjoiY29tbWVudHMifQ:forged"])
def test_a_bad_unsubscribe_token_is_a_400_page(client, author, token):
    assert client.get(f"/unsubscribe/{token}/").status_code == 400
    assert client.post(f"/unsubscribe/{token}/").status_code == 400
    author.refresh_from_db()
    assert author.notify_comments is True


def test_an_unsubscribe_token_is_signed_for_its_purpose_only(author, client):
    from django.core import signing

    forged = signing.Signer(salt="accounts.verify-email").sign_object({"u": author.pk, "k": "comments"})
    assert client.post(f"/unsubscribe/{forged}/").status_code == 400


def test_the_batch_handler_module_is_registered():
    from outbox.registry import handler_for

    assert handler_for(services.NEW_POST_TOPIC) is handlers.send_new_post_batch
    assert handler_for(services.FAN_OUT_TOPIC) is handlers.fan_out
    assert handler_for("email") is not None
