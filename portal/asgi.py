"""The ASGI entry point for uvicorn workers: settings from the environment (``volcredit serve``
sets them), one store per process."""

from __future__ import annotations

from portal.app import PortalApp, create_app
from volcredit.settings import load_settings
from volcredit.store.engine import open_store


def from_environment() -> PortalApp:
    settings = load_settings()
    return create_app(settings, store=open_store(settings.db_url))
