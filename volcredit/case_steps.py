"""The steps of a bad-info case and what each needs (BJ-16, BJ-17a, BJ-18): who may take it,
the texts it must state, the files it carries and the written document it produces.

One table serves the staff pages, the subject's pages and ``volcredit record-events``, so a
step asks for the same things wherever it is taken. Checking what was given is a pure function
that answers per form field, in Chinese.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

MAX_TEXT = 2000
MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_EVIDENCE_FILES = 3  # three files of 5 MB fit the portal's 16 MB request limit
FILE_TYPES = {"application/pdf": "PDF", "image/jpeg": "JPEG", "image/png": "PNG"}


@dataclass(frozen=True)
class Text:
    name: str
    label: str
    required: bool = True


@dataclass(frozen=True)
class FileSlot:
    kind: str
    label: str
    required: bool


@dataclass(frozen=True)
class Step:
    """One due-process step: the history event it appends and what it needs."""

    event: str
    label: str
    rule: str
    by_subject: bool
    texts: tuple[Text, ...] = ()
    files: tuple[FileSlot, ...] = ()
    document: str | None = None  # the title of the written document it produces


@dataclass(frozen=True)
class Upload:
    """A file given with a step: its slot, the name it was given under and its bytes."""

    kind: str
    name: str
    data: bytes


REASONS = Text("reasons", "理由")
BASIS = Text("basis", "依据")
EVIDENCE = FileSlot("evidence", "证据材料（可选，PDF、JPEG 或 PNG）", False)

STEPS: dict[str, Step] = {
    s.event: s
    for s in (
        Step(
            "notice_served", "书面告知", "BJ-16a", False, (REASONS, BASIS), (), "列入不良信息告知书"
        ),
        Step(
            "notice_announced",
            "公告告知（无法通过登记的联系方式送达时）",
            "BJ-16a",
            False,
            (REASONS, BASIS),
            (),
            "列入不良信息告知公告",
        ),
        Step(
            "statement_received",
            "陈述申辩",
            "BJ-16b",
            True,
            (Text("statement", "陈述申辩意见"),),
            (EVIDENCE,),
        ),
        Step("decided_listed", "决定列入", "BJ-16c", False, (REASONS,), (), "列入不良信息决定书"),
        Step("decided_not_listed", "决定不列入", "BJ-16c", False, (REASONS,), (), "不予列入决定书"),
        Step(
            "published_objection_received",
            "对公开信息提出异议",
            "BJ-17a",
            True,
            (Text("objection", "异议内容及理由"),),
            (EVIDENCE,),
        ),
        Step(
            "published_objection_upheld",
            "异议成立，予以更正",
            "BJ-17a",
            False,
            (Text("answer", "书面答复"), Text("correction", "更正内容")),
            (),
            "异议处理答复书",
        ),
        Step(
            "published_objection_rejected",
            "异议不成立",
            "BJ-17a",
            False,
            (Text("answer", "书面答复"),),
            (),
            "异议处理答复书",
        ),
        Step(
            "repair_applied",
            "申请信用修复",
            "BJ-18",
            True,
            (Text("commitment_text", "信用修复承诺（文字）", False),),
            (
                FileSlot("commitment", "信用修复承诺书", True),
                FileSlot("rectification", "整改完成的证明材料", True),
                FileSlot("credit_report", "信用报告", True),
            ),
        ),
        Step("repair_approved", "准予信用修复", "BJ-18", False, (REASONS,), (), "信用修复决定书"),
        Step("repair_rejected", "不予信用修复", "BJ-18", False, (REASONS,), (), "信用修复决定书"),
    )
}


def text_is_public(event: str, name: str) -> bool:
    """Whether a text given with a step may be published: the basis cites legal provisions, and
    an announced notice's reasons are published with it (BJ-16a). Every other text is never
    public (PUB-1; a corrected entry shows its correction date, PUB-6) and the leak gate looks
    for it."""
    return name == "basis" or (event == "notice_announced" and name == "reasons")


def sniff(data: bytes) -> str | None:
    """A file's type from its first bytes, never from its name or the browser's claim."""
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    return None


def file_problem(data: bytes) -> str | None:
    """Why a file cannot be filed, or ``None``."""
    if len(data) > MAX_FILE_BYTES:
        return "文件不能超过 5 MB"
    if not data:
        return "文件是空的"
    if sniff(data) is None:
        return "文件须为 PDF、JPEG 或 PNG"
    return None


def problems(step: Step, texts: Mapping[str, str], uploads: Sequence[Upload]) -> dict[str, str]:
    """What is missing or wrong in what was given for ``step``, by form field (empty if fine)."""
    errors: dict[str, str] = {}
    for t in step.texts:
        value = texts.get(t.name, "").strip()
        if t.required and not value:
            errors[t.name] = f"请填写{t.label}"
        elif len(value) > MAX_TEXT:
            errors[t.name] = f"{t.label}不能超过 {MAX_TEXT} 字（现有 {len(value)} 字）"
        elif "\x00" in value:
            errors[t.name] = f"{t.label}含有不能保存的字符"
    slots = {s.kind: s for s in step.files}
    counts: dict[str, int] = {}
    for up in uploads:
        if up.kind not in slots:
            errors[up.kind] = "此步骤不接受这类文件"
            continue
        counts[up.kind] = counts.get(up.kind, 0) + 1
        problem = file_problem(up.data)
        if problem:
            errors[up.kind] = f"{slots[up.kind].label}：{problem}"
    for slot in step.files:
        if slot.required and not counts.get(slot.kind):
            errors.setdefault(slot.kind, f"请上传{slot.label}")
        if counts.get(slot.kind, 0) > MAX_EVIDENCE_FILES:
            errors[slot.kind] = f"{slot.label}最多 {MAX_EVIDENCE_FILES} 个文件"
    return errors
