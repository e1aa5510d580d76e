"""The config digest (humanverse/config_digest.py): a new field with a default leaves old runs resumable, a
changed value still refuses, run folders written with the legacy digest still resume, and no default changes
without a decision about OUTPUT_FORMAT.

Regenerate the pinned defaults (after deciding whether OUTPUT_FORMAT must be bumped):
    PYTHONPATH=$PWD .venv/bin/python -m tests.test_config_digest --write-defaults
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
import typing
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, Field
from pydantic_core import to_jsonable_python

from humanverse import config as cfgmod
from humanverse.config_base import Section, apply_overrides, load_yaml, validate
from humanverse.engine.planner import Plan
from humanverse.engine.resume import decide
from humanverse.shards.run_manifest import ResumeRefused
from humanverse.stages.person_rule import PersonRuleConfig
from tests.support.laion_input import HOG_DETECT

PINNED_DEFAULTS = Path(__file__).with_name("config_defaults.json")


def old_code_digest(cfg: cfgmod.CurateConfig) -> str:
    """The digest humanverse wrote until this change, restated from its source (config.py at c8fc69b)."""
    data = cfg.model_dump(mode="json", exclude={"run"})
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


# A future version of the config: new fields with defaults, at the top level and inside a section.
class PersonRuleWithNewKnob(PersonRuleConfig):
    new_knob: int = Field(3, ge=0)


class DetectorOptions(Section):
    nms_iou: float = 0.5


class FutureCurateConfig(cfgmod.CurateConfig):
    person: PersonRuleWithNewKnob = PersonRuleWithNewKnob()
    detector_options: DetectorOptions = DetectorOptions()
    decode_bound: int | None = None


def future(preset: str, *overrides: str) -> FutureCurateConfig:
    """The preset as the future version reads it."""
    return validate(FutureCurateConfig, apply_overrides(load_yaml(cfgmod.preset_path(preset)), list(overrides)))


@pytest.mark.parametrize("preset", cfgmod.preset_names())
def test_a_new_field_with_a_default_keeps_every_preset_digest(preset):
    today = cfgmod.resolve(preset, None, [])
    assert future(preset).digest() == today.digest()
    assert old_code_digest(future(preset)) != old_code_digest(today)  # what the old digest did


def test_a_changed_value_changes_the_digest():
    base = cfgmod.resolve("demo", None, [])
    assert base.digest() != cfgmod.resolve("demo", None, ["person.max_persons=2"]).digest()
    assert base.digest() != cfgmod.resolve("demo", None, ["pose=null"]).digest()
    assert base.digest() != cfgmod.resolve("demo", None, ["mask={}"]).digest()  # a section switched on
    assert future("demo").digest() != future("demo", "person.new_knob=4").digest()
    assert future("demo").digest() != future("demo", "detector_options.nms_iou=0.7").digest()
    assert future("demo").digest() != future("demo", "decode_bound=4096").digest()
    # the run section is never digested; a default spelt out is the default
    assert base.digest() == cfgmod.resolve("demo", None, ["run.stall_timeout_s=5"]).digest()
    assert future("demo").digest() == future("demo", "person.new_knob=3").digest()


def test_the_output_format_is_in_the_digest(monkeypatch):
    base = cfgmod.resolve("demo", None, [])
    before = base.digest()
    monkeypatch.setattr(cfgmod, "OUTPUT_FORMAT", cfgmod.OUTPUT_FORMAT + 1)
    assert base.digest() != before


def _legacy_record(cfg: cfgmod.CurateConfig) -> dict:
    """A run.json as the code before this change wrote it."""
    return {"config": cfg.model_dump(mode="json"), "config_digest": old_code_digest(cfg), "input_digest": "in"}


def check_resume(output: str, cfg: cfgmod.CurateConfig) -> dict:
    """The resume decision on the config alone (no inputs listed on either side)."""
    return decide(output, cfg.digest(), cfg.input.rows_per_task, Plan([], cfg.input.rows_per_task), [], False,
                  cfg.resumes).previous


def test_a_legacy_run_json_still_resumes(tmp_path):
    demo = cfgmod.resolve("demo", None, [])
    out = tmp_path / "out"
    out.mkdir()
    (out / "run.json").write_text(json.dumps(_legacy_record(demo), indent=1))
    assert check_resume(str(out), demo)["config_digest"] == old_code_digest(demo)

    # and after a field is added (the legacy digest of today's config no longer matches)
    assert old_code_digest(future("demo")) != old_code_digest(demo)
    assert future("demo").resumes(_legacy_record(demo))
    check_resume(str(out), future("demo"))

    # a changed value is still refused, legacy or not
    changed = cfgmod.resolve("demo", None, ["person.max_persons=2"])
    with pytest.raises(ResumeRefused, match="a different config"):
        check_resume(str(out), changed)
    assert not future("demo", "person.new_knob=4").resumes(_legacy_record(demo))


def test_a_legacy_record_whose_config_does_not_hash_to_its_digest_is_refused():
    demo = cfgmod.resolve("demo", None, [])
    record = _legacy_record(demo)
    record["config"]["person"]["max_persons"] = 2  # the stored config is not what the digest was made of
    assert not future("demo", "person.max_persons=2").resumes(record)
    record = _legacy_record(demo)
    record["config"]["person"]["gone_knob"] = 1  # a key today's config does not know
    record["config_digest"] = hashlib.sha256(
        json.dumps({k: v for k, v in record["config"].items() if k != "run"}, sort_keys=True).encode()).hexdigest()
    assert not future("demo").resumes(record)


def test_a_run_folder_written_with_the_legacy_digest_resumes_through_curate(curated_output, tmp_path):
    """The real thing: a finished run folder whose run.json carries the old digest is resumed by `curate`
    (every task skipped), also by a config with a new field, and gets today's digest."""
    from humanverse.engine.curate import curate

    out = tmp_path / "out"
    shutil.copytree(curated_output, out)
    run = json.loads((out / "run.json").read_text())
    cfg = cfgmod.resolve("demo", None, ["input.rows_per_task=4", *HOG_DETECT])  # as curated_output made it
    assert run["config_digest"] == cfg.digest()
    run["config_digest"] = old_code_digest(cfg)
    (out / "run.json").write_text(json.dumps(run, indent=1))
    inputs = [i["path"] for i in run["inputs"]]

    newer = FutureCurateConfig.model_validate(cfg.model_dump(mode="json"))
    result = curate(newer, inputs, str(out), allow_private_urls=True, engine="local")
    assert result.ok and result.tasks_done == 0 and result.tasks_skipped == result.tasks_total > 0
    assert json.loads((out / "run.json").read_text())["config_digest"] == newer.digest() == cfg.digest()
    changed = cfgmod.resolve("demo", None, ["input.rows_per_task=4", *HOG_DETECT, "person.max_persons=2"])
    with pytest.raises(ResumeRefused):
        curate(changed, inputs, str(out), allow_private_urls=True, engine="local")


