"""The PostgreSQL search table (the scale path, BJ-14a, PUB-1): written by the build beside the
live one and swapped in after the site, found through pg_trgm and the short-word pieces, and
left alone by a refused build."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Connection, text

from generator.build import build_site
from generator.search_index import SearchDoc
from generator.search_pg import grams, haystack
from portal.search import PostgresSearch
from tests.builders import ORG_A, load, write_content
from tests.portal.conftest import TODAY, canary_tables
from volcredit.settings import Settings, load_settings
from volcredit.store.engine import Store, open_store


@pytest.fixture
def pg_store(pg_url: str) -> Store:
    store = open_store(pg_url)
    yield store
    store.dispose()


def ours(conn: Connection) -> list[str]:
    """The search tables in this store's schema (other tests' schemas share the database)."""
    query = text(
        "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
        "AND tablename LIKE 'public_search%' ORDER BY tablename"
    )
    return list(conn.execute(query).scalars())


def build(store: Store, tmp_path: Path, tables: dict, pages: Path | None = None) -> bool:
    assert load(store, write_content(tmp_path / "content", tables)).ok
    settings = Settings(signing_key=str(tmp_path / "k"), search="postgresql")
    return build_site(store, tmp_path / "site", TODAY, settings, pages).ok


def test_pieces_cover_every_short_word_of_the_name_and_title() -> None:
    doc = SearchDoc("k", "honour", "优秀志愿者：林若溪", "林若溪", "", "", "", "")
    pieces = grams(haystack(doc))
    assert {"若溪", "林若", "溪", "优秀"} <= set(pieces) and "林若溪" not in pieces


def test_build_publishes_the_table_and_a_rebuild_replaces_it_bj_14a(
    pg_store: Store, tmp_path: Path
) -> None:
    assert build(pg_store, tmp_path, canary_tables())
    assert not (tmp_path / "site" / "search-index").exists()  # no whoosh files are needed
    search = PostgresSearch(pg_store)
    first = search.search("阳光志愿者协会")
    assert first.total >= 1 and first.hits[0].code == ORG_A
    assert search.search("若溪").total >= 1  # a two-character given name
    assert search.search(ORG_A.lower()).hits[0].code == ORG_A
    tables = canary_tables()
    tables["organisations"][0]["name"] = "东城区晨光志愿者协会"
    assert build(pg_store, tmp_path, tables)
    assert search.search("阳光志愿者协会").total == 0
    assert search.search("晨光志愿者").hits[0].code == ORG_A
    with pg_store.read() as conn:
        assert ours(conn) == ["public_search"]  # no table of an earlier build is left


def test_words_of_three_or_more_use_the_trigram_index(pg_store: Store, tmp_path: Path) -> None:
    """pg_trgm serves LIKE '%…%' on the name and title; the pieces serve short words."""
    assert build(pg_store, tmp_path, canary_tables())
    with pg_store.read() as conn:
        conn.execute(text("SET LOCAL enable_seqscan = off"))
        plan = " ".join(
            conn.execute(
                text("EXPLAIN SELECT key FROM public_search WHERE haystack LIKE '%志愿者协%'")
            ).scalars()
        )
        assert "trgm" in plan or "Bitmap Index Scan" in plan, plan
        short = " ".join(
            conn.execute(
                text("EXPLAIN SELECT key FROM public_search WHERE grams @> ARRAY['若溪']")
            ).scalars()
        )
        assert "Bitmap Index Scan" in short, short


def test_a_refused_build_keeps_the_published_table_pub_1(pg_store: Store, tmp_path: Path) -> None:
    assert build(pg_store, tmp_path, canary_tables())
    renamed = canary_tables()
    renamed["organisations"][0]["name"] = "东城区晨光志愿者协会"
    leaky = tmp_path / "leaky"  # editorial pages with a mobile number: the gate refuses
    (leaky / "pages").mkdir(parents=True)
    (leaky / "pages" / "help.md").write_text("# 帮助\n\n电话 13912345678\n", encoding="utf-8")
    assert not build(pg_store, tmp_path, renamed, leaky)
    search = PostgresSearch(pg_store)
    assert search.search("阳光志愿者协会").total >= 1  # the last published table still answers
    assert search.search("晨光志愿者").total == 0  # the refused build's documents never do
    with pg_store.read() as conn:
        names = conn.execute(
            text("SELECT tablename FROM pg_tables WHERE tablename LIKE 'public_search%'")
        )
        assert list(names.scalars()) == ["public_search"]


def test_search_setting_is_checked() -> None:
    assert load_settings({"VOLCREDIT_SEARCH": "postgresql"}).search == "postgresql"
    with pytest.raises(ValueError, match="VOLCREDIT_SEARCH"):
        load_settings({"VOLCREDIT_SEARCH": "solr"})


def test_words_typed_together_pages_and_order_as_whoosh_bj_14a(
    pg_store: Store, tmp_path: Path
) -> None:
    """Words typed without a space match as jieba reads them; organisations come first; a
    page past the last gives the last, with the total."""
    assert build(pg_store, tmp_path, canary_tables())
    search = PostgresSearch(pg_store)
    together = search.search("阳光协会")
    assert together.total >= 1 and together.hits[0].kind == "organisation"
    far = search.search("阳光", page=99)
    assert far.total >= 1 and far.page == 1 and far.hits
    assert search.search("！！！").total == 0 and search.search("%_\\").total == 0


def test_a_build_without_the_setting_still_refreshes_an_existing_table_pub_4(
    pg_store: Store, tmp_path: Path
) -> None:
    """Once a store has the search table, every build refreshes it, whatever the setting: it
    never keeps answering with what the site no longer shows."""
    assert build(pg_store, tmp_path, canary_tables())
    renamed = canary_tables()
    renamed["organisations"][0]["name"] = "东城区晨光志愿者协会"
    assert load(pg_store, write_content(tmp_path / "content", renamed)).ok
    settings = Settings(signing_key=str(tmp_path / "k"))  # search: whoosh
    assert build_site(pg_store, tmp_path / "site", TODAY, settings).ok
    search = PostgresSearch(pg_store)
    assert search.search("阳光志愿者协会").total == 0
    assert search.search("晨光志愿者").total >= 1


def two_builds_at_once(pg_store: Store, write: Callable[[Connection, list], object]) -> None:
    """``write`` 300 documents of each of two builds at once, each in its own transaction; no
    error, and the table ends as one build's documents, whole (never a mix)."""
    import threading

    errors: list[BaseException] = []

    def build(key: str) -> None:
        docs = [
            SearchDoc(f"{key}{i}", "organisation", key, key, "", "", "", "") for i in range(300)
        ]
        try:
            with pg_store.write() as conn:
                write(conn, docs)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=build, args=(k,)) for k in ("甲乙丙", "丁戊己")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with pg_store.read() as conn:
        assert ours(conn) == ["public_search"]
        titles = conn.execute(text("SELECT DISTINCT title FROM public_search")).scalars().all()
        assert len(titles) == 1
        assert conn.execute(text("SELECT count(*) FROM public_search")).scalar() == 300


