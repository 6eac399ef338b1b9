"""The record certificate as a printable PDF (志愿服务记录证明, CQ-17), and its check.

The document prints every signed field with its Chinese label, the verification code and a QR
code of the verification address (the static page ``certificates.verify_path``, which names no
certificate number, PUB-1); the signed data travel with it as the attachment
``certificate.json`` (payload, signature, key fingerprint). ``check`` proves the document
exactly: the signature over the attached payload, and then a fresh rendering of that payload
with the same verification address must have the same text (all pages, whitespace aside), the
same images (the QR code), the same number of pages and drawing operations and no annotations,
so neither the attachment nor anything on the pages can be changed, added or removed alone
(CQ-17; HN-2d: certificates based on records and verifiable). Only what the certificate states
is printed: the holder's own document, never published (PUB-1).
"""

from __future__ import annotations

import atexit
import difflib
import io
import json
import re
import shutil
import tempfile
import threading
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, time
from pathlib import Path
from typing import Any

import segno
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from fpdf import FPDF
from fpdf.enums import WrapMode, XPos, YPos
from pypdf import PdfReader
from pypdf.generic import ContentStream

from volcredit import signing
from volcredit.certificates import Certificate, verification_code, verify_path

ATTACHMENT = "certificate.json"
TITLE = "志愿服务记录证明"
# Known Debian/Ubuntu places of a CJK font, with the collection index of its Simplified
# Chinese face (NotoSansCJK-Regular.ttc: 0 JP, 1 KR, 2 SC, 3 TC, 4 HK — checked with fontTools).
FONTS: tuple[tuple[str, int], ...] = (
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2),
    ("/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc", 2),
    ("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc", 2),
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0),
)
# The signed fields in print order, with their labels (CQ-17; 民发〔2015〕149号).
LABELS: dict[str, str] = {
    "certificate_no": "证明编号",
    "name": "姓名",
    "id_type": "证件类型",
    "id_number": "证件号码",
    "volunteer_no": "志愿者编号",
    "hours": "服务时长（小时）",
    "records": "服务记录条数",
    "organisation": "服务组织",
    "period": "服务期间",
    "content": "服务内容",
    "issuer": "出具单位",
    "issued_on": "出具日期",
}
NOTES = (
    "服务时长为服务记录中的实际服务时间，不含往返路途（CQ-9）。",
    "依规定不属于志愿服务的活动（HN-2b）不计入服务时长和服务记录条数。",
)


class FontMissing(RuntimeError):
    """No CJK font is installed, or it lacks a character: the certificate cannot be printed
    (a character drawn as an empty box would make a genuine certificate fail ``check``)."""


def font_file() -> tuple[str, int]:
    """The first installed CJK font and its collection index, or ``FontMissing``."""
    for path, index in FONTS:
        if Path(path).is_file():
            return path, index
    raise FontMissing(
        "找不到中文字体，无法生成 PDF：请安装 fonts-noto-cjk 软件包"
        "（Debian/Ubuntu：apt-get install fonts-noto-cjk）"
    )


_FACE_LOCK = threading.Lock()
_faces: dict[tuple[str, int], tuple[str, int]] = {}
# Tables a horizontal certificate never uses; without them fpdf2's per-document subsetting of
# the 65,000-glyph Noto face takes ~0.5 s instead of ~0.8 s (measured here).
_UNUSED_TABLES = ("GSUB", "GPOS", "GDEF", "BASE", "VORG", "vhea", "vmtx")


def _face(path: str, index: int) -> tuple[str, int]:
    """The font face to load: a collection's face extracted once per process (without the
    layout tables) into a private temporary folder; the collection itself if that fails."""
    if not path.lower().endswith((".ttc", ".otc")):
        return path, index
    with _FACE_LOCK:
        found = _faces.get((path, index))
        if found is None or not Path(found[0]).is_file():  # a /tmp cleaner may remove it
            found = _faces[(path, index)] = _extract(path, index)
        return found


_covered: dict[tuple[str, int], frozenset[int]] = {}


def unprintable(payload: dict[str, Any]) -> list[str]:
    """The characters of ``payload`` that the installed font cannot print (a rare character in
    a name, an emoji), so that no certificate is issued that its own check would refuse."""
    path, index = font_file()  # the collection's cmap: no face extraction on this path
    with _FACE_LOCK:
        if (path, index) not in _covered:
            from fontTools import ttLib

            with ttLib.TTFont(path, fontNumber=index, lazy=True) as font:
                _covered[(path, index)] = frozenset(font.getBestCmap())
        covered = _covered[(path, index)]
    text = "".join(str(v) for v in payload.values())
    return sorted({ch for ch in text if not ch.isspace() and ord(ch) not in covered})


