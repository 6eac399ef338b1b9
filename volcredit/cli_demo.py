"""The demo's portal part: sample accounts, where the one-time codes go, then ``serve``."""

from __future__ import annotations

import argparse
import os
from datetime import date

from volcredit.rules.access import STAFF_ROLES
from volcredit.settings import Settings

DEMO_STAFF = "demo-staff"
DEMO_STAFF_PASSWORD = "demo-staff-correct-horse-42"  # the demo's own store only
DEMO_TOTP_SECRET = "VOLCREDITDEMOTOTPSECRETBASE32AAA"  # printed so the demo can be tried


# What a web team did in earlier years, replayed on the sample store (HN-1d, HN-2c).
DEMO_ANNOUNCEMENTS = (
    (2024, date(2024, 6, 25)),
    (2025, date(2025, 6, 20)),
    (2026, date(2026, 6, 19)),
)
DEMO_DRAW = (2026, "湖南-2026-示例种子", date(2026, 7, 15))


def demo_publications(args: argparse.Namespace, settings: Settings) -> None:
    """Publish the sample years' announcements and record the 2026 spot-check draw, as the
    commands ``announce`` and ``spotcheck --record`` would have on those dates (idempotent)."""
    from volcredit.cli_orgs import cmd_announce, cmd_spotcheck

    today = args.today
    for year, day in DEMO_ANNOUNCEMENTS:
        if day <= today:
            cmd_announce(
                argparse.Namespace(db=getattr(args, "db", None), year=year, today=day, region=None),
                settings,
            )
    year, seed, day = DEMO_DRAW
    if day <= today:
        draw = argparse.Namespace(
            db=getattr(args, "db", None),
            year=year,
            seed=seed,
            today=day,
            record=True,
            format="text",
        )
        cmd_spotcheck(draw, settings)


def demo_portal(args: argparse.Namespace, settings: Settings) -> int:
    """Create the demo staff account (once), print how to try the portal, then serve it."""
    from sqlalchemy import select

    from portal.admin import create_staff, staff_exists
    from volcredit.cli_portal import cmd_serve
    from volcredit.store.engine import open_store
    from volcredit.store.schema import content_tables

    db = getattr(args, "db", None) or settings.db_url
    exists = staff_exists(db, DEMO_STAFF)
    store = open_store(db)
    try:
        with store.read() as conn:
            v = content_tables["volunteers"]
            sample = conn.execute(
                select(v.c.volunteer_no, v.c.name, v.c.id_number)
                .where(v.c.phone.is_not(None))
                .order_by(v.c.volunteer_no)
                .limit(1)
            ).first()
    finally:
        store.dispose()
    if not exists:
        create_staff(
            db,
            DEMO_STAFF,
            "演示工作人员",
            list(STAFF_ROLES),
            DEMO_STAFF_PASSWORD,
            DEMO_TOTP_SECRET,
        )
    outbox = os.path.abspath(settings.outbox)
    print("\n== 门户（示例数据均为虚构）")
    if sample is not None:
        print(
            f"志愿者激活：打开 /activate，填写志愿者编号 {sample.volunteer_no}、"
            f"姓名 {sample.name}、身份证号码 {sample.id_number}；"
        )
    print(f"验证码不发短信，写在文件夹 {outbox} 中。")
    print(
        f"工作人员：账号 {DEMO_STAFF}，密码 {DEMO_STAFF_PASSWORD}，动态验证码密钥 "
        f"{DEMO_TOTP_SECRET}（当前验证码："
        f".venv/bin/python -c \"import pyotp; print(pyotp.TOTP('{DEMO_TOTP_SECRET}').now())\"）"
    )
    if args.no_serve:
        return 0
    os.environ["VOLCREDIT_INSECURE_COOKIES"] = "1"  # plain http on 127.0.0.1 only
    serve = argparse.Namespace(
        db=db,
        host="127.0.0.1",
        port=args.port,
        workers=1,
        site=args.site,
        forwarded_allow_ips=None,
    )
    from volcredit.settings import load_settings

    return cmd_serve(serve, load_settings())