def test_two_builds_writing_at_once_take_turns(pg_store: Store) -> None:
    """Two builds of one store (two machines, or a preview) never mix their tables: each writes
    a table of its own under the advisory lock and swaps it in whole."""
    from generator.search_pg import replace

    two_builds_at_once(pg_store, replace)


def rows(conn: Connection) -> set[tuple]:
    query = text("SELECT key, kind, title, name, code, region, url, summary, haystack, grams")
    return {tuple(map(str, r)) for r in conn.execute(text(f"{query.text} FROM public_search"))}


def test_a_refresh_writes_only_what_changed_and_equals_a_fresh_table(pg_store: Store) -> None:
    """One document changed, one gone, one new: three rows written, and the table holds exactly
    what a table written whole from the same documents holds (BJ-14a, PUB-4)."""
    from generator.search_pg import refresh, replace

    docs = [
        SearchDoc(f"k{i}", "organisation", f"组织{i}", f"组织{i}", "", "", "", "")
        for i in range(50)
    ]
    with pg_store.write() as conn:
        assert refresh(conn, docs) == (50, 50)  # no table yet: written whole
    changed = [*docs[1:49], SearchDoc("k0", "organisation", "新名", "新名", "", "", "", "")]
    changed.append(SearchDoc("k99", "honour", "优秀志愿者：林若溪", "林若溪", "", "", "", ""))
    with pg_store.write() as conn:
        assert refresh(conn, changed) == (50, 2)
        refreshed = rows(conn)
    with pg_store.write() as conn:
        replace(conn, changed)
        assert rows(conn) == refreshed
    assert {r[0] for r in refreshed} == {f"k{i}" for i in range(49)} | {"k99"}
    assert PostgresSearch(pg_store).search("若溪").total == 1


def test_a_table_without_digests_is_replaced_whole(pg_store: Store) -> None:
    """A search table written by an earlier version (no digests) cannot be compared: the
    refresh writes a new one and swaps it in."""
    from generator.search_pg import refresh

    with pg_store.write() as conn:
        conn.execute(text("DROP TABLE IF EXISTS public_search"))
        conn.execute(text("CREATE TABLE public_search (key text PRIMARY KEY, title text)"))
        conn.execute(text("INSERT INTO public_search VALUES ('old', '旧的')"))
    docs = [SearchDoc("k1", "organisation", "晨光", "晨光", "", "", "", "")]
    with pg_store.write() as conn:
        assert refresh(conn, docs) == (1, 1)
        assert [r[0] for r in rows(conn)] == ["k1"]


def test_two_refreshes_at_once_take_turns(pg_store: Store) -> None:
    """Two builds refreshing one table at once: the advisory lock makes one wait for the other,
    and the table ends as one build's documents, whole."""
    from generator.search_pg import refresh

    with pg_store.write() as conn:
        refresh(conn, [SearchDoc("seed", "organisation", "种子", "种子", "", "", "", "")])
    two_builds_at_once(pg_store, refresh)
