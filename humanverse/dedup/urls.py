"""URL normalisation for exact deduplication: two URLs with the same normal form name the same image.

On top of w3lib's `canonicalize_url` (lower-case scheme and host, IDNA host, percent-encoding normalised,
query arguments sorted, fragment dropped, dot segments resolved) this:

- treats http and https as one resource (the key has no scheme) and drops default ports (:80, :443);
- drops tracking parameters that never select a different file (`TRACKING_PARAMS`, `utm_*`);
- strips CDN size variants only where the CDN documents the naming, so the variant cannot be another file:
  - WordPress (`/wp-content/uploads/...`): intermediate sizes are saved as `name-{W}x{H}.ext` beside the
    original `name.ext` (WordPress developer handbook, "add_image_size" / intermediate image sizes);
  - Flickr (`live.staticflickr.com`, `farmN.staticflickr.com`): `{id}_{secret}_{suffix}.jpg` with the size
    suffixes of the Flickr API "Photo Image URLs" page (s q t m n w z c b h k 3k 4k f 5k 6k); the original
    (`_o`) uses a different secret and is left alone;
  - Shopify (`cdn.shopify.com`): `name_{W}x{H}.ext`, `name_{W}x.ext`, `name_x{H}.ext` and the named sizes of
    Liquid's `img_url` filter (pico icon thumb small compact medium large grande original master).
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from w3lib.url import canonicalize_url

TRACKING_PARAMS = frozenset({
    "fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "igshid", "mc_cid", "mc_eid",
    "_ga", "_gl", "ref_src", "spm",
})
_DEFAULT_PORTS = {"http": 80, "https": 443}
_WORDPRESS_SIZE = re.compile(r"-\d{1,5}x\d{1,5}(?=\.[A-Za-z0-9]{2,5}$)")
_FLICKR_SIZE = re.compile(r"^(\d+_[0-9a-f]+)_(?:s|q|t|m|n|w|z|c|b|h|k|3k|4k|f|5k|6k)(?=\.[A-Za-z]{3,4}$)")
_SHOPIFY_SIZE = re.compile(
    r"_(?:\d{1,5}x\d{0,5}|x\d{1,5}|pico|icon|thumb|small|compact|medium|large|grande|original|master)"
    r"(?:@\dx)?(?=\.[A-Za-z0-9]{2,5}$)")


def normalize_url(url: str | None) -> str | None:
    """The dedup key of a URL, or None for something that is not an http(s) URL."""
    if not url:
        return None
    try:
        canonical = canonicalize_url(url.strip())
        parts = urlsplit(canonical)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    host = parts.hostname.lower().rstrip(".")
    host = f"[{host}]" if ":" in host else host
    netloc = host if port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
                       if k.lower() not in TRACKING_PARAMS and not k.lower().startswith("utm_")])
    path = _strip_cdn_size(host, parts.path or "/")
    return urlunsplit(("", netloc, path, query, ""))


def _strip_cdn_size(host: str, path: str) -> str:
    head, _, name = path.rpartition("/")
    if "/wp-content/uploads/" in path:
        name = _WORDPRESS_SIZE.sub("", name)
    elif host.endswith("staticflickr.com"):
        name = _FLICKR_SIZE.sub(r"\1", name)
    elif host == "cdn.shopify.com":
        name = _SHOPIFY_SIZE.sub("", name)
    return f"{head}/{name}"
