"""The leak gate: after every build, prove no non-public personal data reached the site (PUB-1).

:func:`scan_site` reads every file under the output root (any extension, binary too) and its path,
and looks for resident ID numbers, mobile numbers and known private values, however they were
encoded on the way out. A hit is reported masked through the one masking function (PUB-7), or by
the name of the field it came from: a raw value never appears in a :class:`Leak`, an exception or
a log line.
"""

from __future__ import annotations

import html
import multiprocessing
import os
import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote_plus

import ahocorasick
from stdnum.cn import ric
from stdnum.exceptions import ValidationError

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
    root = Path(root)
    if not root.is_dir():
        raise NotADirectoryError(f"leak gate: {root} is not a directory")
    automaton = _private_automaton(private_values)
    parts = [part for part in shared if len(part) > 3 * SHARED_EDGE]
    files = [p.relative_to(root).as_posix() for p in _files(root)]
    workers = min(os.cpu_count() or 1, MAX_WORKERS)
    leaks = _scan_shared(automaton, parts)
    if workers < 2 or len(files) < PARALLEL_FROM:
        leaks += _scan_files(root, files, automaton, parts)
    else:  # the files split across processes; each gets its own copy of the automaton
        context = multiprocessing.get_context("spawn")
        with context.Pool(workers, _init_worker, (automaton, parts)) as pool:
            groups = [(str(root), files[i::workers]) for i in range(workers)]
            leaks += [leak for part in pool.map(_scan_group, groups) for leak in part]
    return sorted(leaks, key=lambda leak: (leak.path, leak.kind, leak.sample))


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


def _scan_group(group: tuple[str, list[str]]) -> list[Leak]:
    automaton, shared = _worker["automaton"], _worker["shared"]
    return _scan_files(Path(group[0]), group[1], automaton, shared)  # type: ignore[arg-type]


def _scan_files(
    root: Path, files: list[str], automaton: ahocorasick.Automaton | None, shared: list[bytes]
) -> list[Leak]:
    leaks: list[Leak] = []
    for rel in files:
        hits: set[tuple[str, str]] = set()
        _scan_text(rel, automaton, hits)
        path = root / rel
        if shared and path.stat().st_size <= CHUNK_BYTES:
            blocks: Iterable[bytes] = [_without_shared(path.read_bytes(), shared)]
        else:
            blocks = _chunks(path)
        for chunk in blocks:
            for text in _readings(chunk):
                _scan_text(text, automaton, hits)
        leaks += (Leak(rel, kind, sample) for kind, sample in hits)
    return leaks


def _readings(chunk: bytes) -> list[str]:
    """UTF-8 (``errors="ignore"``) and Latin-1; valid UTF-8 loses nothing, so it is read once."""
    try:
        return [chunk.decode("utf-8")]
    except UnicodeDecodeError:
        return [chunk.decode("utf-8", "ignore"), chunk.translate(_HIGH_HALF).decode("latin-1")]


def _files(root: Path) -> Iterator[Path]:
    """Every file under ``root``, following directory links once each (a web server may)."""
    seen: set[str] = set()
    for dirpath, dirnames, filenames in os.walk(root, followlinks=True):
        real = os.path.realpath(dirpath)
        if real in seen:
            dirnames.clear()
            continue
        seen.add(real)
        for name in filenames:
            path = Path(dirpath, name)
            if path.is_file():
                yield path


def _chunks(path: Path) -> Iterator[bytes]:
    """The file in overlapping blocks of about ``CHUNK_BYTES``, cut just after a safe byte.

    Each block reaches back at least ``OVERLAP_BYTES`` into the previous one, so a value shorter
    than that is wholly inside some block with its real neighbours. Where no safe byte is near a
    cut, a digit sentinel is added on that edge so a cut digit run is never taken as a whole one.
    """
    with path.open("rb") as fh:
        data, head = fh.read(CHUNK_BYTES), b""
        while more := fh.read(CHUNK_BYTES):
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
    for form in _decoded_forms(text):
        joined = "".join(form.split())
        digits = joined
        for separator in _NUMBER_SEPARATORS:
            digits = digits.replace(separator, "")
        for variant in {form, joined, digits}:
            _scan_numbers(variant, hits)
        if automaton is not None:
            for _end, labels in automaton.iter(joined.casefold()):
                hits.update((PRIVATE_VALUE, label) for label in labels)


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


def _scan_numbers(text: str, hits: set[tuple[str, str]]) -> None:
    """Add checksum-valid resident ID numbers and mobile numbers in ``text``, masked (PUB-7)."""
    for match in _DIGIT_RUN.finditer(text):
        run = match.group().upper()
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


def _private_automaton(values: Iterable[tuple[str, str]]) -> ahocorasick.Automaton | None:
    """One Aho-Corasick automaton over every distinctive private value, or None if there is none."""
    labels: dict[str, set[str]] = {}
    for label, value in values:
        key = _normalise_value(value)
        if _is_distinctive(key):
            labels.setdefault(key, set()).add(label)
    if not labels:
        return None
    automaton = ahocorasick.Automaton()
    for key, names in labels.items():
        automaton.add_word(key, tuple(sorted(names)))
    automaton.make_automaton()
    return automaton
