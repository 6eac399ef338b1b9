"""Problems found in content or in the store, each naming file, row and field (DESIGN.md)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Severity(Enum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, order=True)
class Problem:
    """One problem: where it is (file, line, field), what it is, and the rule it breaks."""

    file: str
    line: int
    field: str
    message: str
    rule: str = ""
    severity: Severity = Severity.ERROR

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        field = f" {self.field}:" if self.field else ""
        rule = f" [{self.rule}]" if self.rule else ""
        tag = "" if self.severity is Severity.ERROR else "警告 "
        return f"{where}:{field} {tag}{self.message}{rule}"


class CalendarGapError(LookupError):
    """A date falls in a year for which no official working-day calendar is known (RULES PERIOD).

    Never guessed from weekends: the operator must load that year's ``workdays``.
    """

    def __init__(self, year: int) -> None:
        self.year = year
        super().__init__(
            f"没有 {year} 年的官方工作日历：请在 workdays 表中导入该年的节假日和调休安排"
        )
