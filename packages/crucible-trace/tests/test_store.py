from __future__ import annotations

import csv
import io
import json
import os
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from crucible.trace import (
    Chain,
    ChainStore,
    ChainStoreError,
    Event,
    EventValidationError,
    export,
    to_csv,
    to_html,
    to_markdown,
)

T0 = datetime(2025, 1, 1, tzinfo=UTC)
SPAN = ("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7")


def _chain(name: str, offset: int = 0) -> Chain:
    chain = Chain(name=name, created=T0 + timedelta(days=offset))
    chain.add(
        type="hypothesis_formed",
        decision=f"{name}: use a heap",
        alternatives=["sort everything", "linear scan"],
        reasoning="k is much smaller than n",
        confidence=0.8,
        time=T0 + timedelta(days=offset),
        trace_id=SPAN[0],
        span_id=SPAN[1],
    )
    chain.add(
        type="ambiguity_flagged",
        decision=f"{name}: ties broken by index",
        confidence=0.3,
        time=T0 + timedelta(days=offset, hours=1),
    )
    return chain


def test_save_load_list_delete(tmp_path: Path) -> None:
    store = ChainStore(tmp_path / "chains")
    a, b = _chain("a", 1), _chain("b", 0)
    path = store.save(a)
    store.save(b)
    assert path == tmp_path / "chains" / f"{a.id}.json"
    assert store.load(a.id) == a
    assert [s.name for s in store.list()] == ["b", "a"]  # oldest first
    assert store.list()[1].n_events == 2
    a.add(type="pattern_applied", decision="a: heapq.nsmallest")
    store.save(a)  # saving again replaces the file
    assert len(store.load(a.id)) == 3
    store.delete(b.id)
    assert [s.id for s in store.list()] == [a.id]
    assert sorted(p.name for p in (tmp_path / "chains").iterdir()) == [f"{a.id}.json"]
    with pytest.raises(ChainStoreError, match="no chain 'missing'"):
        store.load("missing")


def test_search(tmp_path: Path) -> None:
    store = ChainStore(tmp_path)
    store.save(_chain("a", 0))
    store.save(_chain("b", 10))
    assert len(store.search(type="hypothesis_formed")) == 2
    assert [h.chain_name for h in store.search(max_confidence=0.5)] == ["a", "b"]
    assert len(store.search(min_confidence=0.5, max_confidence=0.9)) == 2
    assert [h.event.decision for h in store.search(text="TIES", since=T0 + timedelta(days=5))] == [
        "b: ties broken by index"
    ]
    assert len(store.search(until="2025-01-02")) == 2
    hits = store.search(span_id=SPAN[1].upper())  # open chains from the model call's span
    assert {h.chain_name for h in hits} == {"a", "b"}
    assert store.search(trace_id="0" * 32) == []
    with pytest.raises(ChainStoreError, match=r"`min_confidence` must be in \[0, 1\]"):
        store.search(min_confidence=1.7)
    with pytest.raises(ChainStoreError, match="`since` must be an ISO-8601 time"):
        store.search(since="last week")


def test_store_directory_is_a_file(tmp_path: Path) -> None:
    file = tmp_path / "chains.json"
    file.write_text("{}")
    with pytest.raises(ChainStoreError, match="is a file; give a directory"):
        ChainStore(file)
    with pytest.raises(ChainStoreError, match="does not exist; create it or pass create=True"):
        ChainStore(tmp_path / "nope", create=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["chains.json"]


def test_corrupt_file_names_line_and_column(tmp_path: Path) -> None:
    store = ChainStore(tmp_path)
    chain = _chain("a")
    path = store.save(chain)
    path.write_text('{\n  "id": "x",\n  "events": [,]\n}\n')
    with pytest.raises(ChainStoreError, match=rf"{re.escape(str(path))}:3:\d+: not valid JSON"):
        store.load(chain.id)
    path.write_text(json.dumps({"events": [{"type": "x", "decision": "d", "confidence": 1.7}]}))
    with pytest.raises(ChainStoreError, match=r"events\[0\]: `confidence` must be in \[0, 1\]"):
        store.load(chain.id)


def test_failed_write_leaves_the_old_file_and_no_temp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = ChainStore(tmp_path)
    chain = _chain("a")
    path = store.save(chain)
    before = path.read_text()
    chain.add(type="pattern_applied", decision="more")

    def broken_fsync(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(ChainStoreError, match="No space left on device"):
        store.save(chain)
    assert path.read_text() == before
    assert [p.name for p in tmp_path.iterdir()] == [path.name]


def test_bad_chain_ids(tmp_path: Path) -> None:
    store = ChainStore(tmp_path)
    with pytest.raises(ChainStoreError, match="chain `id` must be"):
        store.load("../../etc/passwd")


def test_exports(tmp_path: Path) -> None:
    chain = _chain("exp")
    for suffix in (".json", ".md", ".csv", ".html"):
        export(chain, tmp_path / f"c{suffix}")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.csv", "c.html", "c.json", "c.md"]
    assert Chain.from_dict(json.loads((tmp_path / "c.json").read_text())) == chain
    rows = list(csv.DictReader(io.StringIO(to_csv(chain))))
    assert [r["decision"] for r in rows] == ["exp: use a heap", "exp: ties broken by index"]
    assert rows[0]["alternatives"] == "sort everything | linear scan"
    assert rows[0]["confidence"] == "0.8"
    assert rows[0]["span_id"] == SPAN[1]
    md = to_markdown(chain)
    assert md.startswith("# Reasoning chain: exp")
    assert "| 1 | hypothesis_formed | exp: use a heap | 0.80 |" in md
    assert "- sort everything" in md
    with pytest.raises(ChainStoreError, match=r"cannot tell the format from '\.txt'"):
        export(chain, tmp_path / "c.txt")
    with pytest.raises(ChainStoreError, match="does not exist; create it"):
        export(chain, tmp_path / "missing" / "c.json")
    with pytest.raises(ChainStoreError, match="is a directory"):
        export(chain, tmp_path, format="json")


def test_html_viewer_is_self_contained() -> None:
    chain = _chain("view")
    chain.add(type="design_choice", decision="</script><script>alert(1)</script>", confidence=0.5)
    page = to_html(chain)
    assert page.startswith("<!DOCTYPE html>")
    # Offline: no external scripts, styles, fonts or images.
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
    assert "@import" not in page
    # Timeline cards carry what the filters use; alternatives are listed.
    assert page.count('<li class="event"') == 3
    assert 'data-type="hypothesis_formed" data-confidence="0.8"' in page
    assert "<li>sort everything</li>" in page
    assert 'data-filter-type="ambiguity_flagged"' in page
    assert 'id="min-confidence"' in page and 'id="text"' in page
    # Text is escaped, and the embedded data cannot close its script element.
    assert "<script>alert(1)" not in page
    data = re.search(r'<script type="application/json" id="chain-data">(.*?)</script>', page, re.S)
    assert data is not None
    assert Chain.from_dict(json.loads(data.group(1))) == chain


def test_event_from_dict_rejects_unknown_fields() -> None:
    with pytest.raises(EventValidationError, match="unknown event fields"):
        Event.from_dict({"type": "x", "decision": "d", "colour": "red"})
