"""The leak gate finds personal data in any output file, however encoded (PUB-1, PUB-7).

Every number here is invented (tests.builders); every case builds a small site in ``tmp_path``
and asserts the exact list of leaks.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from pathlib import Path
from urllib.parse import quote

import pytest
from stdnum.cn import ric

from generator.leakgate import CHUNK_BYTES, OVERLAP_BYTES, Leak, scan_site
from tests.builders import ORG_A, id_number, uscc_code
from volcredit.rules.masking import MaskKind, mask

ID = id_number("110101", date(1990, 5, 17), 123)
ID_X = id_number("430102", date(1985, 2, 3), 7)  # its check digit is X
MOBILE = "13912345678"
ADDRESS = "东城区和平里街道幸福小区3号楼"
ADDRESS_LABEL = "organisations.address"
PRIVATE = [(ADDRESS_LABEL, ADDRESS), ("volunteers.phone", MOBILE)]

FULL_WIDTH = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")
ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff\u00ad"


def id_leak(value: str = ID, path: str = "page.html") -> Leak:
    return Leak(path, "id_number", mask(MaskKind.ID_NUMBER, value))


def mobile_leak(path: str = "page.html") -> Leak:
    return Leak(path, "mobile", mask(MaskKind.PHONE, MOBILE))


def private_leak(path: str = "page.html") -> Leak:
    return Leak(path, "private_value", ADDRESS_LABEL)


def page(root: Path, body: str, name: str = "page.html") -> Path:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"<html><body><p>证件号码：{body}</p></body></html>\n", encoding="utf-8")
    return path


def dec_entities(text: str) -> str:
    return "".join(f"&#{ord(c)};" for c in text)


def hex_entities(text: str) -> str:
    return "".join(f"&#x{ord(c):x};" for c in text)


def url_encoded(text: str) -> str:
    return "".join(f"%{b:02X}" for b in text.encode("utf-8"))


def json_escaped(text: str) -> str:
    return "".join(f"\\u{ord(c):04x}" for c in text)


def interleave(text: str, fillers: str) -> str:
    return "".join(c + fillers[i % len(fillers)] for i, c in enumerate(text))[:-1]


ENCODINGS: dict[str, Callable[[str], str]] = {
    "plain": lambda v: v,
    "full-width digits": lambda v: v.translate(FULL_WIDTH),
    "html decimal entities": dec_entities,
    "html hex entities": hex_entities,
    "full-width as html entities": lambda v: dec_entities(v.translate(FULL_WIDTH)),
    "url-encoded": url_encoded,
    "url-encoded full-width": lambda v: url_encoded(v.translate(FULL_WIDTH)),
    "double url-encoded": lambda v: quote(url_encoded(v)),
    "url-encoded html entities": lambda v: quote(dec_entities(v)),
    "json \\u escapes": json_escaped,
    "spaces between digits": lambda v: " ".join(v),
    "nbsp between digits": lambda v: "\u00a0".join(v),
    "ideographic space between digits": lambda v: "\u3000".join(v),
    "nbsp as html entity": lambda v: "&nbsp;".join(v),
    "zero-width characters between digits": lambda v: interleave(v, ZERO_WIDTH),
    "hyphens between groups": lambda v: f"{v[:6]}-{v[6:14]}-{v[14:]}",
    "dots and spaces between groups": lambda v: f"{v[:6]} . {v[6:14]} . {v[14:]}",
    "hyphens as html entities": lambda v: dec_entities(f"{v[:6]}-{v[6:14]}-{v[14:]}"),
}


@pytest.mark.parametrize("encoding", list(ENCODINGS))
def test_pub1_id_number_is_found_however_encoded(tmp_path: Path, encoding: str) -> None:
    """PUB-1: an ID number in any encoding is a leak, reported masked (PUB-7)."""
    page(tmp_path, ENCODINGS[encoding](ID))
    assert scan_site(tmp_path, []) == [id_leak()]


@pytest.mark.parametrize("encoding", ["plain", "full-width digits", "html hex entities"])
def test_pub1_id_number_with_check_digit_x_is_found(tmp_path: Path, encoding: str) -> None:
    """PUB-1: the check digit X (also full-width Ｘ) counts as part of the ID number."""
    assert ID_X.endswith("X")
    page(tmp_path, ENCODINGS[encoding](ID_X))
    assert scan_site(tmp_path, []) == [id_leak(ID_X)]


def test_pub1_id_number_in_json_search_index_is_found(tmp_path: Path) -> None:
    """PUB-1: search indexes count; json.dumps(ensure_ascii) output is decoded."""
    (tmp_path / "search").mkdir()
    text = json.dumps({"docs": [{"text": f"张三 {ID.translate(FULL_WIDTH)}"}]})
    (tmp_path / "search" / "search_index.json").write_text(text, encoding="ascii")
    assert scan_site(tmp_path, []) == [id_leak(path="search/search_index.json")]


@pytest.mark.parametrize(
    "blob",
    [
        bytes(range(256)) + b"\x00\xff" + ID.encode() + b"\x00\x9c" + bytes(range(255, -1, -1)),
        b"\x89PNG\r\n\x1a\n7\xff" + ID.encode() + b"\xfe8\x00",  # invalid UTF-8 next to digits
        "索引".encode() + ID.encode() + "结束".encode(),
    ],
    ids=["binary around", "invalid utf-8 next to digits", "utf-8 text around"],
)
def test_pub1_id_number_inside_binary_file_is_found(tmp_path: Path, blob: bytes) -> None:
    """PUB-1: binary search-index files are read as UTF-8 and as Latin-1."""
    (tmp_path / "index.seg").write_bytes(blob)
    assert scan_site(tmp_path, []) == [id_leak(path="index.seg")]


def test_pub1_id_number_in_a_file_path_is_found(tmp_path: Path) -> None:
    """PUB-1: an output file's path is published too (URLs, sitemaps)."""
    page(tmp_path, "无", name=f"people/{ID}/index.html")
    assert scan_site(tmp_path, []) == [id_leak(path=f"people/{ID}/index.html")]


