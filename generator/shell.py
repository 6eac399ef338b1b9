"""The editorial pages through mkdocs-material, and the page shell every register page shares.

mkdocs builds the editorial pages (home, policy texts, help) with the theme and its Chinese search
(``lang: zh`` with jieba). It also builds one hidden page whose title and body are placeholders;
that page becomes the Jinja2 base template of every register page, so they carry the same header,
navigation, styles and footer without being in mkdocs' ``nav`` (which is quadratic in pages) and
without any custom mkdocs plugin or hook (DESIGN.md, Library notes).
"""

from __future__ import annotations

import logging
import re
import shutil
from pathlib import Path

from mkdocs.commands.build import build as mkdocs_build
from mkdocs.config import load_config

SHELL_PAGE = "_shell"
TITLE = "VOLCREDITSHELLTITLE"
CONTENT = "VOLCREDITSHELLCONTENT"
_SHELL_MARKDOWN = f"""---
search:
  exclude: true
hide:
  - toc
---
# {TITLE}

{CONTENT}
"""


class ShellError(RuntimeError):
    """The theme's output no longer has the shape the shell is cut from."""


def build_editorial(
    config_file: Path, pages: Path, generated: dict[str, str], docs_dir: Path, site_dir: Path
) -> str:
    """Build the editorial pages into ``site_dir``; return the shell template's source.

    ``pages`` (the repository's Markdown) and ``generated`` (path -> Markdown, e.g. the home
    page with the latest announcements) are assembled in ``docs_dir`` first.
    """
    shutil.copytree(pages, docs_dir, dirs_exist_ok=True)
    for rel, text in {**generated, f"{SHELL_PAGE}.md": _SHELL_MARKDOWN}.items():
        target = docs_dir / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    logging.getLogger("mkdocs").setLevel(logging.WARNING)
    config = load_config(str(config_file), docs_dir=str(docs_dir), site_dir=str(site_dir))
    mkdocs_build(config)
    shell_html = (site_dir / SHELL_PAGE / "index.html").read_text(encoding="utf-8")
    shutil.rmtree(site_dir / SHELL_PAGE)
    for leftover in ("sitemap.xml", "sitemap.xml.gz"):  # ours lists every page (feeds.py)
        (site_dir / leftover).unlink(missing_ok=True)
    return shell_template(shell_html)


def shell_template(html: str) -> str:
    """Turn the built placeholder page (one level deep) into a Jinja2 base template.

    Variables: ``title``, ``root`` (relative path to the site root, ending in ``/``) and ``base``
    (the same without the slash); block ``content``.
    """
    heading = re.search(r'<h1 id="([^"]*)">' + TITLE + "</h1>", html)
    if heading is None:
        raise ShellError("mkdocs-material 页面结构已变化：找不到占位标题")
    html = html.replace(heading.group(0), f'<h1 id="vc-main">{TITLE}</h1>')
    html = html.replace(f'href="#{heading.group(1)}"', 'href="#vc-main"')  # "skip to content"
    body = f"<p>{CONTENT}</p>"
    if html.count(body) != 1 or TITLE not in html:
        raise ShellError("mkdocs-material 页面结构已变化：找不到占位标题或正文")
    # Quoted relative references of a page one level deep: "../x" and "..".
    parts = re.split(r'("\.\./|"\.\."|' + TITLE + "|" + re.escape(body) + ")", html)
    out: list[str] = []
    for part in parts:
        if part == '"../':
            out.append('"{{ root }}')
        elif part == '".."':
            out.append('"{{ base }}"')
        elif part == TITLE:
            out.append("{{ title }}")
        elif part == body:
            out.append("{% block content %}{% endblock %}")
        elif part:
            if "{% endraw %}" in part:
                raise ShellError("主题输出中含有模板语法")
            out.append("{% raw %}" + part + "{% endraw %}")
    return "".join(out)
