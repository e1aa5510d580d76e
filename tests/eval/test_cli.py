"""`humanverse eval`'s config goes through the one config loader: a bad key is a ConfigError naming it."""

import pytest

from humanverse.cli import build_parser
from humanverse.config_base import ConfigError
from humanverse.eval.cli import load_eval_config


def _args(*extra: str):
    return build_parser().parse_args(["eval", "--data", "x.tar", "--output", "out", "--num-samples", "2", *extra])


def test_flags_and_overrides_reach_the_typed_config(tmp_path):
    cfg_file = tmp_path / "eval.yaml"
    cfg_file.write_text("generation:\n  refiner_steps: 7\n")
    cfg = load_eval_config(_args("--config", str(cfg_file), "--guidance-rescale", "0", "--set", "pose.pck_alpha=0.1"))
    assert (cfg.generation.refiner_steps, cfg.generation.guidance_rescale, cfg.pose.pck_alpha) == (7, 0.0, 0.1)


def test_unknown_key_is_a_config_error_naming_it():
    with pytest.raises(ConfigError, match="generation.bogus: unknown key"):
        load_eval_config(_args("--set", "generation.bogus=1"))


def test_eval_and_export_are_top_level_commands():
    assert build_parser().parse_args(["export", "--run", "r", "--output", "o"]).command == "export"
