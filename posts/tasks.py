"""The posts' periodic work, run by ``celery -A config beat`` (``CELERY_BEAT_SCHEDULE``)."""

from celery import shared_task

from posts import events


@shared_task(acks_late=True, ignore_result=True)
def announce_due_posts() -> int:
    """Announce (``post.published``, followers' mail) the posts that have become public
    since the last run: scheduled posts whose time came. Each post once, however many
    beats or retries run (``posts.events.announce``)."""
    return events.announce_due()
