"""The signed manifest: every file of the site with its SHA-256, signed with Ed25519.

``volcredit verify-site DIR`` checks the signature and names every changed, missing or extra file.
Ed25519 signatures are deterministic, so the same site gives the same signature (PUB-8).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from volcredit.signing import fingerprint, load_or_create_key, public_pem

__all__ = ["fingerprint", "load_or_create_key", "public_pem", "verify_site", "write_manifest"]

MANIFEST, SIGNATURE, PUBLIC_KEY = "manifest.json", "manifest.sig", "manifest.pub"
_OWN = {MANIFEST, SIGNATURE, PUBLIC_KEY}


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def symlinks(root: Path) -> list[str]:
    """Links inside the site: never written by a build, and not covered by the manifest."""
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        for name in [*dirnames, *filenames]:
            if Path(dirpath, name).is_symlink():
                found.append(Path(dirpath, name).relative_to(root).as_posix())
    return sorted(found)


def _files(root: Path, known: dict[str, str] | None = None) -> dict[str, str]:
    """Every file's SHA-256 by path; ``known`` hashes (just computed by the leak gate from the
    same bytes) are taken as they are."""
    known = known or {}
    found = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames):
            rel = Path(dirpath, name).relative_to(root).as_posix()
            if rel not in _OWN:
                found[rel] = known.get(rel) or sha256_file(Path(dirpath, name))
    return found


def write_manifest(
    root: Path, key: Ed25519PrivateKey, meta: dict[str, str], known: dict[str, str] | None = None
) -> int:
    """Write the manifest, its signature and the public key into ``root``; return file count.
    ``known``: SHA-256 by path already computed from the files as they are now."""
    files = _files(root, known)
    body = {"meta": meta, "files": [{"path": p, "sha256": h} for p, h in sorted(files.items())]}
    data = json.dumps(body, ensure_ascii=False, indent=1, sort_keys=True).encode("utf-8") + b"\n"
    (root / MANIFEST).write_bytes(data)
    (root / SIGNATURE).write_bytes(base64.b64encode(key.sign(data)) + b"\n")
    (root / PUBLIC_KEY).write_bytes(public_pem(key.public_key()))
    return len(files)


@dataclass(frozen=True)
class SiteCheck:
    fingerprint: str
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_site(root: Path, public_key: Path | None = None) -> SiteCheck:
    """Check the signature (``public_key``, else the key shipped in the site) and every file."""
    pem = (public_key or root / PUBLIC_KEY).read_bytes()
    key = serialization.load_pem_public_key(pem)
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("公钥不是 Ed25519 公钥")
    problems: list[str] = []
    try:
        data = (root / MANIFEST).read_bytes()
        key.verify(base64.b64decode((root / SIGNATURE).read_bytes()), data)
    except FileNotFoundError as missing:
        return SiteCheck(fingerprint(key), (f"缺少 {Path(missing.filename or '').name}",))
    except (InvalidSignature, ValueError):
        return SiteCheck(fingerprint(key), ("清单签名无效：清单被改动，或不是用这把密钥签的",))
    problems += [f"链接（不应存在）：{link}" for link in symlinks(root)]
    listed = {f["path"]: f["sha256"] for f in json.loads(data)["files"]}
    actual = _files(root)
    for path in sorted(listed.keys() | actual.keys()):
        if path not in actual:
            problems.append(f"缺少文件：{path}")
        elif path not in listed:
            problems.append(f"多出文件：{path}")
        elif listed[path] != actual[path]:
            problems.append(f"文件被改动：{path}")
    return SiteCheck(fingerprint(key), tuple(problems))
