"""Validating one row: each field by its kind, then the rules that span fields of the row."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from typing import Any

from stdnum import exceptions as stdnum_errors
from stdnum.cn import ric

from volcredit.contract import TableSpec
from volcredit.identifiers import validate_resident_id
from volcredit.importer.fields import FieldError, parser_for, stdnum_reason
from volcredit.importer.readers import SourceRow
from volcredit.importer.report import ProblemLog
from volcredit.problems import CalendarGapError
from volcredit.rules.calendar import WorkingCalendar
from volcredit.rules.periods import add_working_days

LATE_ENTRY_WORKING_DAYS = 10  # HN-2a
_OTHER_ID = re.compile(r"^[A-Z0-9]{5,20}$")


class RowContext:
    """Where the current row comes from and how to report about it (reused row after row)."""

    def __init__(self, label: str, log: ProblemLog) -> None:
        self.label, self.log = label, log
        self.row: SourceRow | None = None
        self.failed = False

    def start(self, row: SourceRow) -> RowContext:
        self.row, self.failed = row, False
        return self

    def _line(self, field: str) -> int:
        return self.row.line_of(field) if self.row is not None else 0

    def error(self, field: str, message: str, rule: str = "") -> None:
        self.failed = True
        self.log.error(self.label, self._line(field), field, message, rule)

    def warning(self, field: str, message: str, rule: str = "") -> None:
        self.log.warning(self.label, self._line(field), field, message, rule)


RowCheck = Callable[[dict[str, Any], RowContext], None]


class RowValidator:
    """Parses and checks the rows of one table file."""

    def __init__(self, spec: TableSpec, calendar: WorkingCalendar) -> None:
        self.spec = spec
        self.parsers = [(f, parser_for(f)) for f in spec.fields]
        self.row_check: RowCheck | None = _ROW_CHECKS.get(spec.name)
        self.calendar = calendar
        self._late_deadline: dict[date, date | None] = {}

    def validate(self, row: SourceRow, ctx: RowContext) -> dict[str, Any]:
        """The typed values of ``row`` (``None`` where invalid), with problems logged on ``ctx``."""
        values: dict[str, Any] = {"source_line": row.line}
        raw_values = row.values
        for f, parse in self.parsers:
            raw = raw_values.get(f.name)
            value = None
            if raw is not None and raw != "":
                try:
                    value = parse(raw)
                except FieldError as exc:
                    ctx.error(f.name, str(exc), exc.rule or f.rule)
                    values[f.name] = None
                    continue
            if value is None or value == "":
                value = None
                if f.required:
                    ctx.error(f.name, "必填字段为空")
            values[f.name] = value
        if self.row_check is not None:
            self.row_check(values, ctx)
        if self.spec.name == "service_records":
            values["late_entry"] = self._late_entry(values, ctx)
        return values

    def _late_entry(self, values: dict[str, Any], ctx: RowContext) -> bool | None:
        """HN-2a: flag records entered more than 10 working days after the activity."""
        day, recorded = values.get("date"), values.get("recorded_on")
        if day is None or recorded is None:
            return None
        if day not in self._late_deadline:
            try:
                self._late_deadline[day] = add_working_days(
                    self.calendar, day, LATE_ENTRY_WORKING_DAYS
                )
            except CalendarGapError:
                self._late_deadline[day] = None
        deadline = self._late_deadline[day]
        if deadline is None:
            ctx.warning(
                "recorded_on", f"无法检查是否按时录入：缺少 {day.year} 年后的工作日历", "HN-2a"
            )
            return None
        if recorded > deadline:
            ctx.warning(
                "recorded_on",
                f"活动后超过 10 个工作日才录入（应不晚于 {deadline.isoformat()}），已标记",
                "HN-2a",
            )
            return True
        return False


def _check_volunteer(values: dict[str, Any], ctx: RowContext) -> None:
    """BJ-7: the ID number is checked by its type; a resident ID's birth date must agree."""
    number, id_type = values.get("id_number"), values.get("id_type")
    if number is None or id_type is None:
        return
    if id_type != "resident_id":
        if not _OTHER_ID.match(number):
            ctx.error("id_number", "证件号码应为 5–20 位字母或数字", "BJ-7")
            values["id_number"] = None
        return
    try:
        validate_resident_id(number)
    except stdnum_errors.ValidationError as exc:
        ctx.error("id_number", f"公民身份号码无效（{stdnum_reason(exc)}）", "BJ-7")
        values["id_number"] = None
        return
    born = ric.get_birth_date(number)
    if values.get("birth_date") is None:
        values["birth_date"] = born
    elif values["birth_date"] != born:
        ctx.error("birth_date", f"与公民身份号码中的出生日期（{born.isoformat()}）不一致", "BJ-7")


def _check_organisation(values: dict[str, Any], ctx: RowContext) -> None:
    identified, removed = values.get("identified_on"), values.get("identification_removed_on")
    if identified is not None and values.get("identification_basis") is None:
        ctx.error("identification_basis", "已认定的组织必须写明认定方式", "HN-1a")
    if identified is None and values.get("identification_basis") is not None:
        ctx.error("identified_on", "写了认定方式，却没有认定日期", "HN-1a")
    if removed is not None and (identified is None or removed < identified):
        ctx.error("identification_removed_on", "撤销认定日期必须晚于认定日期", "HN-1c")
    registered = values.get("registered_on")
    if identified is not None and registered is not None and identified < registered:
        ctx.error("identified_on", "认定日期早于登记日期", "HN-1a")


def _check_service_record(values: dict[str, Any], ctx: RowContext) -> None:
    day, recorded = values.get("date"), values.get("recorded_on")
    if day is not None and recorded is not None and recorded < day:
        ctx.error("recorded_on", "录入日期早于服务日期", "CQ-8")


def _check_penalty(values: dict[str, Any], ctx: RowContext) -> None:
    """BJ-9: only general-procedure penalties in the five categories are bad info."""
    if values.get("procedure") == "simplified":
        ctx.error("procedure", "简易程序作出的行政处罚不能作为不良信息", "BJ-9")


def _check_closed_after_received(values: dict[str, Any], ctx: RowContext) -> None:
    received, closed = values.get("received_on"), values.get("closed_on")
    if received is not None and closed is not None and closed < received:
        ctx.error("closed_on", "办结日期早于受理日期", "CQ-13")


def _check_region(values: dict[str, Any], ctx: RowContext) -> None:
    if values.get("level") == "province" and values.get("parent") is not None:
        ctx.error("parent", "省级区划不应有上级")
    if values.get("level") in ("city", "county") and values.get("parent") is None:
        ctx.error("parent", "市级和县级区划必须写明上级")


_ROW_CHECKS: dict[str, RowCheck] = {
    "volunteers": _check_volunteer,
    "organisations": _check_organisation,
    "service_records": _check_service_record,
    "penalties": _check_penalty,
    "complaints": _check_closed_after_received,
    "regions": _check_region,
}
