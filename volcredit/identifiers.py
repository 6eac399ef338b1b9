"""ID number checks (BJ-7), built from python-stdnum's pieces.

``stdnum.cn.ric.validate`` also requires the area code to have existed in the birth year, and
looks the area up in its database for every number (about a millisecond each). Real people carry
area codes assigned after they were born (a number first issued, or re-issued, after an
administrative change), so here an area code that stdnum's database knows at all is accepted, and
that lookup is cached per area code. The checksum (``ric.calc_check_digit``) and the birth date
(``ric.get_birth_date``) are always stdnum's.
"""

from __future__ import annotations

from functools import cache

from stdnum import exceptions, numdb
from stdnum.cn import ric


@cache
def _area_known(area: str) -> bool:
    return any(props.get("county") for _, props in numdb.get("cn/loc").info(area))


def validate_resident_id(number: str) -> str:
    """The compact number if valid, else raise a ``stdnum`` ``ValidationError`` (BJ-7)."""
    compact = str(ric.compact(number))
    if len(compact) != 18:
        raise exceptions.InvalidLength()
    if not compact[:-1].isdigit() or not compact[:-1].isascii():
        raise exceptions.InvalidFormat()
    if compact[-1] != ric.calc_check_digit(compact):
        raise exceptions.InvalidChecksum()
    ric.get_birth_date(compact)  # raises InvalidComponent for an impossible date
    if not _area_known(compact[:6]):
        raise exceptions.InvalidComponent()
    return compact
