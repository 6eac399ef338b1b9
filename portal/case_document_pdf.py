"""A case's written document as an A4 PDF (BJ-16a notice, BJ-16c decision, BJ-17a answer,
BJ-18 repair decision), printed from :class:`volcredit.case_documents.Document` with the same
CJK font as the certificates. The same document always gives the same bytes (dated by the step,
not by the clock)."""

from __future__ import annotations

from datetime import UTC, datetime, time

from fpdf.enums import XPos, YPos

from portal.certificate_pdf import FontMissing, _face, _lines, a4_document, font_file
from volcredit.case_documents import Document, long_date


def render(doc: Document) -> bytes:
    """The document as PDF bytes; ``FontMissing`` without a CJK font."""
    printed = [doc.title, doc.number, doc.addressee, doc.authority, long_date(doc.dated)]
    printed += [part for section in doc.sections for part in section]
    dated = datetime.combine(doc.dated, time(0), tzinfo=UTC)
    pdf = a4_document(f"{doc.title} {doc.number}", dated, (24, 22, 24))
    path, index = _face(*font_file())
    used = sorted({ord(ch) for text in printed for ch in text} | {ord(" "), ord("：")})
    pdf.add_font("noto", fname=path, collection_font_number=index, unicode_range=used)
    pdf.add_page()
    pdf.set_font("noto", size=20)
    pdf.cell(0, 14, doc.title, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font("noto", size=10)
    pdf.cell(0, 8, doc.number, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(4)
    pdf.set_font("noto", size=12)
    _lines(pdf, pdf.epw, 8, f"{doc.addressee}：", new_x=XPos.LMARGIN)
    pdf.ln(2)
    for heading, text in doc.sections:
        pdf.set_font("noto", size=12)
        _lines(pdf, pdf.epw, 8, f"{heading}：", new_x=XPos.LMARGIN)
        pdf.set_font("noto", size=11)
        _lines(pdf, pdf.epw, 7, text, new_x=XPos.LMARGIN)
        pdf.ln(2)
    pdf.ln(8)
    pdf.set_font("noto", size=12)
    pdf.cell(0, 8, doc.authority, align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.cell(0, 8, long_date(doc.dated), align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    return bytes(pdf.output())


__all__ = ["FontMissing", "render"]
