"""ray_cluster.yaml, the data engineers' entry point: Ray's own cluster-launcher checks accept it, and every
node gets the environment scripts/setup.sh makes (issue 31, "also seen")."""

import copy
import re
import shlex
from pathlib import Path

import yaml
from ray.autoscaler._private.util import prepare_config, validate_config

REPO = Path(__file__).resolve().parents[1]


def cluster() -> dict:
    return yaml.safe_load((REPO / "ray_cluster.yaml").read_text())


def test_ray_accepts_the_cluster_config():
    prepared = prepare_config(copy.deepcopy(cluster()))  # Ray fills in its defaults, as `ray up` does
    validate_config(prepared)  # raises on any schema error
    assert prepared["head_node_type"] in prepared["available_node_types"]
    gpu = [t for t in prepared["available_node_types"].values() if t["resources"].get("GPU")]
    assert gpu and all(t["max_workers"] >= t["min_workers"] for t in gpu)


def test_every_node_installs_what_scripts_setup_sh_installs():
    cfg = cluster()
    # the project is on every node where the setup command looks for it
    [(target, source)] = cfg["file_mounts"].items()
    assert source == "."
    commands = cfg["setup_commands"]
    install = [c for c in commands if "scripts/setup.sh" in c]
    assert len(install) == 1, "one install, by the project's own script (not a second hand-kept package list)"
    words = shlex.split(install[0].replace("&&", " && "))
    assert words[:2] == ["cd", target] and words[-2:] == ["bash", "scripts/setup.sh"]
    env = dict(w.split("=", 1) for w in words if re.fullmatch(r"[A-Z_]+=.*", w))
    setup = (REPO / "scripts" / "setup.sh").read_text()
    for name in env:  # every variable the cluster sets is one setup.sh reads
        assert "${" + name in setup, name
    # the venv setup.sh fills is the one the nodes' PATH (and so `ray start` and the driver) uses
    assert any(f"{env['HUMANVERSE_VENV']}/bin" in c and ".bashrc" in c for c in commands)
    # and setup.sh installs the project itself with what curate needs on a node
    assert '-e ".[test,train]"' in setup and "install_mmpose.sh" in setup and "install_mediapipe.sh" in setup
    assert not cfg["head_setup_commands"] and not cfg["worker_setup_commands"]  # the same on every node


def test_ray_start_uses_the_environment_setup_made():
    cfg = cluster()
    for command in cfg["head_start_ray_commands"] + cfg["worker_start_ray_commands"]:
        assert "pip install" not in command  # nothing installed outside setup.sh
    pyproject = (REPO / "pyproject.toml").read_text()
    assert re.search(r'"ray\[data,default\]', pyproject)  # `ray start` and the dashboard (8265) come with it
