"""Sending one-time codes: a small interface, and the default that writes to an outbox folder.

A department plugs in its SMS gateway by passing another :class:`Notifier` to ``create_app``.
"""

from __future__ import annotations

import os
import secrets
from datetime import datetime
from pathlib import Path
from typing import Protocol


class Notifier(Protocol):
    def send(self, to: str, subject: str, body: str, now: datetime) -> None: ...


class OutboxNotifier:
    """Writes each message as a text file in ``folder`` (readable by the owner only)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def send(self, to: str, subject: str, body: str, now: datetime) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        name = f"{now:%Y%m%dT%H%M%S}-{secrets.token_hex(4)}.txt"
        path = self.folder / name
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(f"收件人：{to}\n主题：{subject}\n\n{body}\n")
