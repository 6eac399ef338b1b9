"""The public projection of the store on a date: what the law makes public, in its public form.

Every public output (site pages, search index, feeds, open-data downloads, the portal's public
search) reads the store through this module only. Each item passes :func:`visibility`, carries only
the fields a PUB rule lists, and masks through :func:`mask` (PUB-1 to PUB-7, BJ-16a, BJ-17b).
Items are streamed in a stable order, so the same store and date give the same output (PUB-8).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Connection, and_, select

from volcredit import identification
from volcredit.case_steps import text_is_public
from volcredit.overview import cases
from volcredit.rules.cases import CaseState
from volcredit.rules.masking import MaskKind, mask
from volcredit.rules.periods import age_on
from volcredit.rules.visibility import (
    HonourItem,
    NoticeAnnouncementItem,
    OrganisationItem,
    visibility,
)
from volcredit.settings import PublicityPeriods
from volcredit.store import history
from volcredit.store.schema import content_tables
from volcredit.store.schema import history as history_table

ADULT_AGE = 18  # BJ-3


@dataclass(frozen=True)
class PublicRegion:
    code: str
    name: str
    parent: str | None
    level: str
    population: int | None
    transferred: bool = False  # came only with a transfer package (CQ-16): another region's


@dataclass(frozen=True)
class PublicOrganisation:
    """PUB-2: an identified organisation, and its removal when identification ended."""

    uscc: str
    name: str
    registration_authority: str
    region: str
    identified_on: date
    identification_basis: str
    removed_on: date | None


@dataclass(frozen=True)
class PublicHonour:
    """PUB-3: good info; a person by full name and district, an organisation by name and USCC."""

    honour_id: str
    title: str
    kind: str
    authority: str
    document_no: str | None
    awarded_on: date
    subject_kind: str
    subject_name: str
    region: str  # the person's district or the organisation's region (tells namesakes apart)
    uscc: str | None  # organisations only
    has_page: bool  # an identified organisation, with its own page (PUB-2)


@dataclass(frozen=True)
class PublicDisclosure:
    """PUB-4..6: a listed bad-info entry inside its window; a person's name masked (PUB-5)."""

    case_id: str
    subject_kind: str
    subject_name: str
    region: str
    uscc: str | None
    has_page: bool
    category: int
    facts: str
    decision_no: str
    authority: str
    decided_on: date
    severity: str
    listed_on: date | None
    objection_pending: bool
    corrected_on: date | None
    publicity_max_end: date


@dataclass(frozen=True)
class PublicNotice:
    """BJ-16a: a notice served by internet announcement; never an ID number, name masked."""

    case_id: str
    subject_kind: str
    subject_name: str
    region: str
    uscc: str | None
    has_page: bool
    category: int
    facts: str
    decision_no: str
    authority: str
    announced_on: date
    period_ends: date | None
    reasons: str = ""  # BJ-16a: the notice states facts, reasons, basis, rights, consequences
    basis: str = ""


def region_name(regions: dict[str, PublicRegion], code: str) -> str:
    """A region's name, or its code if the store has no such region."""
    region = regions.get(code)
    return region.name if region else code


def regions(conn: Connection) -> dict[str, PublicRegion]:
    """All regions by code (a small table: thousands of rows at national scale)."""
    r = content_tables["regions"]
    rows = conn.execute(
        select(r.c.code, r.c.name, r.c.parent, r.c.level, r.c.population, r.c.source_line)
    )
    return {row.code: PublicRegion(*row[:5], row.source_line == 0) for row in rows}


def _organisation_item(found: identification.Decisions, row: Any, today: date) -> OrganisationItem:
    """The organisation as the visibility function sees it: imported facts + decisions (HN-1)."""
    current = identification.state(row, found, today)
    return OrganisationItem(current.identified_on, current.removed_on)


