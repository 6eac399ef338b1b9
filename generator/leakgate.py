"""The leak gate: after every build, prove no non-public personal data reached the site (PUB-1).

:func:`scan_site` reads every file under the output root (any extension, binary too) and its path,
and looks for resident ID numbers, mobile numbers and known private values, however they were
encoded on the way out. A hit is reported masked through the one masking function (PUB-7), or by
the name of the field it came from: a raw value never appears in a :class:`Leak`, an exception or
a log line.
"""

from __future__ import annotations

import hashlib
import html
import multiprocessing
import os
import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus

import ahocorasick
from stdnum.cn import ric
from stdnum.exceptions import ValidationError

from generator.gate_ledger import Ledger, ledger_entry, rules_digest
from volcredit.rules.masking import MaskKind, mask

ID_NUMBER = "id_number"
MOBILE = "mobile"
PRIVATE_VALUE = "private_value"

CHUNK_BYTES = 1 << 20  # files are read in blocks of this size, so memory stays flat
OVERLAP_BYTES = 16 << 10  # re-read across a block boundary: longer than any encoded value we hunt
MAX_ROUNDS = 3  # decode HTML/URL/JS escapes up to this many times (double encoding)
MIN_PRIVATE_LENGTH = 6
MIN_PRIVATE_DIGITS = 8  # all-digit private values from this length are sought as they are

# Bytes that end a token in every decoding: a block is cut just after one, so that a chunk edge
# never splits a digit run or an escape. Without one nearby, a digit sentinel pads the raw edge.
_SAFE_BYTES = (b"\n", b"<", b">", b'"', b",")
_EDGE_SENTINEL = b"0"

_INVISIBLE = re.compile(
    "[\u00ad\u034f\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]"
)
_NUMBER_SEPARATORS = "-.\u2010\u2011\u2012\u2013\u2014\u2015\u2212"
_JS_ESCAPE = re.compile(
    r"\\u([dD][89abAB][0-9a-fA-F]{2})\\u([dD][c-fC-F][0-9a-fA-F]{2})"  # surrogate pair
    r"|\\u\{([0-9a-fA-F]{1,6})\}|\\u([0-9a-fA-F]{4})|\\x([0-9a-fA-F]{2})"
)
_DIGIT_RUN = re.compile(r"[0-9]{11,}[Xx]?")  # a whole run: a match starts at its first digit
_MIN_RUN = 11
_TOKEN_BYTES = bytes(c if chr(c) in "0123456789Xx" else 0x20 for c in range(256))
_MOBILE = re.compile(r"(?:0086|86)?(1[3-9][0-9]{9})")  # "+" is no digit: +86 leaves 86
_GENERIC = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}|[+-]?[0-9]+(?:[.,][0-9]+)*")  # date, number
# Latin-1 reading keeps every byte as one character so digit runs keep their true boundaries;
# its high half becomes "?", else NFKC would turn the bytes ¹ ² ³ of UTF-8 text into digits.
_HIGH_HALF = bytes(range(0x80)) + b"?" * 0x80


@dataclass(frozen=True)
class Leak:
    """One finding: where, what kind, and a sample that is safe to print."""

    path: str  # path relative to the scanned root, POSIX separators
    kind: str  # "id_number" | "mobile" | "private_value"
    sample: str  # masked number (PUB-7), or the table.field label of a private value


def scan_site(
    root: Path, private_values: Iterable[tuple[str, str]], shared: Sequence[bytes] = ()
) -> list[Leak]:
    """Scan every file under ``root`` (and its relative path) for personal data (PUB-1, PUB-7).

    Finds checksum-valid resident ID numbers (area code not checked), mainland mobile numbers
    (optional +86 / 0086 prefix) and the given private values, each reported once per
    ``(path, kind, label)``, sorted. ``private_values`` yields ``(label, value)`` pairs such as
    ``("organisations.address", "...")``; the label is what is reported, never the value.

    Bytes are read as UTF-8 (``errors="ignore"``) and, where they are not valid UTF-8 (binary
    files), also as Latin-1 so ASCII digits keep their true neighbours. HTML entities, URL encoding
    (``%XX`` and ``+``) and JS/JSON escapes (``\\uXXXX``, ``\\u{X}``, ``\\xXX``) are decoded until
    stable (at most ``MAX_ROUNDS``), with NFKC and removal of zero-width characters and the soft
    hyphen after every round. Numbers are sought with whitespace kept, with it removed, and with
    ``-``, ``.`` and dashes removed too; private values with whitespace removed, case folded.

    Skipped private values (too short or too generic to be distinctive): fewer than
    ``MIN_PRIVATE_LENGTH`` (6) characters after normalisation (NFKC, whitespace and zero-width
    characters removed, case folded), a bare date ``YYYY-MM-DD``, or a bare number (digits, an
    optional sign, ``.``/``,`` groups) shorter than ``MIN_PRIVATE_DIGITS`` digits -- ID and mobile
    numbers are caught by the number scans, landlines and numeric passport numbers as values.

    ``shared`` are byte strings that many files contain verbatim (the page shell around every
    register page). Each is scanned once, reported under ``SHARED``; in a file, the inside of an
    occurrence is then skipped while ``SHARED_EDGE`` bytes on either side are scanned with the
    file's own bytes, so nothing that touches a shared part can be missed.
    """
    return gate(root, private_values, shared).leaks


