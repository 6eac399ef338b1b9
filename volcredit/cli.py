"""The ``volcredit`` command line (DESIGN.md, CLI contract).

The CLI is where the clock is read: it passes ``--today`` (default: the current date) into the
rules, which never read the clock themselves. Exit status 0 on success; 1 with one line per
problem on failure; 2 for a usage error.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path

from volcredit.problems import Severity
from volcredit.settings import Settings, load_settings

REPO_CONTENT = Path(__file__).resolve().parent.parent / "content"


def _iso_date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"日期应为 YYYY-MM-DD：{value}") from exc


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _actor() -> str:
    return f"cli:{getpass.getuser()}"


def _store(args: argparse.Namespace, settings: Settings):  # type: ignore[no-untyped-def]
    from volcredit.store.engine import open_store

    return open_store(_db_url(args, settings))


def _db_url(args: argparse.Namespace, settings: Settings) -> str:
    return getattr(args, "db", None) or settings.db_url


def cmd_load(args: argparse.Namespace, settings: Settings) -> int:
    """Validate CONTENT_DIR/data and replace the store's data with it, all or nothing."""
    from volcredit.importer.loader import load_content
    from volcredit.importer.locking import LoadBusy

    store = _store(args, settings)
    try:
        result = load_content(
            store,
            Path(args.content_dir),
            today=args.today,
            recorded_at=_now(),
            actor=_actor(),
            periods=settings.publicity,
            progress=sys.stderr.isatty(),
        )
    except LoadBusy as busy:
        print(busy, file=sys.stderr)
        return 1
    finally:
        store.dispose()
    for line in result.log.lines():
        print(line, file=sys.stderr)
    if not result.ok:
        n = result.log.count(Severity.ERROR)
        print(f"导入被拒绝：发现 {n} 个错误，数据库中原有的数据没有任何改动。", file=sys.stderr)
        return 1
    total = sum(result.counts.values())
    tables = "，".join(f"{k} {v}" for k, v in result.counts.items() if v)
    print(f"已导入 {total} 行（{tables}）；新增历史事件 {result.new_events} 个。")
    warnings = result.log.count(Severity.WARNING)
    if warnings:
        print(f"另有 {warnings} 个警告（见上），数据已导入。")
    return 0


def cmd_check(args: argparse.Namespace, settings: Settings) -> int:
    """Re-validate the store and report rule warnings on --today."""
    from volcredit.checks import check_store

    store = _store(args, settings)
    errors = warnings = 0
    with store.read() as conn:
        for problem in check_store(conn, args.today, settings.publicity):
            print(problem)
            if problem.severity is Severity.ERROR:
                errors += 1
            else:
                warnings += 1
    store.dispose()
    print(f"检查完成（{args.today.isoformat()}）：{errors} 个错误，{warnings} 个警告。")
    return 1 if errors else 0


def cmd_cases(args: argparse.Namespace, settings: Settings) -> int:
    """Every penalty case with its state, next deadline and whether it is overdue."""
    from volcredit.overview import cases

    store = _store(args, settings)
    with store.read() as conn:
        views = [
            v
            for v in cases(conn, args.today, settings.publicity)
            if not args.overdue or (v.status and v.status.overdue)
        ]
    store.dispose()
    if args.format == "json":
        payload = {"today": args.today.isoformat(), "cases": [v.as_json() for v in views]}
        print(json.dumps(payload, ensure_ascii=False, indent=2))
        return 0
    print(f"不良信息案件一览（{args.today.isoformat()}），共 {len(views)} 件")
    for v in views:
        row = v.as_json()
        deadline = row["next_deadline"]
        due = ""
        if deadline:
            when = deadline["date"] or f"无法计算：{deadline['error']}"
            due = f"  下一期限 {when}（{deadline['label']}，{deadline['rule']}）"
        flag = "  【已逾期】" if row["overdue"] else ""
        public = "公示中" if row["public"] else "不公示"
        state = row["state_label"] or f"错误：{row['error']}"
        print(f"- {row['case_id']}  {state}  [{public}]{due}{flag}")
    return 0


