"""Parsing one value of one field, by the field's kind in the data contract.

Each parser takes the raw value (a CSV string, or a YAML scalar) and returns the typed value or
raises :class:`FieldError` with a message for the content author.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from stdnum import exceptions as stdnum_errors
from stdnum.cn import uscc

from volcredit.contract import Field


class FieldError(ValueError):
    def __init__(self, message: str, rule: str = "") -> None:
        self.rule = rule
        super().__init__(message)


MAX_TEXT = 4000
_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,63}$")
_REGION = re.compile(r"^\d{6}$")
_MOBILE = re.compile(r"^(?:\+?86)?1[3-9]\d{9}$")
_LANDLINE = re.compile(r"^0\d{2,3}-?\d{7,8}(?:-\d{1,6})?$")
_MAX_HOURS = Decimal(24)
MIN_DATE, MAX_DATE = date(1900, 1, 1), date(2100, 12, 31)
MAX_INT = 2**31 - 1  # the store's integer columns
_CENT = Decimal("0.01")


def _text(raw: Any) -> str:
    if type(raw) is str:
        value = raw.strip()
    elif isinstance(raw, (list, dict, set, tuple)):
        raise FieldError("应为单个值，不能是列表或映射")
    else:
        value = str(raw).strip()
    if len(value) > MAX_TEXT:
        raise FieldError(f"文本过长（{len(value)} 字，最多 {MAX_TEXT} 字）")
    if "\x00" in value:
        raise FieldError("含有空字符（NUL），不能保存")
    return value


def _code(raw: Any) -> str:
    value = _text(raw)
    if not _CODE.match(value):
        raise FieldError(f"编号“{value}”格式不对：只能用字母、数字和 . _ / -，最长 64 位")
    return value


def _region(raw: Any) -> str:
    value = f"{raw:06d}" if isinstance(raw, int) and not isinstance(raw, bool) else _text(raw)
    if not _REGION.match(value):
        raise FieldError(f"行政区划代码“{value}”应为 6 位数字（GB/T 2260）")
    return value


def _uscc(raw: Any) -> str:
    value = _text(raw).upper()
    try:
        return str(uscc.validate(value))
    except stdnum_errors.ValidationError as exc:  # BJ-7: GB 32100 checksum
        raise FieldError(f"统一社会信用代码“{value}”无效（{stdnum_reason(exc)}）", "BJ-7") from exc


def stdnum_reason(exc: stdnum_errors.ValidationError) -> str:
    if isinstance(exc, stdnum_errors.InvalidChecksum):
        return "校验码错误"
    if isinstance(exc, stdnum_errors.InvalidLength):
        return "长度错误"
    if isinstance(exc, stdnum_errors.InvalidFormat):
        return "格式错误"
    if isinstance(exc, stdnum_errors.InvalidComponent):
        return "地区码或出生日期无效"
    return "格式错误"


def _date(raw: Any) -> date:
    if isinstance(raw, str):
        try:
            return date.fromisoformat(raw.strip())
        except ValueError as exc:
            raise FieldError(f"日期“{raw.strip()}”应为 YYYY-MM-DD 格式的有效日期") from exc
    if isinstance(raw, datetime):
        raise FieldError("应为日期（YYYY-MM-DD），不应带时间")
    if isinstance(raw, date):
        return raw
    raise FieldError(f"“{raw}”应为 YYYY-MM-DD 格式的日期")


def _sane_date(raw: Any) -> date:
    value = _date(raw)
    if not MIN_DATE <= value <= MAX_DATE:
        raise FieldError(f"日期 {value.isoformat()} 不在 {MIN_DATE.year}–{MAX_DATE.year} 年之间")
    return value


def _bool(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    value = _text(raw).lower()
    if value in ("true", "false"):
        return value == "true"
    raise FieldError(f"“{value}”应为 true 或 false")


def _int(raw: Any) -> int:
    if isinstance(raw, str):
        value = raw.strip()
        if value.isascii() and value.isdigit():
            return int(value)
        if re.fullmatch(r"-\d+", value):
            return int(value)
        raise FieldError(f"“{value}”应为整数")
    if isinstance(raw, int) and not isinstance(raw, bool):
        return raw
    raise FieldError(f"“{raw}”应为整数")


def _count(raw: Any) -> int:
    value = _int(raw)
    if not 0 <= value <= MAX_INT:
        raise FieldError(f"应在 0 到 {MAX_INT} 之间")
    return value


def _year(raw: Any) -> int:
    value = _int(raw)
    if not 2000 <= value <= 2100:
        raise FieldError(f"年份 {value} 不在 2000–2100 之间")
    return value


_SCORES = {str(i): i for i in range(1, 6)}


def _score(raw: Any) -> int:
    fast = _SCORES.get(raw) if type(raw) is str else None
    if fast is not None:
        return fast
    value = _int(raw)
    if not 1 <= value <= 5:  # CQ-10
        raise FieldError(f"评价 {value} 应为 1 到 5 的整数", "CQ-10")
    return value


def _hours(raw: Any) -> Decimal:
    if isinstance(raw, bool):
        raise FieldError("应为小时数")
    try:
        value = Decimal(_text(raw))
    except InvalidOperation as exc:
        raise FieldError(f"“{raw}”应为小时数（如 2 或 1.5）", "CQ-9") from exc
    if not value.is_finite() or value <= 0:
        raise FieldError("时长必须大于 0", "CQ-9")
    if value > _MAX_HOURS:
        raise FieldError("一条记录的时长不能超过 24 小时", "CQ-9")
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2 and value != value.quantize(_CENT):
        raise FieldError("时长最多保留两位小数", "CQ-9")
    return value


def _uscc_ref(raw: Any) -> str:
    value = _text(raw).upper()
    if len(value) != 18 or not value.isalnum() or not value.isascii():
        raise FieldError(f"“{value}”不是 18 位统一社会信用代码")
    return value


def _id_number(raw: Any) -> str:
    value = _text(raw).upper()
    if len(value) > 32:
        raise FieldError("证件号码过长", "BJ-7")
    return value  # checked with id_type, see rows.py (BJ-7)


def _phone(raw: Any) -> str:
    value = re.sub(r"[\s()]", "", _text(raw))
    if not (_MOBILE.match(value) or _LANDLINE.match(value)):
        raise FieldError("电话号码格式不对（手机号 11 位，或带区号的固定电话）")
    return value


def _enum(field: Field) -> Callable[[Any], str]:
    def parse(raw: Any) -> str:
        value = _text(raw)
        if value not in field.choices:
            raise FieldError(f"“{value}”不是可选值之一：{'、'.join(field.choices)}")
        return value

    return parse


def _int_choice(field: Field) -> Callable[[Any], int]:
    allowed = {c: int(c) for c in field.choices}

    def parse(raw: Any) -> int:
        fast = allowed.get(raw) if type(raw) is str else None
        if fast is not None:
            return fast
        value = _int(raw)
        if value not in allowed.values():
            raise FieldError(f"{value} 不是可选值之一：{'、'.join(field.choices)}")
        return value

    return parse


_SIMPLE: dict[str, Callable[[Any], Any]] = {
    "text": _text,
    "code": _code,
    "volunteer_ref": _code,
    "subject_ref": _code,
    "region_code": _region,
    "region_ref": _region,
    "uscc": _uscc,
    "uscc_ref": _uscc_ref,
    "date": _sane_date,
    "bool": _bool,
    "count": _count,
    "year": _year,
    "score": _score,
    "hours": _hours,
    "phone": _phone,
    "id_number": _id_number,
}


def parser_for(field: Field) -> Callable[[Any], Any]:
    """The parser of one field, by its kind."""
    if field.kind == "enum":
        return _enum(field)
    if field.kind == "int_choice":
        return _int_choice(field)
    return _SIMPLE[field.kind]
