"""Public search over the register index the build writes (BJ-14a): public projections only.

One small interface with backends behind it (DESIGN.md, scale path); the embedded one reads the
whoosh index in the built site's ``search-index/`` folder. The index is reopened when a new build
has been switched in.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from whoosh import index, query
from whoosh.qparser import QueryParser
from whoosh.searching import Searcher

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
