"""Helpers for loading many rows at once (``seed_blog``, the imports)."""

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import models


@contextmanager
def explicit_timestamps(*fields: models.DateTimeField) -> Iterator[None]:
    """Let ``bulk_create`` store the dates it is given instead of ``now()``.

    ``auto_now``/``auto_now_add`` overwrite any value in ``pre_save``; demo data and
    imported archives want their history (created before published, comments after the
    post), so the flags are off for the duration of the insert and restored even if it
    fails. They are class-level: only commands, never a web process, may use this.
    """
    saved = [(field, field.auto_now, field.auto_now_add) for field in fields]
    try:
        for field in fields:
            field.auto_now = field.auto_now_add = False
        yield
    finally:
        for field, auto_now, auto_now_add in saved:
            field.auto_now, field.auto_now_add = auto_now, auto_now_add
