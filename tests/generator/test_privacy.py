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
