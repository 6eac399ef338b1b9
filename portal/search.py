"""Public search over the register index the build writes (BJ-14a): public projections only.

One small interface with two backends behind it (DESIGN.md, scale path): the embedded one reads
the whoosh index in the built site's ``search-index/`` folder (reopened when a new build has been
switched in); the PostgreSQL one reads the table the build writes into the store
(``VOLCREDIT_SEARCH=postgresql``), so any number of portal processes share it.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import jieba
from sqlalchemy import text as sql_text
from whoosh import index, query
from whoosh.qparser import QueryParser
from whoosh.searching import Searcher

from volcredit.store.engine import Store

MAX_QUERY = 100
PAGE_SIZE = 20


@dataclass(frozen=True)
class Hit:
    kind: str
    title: str
    url: str
    summary: str
    region: str
    code: str


@dataclass(frozen=True)
class Results:
    query: str
    total: int
    hits: list[Hit]
    page: int


class SearchBackend(Protocol):
    def search(self, query: str, page: int = 1) -> Results: ...

    def close(self) -> None: ...


NAME_GRAM = 4  # the longest n-gram the build indexes names with (generator/search_index.py)


def _name_query(word: str) -> query.Query:
    """A name matches when it holds every 4-character window of the word (or the word itself,
    if shorter): selective, where single characters would match nearly every name."""
    text = word.lower()
    grams = (
        [text]
        if len(text) <= NAME_GRAM
        else [text[i : i + NAME_GRAM] for i in range(len(text) - NAME_GRAM + 1)]
    )
    return query.And([query.Term("name", g) for g in grams])


def build_query(searcher: Searcher, text: str) -> query.Query:
    """Every word must match (AND), each in the name, the code or the title (jieba words)."""
    titles = QueryParser("title", searcher.schema)
    words = [
        query.Or([_name_query(w), query.Term("code", w.upper()), titles.parse(w)])
        for w in text.split()
    ]
    return query.And(words)


class WhooshSearch:
    """The embedded backend: the whoosh index under ``site_dir/search-index``."""

    def __init__(self, site_dir: Path) -> None:
        self.site_dir = site_dir
        self._lock = threading.Lock()
        self._searcher: Searcher | None = None
        self._opened_from: str | None = None

    def _current(self) -> Searcher | None:
        folder = self.site_dir / "search-index"
        real = os.path.realpath(folder)
        with self._lock:
            if self._searcher is None or real != self._opened_from:
                if not index.exists_in(folder):
                    return None
                if self._searcher is not None:
                    self._searcher.close()
                self._searcher = index.open_dir(str(folder)).searcher()
                self._opened_from = real
            return self._searcher

    def close(self) -> None:
        with self._lock:
            if self._searcher is not None:
                self._searcher.close()
                self._searcher, self._opened_from = None, None

    def search(self, query_text: str, page: int = 1) -> Results:
        text = " ".join(query_text.split())[:MAX_QUERY]
        searcher = self._current()
        if not text or searcher is None:
            return Results(text, 0, [], 1)
        found = searcher.search_page(build_query(searcher, text), max(page, 1), pagelen=PAGE_SIZE)
        hits = [
            Hit(
                h.get("kind", ""),
                h.get("title", ""),
                h.get("url", ""),
                h.get("summary", ""),
                h.get("region", ""),
                h.get("code", ""),
            )
            for h in found
        ]
        return Results(text, found.total, hits, found.pagenum)


SHORT_WORD = 2  # words up to this length use the one- and two-character pieces (search_pg)


def _like(word: str) -> str:
    """A LIKE pattern finding ``word`` anywhere, its wildcards taken literally."""
    escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _pieces(word: str) -> list[str]:
    """The parts of a typed word that must each appear, as the whoosh backend reads the title:
    jieba's words (阳光协会 → 阳光, 协会); punctuation alone matches nothing."""
    return [t.lower() for t in jieba.lcut(word) if any(ch.isalnum() for ch in t)]


class PostgresSearch:
    """The PostgreSQL backend: the table ``public_search`` the build writes into the store's
    schema (generator/search_pg.py), with the whoosh backend's meaning: every typed word must
    match, as the exact code or with each of its words in the name or title; organisations
    first."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def close(self) -> None:
        """Nothing to close: connections belong to the store's pool."""

    def _where(self, words: list[str]) -> tuple[str, dict[str, object]]:
        where, params = [], {}
        for i, word in enumerate(words):
            params[f"u{i}"] = word.upper()
            parts = [f"code = :u{i}"]
            pieces = _pieces(word)
            for j, piece in enumerate(pieces):
                name = f"w{i}_{j}"
                if len(piece) <= SHORT_WORD:
                    params[name] = [piece]
                    pieces_sql = f"grams @> CAST(:{name} AS text[])"
                else:
                    params[name] = _like(piece)
                    pieces_sql = f"haystack LIKE :{name} ESCAPE '\\'"
                pieces[j] = pieces_sql
            if pieces:
                parts.append("(" + " AND ".join(pieces) + ")")
            where.append("(" + " OR ".join(parts) + ")")
        return " AND ".join(where), params

    def search(self, query_text: str, page: int = 1) -> Results:
        text_ = " ".join(query_text.split())[:MAX_QUERY]
        if not text_:
            return Results(text_, 0, [], 1)
        words = text_.split()[:20]
        where, params = self._where(words)
        count = sql_text(f"SELECT count(*) FROM public_search WHERE {where}")
        rows_sql = sql_text(
            "SELECT kind, title, url, summary, region, code FROM public_search "
            f"WHERE {where} ORDER BY (code = :exact) DESC, "
            "CASE kind WHEN 'organisation' THEN 0 WHEN 'disclosure' THEN 1 ELSE 2 END, "
            "length(name), key LIMIT :limit OFFSET :offset"
        )
        with self.store.read() as conn:
            if conn.execute(sql_text("SELECT to_regclass('public_search')")).scalar() is None:
                return Results(text_, 0, [], 1)  # no build has written the table yet
            total = conn.execute(count, params).scalar_one()
            if not total:
                return Results(text_, 0, [], 1)
            page = min(max(page, 1), (total + PAGE_SIZE - 1) // PAGE_SIZE)  # as whoosh: the last
            offset = (page - 1) * PAGE_SIZE
            more = {"exact": words[0].upper(), "limit": PAGE_SIZE, "offset": offset}
            rows = conn.execute(rows_sql, {**params, **more}).all()
        hits = [Hit(r.kind, r.title, r.url, r.summary, r.region, r.code) for r in rows]
        return Results(text_, total, hits, page)