@dataclass
class GateOutcome:
    """What one run of the gate found, and the SHA-256 of every file (for the manifest and the
    ledger); ``scanned`` files were scanned, the others the ledger had proved clean."""

    leaks: list[Leak]
    hashes: dict[str, str]
    digest: str
    scanned: int

    def clean(self) -> list[str]:
        """Ledger entries for the files in which nothing at all was found."""
        hit = {leak.path for leak in self.leaks}
        return [ledger_entry(rel, h) for rel, h in self.hashes.items() if rel not in hit]


def gate(
    root: Path,
    private_values: Iterable[tuple[str, str]],
    shared: Sequence[bytes] = (),
    ledger: Ledger | None = None,
) -> GateOutcome:
    """:func:`scan_site`, skipping files the ``ledger`` proved clean under the same rules (same
    private values, shell and scanner) at the same path: those are hashed, not scanned (PUB-1).
    The values' automaton is only built when some file or shared part is to be scanned."""
    root = Path(root)
    if not root.is_dir():
        raise NotADirectoryError(f"leak gate: {root} is not a directory")
    values = _sought(private_values)
    parts = [part for part in shared if len(part) > 3 * SHARED_EDGE]
    digest = rules_digest(values, parts)
    clean = ledger.reusable(digest) if ledger else frozenset()
    files = [p.relative_to(root).as_posix() for p in _files(root)]
    if clean:  # which files the ledger vouches for; the others are hashed as they are scanned
        hashes = {rel: _sha256_file(root / rel) for rel in files}
        todo = [rel for rel, h in hashes.items() if ledger_entry(rel, h) not in clean]
    else:
        hashes, todo = {}, files
    automaton = _automaton(values) if todo or (parts and not clean) else None
    del values
    leaks = _scan_shared(automaton, parts) if not clean else []
    workers = min(os.cpu_count() or 1, MAX_WORKERS)
    if workers < 2 or len(todo) < PARALLEL_FROM:
        results = [_scan_files(root, todo, automaton, parts)]
    else:  # the files split across processes; each gets its own copy of the automaton
        context = multiprocessing.get_context("spawn")
        with context.Pool(workers, _init_worker, (automaton, parts)) as pool:
            groups = [(str(root), todo[i::workers]) for i in range(workers)]
            results = pool.map(_scan_group, groups)
    for found, scanned in results:  # a scanned file's hash is that of the bytes scanned
        leaks += found
        hashes.update(scanned)
    leaks.sort(key=lambda leak: (leak.path, leak.kind, leak.sample))
    return GateOutcome(leaks, hashes, digest, len(todo))


MAX_WORKERS = 8
PARALLEL_FROM = 500  # files; below that, starting processes costs more than it saves
SHARED = "(shared page shell)"
SHARED_EDGE = 1024  # bytes of a shared part scanned again with each file: > any encoded value
_worker: dict[str, object] = {}  # set once in each worker process by _init_worker


def _init_worker(automaton: ahocorasick.Automaton | None, shared: list[bytes]) -> None:
    _worker.update(automaton=automaton, shared=shared)


def _scan_shared(automaton: ahocorasick.Automaton | None, shared: list[bytes]) -> list[Leak]:
    hits: set[tuple[str, str]] = set()
    for part in shared:
        for text in _readings(part):
            _scan_text(text, automaton, hits)
    return [Leak(SHARED, kind, sample) for kind, sample in hits]


def _without_shared(data: bytes, shared: list[bytes]) -> bytes:
    """``data`` with the inside of every shared part it contains replaced by one safe byte."""
    for part in shared:
        start = data.find(part)
        while start >= 0:
            keep_to, resume = start + SHARED_EDGE, start + len(part) - SHARED_EDGE
            data = data[:keep_to] + b"<" + data[resume:]
            start = data.find(part, keep_to + 1)
    return data


