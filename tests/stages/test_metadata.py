import pytest

from humanverse.stages.metadata import MetadataFilter, MetadataFilterConfig
from humanverse.stages.resolution import ResolutionConfig, ResolutionFilter
from humanverse.core.sample import Sample


def s(**meta):
    return Sample(key="k", task_id="t", source={"url": "http://example.com/a.jpg"}, meta=meta)


@pytest.mark.parametrize(
    "meta,keep,reason",
    [
        ({}, True, None),
        ({"width": 199, "height": 500}, False, "declared_too_small"),
        ({"width": 200, "height": 200}, True, None),
        ({"punsafe": 0.51}, False, "punsafe_high"),
        ({"punsafe": 0.5}, True, None),
        ({"pwatermark": 0.9}, False, "watermark_high"),
        ({"nsfw_label": "NSFW"}, False, "nsfw_label"),
        ({"nsfw_label": "UNLIKELY"}, True, None),
        ({"width": "n/a"}, True, None),
    ],
)
def test_metadata_rules(meta, keep, reason):
    assert MetadataFilter(MetadataFilterConfig()).check(s(**meta)) == (keep, reason)


def test_metadata_aesthetic_cut_only_when_configured():
    assert MetadataFilter(MetadataFilterConfig()).check(s(aesthetic=3.0)) == (True, None)
    f = MetadataFilter(MetadataFilterConfig(min_aesthetic=4.5))
    assert f.check(s(aesthetic=4.49)) == (False, "aesthetic_low")
    assert f.check(s(aesthetic=4.5)) == (True, None)


def test_no_url_is_rejected():
    assert MetadataFilter(MetadataFilterConfig()).check(Sample(key="k", task_id="t", source={})) == (False, "no_url")


def test_resolution_on_decoded_size():
    f = ResolutionFilter(ResolutionConfig())
    x = Sample(key="k", task_id="t", source={})
    x.width, x.height = 200, 199
    assert f.check(x) == (False, "too_small")
    x.height = 200
    assert f.check(x) == (True, None)
