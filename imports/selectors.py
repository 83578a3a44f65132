"""Reads of imported data that a face needs: where an old permalink leads now."""

from imports.models import OldLink
from posts.querysets import is_public


def old_link_slug(path: str) -> str | None:
    """The slug of the public post whose old permalink had ``path`` (with or without its
    trailing slash), or None: one indexed lookup joined to the post. Posts nobody else may
    see (drafts, scheduled ones) are not redirected to: the redirect would tell their slug."""
    candidates = {path, path.rstrip("/"), path if path.endswith("/") else f"{path}/"}
    return (
        OldLink.objects.filter(is_public("post__"), path__in=candidates)
        .values_list("post__slug", flat=True)
        .first()
    )