def cmd_verify_history(args: argparse.Namespace, settings: Settings) -> int:
    """Walk the hash-chained history and report any edited, inserted or deleted event, and any
    case file that differs from what its event recorded (BJ-23)."""
    from volcredit.case_actions import file_problems
    from volcredit.store import history

    store = _store(args, settings)
    with store.read() as conn:
        result = history.verify(conn, args.expect_head)
        files = list(file_problems(conn))
    store.dispose()
    for problem in [*result.problems, *files]:
        print(f"history: {problem} [BJ-23]", file=sys.stderr)
    print(f"历史事件 {result.count} 个；链头 {result.head}")
    if not result.ok or files:
        print("历史记录校验失败：事件被改动、插入或删除。", file=sys.stderr)
        return 1
    print("历史记录完整。")
    return 0


def cmd_build(args: argparse.Namespace, settings: Settings) -> int:
    """Build the public site for --today into --out, atomically, behind the leak gate."""
    from generator.build import BuildBusy, build_site

    store = _store(args, settings)
    try:
        result = build_site(
            store,
            Path(args.out),
            args.today,
            settings,
            args.content,
            progress=sys.stderr.isatty(),
            reuse=not args.full,
        )
    except BuildBusy as busy:
        print(busy, file=sys.stderr)
        return 1
    finally:
        store.dispose()
    if result.new_key is not None:
        print(
            f"已生成新的签名密钥 {result.new_key}（公钥 {result.new_key}.pub）："
            "请妥善保管私钥，并另行公布公钥，供 verify-site --public-key 核对。"
        )
    for leak in result.leaks:
        print(f"{leak.path}: 泄露 {leak.kind}（{leak.sample}） [PUB-1]", file=sys.stderr)
    if not result.ok:
        print(
            f"构建被拒绝：发现 {len(result.leaks)} 处不应公开的信息，原网站保持不变。",
            file=sys.stderr,
        )
        return 1
    print(f"网站已发布到 {result.out}：{result.pages} 个页面，{result.files} 个文件，清单已签名。")
    if result.reused or result.scanned < result.files:
        print(
            f"其中 {result.reused} 个页面输入未变，沿用上次发布的文件；泄露检查逐字扫描了 "
            f"{result.scanned} 个文件，其余文件与上次检查通过时逐字节相同（--full 则全部重做）。"
        )
    return 0


