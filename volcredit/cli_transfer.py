"""Transfer commands (CQ-16, HN-3): ``export-volunteer`` writes one volunteer's whole record as a
package (docs/transfer.md) and ``import-volunteer`` brings a package into this store."""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from volcredit import cli as base
from volcredit.settings import Settings

EXPORT_REFERENCE = "CQ-16 档案转移导出"


def _write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically with mode 0600: the package holds personal data
    (CQ-15), and a reader never sees a half-written file."""
    target = path.absolute()
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def cmd_export_volunteer(args: argparse.Namespace, settings: Settings) -> int:
    """Write one volunteer's whole record as a transfer package (mode 0600); the export is
    written to the access log (BJ-15) in the same transaction."""
    from volcredit import access_log
    from volcredit.transfer import TransferError, export_volunteer

    out = Path(args.out)
    if not out.absolute().parent.is_dir():
        print(f"{out}: 目录不存在", file=sys.stderr)
        return 1
    volunteer_no = args.volunteer_no.strip()
    store = base._store(args, settings)
    try:
        with store.write() as conn:
            package = export_volunteer(conn, volunteer_no, args.today, authority=settings.issuer)
            actor = base._actor()
            entry = access_log.AccessEntry(
                actor[:32], actor, "person", volunteer_no, "duty", EXPORT_REFERENCE, "整份档案"
            )
            access_log.record(conn, entry, base._now())
            text = json.dumps(package, ensure_ascii=False, indent=2) + "\n"
            _write_private(out, text.encode("utf-8"))
    except TransferError as missing:
        print(f"volunteers {volunteer_no}: {missing} [CQ-16]", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"{out}: 无法写入：{exc.strerror or exc}", file=sys.stderr)
        return 1
    finally:
        store.dispose()
    counts = "，".join(
        f"{k} {len(package[k])}"
        for k in ("service_time", "training", "honours", "evaluation_and_complaints")
    )
    print(f"已导出志愿者 {volunteer_no} 的档案到 {out}（{counts}；sha256 {package['sha256']}）。")
    print("文件含个人信息（CQ-15）：只交给接收地民政部门，不得转交第三方。")
    return 0


class _FloatRefused(ValueError):
    pass


def _no_float(raw: str) -> Any:
    raise _FloatRefused(raw)


def _read_package(path: Path) -> tuple[Any, str | None]:
    """The parsed package, or ``None`` and a one-line reason."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        return None, f"无法读取：{exc.strerror or exc}"
    except UnicodeDecodeError:
        return None, "不是 UTF-8 编码的文件"
    try:
        return json.loads(text, parse_float=_no_float), None
    except _FloatRefused as exc:
        return None, f'含有小数数值 {exc}：时长等应写成字符串（如 "2.50"），不用浮点数'
    except json.JSONDecodeError as exc:
        return None, f"不是有效的 JSON（第 {exc.lineno} 行第 {exc.colno} 列：{exc.msg}）"


def _counts(counts: dict[str, int]) -> str:
    shown = "，".join(f"{k} {n}" for k, n in counts.items() if n)
    return shown or "无"


def cmd_import_volunteer(args: argparse.Namespace, settings: Settings) -> int:
    """Import a transfer package: all or nothing; one line per problem."""
    from volcredit.transfer import import_volunteer

    path = Path(args.file)
    package, reason = _read_package(path)
    if reason is not None:
        print(f"{path}: {reason}", file=sys.stderr)
        return 1
    store = base._store(args, settings)
    try:
        with store.write() as conn:
            result = import_volunteer(conn, package, args.today, base._actor(), base._now())
    finally:
        store.dispose()
    for problem in result.problems + result.warnings:
        print(f"{path}: {problem}", file=sys.stderr)
    if not result.ok:
        n = len(result.problems)
        print(f"导入被拒绝：发现 {n} 个问题，数据库没有任何改动。", file=sys.stderr)
        return 1
    if not result.changed:
        print(f"志愿者 {result.volunteer_no} 的这个档案包已经导入过，没有任何改动。")
        return 0
    print(f"已导入志愿者 {result.volunteer_no} 的档案（sha256 {result.sha256}）。")
    print(f"新增：{_counts(result.inserted)}")
    print(f"已有相同的行而跳过：{_counts(result.skipped)}")
    if any(result.kept.values()):
        print(f"随档案包保存（不写入本库的证明，由签发地核验）：{_counts(result.kept)}")
    print(
        "档案包已保存：以后每次 volcredit load 都会保留这些转入的行（平台数据中已有的以平台为准）。"
    )
    return 0


def add_parsers(sub: Any, common: argparse.ArgumentParser, dated: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "export-volunteer",
        parents=[common, dated],
        help="导出一名志愿者的完整档案，供跨地区转移（CQ-16）",
    )
    p.add_argument("volunteer_no", metavar="VOLUNTEER_NO", help="志愿者编号")
    p.add_argument("--out", required=True, metavar="FILE", help="档案包文件（JSON，权限 0600）")
    p.set_defaults(func=cmd_export_volunteer)

    p = sub.add_parser(
        "import-volunteer",
        parents=[common, dated],
        help="导入从其他地区转来的志愿者档案包（CQ-16，全部成功才写入）",
    )
    p.add_argument("file", metavar="FILE", help="export-volunteer 导出的档案包")
    p.set_defaults(func=cmd_import_volunteer)
