"""The one masking function (PUB-5, PUB-7).

Every output -- site, portal, certificates, exports -- masks through :func:`mask`, so the same value
is always masked to the same pattern and fragments from different outputs can never be stitched
together into a full number.
"""

from __future__ import annotations

from enum import Enum

MASK = "*"


class MaskKind(Enum):
    PERSON_NAME = "person_name"
    ID_NUMBER = "id_number"
    PHONE = "phone"


# How many leading and trailing characters stay visible, per kind. One table, one place (PUB-7).
_KEEP: dict[MaskKind, tuple[int, int]] = {
    MaskKind.PERSON_NAME: (1, 0),  # PUB-5: the surname stays, every other character becomes *
    MaskKind.ID_NUMBER: (3, 4),  # area prefix and last four; the birth date is always hidden
    MaskKind.PHONE: (3, 4),
}
# The length the kept characters above are meant for: 18-digit ID numbers, 11-digit mobiles.
_STANDARD_LENGTH: dict[MaskKind, int] = {MaskKind.ID_NUMBER: 18, MaskKind.PHONE: 11}


def mask(kind: MaskKind, value: str) -> str:
    """Mask ``value`` as ``kind`` (PUB-5, PUB-7).

    Person names keep their first character (the surname; a compound surname is masked after its
    first character, which hides more, never less). Spaces in a foreign name stay so the shape is
    readable. Numbers keep a fixed prefix and suffix, scaled down for numbers shorter than the
    standard length (a 9-character passport number keeps 1 + 2), so well over half is hidden.
    """
    text = value.strip()
    if kind is MaskKind.PERSON_NAME:
        if not text:
            return ""
        return text[0] + "".join(c if c == " " else MASK for c in text[1:])
    head, tail = _KEEP[kind]
    standard = _STANDARD_LENGTH[kind]
    if len(text) < standard:
        head, tail = head * len(text) // standard, tail * len(text) // standard
    if len(text) <= head + tail:
        return MASK * len(text)
    return text[:head] + MASK * (len(text) - head - tail) + text[len(text) - tail :]