def organisations(
    conn: Connection,
    today: date,
    by_uscc: bool = False,
    region: str | None = None,
    found: identification.Decisions | None = None,
) -> Iterator[PublicOrganisation]:
    """Identified organisations (PUB-2), by region then USCC (or by USCC alone), optionally
    only those registered in ``region``; identification decisions recorded since the import
    (HN-1a–c) count from their date (pass ``found`` to read them once for many calls)."""
    if found is None:
        found = identification.decisions(conn, today)
    o = content_tables["organisations"]
    query = select(
        o.c.uscc,
        o.c.name,
        o.c.registration_authority,
        o.c.region,
        o.c.charter_volunteer_purpose,
        o.c.identified_on,
        o.c.identification_basis,
        o.c.identification_removed_on,
    ).order_by(*([] if by_uscc else [o.c.region]), o.c.uscc)
    if region is not None:
        query = query.where(o.c.region == region)
    # A team that came only with a transfer package (source line 0) is a reference for the
    # transferred records; the region that registered it publishes it (PUB-2, HN-1d).
    query = query.where(o.c.source_line != 0)
    for row in conn.execute(query.execution_options(yield_per=5000)):
        current = identification.state(row, found, today)
        decision = visibility(OrganisationItem(current.identified_on, current.removed_on), today)
        if decision.public and current.identified_on is not None:
            yield PublicOrganisation(
                row.uscc,
                row.name,
                row.registration_authority,
                row.region,
                current.identified_on,
                current.basis or "",
                decision.removed_on,
            )


def honours(conn: Connection, today: date, by_subject: bool = False) -> Iterator[PublicHonour]:
    """Public good info (PUB-3, BJ-17b, BJ-3), by award date (or by subject) then honour ID."""
    h, v, o = (content_tables[n] for n in ("honours", "volunteers", "organisations"))
    joined = (
        select(
            h.c.honour_id,
            h.c.title,
            h.c.kind,
            h.c.authority,
            h.c.document_no,
            h.c.awarded_on,
            h.c.subject_kind,
            h.c.subject,
            v.c.name.label("person_name"),
            v.c.region.label("person_region"),
            v.c.birth_date,
            o.c.name.label("org_name"),
            o.c.region.label("org_region"),
            o.c.uscc,
            o.c.charter_volunteer_purpose,
            o.c.identified_on,
            o.c.identification_basis,
            o.c.identification_removed_on,
        )
        .outerjoin(v, and_(h.c.subject_kind == "person", v.c.volunteer_no == h.c.subject))
        .outerjoin(o, and_(h.c.subject_kind == "organisation", o.c.uscc == h.c.subject))
        .subquery()
    )
    first = [joined.c.subject_kind, joined.c.subject] if by_subject else [joined.c.awarded_on]
    found = identification.decisions(conn, today)
    for item, recorded in history.with_events(conn, joined, "honour_id", first):
        deleted = min((e.date for e in recorded if e.event == "deletion_requested"), default=None)
        if item["subject_kind"] == "person":
            born = item["birth_date"]
            adult = born is not None and age_on(born, item["awarded_on"]) >= ADULT_AGE
            name, region, uscc = item["person_name"], item["person_region"], None
            has_page = False
        else:
            adult = True
            name, region, uscc = item["org_name"], item["org_region"], item["subject"]
            org_row = {**item, "name": name}
            has_page = visibility(_organisation_item(found, org_row, today), today).public
        if name is None:
            continue
        decision = visibility(
            HonourItem(item["subject_kind"], item["awarded_on"], adult, deleted), today
        )
        if decision.public:
            yield PublicHonour(
                item["honour_id"],
                item["title"],
                item["kind"],
                item["authority"],
                item["document_no"],
                item["awarded_on"],
                item["subject_kind"],
                name,
                region,
                uscc,
                has_page,
            )


