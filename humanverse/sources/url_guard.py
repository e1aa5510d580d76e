"""Decide whether a URL from LAION/COYO may be fetched.

Those URL lists are arbitrary internet data. Fetched blindly from a cloud GPU node, a URL (or a redirect,
or a DNS answer) pointing at 169.254.169.254 hands out the node's credentials, and one pointing at a
private address probes the cluster's network. So a URL is fetched only when every address its host
resolves to is public. Cloud metadata endpoints stay refused even when private addresses are allowed:
tests and in-house mirrors need loopback or a private network, never the metadata service.

The URL is parsed with urllib3's parser, the same one that later opens the connection, so the host checked
here is the host connected to (no parser differential).
"""

from __future__ import annotations

import ipaddress
import math
import queue
import socket
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network

from urllib3.exceptions import LocationParseError
from urllib3.util import parse_url

IPAddress = IPv4Address | IPv6Address
IPNetwork = IPv4Network | IPv6Network

BAD_URL = "bad_url"
DNS_ERROR = "dns_error"
BLOCKED_ADDRESS = "blocked_address"

FETCHABLE_SCHEMES = frozenset({"http", "https"})

METADATA_ADDRESSES: frozenset[IPAddress] = frozenset(
    ipaddress.ip_address(a)
    for a in (
        "169.254.169.254",  # AWS, GCP, Azure, OpenStack, DigitalOcean, Oracle instance metadata
        "169.254.170.2",  # AWS ECS task credentials
        "169.254.170.23",  # AWS EKS Pod Identity credentials
        "fd00:ec2::254",  # AWS instance metadata over IPv6
        "fd00:ec2::23",  # AWS EKS Pod Identity over IPv6
        "100.100.100.200",  # Alibaba Cloud
        "192.0.0.192",  # Oracle Cloud (legacy)
    )
)
METADATA_HOSTNAMES = frozenset(
    {"metadata", "metadata.google.internal", "metadata.goog", "instance-data", "instance-data.ec2.internal"}
)

_NAT64_WELL_KNOWN = IPv6Network("64:ff9b::/96")
_PERMANENT_DNS_ERRORS = frozenset(
    code for code in (socket.EAI_NONAME, getattr(socket, "EAI_NODATA", None)) if code is not None
)


Resolver = Callable[[str], list[str]]
"""host -> its addresses (strings); raises socket.gaierror like getaddrinfo. Tests plug in their own."""

MAX_PENDING_LOOKUPS = 64
"""DNS lookups allowed to hang at once (each on its own daemon thread); more wait, inside their deadline."""
_pending_lookups = threading.BoundedSemaphore(MAX_PENDING_LOOKUPS)


class URLRefused(Exception):
    """A URL that must not be fetched, with the reason code that goes into the sample's row."""

    def __init__(self, reason: str, transient: bool = False):
        super().__init__(reason, transient)
        self.reason = reason
        self.transient = transient


def system_resolver(host: str) -> list[str]:
    """getaddrinfo's answer for `host`, as address strings."""
    return [str(info[4][0]) for info in socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)]


def resolve_host(host: str, timeout: float = math.inf, resolver: Resolver | None = None) -> list[str]:
    """Every address `host` resolves to (a literal IP resolves to itself without a DNS query).

    getaddrinfo has no timeout of its own, so the lookup runs on a daemon thread and is abandoned after
    `timeout` seconds (a transient dns_error); the thread ends when the system resolver gives up.
    "No such host" is permanent; any other resolver failure (EAI_AGAIN under load, SERVFAIL) is transient,
    so `--retry-failed` re-attempts it.
    """
    try:
        return [str(ipaddress.ip_address(host))]
    except ValueError:
        pass
    if "\x00" in host:
        raise URLRefused(BAD_URL)
    answer = _bounded_call(resolver or system_resolver, host, timeout)
    if isinstance(answer, socket.gaierror):
        raise URLRefused(DNS_ERROR, transient=answer.errno not in _PERMANENT_DNS_ERRORS) from answer
    if isinstance(answer, (ValueError, UnicodeError)):  # IDNA encoding, over-long labels
        raise URLRefused(BAD_URL) from answer
    if isinstance(answer, BaseException):
        raise URLRefused(DNS_ERROR, transient=True) from answer
    try:  # in the resolver's order (its preference), each once; anything not an address is a DNS failure
        addresses = list(dict.fromkeys(str(ipaddress.ip_address(a)) for a in answer))
    except (TypeError, ValueError) as error:
        raise URLRefused(DNS_ERROR) from error
    if not addresses:
        raise URLRefused(DNS_ERROR, transient=True)
    return addresses


def _bounded_call(resolver: Resolver, host: str, timeout: float):
    """resolver(host), or the exception it raised; a TimeoutError when it takes longer than `timeout`."""
    if timeout <= 0 or not _pending_lookups.acquire(timeout=min(timeout, threading.TIMEOUT_MAX)):
        return TimeoutError(f"DNS lookup of {host!r} not started in time")
    answers: queue.SimpleQueue = queue.SimpleQueue()

    def lookup() -> None:
        try:
            answers.put(resolver(host))
        except BaseException as error:  # noqa: BLE001 - handed to the caller
            answers.put(error)
        finally:
            _pending_lookups.release()

    threading.Thread(target=lookup, name="humanverse-dns", daemon=True).start()
    try:
        return answers.get(timeout=min(timeout, threading.TIMEOUT_MAX))
    except queue.Empty:
        return TimeoutError(f"DNS lookup of {host!r} took over {timeout:.1f} s")