# --- the pinned defaults ----------------------------------------------------------------------------------


def _sections_in(annotation) -> list[type[BaseModel]]:
    return [a for a in (annotation, *typing.get_args(annotation)) if isinstance(a, type) and issubclass(a, BaseModel)]


def default_leaves(section: BaseModel, prefix: str = "") -> dict[str, Any]:
    """Every default value of the digested config, by dotted key, including those of sections that are off
    (null) by default, under the key they take when switched on."""
    out: dict[str, Any] = {}
    for name, field in type(section).model_fields.items():
        key = f"{prefix}{name}"
        if not prefix and name in cfgmod.NOT_DIGESTED:
            continue
        value = getattr(section, name)
        if isinstance(value, BaseModel):
            out |= default_leaves(value, key + ".")
            continue
        out[key] = to_jsonable_python(value)
        if value is None:
            for cls in _sections_in(field.annotation):
                out |= default_leaves(cls(), key + ".")
    return out


def test_no_default_changes_without_a_decision():
    """The digest leaves defaults out, so a changed default would let old runs resume with different output.
    A changed or removed default fails here: bump OUTPUT_FORMAT (humanverse/config.py) if it changes what a run
    writes, then regenerate the pin (see the module docstring). New fields pass (their default must keep what
    was written before)."""
    pinned = json.loads(PINNED_DEFAULTS.read_text())
    assert pinned["output_format"] == cfgmod.OUTPUT_FORMAT, "OUTPUT_FORMAT changed: regenerate the pinned defaults"
    now = default_leaves(cfgmod.CurateConfig())
    changed = {k: (v, now.get(k, "(removed)")) for k, v in pinned["defaults"].items() if now.get(k, "(removed)") != v}
    assert not changed, f"defaults changed (pinned, now): {changed}"


def test_default_leaves_see_a_changed_default():
    class Changed(PersonRuleConfig):
        max_persons: int = 7

    class Cfg(cfgmod.CurateConfig):
        person: Changed = Changed()

    before, after = default_leaves(cfgmod.CurateConfig()), default_leaves(Cfg())
    assert {k for k in before if before[k] != after[k]} == {"person.max_persons"}
    assert "mask.backend" in before and before["mask"] is None  # an off-by-default section is pinned too


if __name__ == "__main__" and sys.argv[1:] == ["--write-defaults"]:
    PINNED_DEFAULTS.write_text(json.dumps(
        {"output_format": cfgmod.OUTPUT_FORMAT, "defaults": default_leaves(cfgmod.CurateConfig())}, indent=1, sort_keys=True
    ) + "\n")
    print(f"wrote {PINNED_DEFAULTS}")
