"""ASGI entry point, for ASGI servers (uvicorn workers under gunicorn)."""

import os

from django.core.asgi import get_asgi_application

# A server runs production settings unless told otherwise: they refuse to start without
# a real key and hosts, where the local ones would serve DEBUG pages signed with the
# public development key. manage.py (runserver) keeps the local default.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")

application = get_asgi_application()
