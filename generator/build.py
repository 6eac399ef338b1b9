"""``volcredit build --today D --out DIR``: the whole public site from the store, atomically.

The site is built in a fresh folder beside ``DIR`` from one consistent snapshot of the store,
read only through :mod:`volcredit.publication` (and so through the visibility and masking
functions). The leak gate then scans every file; only a clean, signed build replaces the site,
by switching the ``DIR`` symlink in one step. A failed or interrupted build leaves the previous
site untouched (PUB-1, PUB-8).
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import material
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from jinja2 import Environment
from sqlalchemy import Connection, select

from generator import (
    downloads,
    gate_ledger,
    identification_pages,
    registers,
    search_pg,
    spotcheck_pages,
    verify_pages,
)
from generator.feeds import FeedEntry, SitemapWriter, write_atom
from generator.home import home_markdown
from generator.leakgate import Leak, gate
from generator.manifest import load_or_create_key, sha256_file, write_manifest
from generator.page_reuse import PageReuse, code_digest
from generator.pages import PageWriter, environment, shell_parts
from generator.progress import BuildProgress
from generator.search_docs import search_documents
from generator.search_index import write_index
from generator.shell import build_editorial
from volcredit import publication as pub
from volcredit.case_steps import STEPS, text_is_public
from volcredit.contract import TABLES, never_public_fields
from volcredit.settings import Settings
from volcredit.store import history
from volcredit.store.engine import Store
from volcredit.store.schema import content_tables
from volcredit.store.schema import history as history_table

REPO = Path(__file__).resolve().parent.parent
_THEME_DIRS = (Path(material.__file__).parent / "templates", REPO / "site_templates" / "theme")
KEEP_PREVIOUS = 1  # earlier builds kept beside the current one, for a quick rollback
TRASH_GRACE_SECONDS = 600  # an old build still being deleted after this was cut short


@dataclass
class BuildResult:
    out: Path
    leaks: list[Leak] = field(default_factory=list)
    pages: int = 0
    files: int = 0
    seconds: dict[str, float] = field(default_factory=dict)  # per phase, for the benchmarks
    scanned: int = 0  # files the leak gate scanned; the others it had proved clean before
    new_key: Path | None = None  # a signing key this build had to create
    reused: int = 0  # pages copied from the published build, their inputs unchanged

    @property
    def ok(self) -> bool:
        return not self.leaks


def build_site(
    store: Store,
    out: Path,
    today: date,
    settings: Settings,
    content_dir: Path | None = None,
    progress: bool = False,
    reuse: bool = True,
) -> BuildResult:
    """Build, gate, sign and publish the site for ``today`` at ``out`` (a symlink); with
    ``progress``, a progress bar on standard error names each phase and counts the pages. With
    ``reuse``, pages whose inputs did not change are taken from the published build, and files
    the last gate proved clean under the same rules are not scanned again (both checked)."""
    out = out.absolute()
    builds = out.parent / f".{out.name}.builds"
    builds.mkdir(parents=True, exist_ok=True)
    with _build_lock(builds):
        return _build(store, out, builds, today, settings, content_dir, progress, reuse)


class BuildBusy(RuntimeError):
    def __init__(self) -> None:
        super().__init__("另一个构建正在向同一目录发布，请等它结束后再试")


@contextmanager
def _build_lock(builds: Path) -> Iterator[None]:
    """One build per output at a time; under the lock, folders left by killed builds go."""
    with (builds / "lock").open("a") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise BuildBusy() from exc
        for stale in [*builds.glob("building-*"), *builds.glob("previous-*")]:
            shutil.rmtree(stale, ignore_errors=True)
        for trash in builds.glob("trash-*"):  # a removal cut short (not one still running)
            if time.time() - trash.stat().st_mtime > TRASH_GRACE_SECONDS:
                _remove_detached(trash)
        yield


def _build(
    store: Store,
    out: Path,
    builds: Path,
    today: date,
    settings: Settings,
    content_dir: Path | None,
    progress: bool = False,
    reuse: bool = True,
) -> BuildResult:
    work = Path(tempfile.mkdtemp(prefix="building-", dir=builds))
    clock = _Clock(BuildProgress(progress))
    try:
        site = work / "site"
        with store.snapshot() as conn:

            def lend(shell: str) -> PageReuse:
                if not reuse:
                    return PageReuse(code_digest(shell))
                return PageReuse.load(out, builds, code_digest(shell), _public_key(settings))

            content = content_dir or REPO / "content"
            env, pages, lent = _render(
                conn, site, work / "docs", today, settings, content, clock, lend
            )
            with clock("leak_gate"):
                ledger = gate_ledger.load(builds) if reuse else None
                scan = gate(site, _private_values(conn), shell_parts(env), ledger)
                leaks = _not_vendor(site, scan.leaks)
            head = history.verify(conn).head
            if leaks:
                clock.progress.close()
                return BuildResult(out, leaks, pages, 0, clock.seconds, scan.scanned)
            with clock("manifest"):
                key, created = load_or_create_key(Path(settings.signing_key))
                meta = {"today": today.isoformat(), "history_head": head}
                files = write_manifest(site, key, meta, scan.hashes)
                published = _switch(out, site, builds)
                gate_ledger.save(builds, scan.digest, scan.clean())
                lent.save(builds, published)
            if _pg_search(store, settings):
                with clock("search_index"), store.write() as w:  # the whoosh index's documents
                    docs = search_documents(conn, today, settings.publicity, pub.regions(conn))
                    search_pg.refresh(w, docs)
        new_key = Path(settings.signing_key) if created else None
        result = BuildResult(out, [], pages, files, clock.seconds, scan.scanned, new_key)
        result.reused = lent.reused
        return result
    finally:
        clock.progress.close()
        shutil.rmtree(work, ignore_errors=True)


def _public_key(settings: Settings) -> Ed25519PublicKey | None:
    """The site key's public half, if the key exists yet (a first build reuses nothing)."""
    path = Path(settings.signing_key)
    return load_or_create_key(path)[0].public_key() if path.is_file() else None


