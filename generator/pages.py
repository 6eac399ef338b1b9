"""Rendering register pages with Jinja2 into the shell cut from the mkdocs-material build."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, DictLoader, Environment, FileSystemLoader, StrictUndefined

from generator.page_reuse import PageReuse
from volcredit.labels import label_functions

TEMPLATES = Path(__file__).resolve().parent.parent / "site_templates"


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
    env.globals.update(label_functions())
    return env


class PageWriter:
    """Writes ``<rel>/index.html`` pages under the output root, each with its relative root, and
    tells ``on_page`` (the sitemap) about each one. With ``reuse``, a page whose inputs are as in
    the published build is copied from it instead of rendered."""

    def __init__(
        self, env: Environment, out: Path, today: Any, on_page: Any, reuse: PageReuse | None = None
    ) -> None:
        self.env, self.out, self.today, self.on_page = env, out, today, on_page
        self.reuse = reuse

    def write(self, rel: str, template: str, title: str, **context: Any) -> None:
        target = self.out / rel / "index.html"
        target.parent.mkdir(parents=True, exist_ok=True)
        reuse = self.reuse
        fingerprint = reuse.fingerprint(rel, template, title, self.today, context) if reuse else ""
        if not (reuse and reuse.take(rel, fingerprint, target)):
            depth = len(Path(rel).parts)
            html = self.env.get_template(template).render(
                title=title,
                root="../" * depth,
                base="/".join([".."] * depth) or ".",
                today=self.today,
                lead=context.pop("lead", None),
                **context,
            )
            target.write_text(html, encoding="utf-8")
        if reuse and fingerprint:
            reuse.written[rel] = fingerprint
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
