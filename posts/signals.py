"""Keep post counters right when a user's likes and comments go with the user.

Likes and comments made through the API move the counters in ``posts.services``; a
cascading delete of a user bypasses that, so the posts it touched are recounted.
"""

from django.db.models.signals import post_delete, pre_delete
from django.dispatch import receiver

from accounts.models import User
from posts.models import Comment, Like
from posts.services import recount


@receiver(pre_delete, sender=User)
def remember_touched_posts(sender, instance: User, **kwargs) -> None:
    liked = Like.objects.filter(user=instance).values_list("post_id", flat=True)
    commented = Comment.objects.filter(author=instance).values_list("post_id", flat=True)
    instance._touched_post_ids = set(liked) | set(commented)


@receiver(post_delete, sender=User)
def recount_touched_posts(sender, instance: User, **kwargs) -> None:
    post_ids = getattr(instance, "_touched_post_ids", None)
    if post_ids:
        recount(post_ids)
