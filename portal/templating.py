"""Portal templates: ``site_templates/portal`` plus the partials shared with the site (STYLE 6).

Portal pages link the built site's stylesheets, so both faces share one look.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined
from starlette.templating import Jinja2Templates

from portal.clock import beijing_time
from volcredit.access_log import AUTHORITY_LABELS
from volcredit.case_documents import long_date
from volcredit.case_steps import text_is_public
from volcredit.labels import label_functions
from volcredit.rules.masking import MaskKind, mask

TEMPLATES = Path(__file__).resolve().parent.parent / "site_templates"


def site_stylesheets(site_dir: Path) -> list[str]:
    """The theme's main stylesheet and ours, as URLs under the served site."""
    folder = site_dir / "assets" / "stylesheets"
    urls = [
        f"/assets/stylesheets/{found[0].name}"
        for pattern in ("main.*.min.css", "palette.*.min.css")
        if (found := sorted(folder.glob(pattern)))
    ]
    if (site_dir / "assets" / "stylesheets" / "volcredit.css").is_file():
        urls.append("/assets/stylesheets/volcredit.css")
    return urls


def _hours(value: Decimal | None) -> str:
    if value is None:
        return ""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return text or "0"


# What ``getattr`` finds on any plain dict (its methods and object's): a dict instance has no
# attributes of its own.
_DICT_ATTRIBUTES = frozenset(dir(dict))


class PortalEnvironment(Environment):
    """Jinja2 with a fast path for ``row.field`` on a plain dict (the store's rows): the same
    result as Jinja's own lookup (attribute first, then item), without raising and catching an
    AttributeError for every field shown."""

    def getattr(self, obj: Any, attribute: str) -> Any:
        if type(obj) is dict and attribute not in _DICT_ATTRIBUTES:
            try:
                return obj[attribute]
            except KeyError:
                return self.undefined(obj=obj, name=attribute)
        return Environment.getattr(self, obj, attribute)


def templates(site_dir: Path) -> Jinja2Templates:
    env = PortalEnvironment(
        loader=ChoiceLoader([FileSystemLoader(str(TEMPLATES))]),
        autoescape=True,
        undefined=StrictUndefined,
    )
    env.globals.update(label_functions())
    env.globals["authority_labels"] = AUTHORITY_LABELS
    env.globals["long_date"] = long_date
    env.globals["text_is_public"] = text_is_public
    env.globals["stylesheets"] = site_stylesheets(site_dir)
    env.filters["beijing"] = beijing_time
    env.filters["hours"] = _hours
    env.filters["mask_id"] = lambda v: mask(MaskKind.ID_NUMBER, v or "")
    env.filters["mask_phone"] = lambda v: mask(MaskKind.PHONE, v or "")
    env.filters["iso"] = lambda d: d.isoformat() if d else ""
    return Jinja2Templates(env=env)