def _extract(path: str, index: int) -> tuple[str, int]:
    from fontTools import ttLib

    folder = Path(tempfile.mkdtemp(prefix="volcredit-font-"))  # mode 0700: this process only
    atexit.register(shutil.rmtree, folder, True)
    target = folder / f"face-{index}.otf"
    try:
        font = ttLib.TTFont(path, fontNumber=index, lazy=True, recalcBBoxes=False)
        for tag in _UNUSED_TABLES:
            if tag in font:
                del font[tag]
        font.save(target)
        font.close()
    except (OSError, ValueError, KeyError, AssertionError):
        return path, index  # slower, but the same document
    return str(target), 0


def _qr_png(url: str) -> io.BytesIO:
    out = io.BytesIO()
    segno.make_qr(url, error="m").save(out, kind="png", scale=8, border=4)
    out.seek(0)
    return out


def signed_data(cert: Certificate) -> dict[str, Any]:
    """The attachment: exactly what was signed, the signature and the key's fingerprint."""
    return {
        "payload": cert.payload,
        "signature": cert.signature,
        "key_fingerprint": cert.key_fingerprint,
    }


def render(cert: Certificate, verify_url: str) -> bytes:
    """The certificate as an A4 PDF with its signed data attached (CQ-17)."""
    return _document(cert.payload, signed_data(cert), verify_url)


