"""Passwords: argon2id hashes (argon2-cffi) and a strength policy (zxcvbn), ASVS 2.1/2.4."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from starlette.concurrency import run_in_threadpool
from zxcvbn import zxcvbn

MIN_LENGTH = 12
MAX_LENGTH = 128  # argon2 takes any length; a cap keeps one request from costing seconds
MIN_SCORE = 3  # zxcvbn 0–4: 3 is "safely unguessable" against online and slow offline attacks


def cheap_hasher() -> PasswordHasher:
    """argon2id at a low cost, for tests and benchmark fixtures only."""
    return PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


class Passwords:
    """Hash and check passwords with one argon2id hasher."""

    def __init__(self, hasher: PasswordHasher | None = None) -> None:
        self.hasher = hasher or PasswordHasher()  # argon2-cffi defaults: argon2id, RFC 9106 low
        self._dummy = self.hasher.hash("volcredit-timing-equaliser")

    def hash(self, password: str) -> str:
        return self.hasher.hash(password)

    async def check(self, stored: str | None, password: str) -> bool:
        """:meth:`verify` in a worker thread: argon2 must not stall the event loop."""
        return await run_in_threadpool(self.verify, stored, password)

    def verify(self, stored: str | None, password: str) -> bool:
        """True if ``password`` matches ``stored``. With no stored hash a dummy is checked, so an
        unknown account takes as long as a wrong password."""
        try:
            return self.hasher.verify(stored or self._dummy, password) and stored is not None
        except (VerificationError, InvalidHashError):
            return False


def password_problem(password: str, confirm: str, personal: list[str]) -> str | None:
    """Why ``password`` is not acceptable, in words for the form, or None."""
    if password != confirm:
        return "两次输入的密码不一致"
    if len(password) < MIN_LENGTH:
        return f"密码至少 {MIN_LENGTH} 个字符"
    if len(password) > MAX_LENGTH:
        return f"密码最多 {MAX_LENGTH} 个字符"
    if zxcvbn(password, user_inputs=[p for p in personal if p])["score"] < MIN_SCORE:
        return "密码太常见或太容易猜到（例如常用密码、键盘顺序、姓名或证件号码的一部分），请换一个"
    return None