@dataclass(frozen=True)
class _Subject:
    name: str  # as shown: a person's masked (PUB-5)
    region: str
    uscc: str | None  # organisations, in full (PUB-5)
    has_page: bool  # an identified organisation, with its own page (PUB-2)
    hidden_name: str | None  # a masked person's full name, masked wherever else it occurs


def _subject(conn: Connection, kind: str, ref: str, masked: bool, today: date) -> _Subject:
    if kind == "person":
        v = content_tables["volunteers"]
        row = conn.execute(select(v.c.name, v.c.region).where(v.c.volunteer_no == ref)).one()
        if masked:
            return _Subject(mask(MaskKind.PERSON_NAME, row.name), row.region, None, False, row.name)
        return _Subject(row.name, row.region, None, False, None)
    o = content_tables["organisations"]
    row = conn.execute(select(o).where(o.c.uscc == ref)).one()
    found = identification.decisions(conn, today, ref)
    page = visibility(_organisation_item(found, row, today), today)
    return _Subject(row.name, row.region, ref, page.public, None)


def _hide(text: str, full_name: str | None) -> str:
    """PUB-5: a masked person's full name never appears elsewhere in the entry either."""
    if not full_name:
        return text
    return text.replace(full_name, mask(MaskKind.PERSON_NAME, full_name))


def disclosures(
    conn: Connection, today: date, periods: PublicityPeriods
) -> Iterator[PublicDisclosure]:
    """Listed bad info inside its publicity window (PUB-4), with its marks (PUB-6)."""
    for view in cases(conn, today, periods):
        if not view.decision.public or view.status is None:
            continue
        p, s = view.penalty, view.status
        who = _subject(conn, p["subject_kind"], p["subject"], view.decision.mask_person_name, today)
        yield PublicDisclosure(
            p["case_id"],
            p["subject_kind"],
            who.name,
            who.region,
            who.uscc,
            who.has_page,
            p["category"],
            _hide(p["facts"], who.hidden_name),
            p["decision_no"],
            p["authority"],
            p["decided_on"],
            p["severity"],
            s.listed_on,
            view.decision.objection_pending,
            view.decision.corrected_on,
            s.publicity_max_end,
        )


def notices(conn: Connection, today: date, periods: PublicityPeriods) -> Iterator[PublicNotice]:
    """Notices served by internet announcement, during their period (BJ-16a)."""
    for view in cases(conn, today, periods):
        s = view.status
        if s is None or s.state is not CaseState.ANNOUNCED or s.notice_on is None:
            continue
        decision = visibility(NoticeAnnouncementItem(s), today)
        if not decision.public:
            continue
        p = view.penalty
        masked = decision.mask_person_name and p["subject_kind"] == "person"
        who = _subject(conn, p["subject_kind"], p["subject"], masked, today)
        ends = s.next_deadline.date if s.next_deadline else None
        yield PublicNotice(
            p["case_id"],
            p["subject_kind"],
            who.name,
            who.region,
            who.uscc,
            who.has_page,
            p["category"],
            _hide(p["facts"], who.hidden_name),
            p["decision_no"],
            p["authority"],
            s.notice_on,
            ends,
            *(_hide(t, who.hidden_name) for t in _notice_texts(conn, p["case_id"], today)),
        )


def _notice_texts(conn: Connection, case_id: str, today: date) -> tuple[str, str]:
    """The reasons and basis the case's announced notice states (BJ-16a; empty for a notice
    imported without them): the texts ``case_steps.text_is_public`` allows."""
    h = history_table
    query = (
        select(h.c.payload)
        .where(h.c.ref == case_id, h.c.event == "notice_announced", h.c.date <= today)
        .order_by(h.c.seq.desc())
        .limit(1)
    )
    texts = (conn.execute(query).scalar_one_or_none() or {}).get("texts", {})
    public = [n for n in ("reasons", "basis") if text_is_public("notice_announced", n)]
    return tuple(texts.get(n, "") for n in public)  # type: ignore[return-value]
