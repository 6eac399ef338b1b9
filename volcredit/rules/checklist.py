"""The spot-check checklist (HN-2d): eight items, pre-filled from the data where the data can
tell, and the result that stands for each item once checkers have recorded findings.

A pre-fill is a suggestion with its evidence; only a checker's finding (imported in
``spot_check_findings`` or recorded on the staff pages) is a result. Items the data cannot
decide (paper records, pay, profit, fees) are left to the checker.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

# HN-2d items in RULES.md order: the number is the contract's ``spot_check_findings.item``.
ITEMS: dict[int, str] = {
    1: "记录完整准确",
    2: "活动结束后 10 个工作日内完成记录",
    3: "纸质记录已录入信息系统",
    4: "未发放必要补贴之外的报酬",
    5: "未将不属于志愿服务的四类活动记为志愿服务",
    6: "未假冒志愿服务名义开展营利性活动",
    7: "记录证明以记录为依据且可在系统中查验",
    8: "未因出具记录证明收取费用",
}
RESULTS = ("pass", "fail")


@dataclass(frozen=True)
class OrganisationFacts:
    """What the store tells about one organisation's records in the checked year (HN-2d)."""

    records: int  # service records dated in the year
    incomplete: int  # records missing an element CQ-6 requires (place, content, evaluation…)
    late: int  # entered more than 10 working days after the activity (HN-2a)
    unknown_timeliness: int  # no calendar data to tell (PERIOD)
    excluded: dict[int, int]  # HN-2b kind → records flagged with it
    complaints: int  # complaints received in the year


@dataclass(frozen=True)
class Prefill:
    """A suggestion for one item: ``pass``/``fail``, or ``None`` for the checker to decide."""

    item: int
    suggestion: str | None
    evidence: str


@dataclass(frozen=True)
class Finding:
    """A checker's result for one item, where it came from and when."""

    item: int
    result: str  # pass | fail
    note: str | None
    source: str  # import | portal | cli
    on: date | None


def prefill(facts: OrganisationFacts) -> list[Prefill]:
    """HN-2d pre-filled from the data: items 1, 2 and 5 from the records, the rest open."""
    out: list[Prefill] = []
    if facts.records == 0:
        out.append(Prefill(1, None, "当年没有服务记录，请现场核查纸质台账"))
    elif facts.incomplete:
        out.append(Prefill(1, "fail", f"{facts.records} 条记录中 {facts.incomplete} 条要素不全"))
    else:
        out.append(Prefill(1, "pass", f"{facts.records} 条记录要素齐全"))
    if facts.late:
        out.append(Prefill(2, "fail", f"{facts.late} 条记录超过 10 个工作日才录入"))
    elif facts.unknown_timeliness:
        out.append(Prefill(2, None, f"{facts.unknown_timeliness} 条记录缺少工作日历，无法判断"))
    elif facts.records:
        out.append(Prefill(2, "pass", f"{facts.records} 条记录均按时录入"))
    else:
        out.append(Prefill(2, None, "当年没有服务记录"))
    out.append(Prefill(3, None, "请核对纸质签到表等是否已全部录入"))
    out.append(Prefill(4, None, "请核查补贴发放凭证"))
    flagged = sum(facts.excluded.values())
    if flagged:
        kinds = "、".join(f"第{k}类 {n} 条" for k, n in sorted(facts.excluded.items()))
        out.append(Prefill(5, "fail", f"{flagged} 条记录属于不计时长的活动（{kinds}）"))
    elif facts.records:
        out.append(Prefill(5, "pass", "未发现被标记为四类活动的记录"))
    else:
        out.append(Prefill(5, None, "当年没有服务记录"))
    out.append(Prefill(6, None, "请核查是否以志愿服务名义收费或营利"))
    out.append(Prefill(7, None, "请抽验记录证明，并在系统中核验"))
    out.append(Prefill(8, None, "请核查是否因出具证明收费"))
    return out


@dataclass(frozen=True)
class ItemResult:
    """One checklist line: the pre-fill, the standing finding (if any) and the outcome."""

    item: int
    label: str
    prefill: Prefill
    finding: Finding | None

    @property
    def outcome(self) -> str:
        """``pass``, ``fail`` or ``open`` (no finding yet: the pre-fill is only a suggestion)."""
        return self.finding.result if self.finding else "open"


def checklist(facts: OrganisationFacts, findings: list[Finding]) -> list[ItemResult]:
    """Every HN-2d item with its pre-fill and the latest finding for it (findings in order)."""
    latest: dict[int, Finding] = {}
    for f in findings:
        latest[f.item] = f
    return [ItemResult(p.item, ITEMS[p.item], p, latest.get(p.item)) for p in prefill(facts)]


def finding_problem(item: int, result: str, note: str | None = None) -> tuple[str, str] | None:
    """Why a finding cannot be recorded, as ``(field, message)``, or ``None``: an unknown item
    or result, or a fail without a note saying what was found (HN-2d)."""
    if item not in ITEMS:
        return "item", f"检查项目必须是 1–{len(ITEMS)}（HN-2d）"
    if result not in RESULTS:
        return "result", "检查结果必须是“通过”或“不通过”"
    if result == "fail" and not (note or "").strip():
        return "note", "结果为“不通过”时，请写明发现的问题"
    return None
