"""What the last published build's leak gate proved, so the next build need not prove it again.

A file's scan result depends only on its path, its bytes, the private values sought, the shared
page shell and the scanner itself. The ledger keeps, for the last published build, one digest of
the values, shell and scanner (:func:`rules_digest`) and, for every file that was scanned and
found clean, a digest of its path and bytes (:func:`ledger_entry`). A later build skips the scan
of a file only when the rules digest is the same and the file's entry is listed: same input,
same answer (PUB-1). Any change to a private value, to the
shell or to the scanner (:func:`scanner_digest`: its sources, Python, the libraries it uses)
empties the ledger's use, and every file is scanned again.

The ledger lives in the builds folder beside the site (``.<site>.builds/gate-ledger.json``),
which only the build writes; a missing or unreadable ledger means a full scan.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path

from volcredit.rules import masking

GATE_VERSION = "3"  # the scanner's sources are in the digest too; this marks a change of intent
LEDGER = "gate-ledger.json"
_HERE = Path(__file__).resolve().parent
_LIBRARIES = ("python-stdnum", "pyahocorasick")


@dataclass(frozen=True)
class Ledger:
    """Files proved clean under one set of rules (an empty ledger proves nothing)."""

    digest: str = ""
    clean: frozenset[str] = field(default_factory=frozenset)

    def reusable(self, digest: str) -> frozenset[str]:
        """The clean hashes that still hold under ``digest``; none if the rules changed."""
        return self.clean if digest and digest == self.digest else frozenset()


def scanner_digest() -> str:
    """The scanner itself: its sources, the masking it reports with, and the versions of Python
    (its Unicode tables decide NFKC) and of the libraries it checks numbers and values with. A
    change to any of them means every file is scanned again."""
    h = hashlib.sha256(f"volcredit-leak-gate {GATE_VERSION}\n".encode())
    versions = [sys.version, unicodedata.unidata_version, *(version(n) for n in _LIBRARIES)]
    h.update("\n".join(versions).encode())
    for source in (_HERE / "leakgate.py", Path(__file__), Path(masking.__file__)):
        h.update(source.read_bytes())
    return h.hexdigest()


def rules_digest(values: Mapping[str, Iterable[str]], shared: Iterable[bytes]) -> str:
    """One digest of the scanner, every sought value with its labels, and the shell."""
    h = hashlib.sha256(scanner_digest().encode())
    for key in sorted(values):
        h.update("\0".join([key, *sorted(values[key])]).encode("utf-8", "surrogateescape") + b"\n")
    for part in sorted(shared):
        h.update(hashlib.sha256(part).digest())
    return h.hexdigest()


def ledger_entry(rel: str, sha256: str) -> str:
    """What the ledger holds for a clean file: its path and its bytes, as one digest."""
    return hashlib.sha256(f"{rel}\0{sha256}".encode("utf-8", "surrogateescape")).hexdigest()


def load(folder: Path) -> Ledger:
    """The ledger kept in ``folder``, or an empty one."""
    try:
        data = json.loads((folder / LEDGER).read_text(encoding="utf-8"))
        return Ledger(str(data["digest"]), frozenset(str(h) for h in data["clean"]))
    except (OSError, ValueError, KeyError, TypeError):
        return Ledger()


def save(folder: Path, digest: str, clean: Iterable[str]) -> None:
    """Replace the ledger in ``folder`` in one step (written beside it, then renamed)."""
    body = json.dumps({"digest": digest, "clean": sorted(set(clean))}, separators=(",", ":"))
    temporary = folder / f".{LEDGER}.{os.getpid()}"
    temporary.write_text(body, encoding="utf-8")
    os.replace(temporary, folder / LEDGER)
