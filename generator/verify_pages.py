"""Static verification pages of record certificates (CQ-17, HN-2c: certificates are checkable
through the system holding the record, here even without the portal running).

One page per certificate at ``verify/<number>/``, the address its QR code points to, showing the
certificate's status on the build date and its non-personal fields (``certificates.public_view``)
without even the masked name or a revocation's reason: the pages are listed in the signed
manifest, so they must say nothing about a person. They are left out of the sitemap, the feed
and the search index.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Connection

from generator.pages import PageWriter
from volcredit import certificates

STATUS = {"valid": "有效", "revoked": "已撤销", "superseded": "已被新证明取代"}


def write_verification_pages(w: PageWriter, conn: Connection, today: date) -> int:
    """Write every certificate's page (streamed) and the index explaining verification."""
    count = 0
    for number in certificates.all_numbers(conn, today):
        cert = certificates.get(conn, number, today)
        if cert is None:
            continue
        view = certificates.public_view(cert)
        view.pop("name")
        view.pop("status_reason")  # a staff note, kept off the site (the portal shows it)
        w.write(
            f"verify/{number}",
            "registers/verify.html",
            f"志愿服务记录证明核验：{number}",
            cert=view,
            status_label=STATUS[cert.status],
        )
        count += 1
    w.write("verify", "registers/verify_index.html", "志愿服务记录证明核验")
    return count
