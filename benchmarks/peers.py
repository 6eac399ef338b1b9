"""The same public entries as plain Markdown pages, built by mkdocs-material and by Hugo, for
``benchmarks/run.py``'s comparison.

The pages come from the store's public projection on the benchmark date (``volcredit.publication``,
as the site itself), laid out as volcredit lays them out: one page per identified organisation
(its identification, honours and disclosures), one page per year of honours, one page of
disclosures, and a home page. mkdocs-material gets them out of ``nav`` (its fast case: with every
page in ``nav`` it grows quadratically); Hugo gets a minimal page shell of its own (no theme).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import date
from pathlib import Path

from benchmarks.measure import BIN, Step, measured


def entry_pages(db_url: str, today: date) -> Iterator[tuple[str, str, str]]:
    """``(path without .md, title, Markdown body)`` for every public entry's page."""
    from volcredit import publication as pub
    from volcredit.settings import Settings
    from volcredit.store.engine import open_store

    store = open_store(db_url)
    try:
        with store.snapshot() as conn:
            regions = pub.regions(conn)
            honours = list(pub.honours(conn, today))
            disclosures = list(pub.disclosures(conn, today, Settings().publicity))
            orgs = list(pub.organisations(conn, today))
    finally:
        store.dispose()
    by_org: dict[str, list[str]] = defaultdict(list)
    by_year: dict[int, list[str]] = defaultdict(list)
    for h in honours:
        line = f"| {h.title} | {h.subject_name} | {h.authority} | {h.document_no or ''} |"
        by_year[h.awarded_on.year].append(f"{line} {h.awarded_on} |")
        if h.uscc:
            by_org[h.uscc].append(f"- {h.title}（{h.authority}，{h.awarded_on}）")
    rows = []
    for d in disclosures:
        rows.append(f"| {d.subject_name} | {d.facts} | {d.decision_no} | {d.decided_on} |")
        if d.uscc:
            by_org[d.uscc].append(f"- 不良信息：{d.facts}（{d.decision_no}）")
    yield "index", "首页", f"共 {len(orgs)} 家已认定的志愿服务组织。\n"
    for o in orgs:
        listed = "\n".join(by_org.get(o.uscc, [])) or "暂无。"
        yield (
            f"organisations/{o.uscc}",
            o.name,
            "| 项目 | 内容 |\n|---|---|\n"
            f"| 统一社会信用代码 | {o.uscc} |\n"
            f"| 登记管理机关 | {o.registration_authority} |\n"
            f"| 所在地区 | {pub.region_name(regions, o.region)} |\n"
            f"| 认定日期 | {o.identified_on} |\n\n## 表彰、荣誉与不良信息\n\n{listed}\n",
        )
    head = "| 名称 | 对象 | 机关 | 文号 | 日期 |\n|---|---|---|---|---|\n"
    for year, lines in sorted(by_year.items()):
        yield f"honours/{year}", f"{year}年表彰与荣誉", head + "\n".join(lines) + "\n"
    head = "| 对象 | 事实 | 决定书文号 | 决定日期 |\n|---|---|---|---|\n"
    yield "disclosures/index", "不良信息", head + "\n".join(rows) + "\n"


def write_pages(folder: Path, pages: list[tuple[str, str, str]], front_matter: bool) -> None:
    for rel, title, body in pages:
        path = folder / f"{rel}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        head = f'---\ntitle: "{title}"\n---\n\n' if front_matter else f"# {title}\n\n"
        text = head + body
        path.write_text(text, encoding="utf-8")


def mkdocs_material(tmp: Path, pages: list[tuple[str, str, str]]) -> Step:
    """Plain mkdocs-material, every entry page out of ``nav``."""
    write_pages(tmp / "docs", pages, front_matter=False)
    (tmp / "mkdocs.yml").write_text(
        "site_name: bench\ntheme:\n  name: material\n  language: zh\n  font: false\n"
        "nav:\n  - 首页: index.md\nnot_in_nav: |\n  /organisations/\n  /honours/\n"
        "  /disclosures/\n",
        encoding="utf-8",
    )
    return measured([str(BIN / "mkdocs"), "build", "-q"], cwd=tmp)


HUGO_BASEOF = """<!doctype html>
<html lang="zh"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ .Title }} - {{ .Site.Title }}</title></head>
<body><header><a href="{{ "/" | relURL }}">{{ .Site.Title }}</a>
<nav><a href="{{ "organisations/" | relURL }}">组织</a> <a href="{{ "honours/" | relURL }}">表彰</a>
<a href="{{ "disclosures/" | relURL }}">不良信息</a></nav></header>
<main><h1>{{ .Title }}</h1>{{ block "main" . }}{{ end }}</main>
<footer>{{ .Site.Title }}</footer></body></html>
"""
HUGO_SINGLE = '{{ define "main" }}{{ .Content }}{{ end }}\n'
HUGO_LIST = '{{ define "main" }}{{ .Content }}{{ end }}\n'


def hugo(tmp: Path, pages: list[tuple[str, str, str]], program: str) -> Step:
    """Debian's Hugo with a minimal page shell (no theme, no taxonomies)."""
    content = tmp / "content"
    renamed = [
        ("_index" if rel == "index" else rel.replace("/index", "/_index"), title, body)
        for rel, title, body in pages
    ]
    write_pages(content, renamed, front_matter=True)
    layouts = tmp / "layouts" / "_default"
    layouts.mkdir(parents=True)
    (layouts / "baseof.html").write_text(HUGO_BASEOF, encoding="utf-8")
    (layouts / "single.html").write_text(HUGO_SINGLE, encoding="utf-8")
    (layouts / "list.html").write_text(HUGO_LIST, encoding="utf-8")
    (tmp / "config.toml").write_text(
        'baseURL = "http://127.0.0.1/"\nlanguageCode = "zh-cn"\ntitle = "bench"\n'
        'disableKinds = ["taxonomy", "term"]\n',
        encoding="utf-8",
    )
    return measured([program, "--quiet", "--source", str(tmp)], cwd=tmp)


def count_html(folder: Path) -> int:
    return sum(1 for _ in folder.rglob("*.html"))