def _document(shown: dict[str, Any], attached: dict[str, Any], verify_url: str) -> bytes:
    """The PDF printing ``shown`` with ``attached`` as ``certificate.json``."""
    rows = [(label, str(shown.get(key, ""))) for key, label in LABELS.items()]
    code_line = f"校验码：{verification_code(str(attached.get('signature', '')))}"
    verify_line = (
        f"扫码或访问 {verify_url} 核验。核验页显示本证明是否有效、是否已撤销或被新证明取代。"
    )
    key_line = (
        f"电子签名（Ed25519）附于本文件的 {ATTACHMENT}；"
        f"签名密钥指纹 {attached.get('key_fingerprint', '')}"
    )
    printed = [TITLE, *NOTES, code_line, verify_line, key_line, *(a + b for a, b in rows)]
    issued = datetime.combine(
        datetime.fromisoformat(str(shown["issued_on"])).date(), time(0), tzinfo=UTC
    )
    # The same certificate gives the same document: dated by its issue, not by the clock.
    pdf = a4_document(f"{TITLE} {shown['certificate_no']}", issued, (22, 20, 22))
    path, index = _face(*font_file())
    missing = unprintable(shown)
    if missing:
        raise FontMissing(f"字体中没有这些字符，无法打印证明：{'、'.join(missing)}")
    # Only the characters printed: fpdf2 then maps ~150 characters instead of 65,000.
    used = sorted({ord(ch) for text in printed for ch in text} | {ord(" ")})
    pdf.add_font("noto", fname=path, collection_font_number=index, unicode_range=used)
    pdf.add_page()
    pdf.set_font("noto", size=22)
    pdf.cell(0, 16, TITLE, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(6)
    label_w = 42
    for label, value in rows:
        top = pdf.get_y()
        pdf.set_font("noto", size=11)
        pdf.set_text_color(90, 90, 90)
        pdf.cell(label_w, 8, label)
        pdf.set_font("noto", size=12)
        pdf.set_text_color(0, 0, 0)
        pdf.set_xy(pdf.l_margin + label_w, top)
        _lines(pdf, pdf.epw - label_w, 8, value, new_x=XPos.LMARGIN)
        pdf.set_draw_color(220, 220, 220)
        pdf.line(pdf.l_margin, pdf.get_y(), pdf.l_margin + pdf.epw, pdf.get_y())
        pdf.ln(1)
    pdf.ln(4)
    pdf.set_font("noto", size=10)
    for note in NOTES:
        _lines(pdf, pdf.epw, 6, note, new_x=XPos.LMARGIN)
    pdf.ln(4)
    qr_size = 38
    if pdf.get_y() + qr_size > pdf.h - pdf.b_margin:
        pdf.add_page()
    top = pdf.get_y()
    qr = _qr_png(verify_url)
    pdf.image(qr, x=pdf.l_margin, y=top, w=qr_size, h=qr_size, alt_text="核验二维码")
    pdf.set_xy(pdf.l_margin + qr_size + 6, top + 4)
    text_w = pdf.epw - qr_size - 6
    pdf.set_font("noto", size=14)
    pdf.cell(text_w, 9, code_line, new_x=XPos.LEFT, new_y=YPos.NEXT)
    pdf.set_font("noto", size=10)
    _lines(pdf, text_w, 6, verify_line, new_x=XPos.LEFT)
    pdf.set_font("noto", size=8)
    pdf.set_text_color(90, 90, 90)
    _lines(pdf, text_w, 5, key_line, new_x=XPos.LEFT)
    pdf.embed_file(
        bytes=json.dumps(attached, ensure_ascii=False, indent=1).encode("utf-8"),
        basename=ATTACHMENT,
        modification_date=issued,
        mime_type="application/json",
        desc="签名数据（payload、signature、key_fingerprint）",
    )
    return bytes(pdf.output())


def a4_document(title: str, dated: datetime, margins: tuple[float, float, float]) -> FPDF:
    """An empty A4 portrait document in Chinese, dated ``dated`` (so that the same content
    always gives the same bytes), with ``margins`` (left, top, right) in mm."""
    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.set_creation_date(dated)
    pdf.set_title(title)
    pdf.set_lang("zh-CN")
    pdf.set_creator("volcredit")
    pdf.set_auto_page_break(auto=True, margin=18)
    pdf.set_margins(*margins)
    return pdf


def _lines(pdf: FPDF, width: float, height: float, text: str, new_x: XPos) -> None:
    """Left-aligned text wrapped at any character (Chinese has no spaces between words)."""
    pdf.multi_cell(
        width, height, text, align="L", wrapmode=WrapMode.CHAR, new_x=new_x, new_y=YPos.NEXT
    )


def read(pdf_bytes: bytes) -> tuple[dict[str, Any] | None, str | None, str | None, str]:
    """``(payload, signature, key_fingerprint, page_text)`` from a certificate PDF; the first
    three are ``None`` if the attachment is missing or unreadable. ``ValueError`` if the bytes
    are not a readable PDF."""
    try:
        reader = PdfReader(io.BytesIO(pdf_bytes))
        # pypdf returns a NUL before each character of fpdf2's CID-keyed text: drop them.
        text = "\n".join(page.extract_text() or "" for page in reader.pages).replace("\x00", "")
        attached = reader.attachments.get(ATTACHMENT) or []
    except Exception as exc:  # any file may be handed in: pypdf fails in many ways on junk
        raise ValueError("文件不是可读取的 PDF") from exc
    data: Any = None
    if len(attached) == 1:
        try:
            data = json.loads(attached[0].decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            data = None
    if not (
        isinstance(data, dict)
        and isinstance(data.get("payload"), dict)
        and isinstance(data.get("signature"), str)
    ):
        return None, None, None, text
    fingerprint = data.get("key_fingerprint")
    return (
        data["payload"],
        data["signature"],
        fingerprint if isinstance(fingerprint, str) else None,
        text,
    )


_SPACE = re.compile(r"\s+")
# Content-stream operators that paint: an overlay (a white box over a value, a drawn digit, a
# second QR code) needs at least one more of them than the genuine document has.
_PAINT = {b"S", b"s", b"f", b"F", b"f*", b"B", b"B*", b"b", b"b*", b"sh", b"Do", b"INLINE IMAGE"}


def _flat(text: str) -> str:
    """Text without whitespace: pypdf puts spaces between CJK glyphs and breaks lines."""
    return _SPACE.sub("", text)


def verify_url_of(site_url: str, payload: dict[str, Any], signature: str) -> str:
    """The verification address a certificate with these signed data prints (the same
    derivation as the portal's ``verify_url``)."""
    number = str(payload.get("certificate_no", ""))
    return f"{site_url}{verify_path(number, verification_code(signature))}"


@dataclass(frozen=True)
class _Layout:
    pages: int
    text: str  # all pages, whitespace removed
    images: list[tuple[tuple[int, int], bytes]]  # (size, RGBA pixels) in page order
    paint: Counter[bytes]  # painting operators over all pages
    annotations: int


def _layout(pdf_bytes: bytes) -> _Layout:
    """What a reader of the document sees, from its pages (``ValueError`` if unreadable)."""
    try:
        reader = PdfReader(io.BytesIO(pdf_bytes))
        text, images, paint, annotations = [], [], Counter[bytes](), 0
        for page in reader.pages:
            text.append((page.extract_text() or "").replace("\x00", ""))
            for image in page.images:
                pixels = image.image.convert("RGBA") if image.image is not None else None
                if pixels is not None:
                    images.append((pixels.size, pixels.tobytes()))
            contents = page.get_contents()
            if contents is not None:
                ops = ContentStream(contents, reader).operations
                paint.update(op for _operands, op in ops if op in _PAINT)
            annotations += len(page.get("/Annots") or [])
        return _Layout(len(reader.pages), _flat("".join(text)), images, paint, annotations)
    except Exception as exc:  # any file may be handed in: pypdf fails in many ways on junk
        raise ValueError("文件不是可读取的 PDF") from exc


def _text_difference(found: str, expected: str) -> str:
    """The first difference between the page text and the expected text, in Chinese."""
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, found, expected, False).get_opcodes():
        if tag == "equal":
            continue
        where = f"在“{expected[max(0, j1 - 12) : j1]}”之后" if j1 else "在开头"
        if tag == "insert":
            return f"{where}缺少“{expected[j1:j2][:40]}”"
        if tag == "delete":
            return f"{where}多出“{found[i1:i2][:40]}”"
        return f"{where}“{found[i1:i2][:40]}”应为“{expected[j1:j2][:40]}”"
    return "文字顺序不同"


def _signed_problems(
    payload: dict[str, Any], signature: str, fingerprint: str | None, public_key: Ed25519PublicKey
) -> list[str]:
    """What is wrong with the attached signed data itself."""
    problems = []
    own = signing.fingerprint(public_key)
    if not signing.valid(public_key, payload, signature):
        why = "证明内容在出具后被改动，或不是由该公钥对应的机关出具"
        if fingerprint and fingerprint != own:
            why = f"签名密钥指纹 {fingerprint} 与所给公钥（{own}）不符"
        problems.append(f"签名无效：{why}")
    unknown = sorted(set(payload) - set(LABELS))
    if unknown:
        problems.append(f"签名数据含有未知字段：{'、'.join(unknown)}")
    problems += [
        f"签名数据缺少字段：{label}" for key, label in LABELS.items() if key not in payload
    ]
    return problems


def _page_problems(found: _Layout, expected: _Layout, url: str) -> list[str]:
    """How the pages differ from the certificate rendered afresh from the signed data."""
    problems = []
    if found.pages != expected.pages:
        problems.append(f"页数与证明不符：应为 {expected.pages} 页，实为 {found.pages} 页")
    if found.text != expected.text:
        problems.append(
            "页面文字与签名数据生成的证明不一致（有文字被改动、增加或删去）："
            + _text_difference(found.text, expected.text)
        )
    if found.images != expected.images:
        problems.append(f"二维码（页面上的图片）与证明不符：应只有指向 {url} 的核验二维码")
    if found.paint != expected.paint or found.annotations != expected.annotations:
        problems.append("页面上有证明之外的图形、覆盖物或批注")
    return problems


def check(pdf_bytes: bytes, public_key: Ed25519PublicKey, site_url: str) -> list[str]:
    """Every problem with a certificate PDF, in Chinese; an empty list means it is genuine
    (CQ-17): a readable PDF, the attachment present, the signature valid for ``public_key``,
    and the pages exactly those of the certificate rendered afresh from the signed data with
    the verification address on ``site_url``: the same text (no value changed, no line added or
    removed, no hidden text), the same QR code, the same pages, no added drawing or
    annotation. ``FontMissing`` if no CJK font is installed to render the comparison."""
    try:
        payload, signature, fingerprint, _text = read(pdf_bytes)
        found = _layout(pdf_bytes)
    except ValueError as exc:
        return [str(exc)]
    if payload is None or signature is None:
        return [f"缺少签名数据附件 {ATTACHMENT}（或无法读取），无法核验"]
    problems = _signed_problems(payload, signature, fingerprint, public_key)
    if problems:
        return problems  # nothing genuine to compare the pages with
    for key, label in LABELS.items():
        if _flat(label + str(payload[key])) not in found.text:
            problems.append(f"页面上的{label}与签名数据不符（应为 {payload[key]}）")
    url = verify_url_of(site_url, payload, signature)
    own = {
        "payload": payload,
        "signature": signature,
        "key_fingerprint": signing.fingerprint(public_key),
    }
    try:
        expected = _layout(_document(payload, own, url))
    except (KeyError, TypeError, ValueError):  # a signed payload that cannot be printed
        return [*problems, "无法按签名数据重新生成证明页面，无法核对页面内容"]
    return problems + _page_problems(found, expected, url)
