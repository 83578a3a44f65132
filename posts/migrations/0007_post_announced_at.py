from django.db import migrations, models
from django.db.models import F
from django.utils import timezone


def mark_public_posts_announced(apps, schema_editor) -> None:
    """Posts already public were announced long ago, as far as anyone can tell: marking
    them keeps the beat from announcing the whole archive at once. Scheduled posts stay
    unmarked and are announced when their time comes."""
    Post = apps.get_model("posts", "Post")
    Post.objects.filter(status="published", published_at__lte=timezone.now()).update(
        announced_at=F("published_at")
    )


class Migration(migrations.Migration):
    dependencies = [
        ("posts", "0006_post_cover_image"),
    ]

    operations = [
        migrations.AddField(
            model_name="post",
            name="announced_at",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.RunPython(mark_public_posts_announced, migrations.RunPython.noop),
        # After the backfill: the index then holds only the scheduled posts.
        migrations.AddIndex(
            model_name="post",
            index=models.Index(
                condition=models.Q(("announced_at__isnull", True), ("status", "published")),
                fields=["published_at"],
                name="posts_post_unannounced_idx",
            ),
        ),
    ]
