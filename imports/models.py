"""What imports remember: where each imported object came from, and old permalinks.

``ImportRecord`` makes imports idempotent: one row per object an import created (or
matched, such as an existing user with the author's address), unique per source system,
site, kind and id there, so a second run of the same file finds every row and creates
nothing. ``OldLink`` keeps the path a post had on the old site, for the redirect
(``imports.middleware``).
"""

from django.db import models

from posts.models import Post

OLD_PATH_MAX_LENGTH = 500


class ImportRecord(models.Model):
    class System(models.TextChoices):
        WORDPRESS = "wordpress", "WordPress"
        GHOST = "ghost", "Ghost"

    class Kind(models.TextChoices):
        USER = "user", "user"
        CATEGORY = "category", "category"
        TAG = "tag", "tag"
        POST = "post", "post"
        COMMENT = "comment", "comment"
        # Recorded by URL only: the file stays where it was (nothing is downloaded).
        ATTACHMENT = "attachment", "attachment"

    system = models.CharField(max_length=20, choices=System.choices)
    # The source site, normalised (WordPress' base URL without its scheme); blank for
    # Ghost, whose object ids are unique across sites.
    site = models.CharField(max_length=200, blank=True)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    source_id = models.CharField(max_length=200)
    # The primary key of the row it became (a user, category, tag, post or comment; which
    # model follows from ``kind``); NULL for attachments. Not a foreign key: deleting an
    # imported post keeps its record, so importing the file again does not bring it back.
    object_id = models.BigIntegerField(null=True, blank=True)
    # Attachments: the file's URL; posts: the old permalink.
    url = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["system", "site", "kind", "source_id"], name="imports_record_unique_source"
            )
        ]

    def __str__(self) -> str:
        return f"{self.system} {self.kind} {self.source_id}"


class OldLink(models.Model):
    """The path of an imported post's permalink on the old site, as ``request.path_info``
    has it (percent-decoded), e.g. ``/2021/03/04/hello-river/``; a GET of it redirects to
    the post when no URL of this site matches it."""

    path = models.CharField(max_length=OLD_PATH_MAX_LENGTH, unique=True)
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="+")

    def __str__(self) -> str:
        return self.path
