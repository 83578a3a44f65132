"""Container health check: GET /healthz on the local gunicorn, exit 0 when it answers 200.

Django refuses hosts not in DJANGO_ALLOWED_HOSTS, so the request names the first allowed
one (a ".example.com" pattern as "example.com"), not 127.0.0.1.
"""

import os
import sys
import urllib.request

PORT = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000").rsplit(":", 1)[-1]


def allowed_host() -> str:
    first = os.environ.get("DJANGO_ALLOWED_HOSTS", "localhost").split(",")[0].strip()
    return "localhost" if first in {"", "*"} else first.lstrip(".")


def main() -> int:
    request = urllib.request.Request(
        f"http://127.0.0.1:{PORT}/healthz", headers={"Host": allowed_host(), "X-Forwarded-Proto": "https"}
    )
    try:
        with urllib.request.urlopen(request, timeout=2) as response:  # noqa: S310
            return 0 if response.status == 200 else 1
    except OSError as error:
        print(f"unhealthy: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
