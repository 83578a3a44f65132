"""The Celery app: ``celery -A config worker`` and ``celery -A config beat``.

Settings come from Django's (``CELERY_*``); without a broker (the zero-set-up ``make
run``) tasks run eagerly in the web process. What is delivered and how it survives a
broker or worker that is down is the outbox's business (``outbox/``), not Celery's.

Tasks read the primary, never a replica: only a request served by
``config.replicas.ReplicaPinningMiddleware`` may, so a task sent when a transaction
commits always finds the rows it was sent for.
"""

import os

from celery import Celery

# Production, as config/wsgi.py: importing ``config`` (gunicorn's ``config.wsgi`` does)
# runs this first, so a "local" default here would make a server started without the
# variable serve DEBUG pages signed with the public development key. manage.py sets
# local before it gets here; `make worker` and `make beat` say local themselves.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")

app = Celery("config")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
