"""Rebuilding after a small change (issue 9): the leak gate ledger and page reuse must give
exactly what a fresh build gives (PUB-8) and must never let a leak through (PUB-1)."""

from __future__ import annotations

import json
import time
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import text

from generator import gate_ledger
from generator.build import KEEP_PREVIOUS, build_site
from generator.leakgate import PRIVATE_VALUE, gate
from generator.manifest import verify_site
from tests.builders import id_number, load
from volcredit.settings import Settings
from volcredit.store.engine import Store, open_store

CONTENT = Path(__file__).resolve().parents[2] / "content"
TODAY = date(2026, 11, 21)
PLANTED = id_number("110101", date(1979, 9, 9), 42)
LEAD = "已认定的志愿服务组织，按登记的行政区划浏览。"  # the lead of organisations/index.html


def files_of(site: Path) -> dict[str, bytes]:
    root = site.resolve()
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def different(a: Path, b: Path) -> list[str]:
    left, right = files_of(a), files_of(b)
    return sorted(rel for rel in left.keys() | right.keys() if left.get(rel) != right.get(rel))


@pytest.fixture()
def world(tmp_path: Path) -> tuple[Store, Path, Settings]:
    store = open_store(f"sqlite:///{tmp_path / 'store.sqlite3'}")
    assert load(store, CONTENT, TODAY).ok
    return store, tmp_path, Settings(signing_key=str(tmp_path / "keys" / "site.key"))


def test_pub8_a_rebuild_reuses_pages_and_equals_a_fresh_build(
    world: tuple[Store, Path, Settings],
) -> None:
    """PUB-8: the second build copies unchanged pages and skips clean files, yet is byte for
    byte the build a fresh folder gets."""
    store, tmp, settings = world
    first = build_site(store, tmp / "site", TODAY, settings)
    assert first.ok and first.reused == 0 and first.scanned == first.files
    again = build_site(store, tmp / "site", TODAY, settings)
    assert again.ok
    fingerprinted = json.loads((tmp / ".site.builds" / "page-ledger.json").read_text())["pages"]
    assert again.reused == len(fingerprinted) > 0.8 * again.pages  # the rest: editorial pages
    assert again.scanned < 0.05 * again.files
    fresh = build_site(store, tmp / "fresh", TODAY, settings)
    assert fresh.ok and fresh.reused == 0
    assert different(tmp / "site", tmp / "fresh") == []
    assert verify_site((tmp / "site").resolve()).ok


def test_pub8_a_changed_entry_is_rendered_again_and_equals_a_fresh_build(
    world: tuple[Store, Path, Settings],
) -> None:
    """A renamed organisation: its pages are rendered, the rest reused, and the result is what
    a fresh build of the changed store gives (PUB-8)."""
    store, tmp, settings = world
    assert build_site(store, tmp / "site", TODAY, settings).ok
    with store.write() as conn:
        uscc = conn.execute(text("SELECT uscc FROM organisations ORDER BY uscc LIMIT 1")).scalar()
        conn.execute(
            text("UPDATE organisations SET name = '改名后的示例志愿者协会' WHERE uscc = :u"),
            {"u": uscc},
        )
    again = build_site(store, tmp / "site", TODAY, settings)
    assert again.ok and 0 < again.reused < again.pages
    assert build_site(store, tmp / "fresh", TODAY, settings).ok
    assert different(tmp / "site", tmp / "fresh") == []
    pages = files_of(tmp / "site")
    assert any(
        "改名后的示例志愿者协会" in body.decode()
        for rel, body in pages.items()
        if rel.endswith(".html")
    )


