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

from whoosh import index
from whoosh.qparser import MultifieldParser, OrGroup
from whoosh.searching import Searcher

FIELDS = ("name", "title", "code")
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

    def search(self, query: str, page: int = 1) -> Results:
        text = " ".join(query.split())[:MAX_QUERY].upper()
        searcher = self._current()
        if not text or searcher is None:
            return Results(text, 0, [], 1)
        parser = MultifieldParser(list(FIELDS), searcher.schema, group=OrGroup)
        parsed = parser.parse(text)
        found = searcher.search_page(parsed, max(page, 1), pagelen=PAGE_SIZE)
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
