"""Privacy by construction on the real built site (PUB-1, PUB-7): canaries planted in every
never-public field never appear in any file; a leak refuses the build and the previous site stays;
an interrupted build leaves it too."""

from __future__ import annotations

import html
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import unquote

import pytest
from sqlalchemy import select, update

from generator import registers
from generator.build import build_site
from generator.manifest import verify_site
from tests.builders import id_number, load
from volcredit.contract import TABLES, never_public_fields
from volcredit.settings import Settings
from volcredit.store.engine import Store, open_store
from volcredit.store.schema import content_tables

CONTENT = Path(__file__).resolve().parents[2] / "content"
TODAY = date(2026, 11, 21)
# Kinds whose values are references or choices shared with public data: no canary can be planted.
_SHARED_KINDS = {
    "enum",
    "int_choice",
    "score",
    "volunteer_ref",
    "uscc_ref",
    "subject_ref",
    "region_ref",
    "year",
    "bool",
}


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = open_store(f"sqlite:///{tmp_path / 'store.sqlite3'}")
    assert load(s, CONTENT, TODAY).ok
    return s


def plant_canaries(store: Store) -> list[str]:
    """Give every row a unique, distinctive value in every never-public field it can carry."""
    canaries: list[str] = []
    with store.write() as conn:
        for table, name in never_public_fields():
            kind = TABLES[table].field(name).kind
            if kind in _SHARED_KINDS:
                continue
            t = content_tables[table]
            for (row_id,) in conn.execute(select(t.c.row_id)).all():
                value = _canary(kind, table, name, row_id)
                conn.execute(update(t).where(t.c.row_id == row_id).values({name: value}))
                if isinstance(value, str):
                    canaries.append(value)
    return canaries  # dates and hours are checked apart: they are not distinctive strings


def _canary(kind: str, table: str, name: str, row: int) -> object:
    if kind == "phone":
        return f"1399{len(table):02d}{row:05d}"
    if kind == "id_number":
        return id_number("110101", date(1961, 1, 1) + timedelta(days=row), 700 + row % 300)
    if kind == "date":
        return date(1931, 1, 1) + timedelta(days=row)
    if kind == "hours":
        from decimal import Decimal

        return Decimal("7.77")
    return f"金丝雀{table}{name}{row:05d}"


def files_text(site: Path) -> str:
    """Every file's text, plus its HTML-unescaped and URL-decoded forms."""
    chunks = []
    for path in site.resolve().rglob("*"):
        if path.is_file():
            raw = path.read_bytes().decode("utf-8", errors="ignore")
            chunks += [raw, html.unescape(raw), unquote(raw), path.as_posix()]
    return "\n".join(chunks)


def test_pub1_canaries_in_every_never_public_field_never_appear(
    store: Store, tmp_path: Path
) -> None:
    canaries = plant_canaries(store)
    assert len(canaries) > 300
    result = build_site(
        store, tmp_path / "site", TODAY, Settings(signing_key=str(tmp_path / "k.key"))
    )
    assert result.ok, result.leaks
    text = files_text(tmp_path / "site")
    assert [c for c in canaries if c in text] == []
    assert "1931-" not in text  # no planted birth or record date


def test_pub1_leak_refuses_the_build_and_keeps_the_previous_site(
    store: Store, tmp_path: Path
) -> None:
    """An ID number that reached a public field (here an organisation's name) fails the build,
    naming the file; the site published before stays exactly as it was."""
    settings = Settings(signing_key=str(tmp_path / "k.key"))
    out = tmp_path / "site"
    assert build_site(store, out, TODAY, settings).ok
    before = out.resolve()
    planted = id_number("110101", date(1988, 8, 8), 18)
    orgs = content_tables["organisations"]
    with store.write() as conn:
        conn.execute(
            update(orgs)
            .where(orgs.c.uscc == "51110101MJ01735256")
            .values(name=f"北京市东城区晓光志愿服务协会{planted}")
        )
    result = build_site(store, out, TODAY, settings)
    assert not result.ok
    assert "organisations/51110101MJ01735256/index.html" in {leak.path for leak in result.leaks}
    assert all(planted not in repr(leak) for leak in result.leaks)
    assert out.resolve() == before and verify_site(before).ok
    assert not list(before.parent.glob("building-*"))


def test_interrupted_build_keeps_the_previous_site(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings(signing_key=str(tmp_path / "k.key"))
    out = tmp_path / "site"
    assert build_site(store, out, TODAY, settings).ok
    before = out.resolve()

    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(registers, "write_honours", interrupted)
    with pytest.raises(KeyboardInterrupt):
        build_site(store, out, date(2026, 11, 22), settings)
    assert out.resolve() == before and verify_site(before).ok
    assert not list(before.parent.glob("building-*"))


def test_pub5_full_name_inside_the_facts_is_masked_too(store: Store, tmp_path: Path) -> None:
    """PUB-5: a person's full name written into the penalty's facts is masked there as well."""
    v, p = content_tables["volunteers"], content_tables["penalties"]
    with store.write() as conn:
        subject = conn.execute(select(p.c.subject).where(p.c.case_id == "VP-2025-008")).scalar()
        name = conn.execute(select(v.c.name).where(v.c.volunteer_no == subject)).scalar_one()
        conn.execute(
            update(p)
            .where(p.c.case_id == "VP-2025-008")
            .values(facts=f"{name}以“志愿讲解”名义收取费用。")
        )
    assert build_site(
        store, tmp_path / "site", TODAY, Settings(signing_key=str(tmp_path / "k.key"))
    ).ok
    site = (tmp_path / "site").resolve()
    for rel in (
        "disclosures/index.html",
        "downloads/disclosures.csv",
        "downloads/disclosures.json",
    ):
        text = (site / rel).read_text(encoding="utf-8")
        assert name not in text and f"{name[0]}{'*' * (len(name) - 1)}以“志愿讲解”" in text


def test_store_text_cannot_inject_html_into_the_home_page(store: Store, tmp_path: Path) -> None:
    h = content_tables["honours"]
    with store.write() as conn:
        conn.execute(
            update(h)
            .where(h.c.honour_id == "HON-2026-002")
            .values(title="优秀志愿者<img src=x onerror=alert(1)>")
        )
    assert build_site(
        store, tmp_path / "site", TODAY, Settings(signing_key=str(tmp_path / "k.key"))
    ).ok
    home = (tmp_path / "site" / "index.html").read_text(encoding="utf-8")
    assert "<img src=x" not in home and "&lt;img src=x onerror=alert(1)&gt;" in home


def test_one_build_at_a_time_and_leftovers_of_killed_builds_go(
    store: Store, tmp_path: Path
) -> None:
    import fcntl

    from generator.build import BuildBusy

    settings = Settings(signing_key=str(tmp_path / "k.key"))
    builds = tmp_path / ".site.builds"
    (builds / "building-killed" / "site").mkdir(parents=True)
    with (builds / "lock").open("a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        with pytest.raises(BuildBusy):
            build_site(store, tmp_path / "site", TODAY, settings)
        fcntl.flock(held, fcntl.LOCK_UN)
    assert build_site(store, tmp_path / "site", TODAY, settings).ok
    assert not (builds / "building-killed").exists()
