"""The masking function (PUB-5, PUB-7) and star levels (CQ-19, HN-2b)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from tests.builders import id_number
from volcredit.rules.masking import MASK, MaskKind, mask
from volcredit.rules.stars import qualifying_hours, star_standing


def test_pub5_person_name_keeps_surname_only() -> None:
    """PUB-5: surname kept, every other character masked."""
    assert mask(MaskKind.PERSON_NAME, "林若溪") == "林**"
    assert mask(MaskKind.PERSON_NAME, "王五") == "王*"
    assert mask(MaskKind.PERSON_NAME, " 欧阳明月 ") == "欧***"
    assert mask(MaskKind.PERSON_NAME, "Anna Lee") == "A*** ***"


def test_pub7_id_number_hides_birth_date() -> None:
    number = id_number("110101", date(1990, 5, 17), 123)
    masked = mask(MaskKind.ID_NUMBER, number)
    assert masked == number[:3] + MASK * 11 + number[-4:]
    assert "19900517" not in masked


ids = st.builds(
    id_number,
    st.sampled_from(["110101", "430102", "500103", "310115", "440305"]),
    st.dates(date(1930, 1, 1), date(2008, 12, 31)),
    st.integers(0, 999),
)


@given(ids)
def test_pub7_one_pattern_everywhere(number: str) -> None:
    """PUB-7: the same value always masks to the same pattern: a fixed prefix and suffix, so no
    two outputs can reveal different fragments that stitch into the full number."""
    first, second = mask(MaskKind.ID_NUMBER, number), mask(MaskKind.ID_NUMBER, number)
    assert first == second and len(first) == len(number)
    visible = [i for i, c in enumerate(first) if c != MASK]
    assert visible == [0, 1, 2, 14, 15, 16, 17]


@given(st.text(min_size=1, max_size=12).filter(lambda s: s.strip()))
def test_pub5_masked_name_reveals_at_most_the_first_character(name: str) -> None:
    masked = mask(MaskKind.PERSON_NAME, name)
    stripped = name.strip()
    assert masked[0] == stripped[0]
    assert all(c in (MASK, " ") for c in masked[1:])
    assert len(masked) == len(stripped)


@given(st.sampled_from(list(MaskKind)[1:]), st.text(alphabet="0123456789AX", max_size=18))
def test_pub7_shorter_values_reveal_less(kind: MaskKind, value: str) -> None:
    """PUB-7: a number shorter than the standard length keeps proportionally fewer characters
    (a passport number is not left mostly visible)."""
    masked = mask(kind, value)
    visible = sum(c != MASK for c in masked)
    standard = 18 if kind is MaskKind.ID_NUMBER else 11  # 3 + 4 characters kept at that length
    assert len(masked) == len(value)
    assert visible <= 7 and visible * standard <= 7 * len(value)
    assert mask(MaskKind.ID_NUMBER, "E12345678") == "E******78"


def test_cq19_star_thresholds() -> None:
    """CQ-19: 100 -> 1 star, 300 -> 2, 600 -> 3, 1000 -> 4, 1500 -> 5."""
    cases = {99.99: 0, 100: 1, 299.5: 1, 300: 2, 600: 3, 999: 3, 1000: 4, 1500: 5, 9000: 5}
    for hours, level in cases.items():
        assert star_standing(Decimal(str(hours))).level == level, hours
    assert star_standing(Decimal("250")).hours_to_next == Decimal(50)
    assert star_standing(Decimal("1500")).hours_to_next is None


def test_hn2b_excluded_records_do_not_count_towards_stars() -> None:
    """HN-2b: records of the four kinds earn no hours and no stars."""
    records = [(Decimal(60), None), (Decimal(30), 1), (Decimal(45), None), (Decimal(80), 4)]
    total = qualifying_hours(records)
    assert total == Decimal(105)
    assert star_standing(total).level == 1
    assert star_standing(qualifying_hours(records[:2])).level == 0
