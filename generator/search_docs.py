"""What the register search index holds: the public projection, as the site shows it (PUB-1)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from sqlalchemy import Connection

from generator.search_index import SearchDoc
from volcredit import publication as pub
from volcredit.settings import PublicityPeriods


def _person(kind: str, name: str) -> str:
    """Names of persons go in as n-grams (a two-character name must match); organisation names
    are long and well served by jieba in ``title``, so they stay out of the n-gram field."""
    return name if kind == "person" else ""


def search_documents(
    conn: Connection, today: date, periods: PublicityPeriods, regions: dict[str, pub.PublicRegion]
) -> Iterator[SearchDoc]:
    def where(code: str) -> str:
        return pub.region_name(regions, code)

    for org in pub.organisations(conn, today):
        status = f"认定已撤销（{org.removed_on.isoformat()}）" if org.removed_on else "已认定"
        yield SearchDoc(
            f"organisation:{org.uscc}",
            "organisation",
            org.name,
            org.name,
            org.uscc,
            where(org.region),
            f"organisations/{org.uscc}/",
            f"{status}，{org.registration_authority}",
        )
    for h in pub.honours(conn, today):
        yield SearchDoc(
            f"honour:{h.honour_id}",
            "honour",
            f"{h.title}：{h.subject_name}",
            h.subject_name,
            h.uscc or h.honour_id,
            where(h.region),
            f"honours/{h.awarded_on.year}/#{h.honour_id}",
            f"{h.authority} {h.document_no or ''} {h.awarded_on.isoformat()}".strip(),
        )
    for d in pub.disclosures(conn, today, periods):
        yield SearchDoc(
            f"disclosure:{d.case_id}",
            "disclosure",
            f"不良信息：{d.subject_name}",
            d.subject_name,
            d.uscc or d.case_id,
            where(d.region),
            f"disclosures/#{d.case_id}",
            _disclosure_summary(d),
        )


def _disclosure_summary(d: pub.PublicDisclosure) -> str:
    """As the disclosure page shows it, marks included (PUB-6)."""
    marks = "【异议处理中】" if d.objection_pending else ""
    if d.corrected_on:
        marks += f"【已于 {d.corrected_on.isoformat()} 更正】"
    return f"{marks}{d.decision_no} {d.authority} {d.decided_on.isoformat()}"