def cmd_verify_site(args: argparse.Namespace, settings: Settings) -> int:
    """Check the signed manifest of a built site: names every changed, missing or extra file."""
    from generator.manifest import verify_site

    result = verify_site(Path(args.site_dir), args.public_key)
    for problem in result.problems:
        print(f"{args.site_dir}: {problem}", file=sys.stderr)
    print(f"签名公钥指纹：{result.fingerprint}")
    if args.public_key is None:
        print(
            "未指定 --public-key：用的是网站自带的公钥，只能发现误改；"
            "请与发布机关公布的公钥指纹核对，才能发现有意篡改。"
        )
    if not result.ok:
        print("网站校验失败。", file=sys.stderr)
        return 1
    print("网站与签名清单一致。")
    return 0


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    """Load the sample content into the store and print the case overview and checks."""
    args.content_dir = str(args.content)
    print(f"== 导入示例数据：{args.content_dir} → {_db_url(args, settings)}")
    status = cmd_load(args, settings)
    if status:
        return status
    from volcredit.cli_demo import demo_portal, demo_publications

    print("\n== 年度认定公告和抽查名单（示例：按当时的日期补记）")
    demo_publications(args, settings)
    print(f"\n== 案件一览（{args.today.isoformat()}）")
    args.format, args.overdue = "text", False
    cmd_cases(args, settings)
    print("\n== 数据检查")
    cmd_check(args, settings)
    print("\n== 生成公开网站")
    args.out, args.full = args.site, False
    status = cmd_build(args, settings)
    if status:
        return status
    home = Path(args.site).absolute() / "index.html"
    print(f"用浏览器打开 {home} 即可浏览（无需网络服务）。")

    return demo_portal(args, settings)


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--db",
        default=argparse.SUPPRESS,
        metavar="URL",
        help="数据库 URL（默认读取 VOLCREDIT_DB，否则为 sqlite:///volcredit.sqlite3）",
    )
    dated = argparse.ArgumentParser(add_help=False)
    dated.add_argument(
        "--today",
        type=_iso_date,
        default=date.today(),
        metavar="YYYY-MM-DD",
        help="按哪一天判断（默认今天）",
    )

    parser = argparse.ArgumentParser(
        prog="volcredit",
        description="志愿服务信用信息公开与查询：导入、检查、案件一览。",
        parents=[common],
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser(
        "load", parents=[common, dated], help="校验并导入 CONTENT_DIR/data（全部成功才替换）"
    )
    p.add_argument("content_dir", metavar="CONTENT_DIR")
    p.set_defaults(func=cmd_load)

    p = sub.add_parser("check", parents=[common, dated], help="重新校验数据库并报告规则警告")
    p.set_defaults(func=cmd_check)

    p = sub.add_parser(
        "cases", parents=[common, dated], help="列出每个不良信息案件的状态和下一期限"
    )
    p.add_argument("--format", choices=("json", "text"), default="text")
    p.add_argument("--overdue", action="store_true", help="只列出逾期案件")
    p.set_defaults(func=cmd_cases)

    from volcredit.cli_orgs import add_parsers as add_organisation_parsers

    add_organisation_parsers(sub, common, dated)
    from volcredit.cli_certificates import add_parsers as add_certificate_parsers

    add_certificate_parsers(sub, common, dated)
    from volcredit.cli_cases import add_parsers as add_case_parsers

    add_case_parsers(sub, common, dated)
    from volcredit.cli_transfer import add_parsers as add_transfer_parsers

    add_transfer_parsers(sub, common, dated)

    p = sub.add_parser("verify-history", parents=[common], help="校验哈希链历史记录是否被篡改")
    p.add_argument("--expect-head", metavar="HASH", help="与另行保存的链头比对（可发现末尾被删除）")
    p.set_defaults(func=cmd_verify_history)

    p = sub.add_parser(
        "build", parents=[common, dated], help="生成公开网站（原子替换，泄露检查，签名清单）"
    )
    p.add_argument("--out", required=True, metavar="DIR", help="网站目录（一个指向最新构建的链接）")
    p.add_argument(
        "--content",
        type=Path,
        default=REPO_CONTENT,
        metavar="CONTENT_DIR",
        help="编辑内容所在目录（默认 content/）",
    )
    p.add_argument(
        "--full",
        action="store_true",
        help="不沿用上次发布的页面和泄露检查结果，全部重新生成、重新扫描",
    )
    p.set_defaults(func=cmd_build)

    p = sub.add_parser("verify-site", parents=[common], help="校验网站文件与签名清单是否一致")
    p.add_argument("site_dir", metavar="DIR")
    p.add_argument(
        "--public-key",
        type=Path,
        metavar="FILE",
        help="发布机关的公钥（默认用网站自带的 manifest.pub，并显示其指纹）",
    )
    p.set_defaults(func=cmd_verify_site)

    from volcredit.cli_portal import add_parsers

    add_parsers(sub, common)

    p = sub.add_parser(
        "demo", parents=[common, dated], help="导入示例数据，生成网站，创建示例账户并运行门户"
    )
    p.add_argument("--content", type=Path, default=REPO_CONTENT, metavar="CONTENT_DIR")
    p.add_argument("--site", default="site", metavar="DIR", help="示例网站的输出目录（默认 site）")
    p.add_argument("--port", type=int, default=8000, help="门户端口（默认 8000）")
    p.add_argument("--no-serve", action="store_true", help="只导入和生成网站，不运行门户")
    p.set_defaults(func=cmd_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
    except ValueError as exc:
        print(f"设置错误：{exc}", file=sys.stderr)
        return 2
    from sqlalchemy.exc import SQLAlchemyError

    from volcredit.store.engine import safe_error_message

    try:
        return int(args.func(args, settings))
    except SQLAlchemyError as error:
        print(f"数据库错误：{safe_error_message(error)}", file=sys.stderr)
        return 1