def _scan_group(group: tuple[str, list[str]]) -> tuple[list[Leak], dict[str, str]]:
    automaton, shared = _worker["automaton"], _worker["shared"]
    return _scan_files(Path(group[0]), group[1], automaton, shared)  # type: ignore[arg-type]


def _scan_files(
    root: Path, files: list[str], automaton: ahocorasick.Automaton | None, shared: list[bytes]
) -> tuple[list[Leak], dict[str, str]]:
    """The leaks in ``files`` (paths and bytes), and the SHA-256 of the bytes scanned."""
    leaks: list[Leak] = []
    hashes: dict[str, str] = {}
    for rel in files:
        hits: set[tuple[str, str]] = set()
        _scan_text(rel, automaton, hits)
        path = root / rel
        digest = hashlib.sha256()
        if path.stat().st_size <= CHUNK_BYTES:
            data = path.read_bytes()
            digest.update(data)
            blocks: Iterable[bytes] = [_without_shared(data, shared) if shared else data]
        else:
            blocks = _chunks(path, digest)
        for chunk in blocks:
            for text in _readings(chunk):
                _scan_text(text, automaton, hits)
        hashes[rel] = digest.hexdigest()
        leaks += (Leak(rel, kind, sample) for kind, sample in hits)
    return leaks, hashes


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(CHUNK_BYTES):
            h.update(block)
    return h.hexdigest()


def _readings(chunk: bytes) -> list[str]:
    """UTF-8 (``errors="ignore"``) and Latin-1; valid UTF-8 loses nothing, so it is read once."""
    try:
        return [chunk.decode("utf-8")]
    except UnicodeDecodeError:
        return [chunk.decode("utf-8", "ignore"), chunk.translate(_HIGH_HALF).decode("latin-1")]


def _files(root: Path) -> Iterator[Path]:
    """Every file under ``root``, following directory links once each (a web server may).

    A folder's real path is its parent's plus its name unless it is a link, so only links are
    resolved; a link back to a folder already walked is not walked again.
    """
    seen = {os.path.realpath(root)}
    stack = [(str(root), os.path.realpath(root))]
    while stack:
        folder, real = stack.pop()
        with os.scandir(folder) as entries:
            for entry in entries:
                try:
                    is_dir, is_file = entry.is_dir(), entry.is_file()  # both follow links
                except OSError:  # a link in a loop, or one the server could not follow either
                    continue
                if is_dir:
                    target = os.path.realpath(entry.path) if entry.is_symlink() else None
                    inside = target or os.path.join(real, entry.name)
                    if inside not in seen:
                        seen.add(inside)
                        stack.append((entry.path, inside))
                elif is_file:
                    yield Path(entry.path)


def _chunks(path: Path, digest: Any = None) -> Iterator[bytes]:
    """The file in overlapping blocks of about ``CHUNK_BYTES``, cut just after a safe byte.

    Each block reaches back at least ``OVERLAP_BYTES`` into the previous one, so a value shorter
    than that is wholly inside some block with its real neighbours. Where no safe byte is near a
    cut, a digit sentinel is added on that edge so a cut digit run is never taken as a whole one.
    ``digest`` (a hashlib object), if given, is fed every byte read, once.
    """
    with path.open("rb") as fh:
        data, head = fh.read(CHUNK_BYTES), b""
        if digest is not None:
            digest.update(data)
        while more := fh.read(CHUNK_BYTES):
            if digest is not None:
                digest.update(more)
            end = _after_last_safe(data, len(data) - OVERLAP_BYTES, len(data))
            tail = b"" if end else _EDGE_SENTINEL
            end = end or len(data)
            yield head + data[:end] + tail
            start = _after_last_safe(data, end - 2 * OVERLAP_BYTES, end - OVERLAP_BYTES)
            head = b"" if start else _EDGE_SENTINEL
            data = data[start or max(end - OVERLAP_BYTES, 0) :] + more
        if data:
            yield head + data


def _after_last_safe(data: bytes, lo: int, hi: int) -> int:
    """The index just after the last safe byte in ``data[lo:hi]``, or 0 if there is none."""
    return max(data.rfind(safe, max(lo, 0), max(hi, 0)) for safe in _SAFE_BYTES) + 1


def _scan_text(
    text: str, automaton: ahocorasick.Automaton | None, hits: set[tuple[str, str]]
) -> None:
    """Add every ``(kind, sample)`` found in any decoded form of ``text`` to ``hits``."""
    runs: set[str] = set()  # each distinct digit run is checked once, whichever form it was in
    for form in _decoded_forms(text):
        joined = "".join(form.split())
        digits = joined
        for separator in _NUMBER_SEPARATORS:
            digits = digits.replace(separator, "")
        if long_digits := _long_tokens(digits):  # else none in form or joined: each is in one
            runs.update(long_digits)
            for variant in {form, joined} - {digits}:
                runs.update(_long_tokens(variant))
        if automaton is not None:
            for _end, labels in automaton.iter(joined.casefold()):
                hits.update((PRIVATE_VALUE, label) for label in labels)
    _check_runs((run for token in runs for run in _DIGIT_RUN.findall(token)), hits)


