"""Field validators as properties (BJ-7, CQ-9, CQ-10): valid values pass, corrupted ones fail."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from stdnum import exceptions

from tests.builders import id_number, uscc_code
from volcredit.contract import TABLES
from volcredit.identifiers import validate_resident_id
from volcredit.importer.fields import FieldError, parser_for

AREAS = ["110101", "110105", "310115", "430102", "440305", "500103", "510104"]
ids = st.builds(
    id_number,
    st.sampled_from(AREAS),
    st.dates(date(1940, 1, 1), date(2008, 12, 31)),
    st.integers(0, 999),
)
usccs = st.builds(uscc_code, st.sampled_from(AREAS), st.integers(0, 31**9 - 1))
uscc_field = parser_for(TABLES["organisations"].field("uscc"))
hours_field = parser_for(TABLES["service_records"].field("hours"))
score_field = parser_for(TABLES["service_records"].field("attitude"))


@given(ids)
def test_bj7_every_checksum_valid_id_passes(number: str) -> None:
    assert validate_resident_id(number) == number


@given(ids, st.integers(0, 16), st.integers(1, 9))
def test_bj7_any_single_digit_error_is_caught(number: str, position: int, delta: int) -> None:
    """BJ-7: ISO 7064 MOD 11-2 catches every single-digit substitution."""
    digit = (int(number[position]) + delta) % 10
    corrupted = number[:position] + str(digit) + number[position + 1 :]
    with pytest.raises(exceptions.ValidationError):
        validate_resident_id(corrupted)


@given(usccs)
def test_bj7_every_valid_uscc_passes(code: str) -> None:
    assert uscc_field(code.lower()) == code


@given(usccs, st.integers(0, 17), st.sampled_from("0123456789ABCDEFGHJKLMNPQRTUWXY"))
def test_bj7_any_single_character_error_in_a_uscc_is_caught(
    code: str, position: int, char: str
) -> None:
    assume(code[position] != char)
    corrupted = code[:position] + char + code[position + 1 :]
    with pytest.raises(FieldError) as err:
        uscc_field(corrupted)
    assert err.value.rule == "BJ-7"


@given(st.decimals(min_value=Decimal("0.01"), max_value=Decimal(24), places=2))
def test_cq9_hours_in_range_round_trip_exactly(hours: Decimal) -> None:
    assert hours_field(str(hours)) == hours


@given(
    st.one_of(
        st.decimals(max_value=Decimal(0), places=2, allow_nan=False, allow_infinity=False),
        st.decimals(min_value=Decimal("24.01"), max_value=Decimal(10**6), places=2),
    )
)
def test_cq9_hours_out_of_range_are_refused(hours: Decimal) -> None:
    with pytest.raises(FieldError) as err:
        hours_field(str(hours))
    assert err.value.rule == "CQ-9"


@given(st.integers())
def test_cq10_scores_are_1_to_5(value: int) -> None:
    if 1 <= value <= 5:
        assert score_field(str(value)) == value
    else:
        with pytest.raises(FieldError):
            score_field(str(value))