@pytest.mark.parametrize(
    "text",
    [
        MOBILE,
        MOBILE.translate(FULL_WIDTH),
        f"+86 {MOBILE[:3]} {MOBILE[3:7]} {MOBILE[7:]}",
        f"0086-{MOBILE[:3]}-{MOBILE[3:7]}-{MOBILE[7:]}",
        f"tel:%2B86{MOBILE}",
        dec_entities(MOBILE),
    ],
    ids=["plain", "full-width", "+86 spaced", "0086 hyphens", "url +86", "html entities"],
)
def test_pub1_mobile_number_is_found(tmp_path: Path, text: str) -> None:
    """PUB-1: a mobile number is a leak, reported masked (PUB-7)."""
    page(tmp_path, text)
    assert scan_site(tmp_path, []) == [mobile_leak()]


@pytest.mark.parametrize(
    "text",
    [
        ADDRESS,
        interleave(ADDRESS, ZERO_WIDTH),
        dec_entities(ADDRESS),
        hex_entities(ADDRESS),
        url_encoded(ADDRESS),
        json_escaped(ADDRESS),
        " ".join(ADDRESS),
        ADDRESS.replace("3", "３"),
    ],
    ids=["plain", "zero-width", "html dec", "html hex", "url", "json", "spaced", "full-width"],
)
def test_pub1_private_value_is_found_by_label(tmp_path: Path, text: str) -> None:
    """PUB-1: a known private value is found and reported by its table.field only."""
    page(tmp_path, f"地址：{text}")
    assert scan_site(tmp_path, PRIVATE) == [private_leak()]


def test_pub1_private_value_under_several_labels_is_reported_per_label(tmp_path: Path) -> None:
    """PUB-1: each (path, kind, label) is reported once, even when found many times."""
    page(tmp_path, f"{ADDRESS} {dec_entities(ADDRESS)} {ADDRESS}")
    values = [*PRIVATE, ("other_info.description", f" {ADDRESS}\u3000")]
    assert scan_site(tmp_path, values) == [
        private_leak(),
        Leak("page.html", "private_value", "other_info.description"),
    ]


BAD_DATE = "11010119901399123" + ric.calc_check_digit("11010119901399123X")  # checksum ok
NOT_LEAKS = {
    "17-digit run": ID[:17],
    "19-digit run (digit after)": ID + "5",
    "19-digit run (digit before)": "5" + ID,
    "checksum-invalid": ID[:17] + str((int(ID[17]) + 1) % 10),
    "invalid birth date": BAD_DATE,
    "12-digit number": "123456789012",
    "mobile in a 12-digit run": MOBILE + "0",
    "10-digit mobile-like": MOBILE[:10],
    "USCC with letters": uscc_code("110101", 987654321),
    "USCC all digits": ORG_A,
    "short private value": "东城区",
    "date private value": "1990-05-17",
    "number private value": "123456",
}


@pytest.mark.parametrize("case", list(NOT_LEAKS))
def test_pub1_non_personal_numbers_and_generic_values_do_not_trigger(
    tmp_path: Path, case: str
) -> None:
    """PUB-1: only checksum-valid IDs, real mobile numbers and distinctive values fail the gate."""
    page(tmp_path, NOT_LEAKS[case])
    values = [("volunteers.service_area", "东城区"), ("volunteers.birth_date", "1990-05-17")]
    values.append(("service_records.hours", "123456"))
    assert scan_site(tmp_path, values) == []


def test_pub7_leak_never_contains_a_raw_value(tmp_path: Path) -> None:
    """PUB-7: findings are masked by the one masking function; private values by label only."""
    page(tmp_path, f"{ID} {MOBILE} {ADDRESS}")
    leaks = scan_site(tmp_path, PRIVATE)
    phone_value = Leak("page.html", "private_value", "volunteers.phone")  # 8+ digits: sought too
    assert leaks == [id_leak(), mobile_leak(), private_leak(), phone_value]
    for raw in (ID, MOBILE, ADDRESS, ID[6:14]):
        assert raw not in repr(leaks)


