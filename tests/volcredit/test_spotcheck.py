"""The yearly spot-check draw (HN-2c): at least 10 per city and county, complaint organisations
always in, larger and busier ones first more often, and the same seed always the same draw."""

from __future__ import annotations

import json
from collections import Counter
from datetime import date
from pathlib import Path

import pytest

from tests.builders import base_tables, load, uscc_code, write_content
from volcredit.cli import main
from volcredit.rules.spotcheck import MINIMUM, WEIGHTED_RESERVE, Candidate, draw
from volcredit.store.engine import Store


def pool(n: int, complaints: int = 0) -> list[Candidate]:
    return [
        Candidate(f"U{i:03d}", f"组织{i}", 1 if i < complaints else 0, i % 5, i % 7)
        for i in range(n)
    ]


def keys(drawn: list) -> list[str]:  # type: ignore[type-arg]
    return [d.candidate.uscc for d in drawn]


def test_same_seed_same_draw_other_seed_other_draw_hn_2c() -> None:
    """HN-2c: the draw is reproducible from the published seed, whatever order rows come in."""
    first = draw(pool(40), "2026-湖南-01", 2026, "430102")
    again = draw(list(reversed(pool(40))), "2026-湖南-01", 2026, "430102")
    assert keys(first) == keys(again)
    other = draw(pool(40), "2026-湖南-02", 2026, "430102")
    assert keys(other) != keys(first)
    assert keys(draw(pool(40), "2026-湖南-01", 2026, "430103")) != keys(first)


def test_at_least_ten_or_all_hn_2c() -> None:
    """HN-2c: at least 10 organisations per region, all of them if it has fewer."""
    assert len(draw(pool(40), "s", 2026, "r")) == MINIMUM == 10
    assert sorted(keys(draw(pool(7), "s", 2026, "r"))) == [c.uscc for c in pool(7)]
    assert draw([], "s", 2026, "r") == []
    assert len(set(keys(draw(pool(40), "s", 2026, "r")))) == 10  # without replacement


def test_complaint_organisations_always_included_hn_2c() -> None:
    """HN-2c: every organisation with a complaint that year is drawn, even beyond 10."""
    drawn = draw(pool(40, complaints=3), "s", 2026, "r")
    assert keys(drawn)[:3] == ["U000", "U001", "U002"] and len(drawn) == 10
    assert [d.reason for d in drawn[:3]] == ["complaint"] * 3
    many = draw(pool(40, complaints=14), "s", 2026, "r")
    assert len(many) == 14 + WEIGHTED_RESERVE
    assert [d.reason for d in many] == ["complaint"] * 14 + ["weighted"] * WEIGHTED_RESERVE


def test_complaint_draws_never_fill_the_whole_list_hn_2c() -> None:
    """HN-2c, PUB-1: with complaints filling the 10 places, some places still go to the weighted
    draw, so the published list never consists of complaint organisations only."""
    full = draw(pool(20, complaints=10), "s", 2026, "r")
    assert len(full) == 10 + WEIGHTED_RESERVE
    assert sum(d.reason == "weighted" for d in full) == WEIGHTED_RESERVE
    short = draw(pool(11, complaints=10), "s", 2026, "r")  # only one other candidate
    assert len(short) == 11 and short[-1].reason == "weighted"


def test_larger_and_busier_organisations_drawn_more_often_hn_2c() -> None:
    """HN-2c: over many seeds, a heavily weighted organisation is drawn far more often than a
    weight-1 one, and weight-1 ones still get drawn sometimes."""
    candidates = [Candidate(f"S{i:02d}", "小", 0, 0, 0) for i in range(30)]
    candidates.append(Candidate("BIG", "大", 0, 200, 2000))
    seen: Counter[str] = Counter()
    for seed in range(200):
        seen.update(keys(draw(candidates, str(seed), 2026, "r")))
    assert seen["BIG"] == 200
    small = [seen[f"S{i:02d}"] for i in range(30)]
    assert min(small) > 0 and max(small) < 200


def test_spotcheck_command_draws_per_city_and_county(
    store: Store, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """HN-2c through the CLI on a real store: identified organisations of each county, the
    complaint organisation first, the same output for the same seed."""
    tables = base_tables()
    orgs = tables["organisations"]
    for i in range(3, 18):
        orgs.append(
            {
                **orgs[0],
                "uscc": uscc_code("110101", i),
                "name": f"东城区第{i}志愿服务队",
                "identified_on": date(2024, 1, 1),
            }
        )
    complained = uscc_code("110101", 9)
    tables["complaints"] = [
        {
            "complaint_id": "C9",
            "subject_kind": "organisation",
            "subject": complained,
            "received_on": date(2026, 3, 2),
            "summary": "收费",
        }
    ]
    assert load(store, write_content(tmp_path / "c", tables)).ok
    argv = [
        "spotcheck",
        "--db",
        store.url,
        "--year",
        "2026",
        "--seed",
        "公布的种子",
        "--format",
        "json",
    ]
    assert main(argv) == 0
    out = json.loads(capsys.readouterr().out)
    assert main(argv) == 0
    assert json.loads(capsys.readouterr().out) == out
    regions = {r["code"]: r for r in out["regions"]}
    dongcheng = regions["110101"]
    assert dongcheng["candidates"] == 16 and len(dongcheng["drawn"]) == 10
    assert dongcheng["drawn"][0] == {
        "uscc": complained,
        "name": "东城区第9志愿服务队",
        "reason": "complaint",
    }
    assert regions["430102"]["candidates"] == 0  # ORG_B is not identified
    assert "110000" not in regions  # provinces do not draw (HN-2c: cities and counties)
