"""Settings, read from the environment in this one module (STYLE 3).

Every configurable rule value lives here with its RULES.md default:

| variable | default | rule |
|---|---|---|
| ``VOLCREDIT_DB`` | ``sqlite:///volcredit.sqlite3`` | store URL (SQLite or PostgreSQL) |
| ``VOLCREDIT_PUBLICITY_GENERAL_MIN_MONTHS`` | 3 | PUB-4 general severity, minimum |
| ``VOLCREDIT_PUBLICITY_GENERAL_MAX_MONTHS`` | 12 | PUB-4 general severity, maximum |
| ``VOLCREDIT_PUBLICITY_SERIOUS_MIN_MONTHS`` | 12 | PUB-4 serious severity, minimum |
| ``VOLCREDIT_PUBLICITY_SERIOUS_MAX_MONTHS`` | 36 | PUB-4 serious severity, maximum |
| ``VOLCREDIT_SITE_URL`` | ``http://127.0.0.1:8000/`` | the public site's address (sitemap, feed) |
| ``VOLCREDIT_SIGNING_KEY`` | ``volcredit-signing.key`` | Ed25519 key that signs the site manifest |
| ``VOLCREDIT_SITE_DIR`` | ``site`` | the built site ``serve`` serves and searches |
| ``VOLCREDIT_SECRET_KEY`` | file ``volcredit-portal.key`` | signs CSRF tokens (same everywhere) |
| ``VOLCREDIT_OUTBOX`` | ``outbox`` | where the default notifier writes codes |
| ``VOLCREDIT_INSECURE_COOKIES`` | off | ``1``: no ``Secure`` cookies (plain http) |
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

DEFAULT_DB_URL = "sqlite:///volcredit.sqlite3"
DEFAULT_SITE_URL = "http://127.0.0.1:8000/"
DEFAULT_SIGNING_KEY = "volcredit-signing.key"
DEFAULT_SECRET_KEY_FILE = "volcredit-portal.key"


@dataclass(frozen=True)
class PublicityPeriods:
    """PUB-4 publicity windows in calendar months, counted from the penalty decision date."""

    general_min_months: int = 3
    general_max_months: int = 12
    serious_min_months: int = 12
    serious_max_months: int = 36

    def months(self, severity: str) -> tuple[int, int]:
        """``(minimum, maximum)`` months for a penalty of ``severity`` (general|serious)."""
        if severity == "serious":
            return self.serious_min_months, self.serious_max_months
        return self.general_min_months, self.general_max_months


DEFAULT_ISSUER = "志愿服务信用信息系统（示例）"


@dataclass(frozen=True)
class Settings:
    db_url: str = DEFAULT_DB_URL
    publicity: PublicityPeriods = field(default_factory=PublicityPeriods)
    site_url: str = DEFAULT_SITE_URL
    signing_key: str = DEFAULT_SIGNING_KEY
    site_dir: str = "site"
    secret_key: str | None = None  # None: read or create DEFAULT_SECRET_KEY_FILE
    outbox: str = "outbox"
    secure_cookies: bool = True
    issuer: str = DEFAULT_ISSUER  # CQ-17: who issues record certificates from this system
    search: str = "whoosh"  # the public search backend: whoosh (embedded) | postgresql


SETTING_NAMES = (
    "VOLCREDIT_DB",
    "VOLCREDIT_PUBLICITY_GENERAL_MIN_MONTHS",
    "VOLCREDIT_PUBLICITY_GENERAL_MAX_MONTHS",
    "VOLCREDIT_PUBLICITY_SERIOUS_MIN_MONTHS",
    "VOLCREDIT_PUBLICITY_SERIOUS_MAX_MONTHS",
    "VOLCREDIT_SITE_URL",
    "VOLCREDIT_SIGNING_KEY",
    "VOLCREDIT_SITE_DIR",
    "VOLCREDIT_SECRET_KEY",
    "VOLCREDIT_OUTBOX",
    "VOLCREDIT_INSECURE_COOKIES",
    "VOLCREDIT_ISSUER",
    "VOLCREDIT_SEARCH",
)
SEARCH_BACKENDS = ("whoosh", "postgresql")


def _months(environ: Mapping[str, str], name: str, default: int) -> int:
    raw = environ.get(name)
    if raw is None or raw == "":
        return default
    value = int(raw)
    if value < 1:
        raise ValueError(f"{name} must be a positive number of months")
    return value


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read every setting from ``environ`` (the process environment by default)."""
    env = os.environ if environ is None else environ
    d = PublicityPeriods()
    publicity = PublicityPeriods(
        _months(env, "VOLCREDIT_PUBLICITY_GENERAL_MIN_MONTHS", d.general_min_months),
        _months(env, "VOLCREDIT_PUBLICITY_GENERAL_MAX_MONTHS", d.general_max_months),
        _months(env, "VOLCREDIT_PUBLICITY_SERIOUS_MIN_MONTHS", d.serious_min_months),
        _months(env, "VOLCREDIT_PUBLICITY_SERIOUS_MAX_MONTHS", d.serious_max_months),
    )
    if not (publicity.general_min_months <= publicity.general_max_months) or not (
        publicity.serious_min_months <= publicity.serious_max_months
    ):
        raise ValueError("a publicity minimum cannot exceed its maximum (PUB-4)")
    site_url = env.get("VOLCREDIT_SITE_URL") or DEFAULT_SITE_URL
    search = env.get("VOLCREDIT_SEARCH") or "whoosh"
    if search not in SEARCH_BACKENDS:
        raise ValueError(f"VOLCREDIT_SEARCH must be one of {', '.join(SEARCH_BACKENDS)}")
    return Settings(
        db_url=env.get("VOLCREDIT_DB") or DEFAULT_DB_URL,
        publicity=publicity,
        site_url=site_url if site_url.endswith("/") else site_url + "/",
        signing_key=env.get("VOLCREDIT_SIGNING_KEY") or DEFAULT_SIGNING_KEY,
        site_dir=env.get("VOLCREDIT_SITE_DIR") or "site",
        secret_key=env.get("VOLCREDIT_SECRET_KEY") or None,
        outbox=env.get("VOLCREDIT_OUTBOX") or "outbox",
        secure_cookies=env.get("VOLCREDIT_INSECURE_COOKIES", "") != "1",
        issuer=(env.get("VOLCREDIT_ISSUER") or DEFAULT_ISSUER).strip()[:100],
        search=search,
    )