def _pg_search(store: Store, settings: Settings) -> bool:
    """Whether this build writes the PostgreSQL search table: when asked to, and whenever the
    store already has one (never left answering with what the site no longer shows)."""
    if not store.is_postgres:
        return False
    if settings.search == "postgresql":
        return True
    with store.read() as conn:
        return search_pg.exists(conn)


class _Clock:
    """Seconds per build phase, shown on the progress bar as it goes."""

    def __init__(self, progress: BuildProgress) -> None:
        self.seconds: dict[str, float] = {}
        self.progress = progress

    @contextmanager
    def __call__(self, phase: str) -> Iterator[None]:
        start = time.perf_counter()
        self.progress.start(phase)
        try:
            yield
        finally:
            self.seconds[phase] = self.seconds.get(phase, 0.0) + time.perf_counter() - start
            self.progress.finish()


def _render(
    conn: Connection,
    site: Path,
    docs: Path,
    today: date,
    settings: Settings,
    content_dir: Path,
    clock: _Clock,
    lend: Callable[[str], PageReuse],
) -> tuple[Environment, int, PageReuse]:
    periods = settings.publicity
    regions = pub.regions(conn)
    with clock("editorial"):
        shell = build_editorial(
            REPO / "mkdocs.yml",
            content_dir / "pages",
            {"index.md": home_markdown(conn, today, periods)},
            docs,
            site,
        )
    with clock("registers"), SitemapWriter(site, settings.site_url, today) as sitemap:
        for page in sorted(site.rglob("index.html")):
            rel = page.parent.relative_to(site).as_posix()
            sitemap.add("" if rel == "." else f"{rel}/")
        env = environment(shell)
        reuse = lend(shell)
        pages = PageWriter(env, site, today, clock.progress.counting(sitemap.add), reuse)
        news = registers.Announcements()
        registers.write_organisations(pages, conn, today, regions, news)
        registers.write_organisation_pages(pages, conn, today, periods, regions)
        registers.write_honours(pages, conn, today, regions, news)
        registers.write_disclosures(pages, conn, today, periods, regions, news)
        news.identification = identification_pages.write_identification_announcements(
            pages, conn, today, regions
        )
        identification_pages.write_coverage(pages, conn, today)
        news.draws = spotcheck_pages.write_spotchecks(pages, conn, today, regions)
        registers.write_announcement_index(pages, regions, news)
        unlisted = PageWriter(env, site, today, lambda rel: None, reuse)  # not in the sitemap
        verify_pages.write_verification_pages(unlisted, conn, today)
    with clock("downloads"):
        _downloads(conn, site, today, settings)
        write_atom(site, settings.site_url, today, _feed(news, regions, today))
    if settings.search != "postgresql":  # else the portal searches the store's table instead
        with clock("search_index"):
            docs = search_documents(conn, today, periods, regions)
            write_index(site, docs, seed=today.isoformat())
    return env, sitemap.count, reuse


def _downloads(conn: Connection, site: Path, today: date, settings: Settings) -> None:
    downloads.write_register(
        site, "organisations", pub.organisations(conn, today), pub.PublicOrganisation
    )
    downloads.write_register(site, "honours", pub.honours(conn, today), pub.PublicHonour)
    downloads.write_register(
        site,
        "disclosures",
        pub.disclosures(conn, today, settings.publicity),
        pub.PublicDisclosure,
    )


