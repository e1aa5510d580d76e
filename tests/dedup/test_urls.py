from humanverse.dedup.urls import normalize_url


def test_case_default_ports_fragment_and_query_order_do_not_matter():
    base = normalize_url("https://example.com/a/b.jpg?x=1&y=2")
    assert base == "//example.com/a/b.jpg?x=1&y=2"
    for variant in ("HTTPS://EXAMPLE.com:443/a/b.jpg?y=2&x=1#top", "http://example.com:80/a/./b.jpg?x=1&y=2",
                    "https://example.com/a/b.jpg?x=1&utm_source=news&y=2&fbclid=abc&gclid=1"):
        assert normalize_url(variant) == base, variant


def test_path_case_other_ports_and_real_parameters_still_matter():
    base = normalize_url("https://example.com/a/b.jpg?x=1")
    for other in ("https://example.com/A/b.jpg?x=1", "https://example.com:8443/a/b.jpg?x=1",
                  "https://example.com/a/b.jpg?x=2", "https://www.example.com/a/b.jpg?x=1"):
        assert normalize_url(other) != base, other


def test_documented_cdn_size_variants_collapse_to_the_original():
    assert (normalize_url("https://b.org/wp-content/uploads/2021/05/run-1024x683.jpg")
            == normalize_url("https://b.org/wp-content/uploads/2021/05/run.jpg"))
    assert (normalize_url("https://live.staticflickr.com/65535/5183_9f0e2a1b3c_z.jpg")
            == normalize_url("https://live.staticflickr.com/65535/5183_9f0e2a1b3c_b.jpg"))
    assert (normalize_url("https://cdn.shopify.com/s/files/1/0/dress_600x600@2x.jpg?v=3")
            == normalize_url("https://cdn.shopify.com/s/files/1/0/dress_grande.jpg?v=3"))


def test_undocumented_lookalikes_are_left_alone():
    # a size-like suffix outside WordPress uploads, Flickr's original (its own secret), a non-Shopify host
    assert normalize_url("https://x.org/img/run-1024x683.jpg") != normalize_url("https://x.org/img/run.jpg")
    assert normalize_url("https://live.staticflickr.com/1/5183_abcd_o.jpg").endswith("_o.jpg")
    assert normalize_url("https://shop.example/dress_large.jpg").endswith("dress_large.jpg")


def test_non_http_or_broken_urls_have_no_key():
    for bad in (None, "", "ftp://x/y.jpg", "not a url", "http://host:99999/x", "data:image/png;base64,AAAA"):
        assert normalize_url(bad) is None, bad
