"""Config mistakes end in exit 2 with a message naming the key, never a traceback (issue 26 item 13), and an
unknown key suggests the nearest known one (issue 31, "also seen")."""

import pytest

from humanverse import cli
from humanverse import config as cfgmod


def curate_exit(capsys, tmp_path, *args):
    code = cli.main(["curate", "--input", str(tmp_path / "none.parquet"), "--output", str(tmp_path / "out"), *args])
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return code, err


@pytest.mark.parametrize("value, says", [(".inf", "finite number"), (".nan", "finite number"),
                                         ("100000", "less than or equal to 3600")])
def test_the_per_url_deadline_cannot_be_switched_off(value, says, capsys, tmp_path):
    code, err = curate_exit(capsys, tmp_path, "--preset", "demo", "--set", f"fetch.download.total_timeout_s={value}")
    assert code == 2 and "fetch.download.total_timeout_s" in err and says in err


def test_no_config_float_may_be_infinite():
    with pytest.raises(cfgmod.ConfigError, match=r"run\.stall_timeout_s: Input should be a finite number"):
        cfgmod.resolve("demo", None, ["run.stall_timeout_s=.inf"])


@pytest.mark.parametrize("args", [
    ["--preset", "demo", "--set", "person.max_persons=[1"],       # a value that is not YAML
    ["--config", "{dir}"],                                        # a folder given as the config file
    ["--config", "{bad_yaml}"],                                   # a file that is not YAML
    ["--config", "{missing}"],
])
def test_config_errors_exit_2_without_a_traceback(args, capsys, tmp_path):
    (tmp_path / "bad.yaml").write_text("input: [unclosed\n")
    paths = {"dir": str(tmp_path), "bad_yaml": str(tmp_path / "bad.yaml"), "missing": str(tmp_path / "no.yaml")}
    code, err = curate_exit(capsys, tmp_path, *[a.format(**paths) for a in args])
    assert code == 2 and err.startswith("error:")


def test_unknown_keys_suggest_the_nearest_known_key():
    with pytest.raises(cfgmod.ConfigError) as caught:
        cfgmod.resolve("demo", None, ["person.max_persns=2", "fetch.downlod.retries=1", "pose.bakend=x",
                                      "run.stall_timeout=3", "zzz=1"])
    text = str(caught.value)
    assert "person.max_persns: unknown key (did you mean 'max_persons' or 'min_persons'?)" in text
    assert "fetch.downlod: unknown key (did you mean 'download'?)" in text
    assert "pose.bakend: unknown key (did you mean 'backend'?)" in text  # an optional section
    assert "run.stall_timeout: unknown key (did you mean 'stall_timeout_s'?)" in text
    assert "zzz: unknown key\n" in text + "\n"  # nothing close: no suggestion
