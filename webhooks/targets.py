"""Where a webhook may point, and how it is reached: the SSRF guard.

A target is an ``http`` or ``https`` URL whose host resolves only to public addresses.
The check runs when a webhook is registered or changed and again before every delivery
(DNS answers change), and the delivery connects to an address the check approved: the
host is resolved once, here, and never again by the HTTP client, so a DNS answer that
changes between the check and the connection (DNS rebinding) cannot slip a private
address in. ``WEBHOOK_ALLOW_PRIVATE`` turns the address rule off (local use, tests).
"""

import ipaddress
import socket
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

from webhooks.models import TARGET_URL_MAX_LENGTH

# A resolver that hangs must not hold a request (registration) for long.
RESOLVE_TIMEOUT_SECONDS = 3.0
_resolver = ThreadPoolExecutor(max_workers=4, thread_name_prefix="webhook-dns")

# Prefixes that embed an IPv4 address (NAT64); the embedded address is what is reached.
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class UnsafeTarget(Exception):
    """The URL may not be a webhook's target; the message says why."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str  # as DNS and TLS know it: lower case, IDNA-encoded
    port: int
    path: str  # with the query
    addresses: tuple[str, ...]  # every one checked, in the resolver's order

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.scheme == "https" else 80
        return host if self.port == default else f"{host}:{self.port}"


def parse(url: str) -> tuple[str, str, int, str]:
    """``(scheme, host, port, path)`` of an acceptable URL, or ``UnsafeTarget``."""
    if len(url) > TARGET_URL_MAX_LENGTH:
        raise UnsafeTarget(f"Ensure this URL has at most {TARGET_URL_MAX_LENGTH} characters.")
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url):
        raise UnsafeTarget("Enter a URL without spaces or control characters.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UnsafeTarget("Enter a valid URL.") from exc
    scheme = parts.scheme.lower()
    if scheme not in {"http", "https"}:
        raise UnsafeTarget("Only http and https URLs may be webhook targets.")
    if parts.username is not None or parts.password is not None:
        raise UnsafeTarget("Put no credentials in the URL: deliveries are signed with the webhook's secret.")
    host = parts.hostname
    if not host:
        raise UnsafeTarget("Enter a URL with a host.")
    try:
        host = host.encode("idna").decode("ascii") if not _is_ip(host) else host
    except UnicodeError as exc:
        raise UnsafeTarget("Enter a URL with a valid host name.") from exc
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return scheme, host, port or (443 if scheme == "https" else 80), path


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def is_public(address: str) -> bool:
    """Whether ``address`` is one that anyone on the internet reaches alike: not private,
    loopback, link-local, multicast, reserved, unspecified, shared (CGNAT), documentation,
    nor an IPv6 form of one of those IPv4 addresses."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:  # the IPv4 address itself, reached over IPv6
            return is_public(str(ip.ipv4_mapped))
        embedded = ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is None and ip in _NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None and not is_public(str(embedded)):
            return False
    return ip.is_global and not (
        ip.is_multicast
        or ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_reserved
        or ip.is_unspecified
    )


def resolve(host: str, port: int) -> tuple[str, ...]:
    """Every address ``host`` resolves to for TCP, in the resolver's order (no duplicates)."""
    if _is_ip(host):
        return (host,)
    future = _resolver.submit(socket.getaddrinfo, host, port, type=socket.SOCK_STREAM)
    try:
        infos = future.result(timeout=RESOLVE_TIMEOUT_SECONDS)
    except FutureTimeout as exc:
        raise UnsafeTarget(f"The host {host} could not be resolved in time.") from exc
    except (OSError, UnicodeError) as exc:
        raise UnsafeTarget(f"The host {host} could not be resolved.") from exc
    addresses = [info[4][0] for info in infos if info[0] in (socket.AF_INET, socket.AF_INET6)]
    if not addresses:
        raise UnsafeTarget(f"The host {host} has no address.")
    return tuple(dict.fromkeys(addresses))


def check(url: str, *, resolve_now: bool | None = None) -> Target | None:
    """Refuse (``UnsafeTarget``) a URL that may not be a target.

    With the address rule on, the host is resolved and every address must be public; the
    checked target is returned. With ``WEBHOOK_ALLOW_PRIVATE`` the URL's form alone is
    checked at registration (no lookup: the host may only resolve where the worker runs)
    and None returned, unless ``resolve_now``."""
    scheme, host, port, path = parse(url)
    allow_private = settings.WEBHOOK_ALLOW_PRIVATE
    if resolve_now is None:
        resolve_now = not allow_private
    if not resolve_now:
        return None
    addresses = resolve(host, port)
    if not allow_private:
        refused = [address for address in addresses if not is_public(address)]
        if refused:
            raise UnsafeTarget(
                f"The host {host} resolves to an address that is not public ({refused[0]}): "
                "webhooks may only call public addresses."
            )
    return Target(scheme=scheme, host=host, port=port, path=path, addresses=addresses)


def target_for_delivery(url: str) -> Target:
    """The checked target to connect to, resolved now."""
    target = check(url, resolve_now=True)
    if target is None:  # only without resolve_now
        raise UnsafeTarget("The target was not resolved.")
    return target
