"""Stored files follow their row: whichever way an image's row is deleted (the service,
the admin, or a cascade from its owner's account), its files are deleted once that
deletion has committed. Before the commit they must stay: a rolled-back deletion would
leave a row naming files that no longer exist."""

from functools import partial

from django.db import transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver

from images.models import Image
from images.services import delete_files


@receiver(post_delete, sender=Image, dispatch_uid="images.delete_stored_files")
def delete_stored_files(sender: type[Image], instance: Image, **kwargs) -> None:
    transaction.on_commit(partial(delete_files, instance.stored_names), using=kwargs.get("using"))
