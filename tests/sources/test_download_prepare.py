"""The downloader prepares each GET without requests' Session.prepare_request (its cookie, auth and params
merging of empty settings cost ~15% of a fetch's Python time): the request it sends must be the same."""

import pytest
import requests

from humanverse.sources.download import Downloader, DownloadConfig

URLS = [
    "http://127.0.0.1:8080/a.jpg",
    "https://example.com/path/to/image.jpg?w=640&h=480#frag",
    "http://user:p%40ss@example.com/private.jpg",
    "http://example.com/with space/and%20percent/ü.jpg",
    "http://bücher.example/bild.jpg",
    "http://[::1]:9000/v6.png",
    "HTTP://EXAMPLE.COM:80/Upper.JPG",
    "http://example.com/a.jpg?q=%zz&x=ü",
]


def via_session(downloader: Downloader, url: str) -> requests.PreparedRequest:
    return downloader._session.prepare_request(requests.Request("GET", url))


@pytest.mark.parametrize("url", URLS)
def test_the_prepared_get_is_the_sessions(url):
    downloader = Downloader(DownloadConfig(allow_private_urls=True))
    ours, theirs = downloader._prepare(url), via_session(downloader, url)
    assert (ours.method, ours.url, ours.body) == (theirs.method, theirs.url, theirs.body)
    assert list(ours.headers.items()) == list(theirs.headers.items())
    assert "Cookie" not in ours.headers


def test_a_url_that_cannot_be_prepared_fails_the_same_way():
    downloader = Downloader(DownloadConfig(allow_private_urls=True))
    for url in ("http://", "not a url", "ftp://example.com/x.jpg"):
        errors = []
        for prepare in (downloader._prepare, lambda u: via_session(downloader, u)):
            try:
                prepare(url)
                errors.append(None)
            except Exception as error:  # noqa: BLE001 - compared below
                errors.append(type(error))
        assert errors[0] == errors[1], url
