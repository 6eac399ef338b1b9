"""The yearly spot-check report for staff (HN-2c, HN-2d): one printable HTML file and one CSV per
reporting unit. Never part of the site (PUB-1): the CLI writes these to a folder of its own.

Files are written atomically (a temporary file beside the target, then ``os.replace``), so a
reader never sees half a report.
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from generator.pages import TEMPLATES
from volcredit.labels import label_functions
from volcredit.spotcheck_findings import (
    OUTCOME_LABELS,
    REASON_LABELS,
    RegionReport,
    Report,
    csv_rows,
)

TEMPLATE = "reports/spotcheck.html"
SOURCE_LABELS = {"import": "导入数据", "portal": "工作人员页面", "cli": "命令行", "system": "系统"}


@dataclass(frozen=True)
class SummaryRow:
    """One line of the report's summary table."""

    label: str
    drawn: int
    checked: int  # organisations with a finding on every HN-2d item
    open_items: int
    failed_items: int
    failed_organisations: int


def summary_row(label: str, sections: list[RegionReport]) -> SummaryRow:
    orgs = [o for s in sections for o in s.organisations]
    return SummaryRow(
        label,
        len(orgs),
        sum(1 for o in orgs if o.open_items == 0),
        sum(o.open_items for o in orgs),
        sum(o.failed_items for o in orgs),
        sum(1 for o in orgs if o.failed_items),
    )


def summary(report: Report) -> list[SummaryRow]:
    """Per region, then the total (HN-2c: what the unit reports by the end of October)."""
    rows = [summary_row(f"{s.region.name}（{s.region.code}）", [s]) for s in report.regions]
    return [*rows, summary_row("合计", report.regions)]


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=True,
        undefined=StrictUndefined,
        keep_trailing_newline=True,
    )
    env.globals.update(label_functions())
    env.globals.update(
        reason_label=lambda r: REASON_LABELS.get(r, r),
        outcome_label=lambda o: OUTCOME_LABELS.get(o, o),
        source_label=lambda s: SOURCE_LABELS.get(s, s),
    )
    return env


def render_html(report: Report, env: Environment | None = None) -> str:
    """The printable report (HN-2c, HN-2d)."""
    env = env or _environment()
    return env.get_template(TEMPLATE).render(report=report, summary=summary(report))


def csv_text(report: Report) -> str:
    """The report's rows as CSV text with a byte-order mark, so Excel reads the Chinese."""
    buf = io.StringIO()
    csv.writer(buf).writerows(csv_rows(report))
    return "\ufeff" + buf.getvalue()


def write_reports(reports: list[Report], out_dir: Path) -> list[Path]:
    """Write ``spotcheck-<year>-<unit>.html`` and ``.csv`` for each report into ``out_dir``."""
    env = _environment()
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for report in reports:
        stem = f"spotcheck-{report.year}-{report.unit.code}"
        written.append(_write_atomic(out_dir / f"{stem}.html", render_html(report, env)))
        written.append(_write_atomic(out_dir / f"{stem}.csv", csv_text(report)))
    return written


def _write_atomic(target: Path, text: str) -> Path:
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target
