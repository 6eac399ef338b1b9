"""The organisation commands (Hunan, HN-1a–d and HN-2c–d): ``identify`` records an identification
decision, ``announce`` publishes the yearly announcements, ``coverage`` prints the coverage
figures, ``spotcheck`` draws (and records) the yearly spot check, ``spotcheck-report`` writes
each city's report. The report renderer (generator) is imported lazily (DESIGN.md)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from volcredit import cli as base
from volcredit.settings import Settings

DECISIONS = {
    "request": "identification_requested",
    "direct": "identified_direct",
    "on-request": "identified_on_request",
    "refuse": "identification_refused",
    "remove": "identification_removed",
}


def cmd_identify(args: argparse.Namespace, settings: Settings) -> int:
    """Record one identification decision (HN-1a–c) for the organisation USCC."""
    from volcredit.identification import DecisionRefused, record

    if args.decision in ("refuse", "remove") and not (args.note or "").strip():
        print("--note 必填：不予认定写明理由，撤销认定写明章程核准文号", file=sys.stderr)
        return 2
    charter = {"yes": True, "no": False}.get(args.charter or "")
    store = base._store(args, settings)
    try:
        with store.write() as conn:
            entry = record(
                conn,
                args.uscc.strip().upper(),
                DECISIONS[args.decision],
                args.today,
                base._actor(),
                "cli",
                base._now(),
                charter,
                args.note,
            )
    except DecisionRefused as refused:
        print(f"organisations {args.uscc}: {refused} [{refused.rule}]", file=sys.stderr)
        return 1
    finally:
        store.dispose()
    print(f"已记录：{entry.ref} {entry.event}（{entry.date.isoformat()}），下次生成网站时公告。")
    return 0


def cmd_announce(args: argparse.Namespace, settings: Settings) -> int:
    """Publish the year's announcement of every region not yet out (HN-1d)."""
    from volcredit.announcements import AnnouncementRefused, publish

    store = base._store(args, settings)
    try:
        with store.write() as conn:
            done = publish(
                conn, args.year, args.today, base._actor(), "cli", base._now(), args.region
            )
    except AnnouncementRefused as refused:
        print(f"announce: {refused} [HN-1d]", file=sys.stderr)
        return 1
    finally:
        store.dispose()
    if not done:
        print(f"{args.year} 年各地认定公告均已发布，没有新的公告。")
        return 0
    print(f"已发布 {args.year} 年认定公告（{args.today.isoformat()}），共 {len(done)} 个地区：")
    for p in done:
        late = "（逾期，应在 6 月 30 日前发布）" if p.late else ""
        print(f"- {p.region.name}（{p.region.code}）：{p.organisations} 家{late}")
    print("下次运行 volcredit build 时，网站发布这些公告。")
    return 0


def cmd_coverage(args: argparse.Namespace, settings: Settings) -> int:
    """Identified organisations per million residents per region against 20 (HN-1d)."""
    from volcredit.announcements import coverage_by_region
    from volcredit.rules.announcement import TARGET_PER_MILLION

    store = base._store(args, settings)
    with store.read() as conn:
        rows = coverage_by_region(conn, args.today)
    store.dispose()
    if args.format == "json":
        out = [
            {
                "code": r.region.code,
                "name": r.region.name,
                "level": r.region.level,
                "population": r.coverage.population,
                "own": r.own,
                "identified": r.coverage.identified,
                "per_million": None
                if r.coverage.per_million is None
                else str(r.coverage.per_million),
                "needed": r.coverage.needed,
                "shortfall": r.coverage.shortfall,
            }
            for r in rows
        ]
        payload = {"today": args.today.isoformat(), "target": TARGET_PER_MILLION, "regions": out}
        print(json.dumps(payload, ensure_ascii=False, indent=2))
        return 0
    print(
        f"志愿服务组织标识覆盖率（{args.today.isoformat()}，"
        f"目标每百万人口 {TARGET_PER_MILLION} 家）"
    )
    for r in rows:
        c = r.coverage
        if c.per_million is None:
            print(f"- {r.region.name}（{r.region.code}）：{c.identified} 家，无人口数据")
            continue
        state = "达标" if c.met else f"缺 {c.shortfall} 家"
        print(
            f"- {r.region.name}（{r.region.code}）：{c.identified} 家 / {c.population} 人 = "
            f"每百万 {c.per_million} 家，需 {c.needed} 家，{state}"
        )
    return 0


def _draw_json(year: int, seed: str, draws: list[Any]) -> str:
    payload = {
        "year": year,
        "seed": seed,
        "regions": [
            {
                "code": d.code,
                "name": d.name,
                "level": d.level,
                "candidates": d.candidates,
                "drawn": [
                    {"uscc": x.candidate.uscc, "name": x.candidate.name, "reason": x.reason}
                    for x in d.drawn
                ],
            }
            for d in draws
        ],
    }
    return json.dumps(payload, ensure_ascii=False, indent=2)


