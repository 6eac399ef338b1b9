"""The portal's commands: ``serve`` runs the portal and the built site; ``staff-add`` creates a
staff account with roles and a TOTP second factor. The portal is imported lazily (DESIGN.md)."""

from __future__ import annotations

import argparse
import getpass
import ipaddress
import os
import sys
from typing import Any

from volcredit.rules.access import STAFF_ROLES
from volcredit.settings import Settings

LOOPBACK_NAMES = {"localhost"}


def is_loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    """Run the portal under uvicorn, serving the built site beside it."""
    from portal.admin import run_server

    if not settings.secure_cookies and not is_loopback(args.host):
        print(
            "拒绝启动：VOLCREDIT_INSECURE_COOKIES=1 只能用于本机（127.0.0.1）的纯 HTTP 访问；"
            "对外服务请使用 HTTPS。",
            file=sys.stderr,
        )
        return 2
    db = getattr(args, "db", None) or settings.db_url
    os.environ["VOLCREDIT_DB"] = db
    if args.site:
        os.environ["VOLCREDIT_SITE_DIR"] = args.site
    from volcredit.store.engine import open_store

    open_store(db).dispose()  # migrate once, before the workers start
    print(f"门户与网站：http://{args.host}:{args.port}/ （按 Ctrl+C 停止）", flush=True)
    run_server(args.host, args.port, args.workers, args.forwarded_allow_ips)
    return 0


def cmd_staff_add(args: argparse.Namespace, settings: Settings) -> int:
    """Create a staff account (roles, argon2id password, TOTP secret printed once)."""
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass("新账户的密码：")
        if getpass.getpass("再次输入：") != password:
            print("两次输入的密码不一致。", file=sys.stderr)
            return 1
    db = getattr(args, "db", None) or settings.db_url
    try:
        from portal.admin import create_staff

        secret, uri = create_staff(db, args.username, args.name, args.role, password)
    except ValueError as exc:
        print(f"未创建账户：{exc}", file=sys.stderr)
        return 1
    print(f"已创建工作人员账户 {args.username}（{'、'.join(args.role)}）。")
    print(f"请在身份验证器中添加动态验证码密钥：{secret}")
    print(f"或扫描此地址生成的二维码：{uri}")
    print("密钥只显示这一次。")
    return 0


def add_parsers(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("serve", parents=[common], help="运行门户并同时提供已生成的公开网站")
    p.add_argument("--host", default="127.0.0.1", help="监听地址（默认 127.0.0.1）")
    p.add_argument("--port", type=int, default=8000, help="端口（默认 8000）")
    p.add_argument("--workers", type=int, default=1, help="工作进程数（默认 1）")
    p.add_argument(
        "--site", metavar="DIR", help="网站目录（默认读取 VOLCREDIT_SITE_DIR，否则 site）"
    )
    p.add_argument(
        "--forwarded-allow-ips",
        metavar="IPS",
        help="信任其 X-Forwarded-For 的反向代理地址（逗号分隔）；用于按客户端地址限制登录尝试",
    )
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser(
        "staff-add", parents=[common], help="创建工作人员账户（角色、密码和动态验证码）"
    )
    p.add_argument("username", metavar="USERNAME")
    p.add_argument("--name", required=True, help="姓名（显示在查询记录中）")
    p.add_argument(
        "--role", action="append", required=True, choices=STAFF_ROLES, help="角色，可重复"
    )
    p.add_argument("--password-stdin", action="store_true", help="从标准输入读取密码（一行）")
    p.set_defaults(func=cmd_staff_add)