def _long_tokens(text: str) -> list[str]:
    """The stretches of ``[0-9Xx]`` in ``text`` long enough to hold a :data:`_DIGIT_RUN` match.

    A match never spans another character, so matching inside these finds exactly the matches
    in the whole text; cutting with ``bytes.translate`` first is much faster than a regex over
    every character (non-ASCII characters become ``?``, then a space, as they are no digits).
    """
    cut = text.encode("ascii", "replace").translate(_TOKEN_BYTES).split()
    return [token.decode("ascii") for token in cut if len(token) >= _MIN_RUN]


def _decoded_forms(text: str) -> list[str]:
    """``text`` cleaned, then decoded round by round until stable (at most ``MAX_ROUNDS``)."""
    forms = [_clean(text)]
    for _ in range(MAX_ROUNDS):
        decoded = _clean(_unescape_js(unquote_plus(html.unescape(forms[-1]))))
        if decoded == forms[-1]:
            break
        forms.append(decoded)
    return forms


def _clean(text: str) -> str:
    """NFKC (full-width digits and letters become ASCII), zero-width characters removed."""
    return _INVISIBLE.sub("", unicodedata.normalize("NFKC", text))


def _unescape_js(text: str) -> str:
    """Decode JSON/JavaScript ``\\uXXXX`` (with surrogate pairs), ``\\u{X}`` and ``\\xXX``."""
    if "\\" not in text:
        return text
    return _JS_ESCAPE.sub(_js_char, text)


def _js_char(match: re.Match[str]) -> str:
    """The character one escape stands for (U+FFFD for a lone surrogate or out of range)."""
    high, low, braced, four, two = match.groups()
    if high:
        return chr(0x10000 + ((int(high, 16) - 0xD800) << 10) + (int(low, 16) - 0xDC00))
    code = int(braced or four or two, 16)
    if code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        return "\ufffd"
    return chr(code)


def _check_runs(runs: Iterable[str], hits: set[tuple[str, str]]) -> None:
    """Add the checksum-valid resident ID numbers and mobile numbers among whole digit ``runs``
    (each as :data:`_DIGIT_RUN` matched it), masked (PUB-7)."""
    for found in runs:
        run = found.upper()
        digits = run.rstrip("X")
        candidate = run if len(run) == 18 else digits  # 17 digits + X, or 18 digits (+ X)
        if len(candidate) == 18 and _is_id_number(candidate):
            hits.add((ID_NUMBER, mask(MaskKind.ID_NUMBER, candidate)))
        if mobile := _MOBILE.fullmatch(digits):
            hits.add((MOBILE, mask(MaskKind.PHONE, mobile.group(1))))


def _is_id_number(candidate: str) -> bool:
    """Checksum and birth date valid; the area code is deliberately not checked."""
    if ric.calc_check_digit(candidate) != candidate[-1]:
        return False
    try:
        ric.get_birth_date(candidate)
    except (ValidationError, ValueError):
        return False
    return True


def _normalise_value(value: str) -> str:
    """A private value as the scanner compares it: NFKC, no whitespace or zero-width, folded."""
    return "".join(_clean(value).split()).casefold()


def _is_distinctive(value: str) -> bool:
    """Long enough, and not a bare date or short number (see :func:`scan_site`). A run of
    ``MIN_PRIVATE_DIGITS`` or more digits (a landline, a numeric passport number) is kept."""
    if len(value) < MIN_PRIVATE_LENGTH:
        return False
    if value.isdigit():
        return len(value) >= MIN_PRIVATE_DIGITS
    return not _GENERIC.fullmatch(value)


def _sought(values: Iterable[tuple[str, str]]) -> dict[str, set[str]]:
    """Every distinctive private value, normalised, with the labels it was found under."""
    labels: dict[str, set[str]] = {}
    for label, value in values:
        key = _normalise_value(value)
        if _is_distinctive(key):
            labels.setdefault(key, set()).add(label)
    return labels


def _automaton(labels: dict[str, set[str]]) -> ahocorasick.Automaton | None:
    """One Aho-Corasick automaton over the sought values, or None if there is none."""
    if not labels:
        return None
    automaton = ahocorasick.Automaton()
    for key, names in labels.items():
        automaton.add_word(key, tuple(sorted(names)))
    automaton.make_automaton()
    return automaton
