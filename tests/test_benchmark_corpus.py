"""The benchmark corpus (issue 9) is valid content: a small one loads without a single problem,
on SQLite and PostgreSQL, and the same size gives the same files (deterministic)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from benchmarks.corpus import write_corpus
from tests.builders import load, row_count
from volcredit.store.engine import Store


def _digest(folder: Path) -> str:
    h = hashlib.sha256()
    for path in sorted((folder / "data").glob("*.csv")):
        h.update(path.name.encode() + path.read_bytes())
    return h.hexdigest()


def test_a_small_corpus_loads_cleanly_and_is_deterministic(store: Store, tmp_path: Path) -> None:
    write_corpus(tmp_path / "a", 300, 2000)
    write_corpus(tmp_path / "b", 300, 2000)
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")
    result = load(store, tmp_path / "a")
    assert result.ok, result.log.lines()[:10]
    assert [w for w in result.log.lines() if "警告" in w] == []
    assert row_count(store, "service_records") == 2000
    assert row_count(store, "organisations") >= 240  # 80% of the entries are organisations