def _feed(
    news: registers.Announcements, regions: dict[str, pub.PublicRegion], today: date
) -> list[FeedEntry]:
    entries = [
        FeedEntry(
            identification_pages.announcement_title(pub.region_name(regions, a.region), a.year),
            f"{a.rel}/",
            a.published_on,
            f"已认定的志愿服务组织 {a.organisations} 家",
        )
        for a in news.identification
    ]
    for d in news.draws:
        entries.append(
            FeedEntry(
                f"{d.year}年志愿服务记录与证明抽查名单",
                f"{d.rel}/",
                d.drawn_on,
                f"随机种子 {d.seed}，抽取 {d.drawn} 家",
            )
        )
    for n in news.notices:
        entries.append(
            FeedEntry(
                f"不良信息告知公告：{n.subject_name}",
                f"announcements/notices/#{n.case_id}",
                n.announced_on,
                n.decision_no,
            )
        )
    if news.last_removal is not None:
        entries.append(
            FeedEntry(
                "撤销志愿服务组织认定公告",
                "announcements/removals/",
                news.last_removal,
                f"已撤销认定 {news.removals} 家",
            )
        )
    for doc, day, count, rel in news.honour_documents:
        entries.append(FeedEntry(f"表彰名单：{doc}", rel, day, f"{count} 项"))
    return entries


def _private_values(conn: Connection) -> Iterator[tuple[str, str]]:
    """Every distinct value of every never-public field, labelled ``table.field`` (PUB-1), except
    values that are also values of a public field: a service record's organisation is a public
    USCC, a complaint's ``subject_kind`` is a word every honour shows."""
    public = {
        str(value)
        for name, spec in TABLES.items()
        for f in spec.fields
        if f.public and not spec.never_public
        for value in _distinct(conn, name, f.name)
    }
    for table, name in never_public_fields():
        for value in _distinct(conn, table, name):
            if str(value) not in public:
                yield f"{table}.{name}", str(value)
    # No page shows a history note: staff reasons, statements, spot-check findings (PUB-1).
    notes = select(history_table.c.note).where(history_table.c.note.is_not(None)).distinct()
    for (note,) in conn.execute(notes.execution_options(yield_per=5000)):
        if note not in public:
            yield "history.note", note
    # Nor any text filed with a case step, but what an announced notice states (BJ-16a).
    steps = select(history_table.c.event, history_table.c.payload).where(
        history_table.c.event.in_(STEPS)
    )
    published: set[str] = set()  # the same wording in a public text is not a leak
    for event, payload in conn.execute(steps.execution_options(yield_per=5000)):
        for name, text in ((payload or {}).get("texts") or {}).items():
            if text_is_public(event, name):
                published.add(text)
    for event, payload in conn.execute(steps.execution_options(yield_per=5000)):
        for name, text in ((payload or {}).get("texts") or {}).items():
            if not text_is_public(event, name) and text not in public and text not in published:
                yield f"history.{event}.{name}", str(text)


def _not_vendor(site: Path, leaks: list[Leak]) -> list[Leak]:
    """Drop pattern hits in files copied byte for byte from the theme (its minified CSS has digit
    runs shaped like phone numbers); such files cannot hold data from the store."""
    if not leaks:
        return leaks
    vendor = {sha256_file(p) for d in _THEME_DIRS for p in d.rglob("*") if p.is_file()}
    return [
        leak
        for leak in leaks
        if not (site / leak.path).is_file() or sha256_file(site / leak.path) not in vendor
    ]


def _distinct(conn: Connection, table: str, name: str) -> Iterator[object]:
    column = content_tables[table].c[name]
    query = select(column).where(column.is_not(None)).distinct()
    for (value,) in conn.execute(query.execution_options(yield_per=10_000)):
        yield value


def _switch(out: Path, site: Path, builds: Path) -> Path:
    """Publish ``site`` at ``out`` by replacing the symlink in one step (rename is atomic)."""
    final = Path(tempfile.mkdtemp(prefix="site-", dir=builds))
    os.rmdir(final)
    site.rename(final)
    if out.exists() and not out.is_symlink():  # a plain folder from before: moved aside once
        out.rename(Path(tempfile.mkdtemp(prefix="previous-", dir=builds)) / "site")
    link = builds / f"link-{os.getpid()}"
    link.unlink(missing_ok=True)
    link.symlink_to(os.path.relpath(final, out.parent))
    os.replace(link, out)
    old = sorted((p for p in builds.glob("site-*") if p != final), key=lambda p: p.stat().st_mtime)
    for stale in old[: max(0, len(old) - KEEP_PREVIOUS)]:
        _discard(stale, builds)
    return final


def _discard(folder: Path, builds: Path) -> None:
    """Remove an old build without making the publisher wait: renamed out of the way at once
    (so it is no longer a build), then deleted in the background."""
    try:  # the new site is live already: a failure here must not fail the build
        trash = Path(tempfile.mkdtemp(prefix="trash-", dir=builds))
        folder.rename(trash / "site")
    except OSError:
        return
    _remove_detached(trash)


def _remove_detached(folder: Path) -> None:
    """``rm -rf folder`` in the background, in a process that outlives this one: the shell
    starts it and exits at once (so no child is left to reap); else here and now."""
    try:
        subprocess.run(
            ["sh", "-c", 'rm -rf -- "$1" </dev/null >/dev/null 2>&1 &', "sh", str(folder)],
            check=True,
            start_new_session=True,
        )
    except (OSError, subprocess.CalledProcessError):
        shutil.rmtree(folder, ignore_errors=True)
