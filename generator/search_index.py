"""The register search index (whoosh), written by the build for the portal's ``/search``.

Holds public projections only (PUB-1): organisations, honours and current disclosures as the site
shows them. Text goes through jieba; names also as 1–4 character n-grams, so a two-character
Chinese name matches; USCCs and case numbers as exact terms. The index stores its own schema, so
the portal opens it without importing this package. Fields (a contract with the portal):
``key`` (unique), ``kind`` (organisation|honour|disclosure), ``title``, ``name``, ``code``,
``region``, ``url``, ``summary``.
"""

from __future__ import annotations

import logging
import random
import shutil
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import jieba
from jieba.analyse import ChineseAnalyzer
from whoosh import index
from whoosh.fields import ID, NGRAMWORDS, STORED, TEXT, Schema

INDEX_DIR = "search-index"
# jieba announces loading its dictionary on standard error at every build: a build prints only
# its result (and, on a terminal, its progress bar).
jieba.setLogLevel(logging.WARNING)


def schema() -> Schema:
    return Schema(
        key=ID(stored=True, unique=True),
        kind=ID(stored=True),
        # stoplist=None: the default stop-word frozenset pickles in hash-seed order (PUB-8)
        title=TEXT(stored=True, analyzer=ChineseAnalyzer(stoplist=None)),
        name=NGRAMWORDS(minsize=1, maxsize=4),
        code=ID(stored=True),
        region=STORED,
        url=STORED,
        summary=STORED,
    )


@dataclass(frozen=True)
class SearchDoc:
    key: str
    kind: str
    title: str
    name: str
    code: str
    region: str
    url: str
    summary: str


@contextmanager
def _deterministic_names(seed: str) -> Iterator[None]:
    """whoosh names segments with ``random``: seed it for the write, so two builds of the same
    data give the same files (PUB-8), then give the rest of the process its randomness back."""
    state = random.getstate()
    random.seed(seed)
    try:
        yield
    finally:
        random.setstate(state)


def write_index(root: Path, docs: Iterable[SearchDoc], seed: str) -> int:
    """Write every document into ``root/search-index`` in one segment; return the count."""
    target = root / INDEX_DIR
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    count = 0
    with _deterministic_names(seed):
        ix = index.create_in(str(target), schema())
        writer = ix.writer(limitmb=256, compound=False)  # compound files record mtimes
        for doc in docs:
            writer.add_document(**doc.__dict__)
            count += 1
        writer.commit(optimize=True)
        ix.close()
    (target / "MAIN_WRITELOCK").unlink(missing_ok=True)
    return count
