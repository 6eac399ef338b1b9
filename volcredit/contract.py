"""The data contract of ``volcredit load`` (DESIGN.md, Data contract): tables, fields, keys.

Binding names: other tools rely on them. ``public=False`` marks a never-public field (``*`` in
DESIGN.md); ``never_public`` marks a whole never-public table. Which rows are public on a date is
decided only by :mod:`volcredit.rules.visibility`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

ID_TYPES = (
    "resident_id",
    "passport",
    "hk_macao_permit",
    "taiwan_permit",
    "foreign_permanent_residence",
)
ORG_KINDS = (
    "social_group",
    "social_service_agency",
    "foundation",
    "public_institution",
    "government",
    "grassroots_autonomy",
    "community_team",
    "unit_internal_team",
)
HONOUR_KINDS = ("commendation", "reward", "five_star", "other")  # BJ-8
EVENT_KINDS = (
    "notice_served",
    "notice_announced",
    "statement_received",
    "decided_listed",
    "decided_not_listed",
    "published_objection_received",
    "published_objection_upheld",
    "published_objection_rejected",
    "repair_applied",
    "repair_approved",
    "repair_rejected",
    "deletion_requested",
)
HONOUR_EVENT_KINDS = ("deletion_requested",)


@dataclass(frozen=True)
class Field:
    """One column: its name, value kind (see importer.fields), and its exposure.

    ``never``: marked ``*`` in the contract, it must never reach any public output (PUB-1) and the
    leak gate looks for its values. ``public``: a PUB rule lists it, so it may be shown when the
    visibility function makes its row public. Neither: shown only as a public projection derives
    it (a person subject appears by name, never by number, PUB-3/PUB-5).
    """

    name: str
    kind: str
    required: bool = False
    never: bool = False
    public: bool = False
    choices: tuple[str, ...] = ()
    rule: str = ""  # the rule an invalid value breaks, named in its error


@dataclass(frozen=True)
class TableSpec:
    name: str
    fields: tuple[Field, ...]
    key: tuple[str, ...] = ()
    never_public: bool = False

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    def field(self, name: str) -> Field:
        return next(f for f in self.fields if f.name == name)


def F(
    name: str,
    kind: str = "text",
    *,
    req: bool = False,
    private: bool = False,
    choices: tuple[str, ...] = (),
    pub: bool = False,
    rule: str = "",
) -> Field:
    return Field(name, kind, req, private, pub and not private, choices, rule)


SUBJECT_KIND = ("person", "organisation")

_TABLES = (
    TableSpec(
        "workdays",
        (
            F("date", "date", req=True, pub=True),
            F("kind", "enum", req=True, choices=("holiday", "workday"), pub=True),
        ),
        key=("date",),
    ),
    TableSpec(
        "regions",
        (
            F("code", "region_code", req=True, pub=True),
            F("name", req=True, pub=True),
            F("parent", "region_ref", pub=True),
            F("level", "enum", req=True, choices=("province", "city", "county"), pub=True),
            F("population", "count", pub=True),
        ),
        key=("code",),
    ),
    TableSpec(
        "organisations",
        (
            F("uscc", "uscc", req=True, pub=True),
            F("name", req=True, pub=True),
            F("kind", "enum", req=True, choices=ORG_KINDS),
            F("legal_representative", req=True),
            F("registration_authority", req=True, pub=True),
            F("region", "region_ref", req=True, pub=True),
            F("registered_on", "date", req=True),
            F("charter_volunteer_purpose", "bool", req=True),
            F("identified_on", "date", pub=True),
            F(
                "identification_basis",
                "enum",
                choices=("name_keyword", "charter_verified"),
                pub=True,
            ),
            F("identification_removed_on", "date", pub=True),
            F("contact_person", private=True),
            F("contact_phone", "phone", private=True),
            F("address", private=True),
        ),
        key=("uscc",),
    ),
    TableSpec(
        "volunteers",
        (
            F("volunteer_no", "code", req=True),
            F("name", req=True, pub=True),
            F("id_type", "enum", req=True, choices=ID_TYPES),
            F("id_number", "id_number", req=True, private=True, rule="BJ-7"),
            F("gender", "enum", private=True, choices=("male", "female")),
            F("birth_date", "date", private=True),
            F("region", "region_ref", req=True, pub=True),
            F("service_area", private=True),
            F("service_intentions", private=True),
            F("skills", private=True),
            F("phone", "phone", private=True),
            F("registered_on", "date", req=True),
        ),
        key=("volunteer_no",),
    ),
    TableSpec(
        "service_records",
        (
            F("record_id", "code", req=True),
            F("volunteer_no", "volunteer_ref", req=True),
            F("organisation", "uscc_ref", req=True),
            F("project", req=True),
            F("date", "date", req=True),
            F("place"),
            F("recipients"),
            F("content"),
            F("hours", "hours", req=True, rule="CQ-9"),
            F("punctuality", "score"),
            F("attitude", "score"),
            F("skill", "score"),
            F("contact_person"),
            F("recorded_on", "date", req=True),
            F("excluded_kind", "int_choice", choices=("1", "2", "3", "4")),
        ),
        key=("record_id",),
        never_public=True,
    ),
    TableSpec(
        "trainings",
        (
            F("volunteer_no", "volunteer_ref", req=True),
            F("organisation", "uscc_ref", req=True),
            F("topic", req=True),
            F("content"),
            F("date", "date", req=True),
            F("place"),
            F("class_hours", "hours", req=True),
            F("contact_person"),
        ),
        never_public=True,
    ),
    TableSpec(
        "honours",
        (
            F("honour_id", "code", req=True, pub=True),
            F("subject_kind", "enum", req=True, choices=SUBJECT_KIND, pub=True),
            F("subject", "subject_ref", req=True),
            F("title", req=True, pub=True),
            F("kind", "enum", req=True, choices=HONOUR_KINDS, pub=True),
            F("authority", req=True, pub=True),
            F("document_no", pub=True),
            F("awarded_on", "date", req=True, pub=True),
        ),
        key=("honour_id",),
    ),
    TableSpec(
        "complaints",
        (
            F("complaint_id", "code", req=True),
            F("subject_kind", "enum", req=True, choices=SUBJECT_KIND),
            F("subject", "subject_ref", req=True),
            F("received_on", "date", req=True),
            F("summary", req=True),
            F("outcome"),
            F("closed_on", "date"),
        ),
        key=("complaint_id",),
        never_public=True,
    ),
    TableSpec(
        "penalties",
        (
            F("case_id", "code", req=True, pub=True),
            F("subject_kind", "enum", req=True, choices=SUBJECT_KIND, pub=True),
            F("subject", "subject_ref", req=True),
            F(
                "category",
                "int_choice",
                req=True,
                choices=("1", "2", "3", "4", "5"),
                rule="BJ-9",
                pub=True,
            ),
            F("facts", req=True, pub=True),
            F("decision_no", req=True, pub=True),
            F("authority", req=True, pub=True),
            F("decided_on", "date", req=True, pub=True),
            F(
                "procedure",
                "enum",
                req=True,
                choices=("general", "simplified"),
                rule="BJ-9",
                pub=True,
            ),
            F("severity", "enum", req=True, choices=("general", "serious"), pub=True),
        ),
        key=("case_id",),
    ),
    TableSpec(
        "other_info",
        (
            F("subject_kind", "enum", req=True, choices=SUBJECT_KIND),
            F("subject", "subject_ref", req=True),
            F("description", req=True),
            F("provided_on", "date", req=True),
        ),
        never_public=True,
    ),
    TableSpec(
        "spot_check_findings",
        (
            F("year", "year", req=True),
            F("organisation", "uscc_ref", req=True),
            F("item", "int_choice", req=True, choices=tuple(str(i) for i in range(1, 9))),
            F("result", "enum", req=True, choices=("pass", "fail")),
            F("note"),
        ),
        key=("year", "organisation", "item"),
        never_public=True,
    ),
    TableSpec(
        "events",
        (
            F("ref", "code", req=True),
            F("event", "enum", req=True, choices=EVENT_KINDS),
            F("date", "date", req=True),
            F("note"),
        ),
    ),
)

# Load order: every table comes after the tables it refers to.
TABLES: dict[str, TableSpec] = {t.name: t for t in _TABLES}
LOAD_ORDER: tuple[str, ...] = tuple(TABLES)


def never_public_fields() -> list[tuple[str, str]]:
    """Every ``(table, field)`` that must never reach a public output (PUB-1, CQ-15)."""
    return [(t.name, f.name) for t in _TABLES for f in t.fields if t.never_public or f.never]


# BJ-6: data that is never collected. English names are matched as whole words, Chinese as stems.
_FORBIDDEN_WORDS = frozenset(
    {
        "religion",
        "religious",
        "faith",
        "blood",
        "bloodtype",
        "bloodgroup",
        "fingerprint",
        "fingerprints",
        "gene",
        "genes",
        "genetic",
        "genome",
        "dna",
        "disease",
        "diseases",
        "medical",
        "illness",
        "diagnosis",
        "pathology",
    }
)
_FORBIDDEN_STEMS = ("宗教", "信仰", "血型", "指纹", "基因", "疾病", "病史", "病历", "病情", "诊断")


def is_forbidden_column(name: str) -> bool:
    """True if a column name denotes data BJ-6 forbids collecting (English or Chinese)."""
    lowered = name.strip().lower()
    if any(stem in lowered for stem in _FORBIDDEN_STEMS):
        return True
    words = [w for w in re.split(r"[^a-z0-9]+", lowered) if w]
    joined = "".join(words)
    return any(w in _FORBIDDEN_WORDS for w in words) or joined in _FORBIDDEN_WORDS