def cmd_spotcheck(args: argparse.Namespace, settings: Settings) -> int:
    """The HN-2c draw for --year with --seed: per city and county, reproducible; --record
    records it (one seed a year) so the site publishes it and checkers can start."""
    from volcredit.spotcheck import DrawRefused, record_draw, region_draws
    from volcredit.spotcheck_findings import REASON_LABELS

    store = base._store(args, settings)
    try:
        as_of = args.today
        if args.record:
            with store.write() as conn:
                recorded = record_draw(
                    conn, args.year, args.seed, args.today, base._actor(), "cli", base._now()
                )
            as_of = min((d.drawn_on for d in recorded), default=as_of)  # as it was drawn
        with store.read() as conn:
            draws = list(region_draws(conn, args.year, args.seed, as_of))
    except DrawRefused as refused:
        print(f"spotcheck: {refused} [HN-2c]", file=sys.stderr)
        return 1
    finally:
        store.dispose()
    if args.format == "json":
        print(_draw_json(args.year, args.seed, draws))
        return 0
    print(f"{args.year} 年志愿服务组织抽查名单（种子 {args.seed}，HN-2c）")
    for d in draws:
        print(f"\n{d.name}（{d.code}）：候选 {d.candidates} 个，抽取 {len(d.drawn)} 个")
        for x in d.drawn:
            print(f"- {x.candidate.uscc}  {x.candidate.name}（{REASON_LABELS[x.reason]}）")
    if args.record:
        print("\n已记录抽查名单；下次生成网站时公布种子和名单。")
    return 0


def cmd_spotcheck_report(args: argparse.Namespace, settings: Settings) -> int:
    """Each city's spot-check report for --year as HTML and CSV in --out (HN-2c, HN-2d)."""
    from generator.spotcheck_report import write_reports
    from volcredit.spotcheck_findings import reports

    store = base._store(args, settings)
    with store.read() as conn:
        found = reports(conn, args.year)
    store.dispose()
    if not found:
        print(
            f"{args.year} 年还没有记录抽查名单：先运行 volcredit spotcheck --record",
            file=sys.stderr,
        )
        return 1
    out = Path(args.out).resolve()
    site = Path(settings.site_dir).resolve()
    if out == site or site in out.parents:
        print(f"拒绝写入：{out} 在网站目录 {site} 中，抽查报告不公开（PUB-1）", file=sys.stderr)
        return 2
    out.mkdir(parents=True, exist_ok=True)
    written = write_reports(found, out)
    for path in written:
        print(path)
    return 0


def add_parsers(sub: Any, common: argparse.ArgumentParser, dated: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "identify", parents=[common, dated], help="记录志愿服务组织认定决定（HN-1a–c）"
    )
    p.add_argument("uscc", metavar="USCC", help="组织的统一社会信用代码")
    p.add_argument(
        "--decision",
        required=True,
        choices=tuple(DECISIONS),
        help="request 申请；direct 直接认定；on-request 依申请认定；"
        "refuse 不予认定；remove 撤销认定",
    )
    p.add_argument(
        "--charter",
        choices=("yes", "no"),
        help="核准的章程是否以开展志愿服务为宗旨（依申请认定须 yes，撤销认定须 no）",
    )
    p.add_argument("--note", help="理由或章程核准文号（不予认定、撤销认定必填）")
    p.set_defaults(func=cmd_identify)

    p = sub.add_parser(
        "announce", parents=[common, dated], help="发布年度志愿服务组织认定公告（HN-1d）"
    )
    p.add_argument("--year", type=int, required=True, help="公告年度")
    p.add_argument(
        "--region", action="append", metavar="CODE", help="只发布这个地区的公告（可重复）"
    )
    p.set_defaults(func=cmd_announce)

    p = sub.add_parser(
        "coverage", parents=[common, dated], help="各地区每百万人口认定组织数与缺口（HN-1d）"
    )
    p.add_argument("--format", choices=("json", "text"), default="text")
    p.set_defaults(func=cmd_coverage)

    p = sub.add_parser(
        "spotcheck", parents=[common, dated], help="按公布的种子抽取年度抽查组织（HN-2c）"
    )
    p.add_argument("--year", type=int, required=True, help="抽查年度")
    p.add_argument("--seed", required=True, help="公布的随机种子（同一种子得到同一名单）")
    p.add_argument("--record", action="store_true", help="记录并公布这次抽取（每年一个种子）")
    p.add_argument("--format", choices=("json", "text"), default="text")
    p.set_defaults(func=cmd_spotcheck)

    p = sub.add_parser(
        "spotcheck-report",
        parents=[common],
        help="按市州写出年度抽查报告（HTML 和 CSV，HN-2c、HN-2d）",
    )
    p.add_argument("--year", type=int, required=True, help="抽查年度")
    p.add_argument("--out", required=True, metavar="DIR", help="报告写入的目录（不要放在网站目录）")
    p.set_defaults(func=cmd_spotcheck_report)
