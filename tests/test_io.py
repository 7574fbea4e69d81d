"""Atomic writes and provenance."""

import pytest

from harness.io import atomic_path, provenance, read_jsonl, write_json, write_jsonl


def test_jsonl_round_trip(tmp_path):
    rows = [{"a": 1, "b": [1.5, None]}, {"a": 2, "b": "x"}]
    write_jsonl(tmp_path / "x.jsonl", rows)
    assert read_jsonl(tmp_path / "x.jsonl") == rows


def test_failed_write_leaves_the_old_file_and_no_debris(tmp_path):
    target = tmp_path / "metrics.json"
    write_json(target, {"v": 1})
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text('{"v": 2, "trunc')
            raise RuntimeError("killed mid-write")
    assert target.read_text() == '{\n  "v": 1\n}\n'
    assert [p.name for p in tmp_path.iterdir()] == ["metrics.json"]


def test_directories_are_replaced_whole(tmp_path):
    target = tmp_path / "model"
    with atomic_path(target) as tmp:
        tmp.mkdir()
        (tmp / "a").write_text("1")
    with atomic_path(target) as tmp:
        tmp.mkdir()
        (tmp / "b").write_text("2")
    assert sorted(p.name for p in target.iterdir()) == ["b"]


def test_provenance_records_config_seed_versions_and_revision():
    meta = provenance({"name": "x"}, seed=3)
    assert meta["config"] == {"name": "x"} and meta["seed"] == 3
    assert meta["versions"]["torch"].startswith("2.13.0")
    assert meta["git_revision"]


KILLED_WRITE = """
import sys, time
from harness.io import atomic_path
with atomic_path(sys.argv[1]) as tmp:
    tmp.mkdir()
    (tmp / "weights").write_text("half")
    print("writing", flush=True)
    time.sleep(600)
"""


def test_a_killed_write_leaves_a_temporary_that_the_next_write_removes(tmp_path):
    import subprocess
    import sys

    target = tmp_path / "model"
    writer = subprocess.Popen([sys.executable, "-c", KILLED_WRITE, str(target)], stdout=subprocess.PIPE, text=True)
    assert writer.stdout.readline() == "writing\n"
    unstamped = tmp_path / ".model.legacy"  # from before temporaries were stamped: kept, owner unknown
    unstamped.mkdir()
    write_json(tmp_path / "model.json", {})  # another target's write leaves it alone
    with atomic_path(target) as tmp:  # the writer is alive: its temporary stays
        tmp.mkdir()
    [live] = [p for p in tmp_path.glob(".model.*") if p != unstamped]
    writer.kill()
    writer.wait()
    with atomic_path(target) as tmp:
        tmp.mkdir()
        (tmp / "weights").write_text("whole")
    assert sorted(p.name for p in tmp_path.iterdir()) == [".model.legacy", "model", "model.json"]
    assert not live.exists() and (target / "weights").read_text() == "whole"
