"""One HTTP POST to a checked target: to the address the guard approved, with no
redirects followed, a timeout, and at most 1 KB of the answer read."""

import time
from dataclasses import dataclass

import urllib3
from urllib3.exceptions import HTTPError, NewConnectionError, TimeoutError

from webhooks.models import RESPONSE_BODY_MAX_BYTES
from webhooks.targets import Target

USER_AGENT = "DjangoBlog-Webhooks/1.0"


@dataclass(frozen=True)
class Answer:
    status_code: int | None  # None: no answer (refused, timed out, broken connection)
    body: str
    duration_ms: int
    error: str


def _pool(target: Target, address: str, timeout: urllib3.Timeout) -> urllib3.HTTPConnectionPool:
    common = {"port": target.port, "timeout": timeout, "retries": False, "maxsize": 1}
    if target.scheme == "https":
        # Connected by address; the certificate is checked against the host name (SNI too).
        return urllib3.HTTPSConnectionPool(
            address,
            cert_reqs="CERT_REQUIRED",
            server_hostname=target.host,
            assert_hostname=target.host,
            **common,
        )
    return urllib3.HTTPConnectionPool(address, **common)


def post(*, target: Target, body: bytes, headers: dict[str, str], timeout: float) -> Answer:
    """POST ``body`` to ``target``, trying its checked addresses in order while a
    connection cannot be made, within ``timeout`` seconds overall for the connection and
    between reads."""
    started = time.monotonic()
    headers = {
        **headers,
        "Host": target.host_header,
        "User-Agent": USER_AGENT,
        "Content-Type": "application/json",
    }
    error = "no address to connect to"
    for address in target.addresses:
        remaining = timeout - (time.monotonic() - started)
        if remaining <= 0:
            error = f"timed out after {timeout:g} s"
            break
        pool = _pool(target, address, urllib3.Timeout(connect=remaining, read=remaining))
        try:
            response = pool.urlopen(
                "POST",
                target.path,
                body=body,
                headers=headers,
                redirect=False,
                retries=False,
                preload_content=False,
                assert_same_host=False,
            )
            try:
                raw = response.read(RESPONSE_BODY_MAX_BYTES)
            except (HTTPError, OSError):
                raw = b""  # the status came; a broken body does not change the outcome
            finally:
                response.close()
            return Answer(
                status_code=response.status,
                body=raw[:RESPONSE_BODY_MAX_BYTES].decode("utf-8", errors="replace"),
                duration_ms=_elapsed_ms(started),
                error="",
            )
        except NewConnectionError as exc:
            error = f"could not connect to {address}: {_reason(exc)}"
            continue  # the next checked address, if any
        except TimeoutError:
            error = f"timed out after {timeout:g} s"
            break
        except (HTTPError, OSError) as exc:
            error = _reason(exc)
            break
        finally:
            pool.close()
    return Answer(status_code=None, body="", duration_ms=_elapsed_ms(started), error=error)


def _elapsed_ms(started: float) -> int:
    return round((time.monotonic() - started) * 1000)


def _reason(exc: BaseException) -> str:
    reason = getattr(exc, "reason", None)
    text = str(reason or exc) or type(exc).__name__
    return text[:400]
