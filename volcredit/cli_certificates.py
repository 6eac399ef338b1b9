"""The certificate commands (CQ-17): ``verify-certificate`` checks a record certificate PDF
offline against the issuing authority's public key. The PDF reader lives in the portal and is
imported lazily, inside the command (DESIGN.md)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from volcredit import signing
from volcredit.settings import Settings


def cmd_verify_certificate(args: argparse.Namespace, settings: Settings) -> int:
    """Check a certificate PDF: its signature with the public key (default: the ``.pub`` beside
    the signing key, which the site publishes as ``manifest.pub``), and the pages exactly as
    the signed data print with the verification address on the site (``--site-url``, default
    the setting). Exit 0 if genuine, 1 with one line per problem, 2 if unreadable or if no
    CJK font is installed to compare the pages with."""
    from portal.certificate_pdf import FontMissing, check, read, verify_url_of

    site_url = args.site_url or settings.site_url
    site_url = site_url if site_url.endswith("/") else site_url + "/"

    key_path = Path(args.public_key or f"{settings.signing_key}.pub")
    try:
        public_key = signing.load_public_key(key_path.read_bytes())
    except (OSError, ValueError) as exc:
        print(f"{key_path}: 无法读取公钥（{exc}）", file=sys.stderr)
        return 2
    try:
        data = Path(args.file).read_bytes()
    except OSError as exc:
        print(f"{args.file}: 无法读取文件（{exc.strerror or exc}）", file=sys.stderr)
        return 2
    try:
        problems = check(data, public_key, site_url)
    except FontMissing as exc:
        print(f"{args.file}: 无法核验页面内容（{exc}）", file=sys.stderr)
        return 2
    for problem in problems:
        print(f"{args.file}: {problem}", file=sys.stderr)
    if problems:
        print("证明校验失败。", file=sys.stderr)
        return 1
    payload, signature, _fingerprint, _text = read(data)
    assert payload is not None and signature is not None  # check found the attachment
    number = payload["certificate_no"]
    print(f"证明有效：{number}（签名正确，页面内容与签名数据一致）")
    print(f"签名公钥指纹：{signing.fingerprint(public_key)}")
    print(f"是否已撤销或被新证明取代，请查看核验页：{verify_url_of(site_url, payload, signature)}")
    return 0


def add_parsers(sub: Any, common: argparse.ArgumentParser, dated: argparse.ArgumentParser) -> None:
    p = sub.add_parser(  # offline: no store, no date
        "verify-certificate",
        help="校验志愿服务记录证明 PDF 的电子签名和页面内容（CQ-17）",
    )
    p.add_argument("file", metavar="FILE.pdf", help="证明 PDF 文件")
    p.add_argument(
        "--public-key",
        metavar="FILE",
        help="出具机关的公钥（默认：签名私钥旁的 .pub，即网站公布的 manifest.pub）",
    )
    p.add_argument(
        "--site-url",
        metavar="URL",
        help="证明上核验地址所在的网站（默认：VOLCREDIT_SITE_URL 设置）",
    )
    p.set_defaults(func=cmd_verify_certificate)
