"""Mail that tells people about content: an author about a new comment, followers about a
post that became public. Both are written to the outbox inside the caller's transaction
(a rolled-back write sends nothing) and sent by the task worker."""

from posts.models import Comment, Post


def comment_added(*, comment: Comment) -> None:
    """Tell the post's author about ``comment`` (unless they opted out, or wrote it)."""


def post_published(*, post: Post) -> None:
    """Tell the author's followers that ``post`` became public (those who opted out aside),
    in batches."""