@pytest.mark.parametrize("filler", [b"<p>lorem ipsum</p>\n", b"a"], ids=["lines", "no breaks"])
@pytest.mark.parametrize("shift", [-17, -9, -1, 0, CHUNK_BYTES - 50])
@pytest.mark.parametrize("encode", [str, dec_entities], ids=["plain", "entities"])
def test_pub1_id_number_across_a_chunk_boundary_is_found(
    tmp_path: Path, filler: bytes, shift: int, encode: Callable[[str], str]
) -> None:
    """PUB-1: a 3 MiB file is read in chunks; an ID across a chunk boundary is still found."""
    size = 3 * CHUNK_BYTES
    body = bytearray((filler * (size // len(filler) + 1))[:size])
    planted = encode(ID).encode()
    at = CHUNK_BYTES + shift
    body[at - 1 : at + len(planted) + 1] = b" " + planted + b" "
    (tmp_path / "big.txt").write_bytes(bytes(body))
    assert scan_site(tmp_path, []) == [id_leak(path="big.txt")]


@pytest.mark.parametrize(
    "run",
    [(CHUNK_BYTES - 18, ID + "77"), (CHUNK_BYTES - OVERLAP_BYTES - 2, "77" + ID)],
    ids=["end of a chunk", "start of a chunk"],
)
def test_pub1_a_digit_run_cut_by_a_chunk_edge_is_not_an_id(
    tmp_path: Path, run: tuple[int, str]
) -> None:
    """PUB-1: a chunk edge never cuts a valid-looking ID out of a longer digit run."""
    at, digits = run
    body = bytearray(b"a" * 3 * CHUNK_BYTES)
    body[at : at + len(digits)] = digits.encode()
    (tmp_path / "blob.bin").write_bytes(bytes(body))
    assert scan_site(tmp_path, []) == []


def test_missing_root_fails_the_gate(tmp_path: Path) -> None:
    """PUB-1: a gate that scanned nothing must not pass."""
    with pytest.raises(NotADirectoryError):
        scan_site(tmp_path / "site", [])


def test_pub1_parallel_scan_of_many_files_finds_the_one_leak(tmp_path: Path) -> None:
    """PUB-1: a site large enough to be scanned by several processes still yields every hit."""
    import generator.leakgate as gate

    for i in range(gate.PARALLEL_FROM + 20):
        (tmp_path / f"p{i:04d}.html").write_text(f"<p>第 {i} 页</p>", encoding="utf-8")
    planted = id_number("110101", date(1979, 9, 9), 42)
    (tmp_path / "p0333.html").write_text(
        f"<p>{planted}</p><p>北京市东城区示例路9号院</p>", encoding="utf-8"
    )
    leaks = gate.scan_site(tmp_path, [("organisations.address", "北京市东城区示例路9号院")])
    assert {(leak.path, leak.kind) for leak in leaks} == {
        ("p0333.html", "id_number"),
        ("p0333.html", "private_value"),
    }
    assert planted not in repr(leaks)


def test_pub1_shared_page_shell_is_scanned_once_and_its_edges_with_each_page(
    tmp_path: Path,
) -> None:
    """PUB-1: the shell every page shares is scanned once; a value touching it, or a page whose
    copy of the shell differs, is still found in that page."""
    import generator.leakgate as gate

    shell = ("<nav>" + "菜单项目 " * 3000 + "</nav>").encode("utf-8")
    planted = id_number("110101", date(1979, 9, 9), 42)
    head = shell[: len(shell) // 2]
    (tmp_path / "clean.html").write_bytes(b"<p>a</p>" + shell + b"<p>b</p>")
    (tmp_path / "touching.html").write_bytes(shell + planted.encode())
    (tmp_path / "altered.html").write_bytes(head + planted.encode() + shell[len(head) :])
    leaks = gate.scan_site(tmp_path, [], [shell])
    assert {(leak.path, leak.kind) for leak in leaks} == {
        ("touching.html", "id_number"),
        ("altered.html", "id_number"),
    }
    leaky_shell = shell.replace("菜单".encode(), planted.encode(), 1)
    (tmp_path / "all.html").write_bytes(leaky_shell)
    leaks = gate.scan_site(tmp_path, [], [leaky_shell])
    assert (gate.SHARED, "id_number") in {(leak.path, leak.kind) for leak in leaks}


def test_pub1_all_digit_private_values_of_eight_digits_are_sought(tmp_path: Path) -> None:
    """PUB-1: a landline or a numeric passport number stored as digits is found as a value."""
    page(tmp_path, "<p>联系 01065432100，证件 87654321</p>")
    values = [("organisations.contact_phone", "01065432100"), ("volunteers.id_number", "87654321")]
    labels = {leak.sample for leak in scan_site(tmp_path, values)}
    assert labels == {"organisations.contact_phone", "volunteers.id_number"}
