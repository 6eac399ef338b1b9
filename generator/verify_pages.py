"""Static verification pages of record certificates (CQ-17, HN-2c: certificates are checkable
through the system holding the record, here even without the portal running).

One page per certificate at ``verify/<static key>/`` (``certificates.static_key``: a hash of the
number and the verification code), the address its QR code points to. The signed manifest lists
every page, so neither the address nor the page names the certificate number (PUB-1): only the
holder of the certificate finds its page. It shows the status on the build date and the
certificate's non-personal fields, without even the masked name, a revocation's reason or the
newer certificate that superseded it. The pages are left out of the sitemap, the feed and the
search index.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Connection

from generator.pages import PageWriter
from volcredit import certificates

STATUS = {"valid": "有效", "revoked": "已撤销", "superseded": "已被新证明取代"}
SHOWN = ("hours", "records", "organisation", "period", "issuer", "issued_on", "status", "status_on")


def write_verification_pages(w: PageWriter, conn: Connection, today: date) -> int:
    """Write every certificate's page (streamed) and the index explaining verification."""
    count = 0
    for number in certificates.all_numbers(conn, today):
        cert = certificates.get(conn, number, today)
        if cert is None:
            continue
        full = certificates.public_view(cert)
        view = {key: full[key] for key in SHOWN}  # no number, name or revocation reason
        view["verification_code"] = cert.verification_code
        w.write(
            certificates.verify_path(number, cert.verification_code).rstrip("/"),
            "registers/verify.html",
            "志愿服务记录证明核验",
            cert=view,
            status_label=STATUS[cert.status],
        )
        count += 1
    w.write("verify", "registers/verify_index.html", "志愿服务记录证明核验")
    return count
