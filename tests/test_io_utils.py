"""Atomic writes leave the old file or the new one, never a half; JSONL reads survive a killed writer."""

from __future__ import annotations

import json
import os

import pytest

from recipes import io_utils
from recipes.io_utils import atomic_write_bytes, atomic_write_text, read_json, read_jsonl, write_jsonl_atomic


def test_atomic_write_replaces_the_file_and_leaves_no_temp_files(tmp_path):
    target = tmp_path / "sub" / "report.md"
    atomic_write_text(target, "old")
    atomic_write_text(target, "new ✓")
    assert target.read_text(encoding="utf-8") == "new ✓"
    assert os.listdir(target.parent) == ["report.md"]
    assert target.stat().st_mode & 0o777 == 0o644  # readable by others, unlike a raw temp file


def test_a_failed_write_keeps_the_old_file(tmp_path, monkeypatch):
    target = tmp_path / "summary.json"
    atomic_write_text(target, "complete")

    def boom(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(io_utils.os, "replace", boom)
    with pytest.raises(OSError, match="disk full"):
        atomic_write_bytes(target, b"partial")
    assert target.read_text() == "complete"
    assert os.listdir(tmp_path) == ["summary.json"]


def test_jsonl_round_trip_keeps_unicode(tmp_path):
    rows = [{"id": 1, "q": "½ + ¼?"}, {"id": 2, "q": None}]
    path = write_jsonl_atomic(tmp_path / "p.jsonl", rows)
    assert read_jsonl(path) == rows
    assert "½" in path.read_text(encoding="utf-8")


def test_read_jsonl_drops_only_a_torn_last_line(tmp_path):
    path = tmp_path / "metrics.jsonl"
    path.write_text('{"step": 1}\n{"step": 2}\n{"step": 3, "rew')
    assert read_jsonl(path) == [{"step": 1}, {"step": 2}]
    with pytest.raises(ValueError, match=r"metrics.jsonl:3: not valid JSON"):
        read_jsonl(path, tolerate_truncated_tail=False)
    path.write_text('{"step": 1}\n{"ste\n{"step": 3}\n')
    with pytest.raises(ValueError, match=r"metrics.jsonl:2: not valid JSON"):
        read_jsonl(path)


def test_read_json_names_the_file_on_bad_json(tmp_path):
    good, bad = tmp_path / "good.json", tmp_path / "bad.json"
    good.write_text(json.dumps({"a": 1}))
    bad.write_text("{")
    assert read_json(good) == {"a": 1}
    with pytest.raises(ValueError, match="bad.json:1: not valid JSON"):
        read_json(bad)
