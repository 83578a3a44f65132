"""Local development: DEBUG on, SQLite by default, nothing to configure."""

from config.secret_key import require_unguessable_secret_keys

from .base import *  # noqa: F403
from .base import SECRET_KEY, env

DEBUG = env.bool("DJANGO_DEBUG", default=True)
if not DEBUG:
    # DEBUG off is how a real server runs (gunicorn with these settings, say): the
    # development key, public in the repository, must not sign its sessions and tokens.
    require_unguessable_secret_keys(SECRET_KEY)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
WHITENOISE_AUTOREFRESH = True  # serve from the finders; no collectstatic in development
# A webhook receiver on this machine (127.0.0.1) is what local development uses.
WEBHOOK_ALLOW_PRIVATE = env.bool("DJANGO_WEBHOOK_ALLOW_PRIVATE", default=True)
