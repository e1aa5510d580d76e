"""The one atomic publisher (humanverse/shards/atomic.py): folders as well as files, an existing folder
replaced with no moment where neither is there, and no other place in the package renaming into place."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import humanverse
from humanverse.shards import atomic

PACKAGE = Path(humanverse.__file__).parent
RENAMES = {"os.replace", "os.rename", "os.renames", "shutil.move"}


def renames_outside_atomic(*roots: Path) -> list[str]:
    """Every call that moves a path into place, outside shards/atomic.py: os.replace/rename, shutil.move,
    fsspec's mv/move, and Path.replace/rename (a method named so with one positional argument and no keyword;
    str.replace takes two). Default roots: the package and the bench scripts."""
    roots = roots or (PACKAGE, PACKAGE.parent / "bench")
    found = []
    for path in sorted(p for root in roots for p in root.rglob("*.py")):
        root = next(r for r in roots if r in path.parents)
        if any(part.startswith(".") for part in path.relative_to(root).parts):
            continue  # the bench's ignored outputs: bench/.out (earlier code for --variants), bench/.venv-*
        if path.relative_to(root).as_posix() == "shards/atomic.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            name = ast.unparse(node.func)
            one_path = node.func.attr in ("replace", "rename") and len(node.args) == 1 and not node.keywords
            if name in RENAMES or one_path or node.func.attr in ("mv", "move"):
                found.append(f"{path.relative_to(root.parent)}:{node.lineno}: {name}")
    return found


def test_nothing_outside_atomic_renames_into_place():
    assert renames_outside_atomic() == [], "publish through humanverse.shards.atomic (staged_file / staged_folder)"


def test_the_rename_finder_finds_renames(tmp_path):
    pkg = tmp_path / "pkg"
    (pkg / "shards").mkdir(parents=True)
    (pkg / "shards" / "atomic.py").write_text("import os\nos.replace('a', 'b')\n")
    (pkg / "eval.py").write_text(
        "import os, shutil\nfrom pathlib import Path\n"
        "def f(tmp: Path, fs):\n    os.replace(tmp, 'x')\n    tmp.rename('y')\n    shutil.move(tmp, 'z')\n"
        "    fs.mv('a', 'b')\n    'abc'.replace('a', 'b')\n    tmp.with_suffix('.x')\n"
    )
    assert renames_outside_atomic(pkg) == [
        "pkg/eval.py:4: os.replace", "pkg/eval.py:5: tmp.rename", "pkg/eval.py:6: shutil.move", "pkg/eval.py:7: fs.mv"
    ]


def _fill(folder: Path, text: str) -> None:
    (folder / "sub").mkdir()
    (folder / "sub" / "weights.bin").write_text(text)
    (folder / "config.json").write_text(text)


def _content(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): p.read_text() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_a_new_folder_is_published_whole(tmp_path):
    final = tmp_path / "runs" / "base"
    with atomic.staged_folder(final) as tmp:
        assert tmp.parent == final.parent and tmp.name.startswith(".") and not final.exists()
        _fill(tmp, "new")
    assert _content(final) == {"config.json": "new", "sub/weights.bin": "new"}
    assert sorted(p.name for p in final.parent.iterdir()) == ["base"]


@pytest.mark.reliability
def test_a_crash_while_filling_leaves_the_old_folder_and_no_temporary(tmp_path):
    final = tmp_path / "base"
    final.mkdir()
    _fill(final, "old")
    with pytest.raises(KeyboardInterrupt):
        with atomic.staged_folder(final) as tmp:
            _fill(tmp, "half")
            raise KeyboardInterrupt
    assert _content(final) == {"config.json": "old", "sub/weights.bin": "old"}
    assert [p.name for p in tmp_path.iterdir()] == ["base"]


@pytest.mark.parametrize("exchange", [True, False], ids=["renameat2-exchange", "rename-aside"])
def test_an_existing_folder_is_replaced(tmp_path, monkeypatch, exchange):
    final = tmp_path / "checkpoint-4"
    final.mkdir()
    _fill(final, "old")
    (final / "only-in-old.txt").write_text("old")
    if not exchange:
        monkeypatch.setattr(atomic, "_exchange", lambda a, b: False)
    else:
        (tmp_path / "a").mkdir(), (tmp_path / "b").mkdir()
        if not atomic._exchange(tmp_path / "a", tmp_path / "b"):
            pytest.skip("this file system cannot exchange two paths")
        (tmp_path / "a").rmdir(), (tmp_path / "b").rmdir()

        def no_plain_rename(*args):
            raise AssertionError("an exchange needs no rename: the final name is never empty")
        monkeypatch.setattr(atomic.os, "rename", no_plain_rename)
    with atomic.staged_folder(final) as tmp:
        _fill(tmp, "new")
    assert _content(final) == {"config.json": "new", "sub/weights.bin": "new"}
    assert [p.name for p in tmp_path.iterdir()] == ["checkpoint-4"]


@pytest.mark.reliability
def test_a_failed_second_rename_puts_the_old_folder_back(tmp_path, monkeypatch):
    final = tmp_path / "base"
    final.mkdir()
    _fill(final, "old")
    monkeypatch.setattr(atomic, "_exchange", lambda a, b: False)
    real_rename = atomic.os.rename

    def second_fails(src, dst):
        if Path(src).name.startswith(".base.tmp-"):
            raise OSError("disk gone")
        real_rename(src, dst)

    monkeypatch.setattr(atomic.os, "rename", second_fails)
    with pytest.raises(OSError, match="disk gone"):
        with atomic.staged_folder(final) as tmp:
            _fill(tmp, "new")
    assert _content(final) == {"config.json": "old", "sub/weights.bin": "old"}
    assert [p.name for p in tmp_path.iterdir()] == ["base"]


@pytest.mark.reliability
def test_a_kill_between_the_two_renames_is_undone(tmp_path):
    """Without exchange the old folder is set aside first; a kill right then leaves no final folder (the
    documented window) and the old one under `.NAME.old-*`: restore_aside, and any later publish of the same
    folder, put it back first."""
    final, aside = tmp_path / "base", tmp_path / ".base.old-12345678"
    aside.mkdir()
    _fill(aside, "old")
    atomic.restore_aside(final)
    assert _content(final) == {"config.json": "old", "sub/weights.bin": "old"} and not aside.exists()

    final.rename(aside)
    with atomic.staged_folder(final) as tmp:
        _fill(tmp, "new")
    assert _content(final) == {"config.json": "new", "sub/weights.bin": "new"}
    assert [p.name for p in tmp_path.iterdir()] == ["base"]


def test_folders_are_local_only():
    with pytest.raises(ValueError, match="local paths only"):
        with atomic.staged_folder("s3://bucket/run/base"):
            pass


def test_stale_temporary_folders_are_removed(tmp_path):
    (tmp_path / ".base.tmp-1234abcd").mkdir()
    (tmp_path / ".base.tmp-1234abcd" / "x").write_text("half")
    (tmp_path / "base").mkdir()
    assert atomic.remove_stale_temporaries(str(tmp_path)) == 1
    assert [p.name for p in tmp_path.iterdir()] == ["base"]