def _as_address(ip: str | IPAddress) -> IPAddress:
    return ip if isinstance(ip, (IPv4Address, IPv6Address)) else ipaddress.ip_address(ip)


def _addresses_to_judge(ip: str | IPAddress) -> list[IPAddress]:
    """The address itself plus any IPv4 address it carries, since that is where the packets really go.

    IPv4-mapped (::ffff:a.b.c.d) and DNS64/NAT64 (64:ff9b::a.b.c.d) addresses are judged by their IPv4
    address alone: Python flags those whole IPv6 ranges as reserved, which would refuse every host on an
    IPv6-only cluster with DNS64. 6to4 and Teredo addresses must pass both checks.
    """
    addr = _as_address(ip)
    if isinstance(addr, IPv4Address):
        return [addr]
    if addr.ipv4_mapped is not None:
        return [addr.ipv4_mapped]
    if addr.scope_id is None and addr in _NAT64_WELL_KNOWN:
        return [IPv4Address(int(addr) & 0xFFFFFFFF)]
    embedded = [addr.sixtofour] if addr.sixtofour else []
    if addr.teredo:
        embedded.append(addr.teredo[1])
    return [addr, *embedded]


def is_metadata_address(ip: str | IPAddress) -> bool:
    return any(a in METADATA_ADDRESSES for a in _addresses_to_judge(ip))


def is_non_public_address(ip: str | IPAddress) -> bool:
    """Loopback, private, shared (CGNAT), link-local, multicast, reserved or unspecified."""

    def non_public(a: IPAddress) -> bool:
        return (
            not a.is_global  # private, loopback, link-local, 100.64/10, documentation ranges, ...
            or a.is_multicast  # 224/4 counts as "global" in Python
            or a.is_reserved
            or a.is_unspecified
            or (isinstance(a, IPv6Address) and a.is_site_local)
        )

    return any(non_public(a) for a in _addresses_to_judge(ip))


@dataclass(frozen=True)
class URLGuard:
    """The fetch policy: public addresses only, unless private ones are allowed outright or trusted by network."""

    allow_private: bool = False
    """Lift the private-address rule entirely (tests opt in to loopback this way)."""
    trusted_networks: tuple[IPNetwork, ...] = ()
    """Private networks fetched from anyway, e.g. an in-house image mirror; everything else stays refused."""
    resolver: Resolver | None = field(default=None, compare=False)
    """How hosts are resolved (None: the system's getaddrinfo); a hook for tests and custom DNS."""

    @classmethod
    def from_strings(
        cls, allow_private: bool = False, trusted_networks: Iterable[str] = (), resolver: Resolver | None = None
    ) -> URLGuard:
        networks = tuple(ipaddress.ip_network(n, strict=False) for n in trusted_networks)
        return cls(allow_private, networks, resolver)

    def address_allowed(self, ip: str | IPAddress) -> bool:
        addr = _as_address(ip)
        if is_metadata_address(addr):
            return False
        if self.allow_private or not is_non_public_address(addr):
            return True
        return any(addr in network for network in self.trusted_networks)  # False across IP versions

    def check_address(self, ip: str | IPAddress) -> None:
        if not self.address_allowed(ip):
            raise URLRefused(BLOCKED_ADDRESS)

    def resolve(self, host: str, timeout: float = math.inf) -> list[str]:
        """The host's addresses, each one checked: URLRefused when any is refused or the lookup fails."""
        addresses = resolve_host(host, timeout, self.resolver)
        for address in addresses:
            self.check_address(address)
        return addresses

    def check_url(self, url: str, timeout: float = math.inf) -> list[str]:
        """Raise URLRefused (bad_url, dns_error or blocked_address) unless `url` may be fetched; else return
        the host's addresses, which are the only ones the downloader then connects to.

        ANY refused address refuses the URL: the connector may pick any of them.
        """
        if not isinstance(url, str):  # null / NaN cells in a URL column
            raise URLRefused(BAD_URL)
        try:
            parsed = parse_url(url)
        except (LocationParseError, ValueError, UnicodeError) as error:
            raise URLRefused(BAD_URL) from error
        host = (parsed.host or "").strip("[]")
        if parsed.scheme not in FETCHABLE_SCHEMES or not host:
            raise URLRefused(BAD_URL)
        if host.rstrip(".").lower() in METADATA_HOSTNAMES:
            raise URLRefused(BLOCKED_ADDRESS)
        return self.resolve(host, timeout)

    def refusal(self, url: str) -> str | None:
        """The reason code why `url` must not be fetched, or None when it may be."""
        try:
            self.check_url(url)
        except URLRefused as refused:
            return refused.reason
        return None
