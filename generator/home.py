"""The home page (Markdown, built by mkdocs with the editorial pages): the search box, what can be
looked up, how to see one's own data, and the latest announcements."""

from __future__ import annotations

import heapq
import html
import re
from datetime import date
from itertools import islice

from sqlalchemy import Connection

from volcredit import publication as pub
from volcredit.settings import PublicityPeriods

LATEST = 8


def home_markdown(conn: Connection, today: date, periods: PublicityPeriods) -> str:
    honours = heapq.nlargest(
        LATEST, pub.honours(conn, today), key=lambda h: (h.awarded_on, h.honour_id)
    )
    notices = list(islice(pub.notices(conn, today, periods), LATEST))
    lines = [
        "---",
        "title: 首页",
        "---",
        "# 志愿服务信用信息公开",
        "",
        "依法公开志愿服务组织认定、表彰与荣誉、不良信息公示和相关公告；"
        "志愿者和组织可登录查询本人（本组织）的全部记录。",
        "",
        '<form class="vc-search" action="/search" method="get" role="search">',
        '<label for="q" class="md-visually-hidden">搜索组织、姓名或统一社会信用代码</label>',
        '<input id="q" name="q" type="search" placeholder="组织名称、姓名或统一社会信用代码">',
        '<button type="submit">搜索</button>',
        "</form>",
        "",
        "## 可以查询什么",
        "",
        "- [已认定的志愿服务组织](organisations/)：按行政区划浏览，每个组织一页。",
        "- [表彰与荣誉](honours/)：按年度和按文件浏览。",
        "- [不良信息公示](disclosures/)：经法定程序决定列入、仍在公示期内的信息。",
        "- [公告](announcements/)：年度认定公告、撤销认定公告、不良信息告知公告。",
        "- [政策文件](policies/)：北京、重庆、湖南的相关规定。",
        "",
        "## 查看本人的全部信息",
        "",
        "身份证号码、服务记录、服务时长、投诉、办理中的案件等信息不公开。"
        "志愿者和组织可[登录](/login)查看本人的全部信息、下载志愿服务记录证明、"
        "提出异议或申请信用修复，并可书面授权他人查看。详见[查询与帮助](help.md)。",
        "",
        "## 最新公告",
        "",
    ]
    for n in notices:
        lines.append(
            f"- {n.announced_on.isoformat()} [不良信息告知公告：{_md(n.subject_name)}]"
            f"(announcements/notices/#{n.case_id})"
        )
    for h in honours:
        lines.append(
            f"- {h.awarded_on.isoformat()} [{_md(h.title)}：{_md(h.subject_name)}]"
            f"(honours/{h.awarded_on.year}/#{h.honour_id})"
        )
    if not notices and not honours:
        lines.append("暂无。")
    lines.append("")
    return "\n".join(lines)


def _md(text: str) -> str:
    """Store text as inert Markdown: HTML escaped, Markdown punctuation backslashed."""
    return re.sub(r"([\\`*_{}\[\]()#+!|<>-])", r"\\\1", html.escape(text, quote=False))