def test_pub1_a_new_private_value_is_sought_in_pages_that_did_not_change(
    world: tuple[Store, Path, Settings],
) -> None:
    """PUB-1: a private value added since the last build is sought in every file, reused pages
    included: the organisations index did not change, but now holds a volunteer's private text."""
    store, tmp, settings = world
    assert build_site(store, tmp / "site", TODAY, settings).ok
    with store.write() as conn:
        conn.execute(text("UPDATE volunteers SET skills = :s WHERE rowid = 1"), {"s": LEAD})
    result = build_site(store, tmp / "site", TODAY, settings)
    assert not result.ok
    assert ("organisations/index.html", PRIVATE_VALUE, "volunteers.skills") in {
        (leak.path, leak.kind, leak.sample) for leak in result.leaks
    }
    assert LEAD not in repr(result.leaks)


def test_a_page_changed_on_the_server_is_rendered_not_republished(
    world: tuple[Store, Path, Settings],
) -> None:
    """A published page edited in place no longer matches the signed manifest: the next build
    renders it afresh instead of linking the edited file into the new site."""
    store, tmp, settings = world
    assert build_site(store, tmp / "site", TODAY, settings).ok
    page = (tmp / "site").resolve() / "organisations" / "index.html"
    page.write_bytes(page.read_bytes().replace(b"</body>", b"<p>defaced</p></body>"))
    again = build_site(store, tmp / "site", TODAY, settings)
    assert again.ok and again.reused > 0
    assert b"defaced" not in (tmp / "site" / "organisations" / "index.html").read_bytes()
    assert verify_site((tmp / "site").resolve()).ok


def test_nothing_is_reused_after_a_rollback(world: tuple[Store, Path, Settings]) -> None:
    """After a rollback (the site link pointed back at the previous build), the fingerprints
    describe another build: nothing is lent, and the result equals a fresh build."""
    store, tmp, settings = world
    assert build_site(store, tmp / "site", TODAY, settings).ok
    first = (tmp / "site").resolve()
    assert build_site(store, tmp / "site", TODAY, settings).reused > 0
    (tmp / "site").unlink()
    (tmp / "site").symlink_to(first)
    again = build_site(store, tmp / "site", TODAY, settings)
    assert again.ok and again.reused == 0
    assert build_site(store, tmp / "fresh", TODAY, settings).ok
    assert different(tmp / "site", tmp / "fresh") == []


def test_a_reused_page_is_a_copy_not_a_link(world: tuple[Store, Path, Settings]) -> None:
    """A reused page is a file of its own: editing the live site afterwards changes neither the
    kept previous build nor what the next build checks."""
    store, tmp, settings = world
    assert build_site(store, tmp / "site", TODAY, settings).ok
    previous = (tmp / "site").resolve()
    assert build_site(store, tmp / "site", TODAY, settings).reused > 0
    live = (tmp / "site").resolve() / "organisations" / "index.html"
    kept = previous / "organisations" / "index.html"
    assert live.stat().st_ino != kept.stat().st_ino
    live.write_bytes(live.read_bytes().replace(b"</body>", PLANTED.encode() + b"</body>"))
    assert PLANTED.encode() not in kept.read_bytes()
    assert not verify_site((tmp / "site").resolve()).ok
    assert build_site(store, tmp / "site", TODAY, settings).ok  # rendered afresh: no leak
    assert PLANTED.encode() not in (tmp / "site" / "organisations" / "index.html").read_bytes()


def test_old_builds_are_removed_in_the_background(world: tuple[Store, Path, Settings]) -> None:
    """The current build and KEEP_PREVIOUS earlier ones stay; older ones go, without the
    publisher waiting for their deletion."""
    store, tmp, settings = world
    for _ in range(KEEP_PREVIOUS + 3):
        assert build_site(store, tmp / "site", TODAY, settings).ok
    builds = tmp / ".site.builds"
    assert len(list(builds.glob("site-*"))) == KEEP_PREVIOUS + 1
    deadline = time.monotonic() + 30
    while list(builds.glob("trash-*")) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert list(builds.glob("trash-*")) == []


# --- the gate ledger on its own ------------------------------------------------------------


def small_site(root: Path) -> None:
    for i in range(5):
        (root / f"p{i}").mkdir(parents=True)
        (root / f"p{i}" / "index.html").write_text(f"<p>第{i}页 示例内容</p>", encoding="utf-8")


