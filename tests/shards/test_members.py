"""shards/members.py knows every member the README's *Shard format* documents, so readers and the
every-member fixture cannot fall behind the docs (a new member must get a kind and a test)."""

import re
from pathlib import Path

from humanverse.shards.members import EVERY_MEMBER, member_kind

README = Path(__file__).resolve().parents[2] / "README.md"


def documented_members() -> set[str]:
    text = README.read_text()
    table = text[text.index("### Shard format"):text.index("`{key}.json` fields")]
    out = set()
    for row in table.splitlines():
        if row.startswith("| `{key}."):
            first = row.split("|")[1]
            out |= {m.removeprefix("{key}").lstrip(".") for m in re.findall(r"`((?:\{key\})?\.[\w.]+)`", first)}
    return out


def test_every_documented_member_has_a_kind_and_a_fixture():
    documented = documented_members()
    assert {"jpg", "txt", "json", "depth.png", "mask.png", "parts.png", "outpaint.normal.png"} <= documented
    assert all(member_kind(m) for m in documented), [m for m in documented if not member_kind(m)]
    assert documented <= set(EVERY_MEMBER)


def test_kinds():
    assert member_kind("depth_omnidata.png") == member_kind("outpaint.depth_midas.png") == "depth16"
    assert member_kind("hand_mask.png") == "binary8" and member_kind("mask.png") == "probability8"
    assert member_kind("pyd") is None and member_kind("../x.png") is None and member_kind("depth.png.gz") is None
