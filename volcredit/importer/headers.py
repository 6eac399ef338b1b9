"""Checking a table's columns before any row is read (BJ-6 and the data contract)."""

from __future__ import annotations

from volcredit.contract import TableSpec, is_forbidden_column
from volcredit.importer.report import ProblemLog


def check_columns(
    spec: TableSpec,
    columns: list[str],
    label: str,
    log: ProblemLog,
    line_of: dict[str, int] | None = None,
) -> bool:
    """Report forbidden (BJ-6), unknown and missing required columns; True if all are fine."""
    where = line_of or {}
    ok = True
    known = set(spec.field_names)
    seen: set[str] = set()
    for name in columns:
        line = where.get(name, 1)
        if name in seen:
            log.error(label, line, name, "列名重复")
            ok = False
        seen.add(name)
        if is_forbidden_column(name):
            log.error(
                label,
                line,
                name,
                "禁止采集的信息（宗教信仰、基因、指纹、血型、疾病和病史），整个导入被拒绝",
                "BJ-6",
            )
            ok = False
        elif name not in known:
            log.error(
                label,
                line,
                name,
                f"未知的列（{spec.name} 表的字段为：{', '.join(spec.field_names)}）",
            )
            ok = False
    if columns or where:
        for f in spec.fields:
            if f.required and f.name not in seen:
                log.error(label, 1, f.name, "缺少必填的列")
                ok = False
    return ok
