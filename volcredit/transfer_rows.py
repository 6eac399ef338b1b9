"""The rows of a volunteer transfer package (CQ-16, HN-3): its elements, and reading them.

Every row of every element goes through the loader's own field parsers and row checks
(:class:`volcredit.importer.rows.RowValidator`), so a package accepts exactly what ``volcredit
load`` accepts; an unknown field is refused and a field BJ-6 forbids refuses the package. Each
problem names the element, the row index and the field. The package format is in docs/transfer.md.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from volcredit.certificates import REVOKED, SUPERSEDED
from volcredit.contract import HONOUR_EVENT_KINDS, TABLES, Field, is_forbidden_column
from volcredit.importer.crosschecks import ADULT_AGE, MAX_DAILY_HOURS
from volcredit.importer.fields import FieldError, parser_for
from volcredit.importer.readers import SourceRow
from volcredit.importer.report import ProblemLog
from volcredit.importer.rows import RowContext, RowValidator
from volcredit.problems import Severity
from volcredit.rules.calendar import WorkingCalendar
from volcredit.rules.periods import age_on

TRANSFER_LINE = 0  # ``source_line`` of a row that came from a transfer package, not a file
CENT = Decimal("0.01")


@dataclass(frozen=True)
class Element:
    """One list element of the package and the content table its rows go to.

    ``match``: the fields that identify a row in the store (the table's key, or for the keyless
    tables a natural key). ``lookup``: the column queried to find candidates. ``strict``: a row
    present with other values refuses the import (else the store's row is kept, with a warning).
    """

    name: str
    table: str
    match: tuple[str, ...]
    lookup: str
    strict: bool = True
    extra: tuple[str, ...] = ()  # package fields beyond the contract's

    @property
    def fields(self) -> tuple[str, ...]:
        return TABLES[self.table].field_names


ELEMENTS: tuple[Element, ...] = (
    Element("regions", "regions", ("code",), "code", strict=False),
    Element("teams", "organisations", ("uscc",), "uscc", strict=False),
    Element("volunteer", "volunteers", ("volunteer_no",), "volunteer_no"),
    Element("service_time", "service_records", ("record_id",), "record_id", extra=("late_entry",)),
    Element(
        "training", "trainings", ("volunteer_no", "organisation", "topic", "date"), "volunteer_no"
    ),
    Element("honours", "honours", ("honour_id",), "honour_id", extra=("events",)),
    Element("evaluation_and_complaints", "complaints", ("complaint_id",), "complaint_id"),
    Element(
        "other_info",
        "other_info",
        ("subject_kind", "subject", "description", "provided_on"),
        "subject",
    ),
)
BY_NAME = {e.name: e for e in ELEMENTS}
PERSON_ELEMENTS = ("honours", "evaluation_and_complaints", "other_info")  # subject = the person

CERTIFICATE_FIELDS = (
    "certificate_no",
    "volunteer_no",
    "issued_on",
    "issuer_kind",
    "issuer_uscc",
    "organisation",
    "period_from",
    "period_to",
    "payload",
    "signature",
    "key_fingerprint",
    "actor",
    "recorded_at",
)
EVENT_FIELDS = ("event", "date", "note", "actor", "source", "recorded_at", "payload")
EVENT_KINDS = {"honours": HONOUR_EVENT_KINDS, "certificates": (REVOKED, SUPERSEDED)}
_CERT_NO = re.compile(r"^[0-9A-Z-]{1,32}$")
_PARSE_DATE = parser_for(Field("date", "date"))
_PARSE_USCC = parser_for(Field("uscc", "uscc_ref"))


@dataclass(frozen=True)
class TransferProblem:
    """A problem with a package: ``element[row].field: message`` (the volunteer has no row)."""

    element: str
    row: int | None
    field: str
    message: str
    rule: str = ""
    warning: bool = False

    @property
    def where(self) -> str:
        at = self.element if self.row is None else f"{self.element}[{self.row}]"
        return f"{at}.{self.field}" if self.field else at

    def __str__(self) -> str:
        tag = "警告 " if self.warning else ""
        rule = f" [{self.rule}]" if self.rule else ""
        return f"{self.where}: {tag}{self.message}{rule}"


@dataclass
class Parsed:
    """The typed rows of a package: ``rows[element]`` holds ``(index, row)`` pairs."""

    volunteer_no: str | None = None
    rows: dict[str, list[tuple[int, dict[str, Any]]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    # Kept with the package only: the issuing region's signed statements (CQ-16, CQ-17).
    certificates: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    # (element, row, index among the row's events, event): only the honours' events, the only
    # ones an import appends to the history (BJ-17b deletion requests)
    events: list[tuple[str, int, int, dict[str, Any]]] = field(default_factory=list)
    problems: list[TransferProblem] = field(default_factory=list)
    warnings: list[TransferProblem] = field(default_factory=list)

    def error(self, element: str, row: int | None, name: str, message: str, rule: str = "") -> None:
        self.problems.append(TransferProblem(element, row, name, message, rule))


def _row_index(element: str, index: int) -> int | None:
    return None if element == "volunteer" else index


def _unknown_fields(
    out: Parsed, element: str, index: int, raw: Mapping[str, Any], allowed: Iterable[str]
) -> bool:
    """Report forbidden (BJ-6) and unknown fields; True if the row has none."""
    ok, known, row = True, set(allowed), _row_index(element, index)
    for name in raw:
        if name in known:
            continue
        if not isinstance(name, str) or is_forbidden_column(name):
            out.error(
                element,
                row,
                str(name),
                "禁止采集的信息（宗教信仰、基因、指纹、血型、疾病和病史），整个包被拒绝",
                "BJ-6",
            )
            ok = False
        else:
            out.error(element, row, name, f"未知的字段（应为：{', '.join(allowed)}）")
            ok = False
    return ok


class _Reader:
    """Reads the rows of each element through the loader's validators."""

    def __init__(self, out: Parsed) -> None:
        self.out = out
        self.calendar = WorkingCalendar()

    def content(self, element: Element, raws: list[Any]) -> None:
        validator = RowValidator(TABLES[element.table], self.calendar)
        log = ProblemLog()
        ctx = RowContext(element.name, log)
        for index, raw in enumerate(raws):
            row = _row_index(element.name, index)
            if not isinstance(raw, dict):
                self.out.error(element.name, row, "", "应为一个映射（字段名: 值）")
                continue
            if not _unknown_fields(
                self.out, element.name, index, raw, element.fields + element.extra
            ):
                continue
            source = SourceRow(index, {k: v for k, v in raw.items() if k not in element.extra})
            typed = validator.validate(source, ctx.start(source))
            if not ctx.failed and self._extras(element, index, raw, typed):
                self.out.rows[element.name].append((index, typed))
        for p in log.kept:
            if p.severity is Severity.ERROR:
                self.out.error(p.file, _row_index(p.file, p.line), p.field, p.message, p.rule)

    def _extras(
        self, element: Element, index: int, raw: dict[str, Any], typed: dict[str, Any]
    ) -> bool:
        """The fields beyond the contract: HN-2a ``late_entry`` and the honours' events."""
        typed["source_line"] = TRANSFER_LINE
        if element.table == "service_records":
            late = raw.get("late_entry")
            if late is not None and not isinstance(late, bool):
                self.out.error(element.name, index, "late_entry", "应为 true、false 或 null")
                return False
            typed["late_entry"] = late  # as judged where the record was kept (HN-2a)
        if element.name == "honours":
            self.events("honours", index, raw.get("events"), typed["honour_id"])
        return True

    def events(self, element: str, index: int, raws: Any, ref: str) -> None:
        """The history events of one honour or certificate, in recorded order. An honour's may
        only be ``deletion_requested`` (any other name is an error); a certificate's are checked
        the same way but stay in the package: they are never appended here."""
        if raws is None:
            return
        if not isinstance(raws, list):
            self.out.error(element, index, "events", "应为事件列表")
            return
        for i, raw in enumerate(raws):
            where = f"events[{i}]"
            if not isinstance(raw, dict):
                self.out.error(element, index, where, "应为一个映射（字段名: 值）")
                continue
            if not _unknown_fields(self.out, element, index, raw, EVENT_FIELDS):
                continue
            try:
                event = {
                    "ref": ref,
                    "event": _choice(raw.get("event"), EVENT_KINDS[element], "event"),
                    "date": _required(raw.get("date"), "date", _PARSE_DATE),
                    "note": _optional(raw.get("note"), "note", _text(4000)),
                    "actor": _required(raw.get("actor"), "actor", _text(200)),
                    "source": _required(raw.get("source"), "source", _text(16)),
                    "recorded_at": _required(raw.get("recorded_at"), "recorded_at", _datetime),
                    "payload": _mapping(raw.get("payload"), "payload"),
                }
            except _Bad as bad:
                self.out.error(element, index, f"{where}.{bad.field}", bad.message)
                continue
            if element == "honours":
                self.out.events.append((element, index, i, event))

    def certificates(self, raws: list[Any], volunteer_no: str | None) -> None:
        for index, raw in enumerate(raws):
            if not isinstance(raw, dict):
                self.out.error("certificates", index, "", "应为一个映射（字段名: 值）")
                continue
            allowed = (*CERTIFICATE_FIELDS, "status", "events")
            if not _unknown_fields(self.out, "certificates", index, raw, allowed):
                continue
            try:
                typed = _certificate(raw, volunteer_no)
            except _Bad as bad:
                self.out.error("certificates", index, bad.field, bad.message, bad.rule)
                continue
            self.events("certificates", index, raw.get("events"), typed["certificate_no"])
            self.out.certificates.append((index, typed))


class _Bad(ValueError):
    def __init__(self, name: str, message: str, rule: str = "") -> None:
        self.field, self.message, self.rule = name, message, rule
        super().__init__(message)


def _required(raw: Any, name: str, parse: Any) -> Any:
    if raw is None or raw == "":
        raise _Bad(name, "必填字段为空")
    try:
        return parse(raw)
    except FieldError as exc:
        raise _Bad(name, str(exc), exc.rule) from None


def _optional(raw: Any, name: str, parse: Any) -> Any:
    return None if raw is None or raw == "" else _required(raw, name, parse)


def _text(limit: int) -> Callable[[Any], str]:
    def parse(raw: Any) -> str:
        if not isinstance(raw, str) or "\x00" in raw:
            raise FieldError("应为文本")
        if len(raw) > limit:
            raise FieldError(f"文本过长（最多 {limit} 字）")
        return raw

    return parse


def _choice(raw: Any, choices: tuple[str, ...], name: str) -> str:
    if raw not in choices:
        raise _Bad(name, f"“{raw}”不是可选值之一：{'、'.join(choices)}")
    return str(raw)


def _datetime(raw: Any) -> datetime:
    if not isinstance(raw, str):
        raise FieldError("应为 ISO 8601 日期时间（YYYY-MM-DDTHH:MM:SS）")
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise FieldError("应为 ISO 8601 日期时间（YYYY-MM-DDTHH:MM:SS）") from None
    if value.tzinfo is not None:
        raise FieldError("不带时区（按存储时的 UTC 时间）")
    return value


def _mapping(raw: Any, name: str) -> dict[str, Any] | None:
    if raw is not None and not isinstance(raw, dict):
        raise _Bad(name, "应为映射或 null")
    return raw


def _certificate(raw: dict[str, Any], volunteer_no: str | None) -> dict[str, Any]:
    """A certificate row exactly as issued (CQ-17), checked for its shape only: it is kept with
    the package, never put in the receiving store's certificates (that store does not hold the
    issuing region's key and cannot vouch for it); it is verified where it was issued."""
    number = _required(raw.get("certificate_no"), "certificate_no", _text(32))
    if not _CERT_NO.match(number):
        raise _Bad("certificate_no", "证明编号格式不对", "CQ-17")
    payload = _mapping(raw.get("payload"), "payload")
    if not payload:
        raise _Bad("payload", "必填字段为空", "CQ-17")
    row = {
        "certificate_no": number,
        "volunteer_no": _required(raw.get("volunteer_no"), "volunteer_no", _text(64)),
        "issued_on": _required(raw.get("issued_on"), "issued_on", _PARSE_DATE),
        "issuer_kind": _choice(
            raw.get("issuer_kind"), ("authority", "organisation"), "issuer_kind"
        ),
        "issuer_uscc": _optional(raw.get("issuer_uscc"), "issuer_uscc", _PARSE_USCC),
        "organisation": _optional(raw.get("organisation"), "organisation", _PARSE_USCC),
        "period_from": _optional(raw.get("period_from"), "period_from", _PARSE_DATE),
        "period_to": _optional(raw.get("period_to"), "period_to", _PARSE_DATE),
        "payload": payload,
        "signature": _required(raw.get("signature"), "signature", _text(128)),
        "key_fingerprint": _required(raw.get("key_fingerprint"), "key_fingerprint", _text(64)),
        "actor": _required(raw.get("actor"), "actor", _text(200)),
        "recorded_at": _required(raw.get("recorded_at"), "recorded_at", _datetime),
    }
    if row["volunteer_no"] != volunteer_no:
        raise _Bad("volunteer_no", "不是本包志愿者的证明", "CQ-16")
    if payload.get("certificate_no", number) != number:
        raise _Bad("payload", "签名内容中的证明编号与 certificate_no 不一致", "CQ-17")
    if payload.get("volunteer_no", volunteer_no) != volunteer_no:
        raise _Bad("payload", "签名内容中的志愿者编号与本包不一致", "CQ-17")
    return row


def parse(package: Mapping[str, Any]) -> Parsed:
    """Every row of every element, typed and checked field by field and within the package."""
    out = Parsed()
    reader = _Reader(out)
    person = package.get("volunteer")
    reader.content(BY_NAME["volunteer"], [person])
    if out.rows["volunteer"]:
        out.volunteer_no = out.rows["volunteer"][0][1]["volunteer_no"]
    elif isinstance(person, dict) and isinstance(person.get("volunteer_no"), str):
        out.volunteer_no = person["volunteer_no"].strip()
    for element in ELEMENTS:
        if element.name != "volunteer":
            reader.content(element, package.get(element.name) or [])
    reader.certificates(package.get("certificates") or [], out.volunteer_no)
    _within_package(out)
    if not out.problems:
        _projects(out, package.get("projects") or [])
    return out


def _within_package(out: Parsed) -> None:
    """Keys unique per element; every row about this volunteer; BJ-3 adults; CQ-9 per day."""
    _unique_keys(out)
    me = out.volunteer_no
    for name in ("service_time", "training"):
        for index, row in out.rows[name]:
            if row["volunteer_no"] != me:
                out.error(name, index, "volunteer_no", "不是本包志愿者的记录", "CQ-16")
    people = out.rows["volunteer"]
    born = people[0][1]["birth_date"] if people else None
    for name in PERSON_ELEMENTS:
        for index, row in out.rows[name]:
            if row["subject_kind"] != "person" or row["subject"] != me:
                out.error(name, index, "subject", "不是本包志愿者的信息", "CQ-16")
            elif name != "evaluation_and_complaints" and people:  # else reported already
                _adult(
                    out,
                    name,
                    index,
                    born,
                    row["awarded_on" if name == "honours" else "provided_on"],
                )
    _honour_events(out)
    daily: dict[date, Decimal] = defaultdict(Decimal)
    for _, row in out.rows["service_time"]:
        daily[row["date"]] += row["hours"]
    for index, row in out.rows["service_time"]:
        if daily[row["date"]] > MAX_DAILY_HOURS:
            out.error("service_time", index, "hours", "同一天的时长合计超过 24 小时", "CQ-9")


def _honour_events(out: Parsed) -> None:
    """BJ-17b: a deletion request comes after the honour was awarded."""
    awarded = {row["honour_id"]: row["awarded_on"] for _, row in out.rows["honours"]}
    for element, index, i, event in out.events:
        if element == "honours" and event["date"] < awarded[event["ref"]]:
            where = f"events[{i}].date"
            out.error(element, index, where, "删除请求早于荣誉授予日期", "BJ-17b")


def _unique_keys(out: Parsed) -> None:
    for element in ELEMENTS:
        seen: dict[tuple[Any, ...], int] = {}
        for index, row in out.rows[element.name]:
            key = tuple(row[k] for k in element.match)
            if key in seen:
                out.error(element.name, index, element.match[0], f"与第 {seen[key]} 行重复")
            seen.setdefault(key, index)
    numbers: set[str] = set()
    for index, cert in out.certificates:
        if cert["certificate_no"] in numbers:
            out.error("certificates", index, "certificate_no", "证明编号重复")
        numbers.add(cert["certificate_no"])


def _adult(out: Parsed, name: str, index: int, born: date | None, day: date) -> None:
    """BJ-3: credit information about a person under 18 on the date of the fact is refused."""
    if born is None:
        out.error(name, index, "subject", "无法确认志愿者已满 18 周岁（缺少出生日期）", "BJ-3")
    elif age_on(born, day) < ADULT_AGE:
        out.error(
            name, index, "subject", f"志愿者在 {day.isoformat()} 未满 18 周岁，不予采集", "BJ-3"
        )


def project_summary(records: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The ``projects`` element: each project per organisation with its first and last date,
    its number of records and its qualifying hours (HN-2b records earn none)."""
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for r in records:
        key = (r["project"], r["organisation"])
        p = found.setdefault(
            key,
            {"first": r["date"], "last": r["date"], "records": 0, "hours": Decimal(0)},
        )
        p["first"], p["last"] = min(p["first"], r["date"]), max(p["last"], r["date"])
        p["records"] += 1
        if r["excluded_kind"] is None:
            p["hours"] += r["hours"]
    return [
        {
            "name": name,
            "organisation": org,
            "first_date": p["first"].isoformat(),
            "last_date": p["last"].isoformat(),
            "records": p["records"],
            "qualifying_hours": str(p["hours"].quantize(CENT)),
        }
        for (name, org), p in sorted(found.items(), key=lambda kv: (kv[1]["first"], kv[0]))
    ]


def _projects(out: Parsed, given: list[Any]) -> None:
    """``projects`` is derived from ``service_time`` and never stored: a package whose summary
    disagrees with its records is imported by its records, with a warning."""
    expected = project_summary(row for _, row in out.rows["service_time"])
    for index in range(max(len(given), len(expected))):
        mine = expected[index] if index < len(expected) else None
        theirs = given[index] if index < len(given) else None
        if mine != theirs:
            message = "与 service_time 的服务记录不一致：项目由记录汇总，以记录为准"
            out.warnings.append(TransferProblem("projects", index, "", message, "", True))
            return
