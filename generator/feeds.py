"""``sitemap.xml`` (split every 50,000 addresses, as the protocol requires) and the Atom feed of
announcements. Both carry only dates from the data and the build date, never the clock (PUB-8)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import IO
from xml.sax.saxutils import escape

SITEMAP_LIMIT = 50_000
_URLSET = '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'


class SitemapWriter:
    """Streams page addresses into ``sitemaps/N.xml`` files and writes the ``sitemap.xml`` index."""

    def __init__(self, root: Path, base_url: str, today: date) -> None:
        self.root, self.base, self.today = root, base_url, today
        self.parts = 0
        self.count = 0
        self._fh: IO[str] | None = None

    def add(self, rel: str) -> None:
        if self._fh is None or self.count % SITEMAP_LIMIT == 0:
            self._close_part()
            self.parts += 1
            path = self.root / "sitemaps" / f"{self.parts}.xml"
            path.parent.mkdir(parents=True, exist_ok=True)
            self._fh = path.open("w", encoding="utf-8")
            self._fh.write('<?xml version="1.0" encoding="UTF-8"?>\n' + _URLSET)
        self._fh.write(f"<url><loc>{escape(self.base + rel)}</loc></url>\n")
        self.count += 1

    def _close_part(self) -> None:
        if self._fh is not None:
            self._fh.write("</urlset>\n")
            self._fh.close()
            self._fh = None

    def __enter__(self) -> SitemapWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        if exc[0] is None:
            self.close()
        else:
            self._close_part()

    def close(self) -> None:
        self._close_part()
        entries = "".join(
            f"<sitemap><loc>{escape(self.base)}sitemaps/{n}.xml</loc>"
            f"<lastmod>{self.today.isoformat()}</lastmod></sitemap>\n"
            for n in range(1, self.parts + 1)
        )
        (self.root / "sitemap.xml").write_text(
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
            f"{entries}</sitemapindex>\n",
            encoding="utf-8",
        )


@dataclass(frozen=True)
class FeedEntry:
    title: str
    rel: str
    day: date
    summary: str


def write_atom(root: Path, base_url: str, today: date, entries: list[FeedEntry]) -> None:
    """The announcements as an Atom feed, newest first."""
    entries = sorted(entries, key=lambda e: (e.day, e.rel), reverse=True)
    updated = max((e.day for e in entries), default=today)
    items = "".join(
        "<entry>"
        f"<title>{escape(e.title)}</title>"
        f'<link href="{escape(base_url + e.rel)}"/>'
        f"<id>{escape(base_url + e.rel)}</id>"
        f"<updated>{e.day.isoformat()}T00:00:00+08:00</updated>"
        f"<summary>{escape(e.summary)}</summary>"
        "</entry>\n"
        for e in entries
    )
    (root / "feed.xml").write_text(
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="zh-CN">\n'
        "<title>志愿服务信用信息公开：公告</title>\n"
        f'<link href="{escape(base_url)}"/>\n<link rel="self" href="{escape(base_url)}feed.xml"/>\n'
        f"<id>{escape(base_url)}feed.xml</id>\n"
        f"<updated>{updated.isoformat()}T00:00:00+08:00</updated>\n"
        f"{items}</feed>\n",
        encoding="utf-8",
    )
