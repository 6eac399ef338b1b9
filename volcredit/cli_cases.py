"""The case commands for batch use (BJ-16, BJ-17, BJ-18): ``record-events`` appends steps taken
on paper from a CSV file, all or nothing, with the same checks as the portal; ``case-document``
writes a case's written documents as PDF (the PDF printer lives in the portal and is imported
lazily, inside the command, DESIGN.md)."""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path
from typing import Any

from volcredit.settings import Settings

TEXT_COLUMNS = ("reasons", "basis", "statement", "objection", "answer", "correction")
FILE_COLUMNS = ("evidence", "commitment", "rectification", "credit_report")


def _row_date(raw: str, today: date) -> tuple[date | None, str | None]:
    try:
        day = date.fromisoformat(raw.strip())
    except ValueError:
        return None, f"日期应为 YYYY-MM-DD：{raw!r}"
    if day > today:
        return None, f"日期 {day.isoformat()} 晚于今天（{today.isoformat()}），不能预先记录"
    return day, None


def _uploads(values: dict[str, str], folder: Path) -> tuple[list[Any], list[tuple[str, str]]]:
    """The files a row names (paths relative to the CSV's folder, several joined by ``;``)."""
    from volcredit.case_steps import Upload

    found, problems = [], []
    for column in FILE_COLUMNS:
        for name in filter(None, (p.strip() for p in (values.get(column) or "").split(";"))):
            path = folder / name
            try:
                found.append(Upload(column, path.name, path.read_bytes()))
            except OSError as exc:
                problems.append((column, f"无法读取文件 {name}（{exc.strerror or exc}）"))
    return found, problems


def cmd_record_events(args: argparse.Namespace, settings: Settings) -> int:
    """Append each row's step (``ref,event,date`` plus its texts and files), in file order, in
    one transaction: any problem and nothing is recorded; every problem is printed as
    ``FILE:ROW: field: message [rule]``."""
    from volcredit import case_actions, good_info
    from volcredit.cli import _actor, _now, _store
    from volcredit.importer.readers import SourceError, iter_csv

    path = Path(args.file)
    store = _store(args, settings)
    problems: list[str] = []
    recorded = 0
    try:
        with store.write() as conn:
            for row in iter_csv(path):
                where = f"{path}:{row.line}"
                if row.problem:
                    problems.append(f"{where}: {row.problem}")
                    continue
                v = {k: (val or "").strip() for k, val in row.values.items()}
                day, problem = _row_date(v.get("date", ""), args.today)
                if day is None:
                    problems.append(f"{where}: date: {problem}")
                    continue
                uploads, missing = _uploads(v, path.parent)
                problems += [f"{where}: {column}: {message}" for column, message in missing]
                try:
                    if v.get("event") == good_info.DELETION:
                        note = v.get("note") or "书面要求删除已公开的良好信息（BJ-17b）"
                        good_info.request_deletion(
                            conn,
                            v.get("ref", ""),
                            today=day,
                            actor=_actor(),
                            source="cli",
                            now=_now(),
                            note=note,
                        )
                    else:
                        case_actions.record(
                            conn,
                            v.get("ref", ""),
                            v.get("event", ""),
                            today=day,
                            actor=_actor(),
                            source="cli",
                            now=_now(),
                            periods=settings.publicity,
                            texts={k: v.get(k, "") for k in (*TEXT_COLUMNS, "commitment_text")},
                            uploads=uploads,
                        )
                    recorded += 1
                except good_info.DeletionRefused as refused:
                    problems.append(f"{where}: {refused.field}: {refused} [{refused.rule}]")
                except case_actions.StepRefused as refused:
                    fields = refused.fields or {"event": str(refused)}
                    problems += [f"{where}: {f}: {m} [{refused.rule}]" for f, m in fields.items()]
            if problems:
                raise _Abandon
    except _Abandon:
        pass
    except (SourceError, OSError) as exc:
        line = getattr(exc, "line", 0)
        print(f"{path}:{line}: {exc}", file=sys.stderr)
        return 1
    finally:
        store.dispose()
    for line in problems:
        print(line, file=sys.stderr)
    if problems:
        print(f"{len(problems)} 个问题，未记录任何步骤。", file=sys.stderr)
        return 1
    print(f"已记录 {recorded} 个步骤。")
    return 0


class _Abandon(Exception):
    """Roll the whole batch back."""


def cmd_case_document(args: argparse.Namespace, settings: Settings) -> int:
    """Write every written document of a case (or the one of ``--seq``) as PDF into ``--out``."""
    from portal.case_document_pdf import FontMissing, render
    from volcredit import case_actions, held
    from volcredit.case_documents import document_of
    from volcredit.cli import _store

    store = _store(args, settings)
    try:
        with store.read() as conn:
            found = case_actions.load(conn, args.case_id, args.today, settings.publicity)
            if found is None:
                print(f"没有这个不良信息案件：{args.case_id}", file=sys.stderr)
                return 1
            p = found.penalty
            who = held.find_subject(conn, p["subject_kind"], p["subject"])
    finally:
        store.dispose()
    name = who.name if who else p["subject"]
    seqs = [args.seq] if args.seq else [e.seq for e in found.entries]
    docs = [d for d in (document_of(found, s, name, settings.publicity) for s in seqs) if d]
    if not docs:
        print(f"案件 {args.case_id} 没有{'这份' if args.seq else ''}书面文书。", file=sys.stderr)
        return 1
    out = Path(args.out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        print(f"{out}: 无法创建目录（{exc.strerror or exc}）", file=sys.stderr)
        return 1
    for doc in docs:
        try:
            data = render(doc)
        except FontMissing as exc:
            print(str(exc), file=sys.stderr)
            return 2
        target = out / f"{doc.number.replace('/', '_').replace(chr(92), '_')}.pdf"
        try:
            target.write_bytes(data)
        except OSError as exc:
            print(f"{target}: 无法写入（{exc.strerror or exc}）", file=sys.stderr)
            return 1
        print(f"{target}：{doc.title}（{doc.dated.isoformat()}）")
    return 0


def add_parsers(sub: Any, common: argparse.ArgumentParser, dated: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "record-events",
        parents=[common, dated],
        help="从 CSV 批量记录纸面办理的案件步骤（告知、陈述申辩、决定、异议、修复、删除）",
    )
    p.add_argument(
        "file",
        metavar="FILE.csv",
        help="列：ref,event,date 及该步骤的文字（reasons、basis、statement、objection、answer、"
        "correction）和材料文件（evidence、commitment、rectification、credit_report）",
    )
    p.set_defaults(func=cmd_record_events)
    p = sub.add_parser(
        "case-document",
        parents=[common, dated],
        help="把案件的书面文书（告知书、决定书、答复书）写成 PDF",
    )
    p.add_argument("case_id", metavar="CASE_ID")
    p.add_argument("--seq", type=int, metavar="N", help="只写办理记录第 N 条的文书")
    p.add_argument("--out", required=True, metavar="DIR", help="PDF 写入的目录")
    p.set_defaults(func=cmd_case_document)
