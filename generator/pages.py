"""Rendering register pages with Jinja2 into the shell cut from the mkdocs-material build."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, DictLoader, Environment, FileSystemLoader, StrictUndefined

TEMPLATES = Path(__file__).resolve().parent.parent / "site_templates"

_BASIS = {"name_keyword": "名称和章程直接认定", "charter_verified": "申请认定，章程已核实"}
_HONOUR_KINDS = {
    "commendation": "表彰",
    "reward": "奖励",
    "five_star": "五星级志愿者",
    "other": "其他良好信息",
}
_CATEGORIES = {  # BJ-9
    1: "未经同意公开志愿者或服务对象信息",
    2: "向服务对象收取费用",
    3: "未按规定记录服务信息或出具记录证明",
    4: "以志愿服务名义进行营利活动",
    5: "伪造、篡改或使用虚假志愿服务记录",
}
_LEVELS = {"province": "省级", "city": "市级", "county": "县级"}


def environment(shell_source: str) -> Environment:
    """Templates from ``site_templates`` plus the shell, with the labels pages need."""
    env = Environment(
        loader=ChoiceLoader(
            [DictLoader({"shell.html": shell_source}), FileSystemLoader(str(TEMPLATES))]
        ),
        autoescape=True,
        undefined=StrictUndefined,
        keep_trailing_newline=True,
    )
    env.globals.update(
        basis_label=lambda b: _BASIS.get(b, b),
        honour_kind_label=lambda k: _HONOUR_KINDS.get(k, k),
        category_label=lambda c: f"第{c}类：{_CATEGORIES.get(c, '')}",
        level_label=lambda lv: _LEVELS.get(lv, lv),
    )
    return env


class PageWriter:
    """Writes ``<rel>/index.html`` pages under the output root, each with its relative root, and
    tells ``on_page`` (the sitemap) about each one."""

    def __init__(self, env: Environment, out: Path, today: Any, on_page: Any) -> None:
        self.env, self.out, self.today, self.on_page = env, out, today, on_page

    def write(self, rel: str, template: str, title: str, **context: Any) -> None:
        depth = len(Path(rel).parts)
        root = "../" * depth
        html = self.env.get_template(template).render(
            title=title,
            root=root,
            base="/".join([".."] * depth) or ".",
            today=self.today,
            lead=context.pop("lead", None),
            **context,
        )
        target = self.out / rel / "index.html"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(html, encoding="utf-8")
        self.on_page(f"{rel}/")


def shell_parts(env: Environment, depths: range = range(1, 7)) -> list[bytes]:
    """The byte strings every register page of a given depth shares: the shell rendered with a
    placeholder title and empty content, cut at the placeholders (for the leak gate)."""
    marker = "\x00VOLCREDIT\x00"
    parts: list[bytes] = []
    for depth in depths:
        html = env.get_template("shell.html").render(
            title=marker, root="../" * depth, base="/".join([".."] * depth)
        )
        parts += [p.encode("utf-8") for p in html.split(marker) if p]
    return sorted(set(parts), key=len, reverse=True)