def test_pub1_the_ledger_skips_only_files_it_proved_clean(tmp_path: Path) -> None:
    """PUB-1: unchanged clean files are hashed, not scanned; a changed file, a file moved to a
    path of its own, and a file that leaked are scanned every time."""
    site, keep = tmp_path / "site", tmp_path / "builds"
    small_site(site)
    keep.mkdir()
    (site / "leak.txt").write_text(PLANTED)
    first = gate(site, [])
    assert first.scanned == 6 and [leak.path for leak in first.leaks] == ["leak.txt"]
    gate_ledger.save(keep, first.digest, first.clean())
    second = gate(site, [], ledger=gate_ledger.load(keep))
    assert second.scanned == 1 and second.leaks == first.leaks
    (site / "p1" / "index.html").write_text(f"<p>{PLANTED}</p>", encoding="utf-8")
    (site / "p2").rename(site / PLANTED)
    third = gate(site, [], ledger=gate_ledger.load(keep))
    assert third.scanned == 3
    assert sorted(leak.path for leak in third.leaks) == [
        f"{PLANTED}/index.html",
        "leak.txt",
        "p1/index.html",
    ]


def test_pub1_other_values_or_a_damaged_ledger_mean_a_full_scan(tmp_path: Path) -> None:
    """PUB-1: a ledger proves nothing for other private values, and a damaged one nothing."""
    site, keep = tmp_path / "site", tmp_path / "builds"
    small_site(site)
    keep.mkdir()
    first = gate(site, [("volunteers.skills", "与本页无关的私密文字")])
    assert first.leaks == []
    gate_ledger.save(keep, first.digest, first.clean())
    assert (
        gate(
            site, [("volunteers.skills", "与本页无关的私密文字")], ledger=gate_ledger.load(keep)
        ).scanned
        == 0
    )
    found = gate(site, [("volunteers.skills", "第3页示例内容")], ledger=gate_ledger.load(keep))
    assert found.scanned == 5
    assert [(leak.path, leak.sample) for leak in found.leaks] == [
        ("p3/index.html", "volunteers.skills")
    ]
    (keep / gate_ledger.LEDGER).write_text("{not json")
    assert gate(site, [], ledger=gate_ledger.load(keep)).scanned == 5


def test_a_fingerprint_reads_every_field_and_refuses_what_is_not_data() -> None:
    """A field left out of a dataclass's repr still changes the fingerprint; a page with a
    function among its inputs has none (it is always rendered)."""
    import dataclasses

    from generator.page_reuse import PageReuse

    @dataclasses.dataclass(frozen=True)
    class Entry:
        name: str
        hidden: str = dataclasses.field(repr=False, default="")

    reuse = PageReuse("code")

    def fingerprint(**context: object) -> str:
        return reuse.fingerprint("organisations", "t.html", "标题", TODAY, context)

    assert fingerprint(e=Entry("甲", "一")) != fingerprint(e=Entry("甲", "二"))
    assert fingerprint(e=[Entry("甲")], n={"a": 1}) == fingerprint(n={"a": 1}, e=[Entry("甲")])
    assert fingerprint(e={"a", "b"}) != fingerprint(e={"a", "c"})
    assert fingerprint(e=Entry("甲"), link=len) == ""
    assert fingerprint(e=object()) == ""


def test_pub1_a_change_of_the_scanner_means_a_full_scan(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PUB-1: clean verdicts hold only for the scanner that gave them: another scanner version
    (its sources, Python, the libraries) scans every file again."""
    site, keep = tmp_path / "site", tmp_path / "builds"
    small_site(site)
    keep.mkdir()
    first = gate(site, [])
    gate_ledger.save(keep, first.digest, first.clean())
    assert gate(site, [], ledger=gate_ledger.load(keep)).scanned == 0
    monkeypatch.setattr(gate_ledger, "GATE_VERSION", "another")
    assert gate(site, [], ledger=gate_ledger.load(keep)).scanned == 5
