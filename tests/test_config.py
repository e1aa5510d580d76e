import pytest

from humanverse import config as cfgmod


def test_presets_build():
    assert {"demo", "humanverse"} <= set(cfgmod.preset_names())
    demo = cfgmod.resolve("demo", None, [])
    assert demo.demo is True and demo.detect.backend == "blazepose"
    real = cfgmod.resolve("humanverse", None, [])
    assert real.demo is False and real.person.min_area_frac == 0.15 and real.person.max_persons == 3


def test_unknown_key_is_named(tmp_path):
    f = tmp_path / "c.yaml"
    f.write_text("person:\n  max_persns: 3\n")
    with pytest.raises(cfgmod.ConfigError, match=r"person\.max_persns: unknown key"):
        cfgmod.resolve(None, str(f), [])


def test_bad_value_is_named():
    with pytest.raises(cfgmod.ConfigError, match=r"person\.min_area_frac"):
        cfgmod.resolve("demo", None, ["person.min_area_frac=1.5"])
    with pytest.raises(cfgmod.ConfigError, match=r"min_persons"):
        cfgmod.resolve("demo", None, ["person.min_persons=4"])


def test_set_overrides_parse_yaml_scalars():
    c = cfgmod.resolve("demo", None, ["person.max_persons=2", "detect.conf=0.5", "input.column_map={url: link}"])
    assert c.person.max_persons == 2 and c.detect.conf == 0.5 and c.input.column_map == {"url": "link"}


def test_digest_ignores_run_section_only():
    a = cfgmod.resolve("demo", None, [])
    assert a.digest() == cfgmod.resolve("demo", None, ["run.stall_timeout_s=5"]).digest()
    assert a.digest() != cfgmod.resolve("demo", None, ["person.max_persons=2"]).digest()


def test_exactly_one_source_of_config(tmp_path):
    with pytest.raises(cfgmod.ConfigError, match="exactly one"):
        cfgmod.resolve(None, None, [])
    with pytest.raises(cfgmod.ConfigError, match="unknown preset"):
        cfgmod.resolve("nope", None, [])
