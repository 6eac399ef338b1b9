"""Pages whose inputs did not change are taken from the published build, not rendered again.

A page is a pure function of its template, the code that renders it, its title, the build date
and its context (PUB-8). :class:`PageReuse` gives each page a fingerprint of all of that: the
:func:`code_digest` of every template, the shell, the generator and core sources and the
rendering libraries, plus the page's own inputs. When the published build wrote
the same page with the same fingerprint, its bytes are copied instead of rendered, after checking
them against that build's signed manifest, so a file changed on the server since is rendered
afresh rather than published again.

The inputs are read field by field (every field of every dataclass, lists, dicts, sets, dates,
numbers, text); a page with any other input (a function, an object without fields) has no
fingerprint and is always rendered. The ledger of fingerprints lives in the builds
folder (``page-ledger.json``) and names the build it belongs to; after a rollback or any
mismatch, nothing is reused.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import os
import sys
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import Enum
from importlib.metadata import version
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from generator.manifest import MANIFEST, SIGNATURE

LEDGER = "page-ledger.json"
_REPO = Path(__file__).resolve().parent.parent
_SOURCES = ("generator", "volcredit", "site_templates")
_LIBRARIES = ("jinja2", "markupsafe", "mkdocs-material")
_PLAIN = (str, int, float, bool, type(None), date, Decimal)  # datetime is a date


class _NotAValue(Exception):
    """An input that is not data (a function, an object without fields): no fingerprint."""


def _value(item: Any) -> Any:
    """``item`` as nested tuples of plain values, every field of every dataclass included (even
    one left out of its ``repr``), each tagged with its type; else :class:`_NotAValue`."""
    if isinstance(item, _PLAIN):
        return item
    kind = f"{type(item).__module__}.{type(item).__qualname__}"
    if dataclasses.is_dataclass(item) and not isinstance(item, type):
        fields = dataclasses.fields(item)
        return (kind, tuple((f.name, _value(getattr(item, f.name))) for f in fields))
    if isinstance(item, Enum):
        return (kind, _value(item.value))
    if isinstance(item, (list, tuple)):
        return (kind, tuple(_value(v) for v in item))
    if isinstance(item, dict):
        return (kind, tuple((_value(k), _value(v)) for k, v in item.items()))
    if isinstance(item, (set, frozenset)):
        return (kind, tuple(sorted(repr(_value(v)) for v in item)))
    raise _NotAValue(kind)


def code_digest(shell_source: str) -> str:
    """A digest of everything besides a page's inputs that decides its bytes: the shell, every
    file of the templates and of the generator and core packages, and the versions of Python and
    of the rendering libraries."""
    versions = [sys.version, *(version(name) for name in _LIBRARIES)]
    h = hashlib.sha256("\n".join(versions).encode())
    h.update(shell_source.encode("utf-8"))
    for folder in _SOURCES:
        for path in sorted((_REPO / folder).rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                h.update(path.relative_to(_REPO).as_posix().encode() + b"\0")
                h.update(path.read_bytes())
    return h.hexdigest()


@dataclass
class PageReuse:
    """The published build's pages by fingerprint, and this build's fingerprints as written."""

    code: str
    published: Path | None = None  # the folder the site link points at
    previous: dict[str, str] = field(default_factory=dict)  # rel -> fingerprint
    signed: dict[str, str] = field(default_factory=dict)  # file path -> SHA-256, as signed
    written: dict[str, str] = field(default_factory=dict)
    reused: int = 0

    @classmethod
    def load(cls, out: Path, builds: Path, code: str, key: Ed25519PublicKey | None) -> PageReuse:
        """What the build published at ``out`` can lend; nothing when anything does not match."""
        reuse = cls(code)
        try:
            ledger = json.loads((builds / LEDGER).read_text(encoding="utf-8"))
            published = (builds / str(ledger["site"])).resolve()
            if key is None or ledger["code"] != code or out.resolve() != published:
                return reuse
            data = (published / MANIFEST).read_bytes()
            key.verify(base64.b64decode((published / SIGNATURE).read_bytes()), data)
            signed = {f["path"]: f["sha256"] for f in json.loads(data)["files"]}
            previous = {str(rel): str(fp) for rel, fp in ledger["pages"].items()}
        except (OSError, ValueError, KeyError, TypeError, InvalidSignature):
            return reuse
        reuse.published, reuse.previous, reuse.signed = published, previous, signed
        return reuse

    def fingerprint(self, rel: str, template: str, title: str, today: Any, context: Any) -> str:
        """The page's fingerprint, or "" if one of its inputs is not a plain value."""
        try:
            inputs = _value((self.code, rel, template, title, today, sorted(context.items())))
        except (_NotAValue, AttributeError, RecursionError):  # not data, or not all set
            return ""
        return hashlib.sha256(repr(inputs).encode("utf-8", "surrogatepass")).hexdigest()

    def take(self, rel: str, fingerprint: str, target: Path) -> bool:
        """Copy the published page to ``target`` if it had this fingerprint and its bytes are
        still as signed; else leave ``target`` alone (it is rendered). A copy, not a link: an
        edit of the live site afterwards cannot reach this build."""
        if not fingerprint or self.published is None or self.previous.get(rel) != fingerprint:
            return False
        name = f"{rel}/index.html"
        try:
            data = (self.published / name).read_bytes()
        except OSError:
            return False
        if hashlib.sha256(data).hexdigest() != self.signed.get(name):  # changed since signed
            return False
        target.write_bytes(data)
        self.reused += 1
        return True

    def save(self, builds: Path, site: Path) -> None:
        """Keep this build's fingerprints for the next build, naming the folder published."""
        body = {"site": site.name, "code": self.code, "pages": self.written}
        temporary = builds / f".{LEDGER}.{os.getpid()}"
        temporary.write_text(json.dumps(body, separators=(",", ":")), encoding="utf-8")
        os.replace(temporary, builds / LEDGER)
