"""The URL guard, as unit tests: literal addresses resolve locally and host names use a fake resolver."""

import ipaddress
import socket

import pytest

from humanverse.sources import url_guard
from humanverse.sources.url_guard import URLGuard, URLRefused, is_metadata_address, is_non_public_address

REFUSED_ADDRESSES = [
    "127.0.0.1",
    "127.8.9.10",
    "10.1.2.3",
    "172.16.0.1",
    "192.168.1.1",
    "169.254.1.1",  # link-local
    "169.254.169.254",  # cloud metadata
    "100.100.100.200",  # Alibaba metadata
    "100.64.0.1",  # shared address space (CGNAT)
    "0.0.0.0",
    "224.0.0.1",  # multicast, which Python calls "global"
    "239.255.255.250",
    "240.0.0.1",  # reserved
    "255.255.255.255",
    "192.0.2.10",  # documentation
    "::1",
    "::",
    "fe80::1",
    "fe80::1%lo",
    "fc00::1",
    "fd00:ec2::254",  # AWS metadata over IPv6
    "ff02::1",
    "fec0::1",  # site-local
    "::ffff:127.0.0.1",  # IPv4-mapped loopback
    "::ffff:169.254.169.254",
    "::ffff:10.0.0.1",
    "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
    "2002:7f00:1::",  # 6to4 of 127.0.0.1
    "2002:a9fe:a9fe::1",  # 6to4 of 169.254.169.254
]
PUBLIC_ADDRESSES = ["8.8.8.8", "1.1.1.1", "93.184.216.34", "2606:4700:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808"]


@pytest.mark.parametrize("address", REFUSED_ADDRESSES)
def test_refuses_non_public_and_metadata_addresses(address):
    assert not URLGuard().address_allowed(address)
    with pytest.raises(URLRefused) as refused:
        URLGuard().check_address(address)
    assert refused.value.reason == "blocked_address"


@pytest.mark.parametrize("address", PUBLIC_ADDRESSES)
def test_allows_public_addresses(address):
    assert URLGuard().address_allowed(address)
    assert not is_non_public_address(address)


@pytest.mark.parametrize("address", ["169.254.169.254", "::ffff:169.254.169.254", "fd00:ec2::254", "100.100.100.200"])
def test_metadata_stays_refused_when_private_addresses_are_allowed(address):
    assert is_metadata_address(address)
    assert not URLGuard(allow_private=True).address_allowed(address)


def test_allow_private_lifts_loopback_and_private():
    guard = URLGuard(allow_private=True)
    for address in ["127.0.0.1", "::1", "10.0.0.5", "192.168.0.1", "fe80::1"]:
        assert guard.address_allowed(address), address


def test_trusted_networks_admit_only_themselves():
    guard = URLGuard.from_strings(trusted_networks=["10.20.0.0/16", "fd12::/16"])
    assert guard.address_allowed("10.20.3.4")
    assert guard.address_allowed("fd12::7")
    assert not guard.address_allowed("10.21.0.1")
    assert not guard.address_allowed("127.0.0.1")
    assert guard.trusted_networks[0] == ipaddress.ip_network("10.20.0.0/16")
    assert not URLGuard.from_strings(trusted_networks=["169.254.0.0/16"]).address_allowed("169.254.169.254")


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/a.jpg",
        "file:///etc/passwd",
        "gopher://example.com/",
        "http:///no-host",
        "http://[::1/",
        "http://example.com:99999/",
        "not a url",
        "",
        None,
        float("nan"),
    ],
)
def test_bad_urls(url):
    assert URLGuard().refusal(url) == "bad_url"


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/",
        "https://127.0.0.1:8443/x.jpg",
        "http://[::1]:8080/",
        "http://169.254.169.254/latest/meta-data/iam/",
        "http://[::ffff:169.254.169.254]/",
        "http://[fd00:ec2::254]/latest/",
        "http://10.0.0.1/img.jpg",
        "http://user:pw@192.168.1.1/",
        "http://0x7f000001/",  # inet_aton spelling of 127.0.0.1
    ],
)
def test_private_literal_urls_are_refused(url):
    assert URLGuard().refusal(url) == "blocked_address"


def test_metadata_hostnames_refused_without_resolving(monkeypatch):
    def no_dns(host):
        raise AssertionError(f"resolved {host}")

    monkeypatch.setattr(url_guard, "resolve_host", no_dns)
    for url in [
        "http://metadata.google.internal/computeMetadata/v1/",
        "http://METADATA.goog./",
        "http://instance-data/",
    ]:
        assert URLGuard(allow_private=True).refusal(url) == "blocked_address"


def test_any_private_answer_refuses_the_host(monkeypatch):
    answers = {"mixed.example": ["93.184.216.34", "10.0.0.7"], "public.example": ["93.184.216.34", "2606:4700::1"]}
    guard = URLGuard(resolver=lambda host: answers[host])
    assert guard.refusal("http://mixed.example/a.jpg") == "blocked_address"
    assert guard.refusal("https://public.example/a.jpg") is None


@pytest.mark.parametrize(("errno", "transient"), [(socket.EAI_NONAME, False), (socket.EAI_AGAIN, True)])
def test_dns_failures_are_reported_with_transience(monkeypatch, errno, transient):
    def failing_getaddrinfo(*args, **kwargs):
        raise socket.gaierror(errno, "resolver says no")

    monkeypatch.setattr(socket, "getaddrinfo", failing_getaddrinfo)
    with pytest.raises(URLRefused) as refused:
        URLGuard().check_url("http://no-such-host.example/x.jpg")
    assert (refused.value.reason, refused.value.transient) == ("dns_error", transient)


def test_refusal_pickles_for_ray():
    import pickle

    copy = pickle.loads(pickle.dumps(URLRefused("dns_error", transient=True)))
    assert (copy.reason, copy.transient) == ("dns_error", True)
