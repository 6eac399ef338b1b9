"""ID number and credit-code checks (BJ-7), through python-stdnum.

``stdnum.cn.ric.validate`` also requires the area code to have existed in the birth year. Real
people carry area codes assigned after they were born (a number first issued, or re-issued, after
an administrative change), so a code that stdnum knows at all is accepted; the checksum, the
format and the birth date are always checked by stdnum.
"""

from __future__ import annotations

from stdnum import exceptions, numdb
from stdnum.cn import ric


def validate_resident_id(number: str) -> str:
    """The compact number if valid, else raise a ``stdnum`` ``ValidationError`` (BJ-7)."""
    try:
        return str(ric.validate(number))
    except exceptions.InvalidComponent:
        compact = str(ric.compact(number))
        ric.get_birth_date(compact)  # raises InvalidComponent for an impossible date
        if not any(props.get("county") for _, props in numdb.get("cn/loc").info(compact[:6])):
            raise
        return compact
