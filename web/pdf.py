"""PDF exports of the pages: a certificate and a transcript. Pure: data in, bytes out (no store, no
request), drawn with fpdf2.

Every value is drawn as plain text: nothing in it is read as markup (fpdf2's ``cell``/``multi_cell``
with markdown off), so a ``<script>`` in a title is drawn as those characters. Any Unicode text is
accepted: with ``font`` (the path of a TrueType font, LRS_PDF_FONT) each character the font has is drawn
with it; without one (or when it cannot be read: a warning is logged), the PDF core font Helvetica
draws Latin-1. A character the font lacks, and any
control character, is drawn as ``?`` (U+FFFD where the font has it), never an error.
"""
from __future__ import annotations

import logging
import unicodedata
from datetime import datetime, timezone

from fpdf import FPDF
from fpdf.enums import WrapMode, XPos, YPos

REPLACEMENT = "?"
_FAMILY = "lrs-body"


class _Doc(FPDF):
    def __init__(self, font: str | None, orientation: str = "portrait"):
        super().__init__(orientation=orientation, unit="mm", format="A4")
        self.set_auto_page_break(True, margin=15)
        self.set_margins(18, 18, 18)
        self._glyphs: set[int] | None = None
        self._family = "helvetica"
        if font:
            try:
                self.add_font(_FAMILY, "", font)
                self.add_font(_FAMILY, "B", font)
            except Exception as exc:   # a missing or unreadable file: the core font, said in the log
                logging.getLogger("lrs.web").warning("LRS_PDF_FONT %s cannot be used (%s); PDFs use Helvetica",
                                                     font, exc)
            else:
                self._family = _FAMILY
                self._glyphs = set(self.fonts[_FAMILY].cmap)
        self._replacement = "\ufffd" if self._glyphs and 0xFFFD in self._glyphs else REPLACEMENT

    def safe(self, value) -> str:
        """``value`` as text this font draws: characters it lacks and control characters replaced."""
        text = "" if value is None else str(value)
        out = []
        for ch in unicodedata.normalize("NFC", text):
            cp = ord(ch)
            if ch in "\n":
                out.append(ch)
            elif unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"):
                out.append(self._replacement if unicodedata.category(ch) != "Cf" else "")
            elif self._glyphs is None:
                out.append(ch if cp < 256 else REPLACEMENT)
            else:
                out.append(ch if cp in self._glyphs else self._replacement)
        return "".join(out)

    def face(self, size: float, bold: bool = False) -> None:
        self.set_font(self._family, "B" if bold else "", size)

    def para(self, text, size: float = 10, bold: bool = False, height: float = 5.5) -> None:
        self.face(size, bold)
        self.multi_cell(0, height, self.safe(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT,
                        wrapmode=WrapMode.CHAR, markdown=False)

    def field(self, label: str, value, size: float = 10) -> None:
        self.face(size, True)
        self.multi_cell(0, 5, self.safe(label), new_x=XPos.LMARGIN, new_y=YPos.NEXT, markdown=False)
        self.para(value if value not in (None, "", []) else "-", size)
        self.ln(1.5)

    def finish(self, title: str, made: datetime) -> bytes:
        self.set_title(self.safe(title))
        self.set_creator("lrs web")
        self.set_producer("lrs web")
        self.set_creation_date(made)
        return bytes(self.output())


def _made(made: datetime | None) -> datetime:
    made = made or datetime.now(timezone.utc)
    return made if made.tzinfo else made.replace(tzinfo=timezone.utc)


def _stamp(made: datetime) -> str:
    return made.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def certificate_pdf(*, person: str, person_name: str = "", certification: str, title: str = "", status: str,
                    issued: str | None, expires: str | None, statements: list[str] = (), action: str | None = None,
                    chain_head: str, definition_version: int | None = None, made: datetime | None = None,
                    font: str | None = None) -> bytes:
    """A one-page certificate: who, which certification (its title, else its id), its status, when it
    was issued and when it expires, the statement ids (or admin action) that earned it, the audit chain
    head it was read at and when it was made."""
    made = _made(made)
    doc = _Doc(font)
    doc.add_page()
    doc.para("Certificate", 26, True, 12)
    doc.ln(4)
    doc.para("This certifies that", 11)
    doc.para(person_name or person, 20, True, 10)
    if person_name:
        doc.para(f"(person {person})", 10)
    doc.ln(2)
    doc.para("holds", 11)
    doc.para(title or certification, 18, True, 9)
    if title:
        doc.para(f"(certification {certification}"
                 + (f", definition version {definition_version})" if definition_version else ")"), 10)
    doc.ln(5)
    doc.field("Status", status.replace("_", " "))
    doc.field("Issued", issued)
    doc.field("Expires", expires or "no expiry")
    doc.field("Evidence: statement ids", "\n".join(statements) if statements else
              (f"admin action {action}" if action else None))
    doc.field("Audit chain head when read", chain_head)
    doc.field("Made", _stamp(made))
    return doc.finish(f"Certificate: {title or certification} - {person}", made)


def transcript_pdf(*, person: str, person_name: str = "", rows: list[dict], columns: list[str], chain_head: str,
                   as_of: str = "", made: datetime | None = None, font: str | None = None,
                   titles: dict[str, str] | None = None) -> bytes:
    """A transcript: the rows of the transcript CSV (rules/tables.py ``transcript_rows``, ``TRANSCRIPT``
    columns), one block per row, with the chain head it was read at and when it was made. ``titles``:
    a title to show beside an id (certification or completion)."""
    made = _made(made)
    titles = titles or {}
    doc = _Doc(font)
    doc.add_page()
    doc.para("Training transcript", 20, True, 10)
    doc.para(f"{person_name} (person {person})" if person_name else f"Person {person}", 12, True, 7)
    doc.para(f"As of {as_of or '-'} - made {_stamp(made)}", 9)
    doc.para(f"Audit chain head when read: {chain_head}", 9)
    doc.ln(3)
    if not rows:
        doc.para("No certification or completion is recorded for this person.", 11)
    for row in rows:
        ident = str(row.get("id") or "")
        heading = f"{row.get('kind', '')}: {ident}"
        if titles.get(ident):
            heading += f" - {titles[ident]}"
        doc.para(heading, 11, True, 6)
        for col in columns:
            if col in ("person_id", "kind", "id"):
                continue
            value = row.get(col)
            if isinstance(value, (list, tuple)):
                value = ", ".join(map(str, value))
            if value in (None, ""):
                continue
            doc.para(f"{col.replace('_', ' ')}: {value}", 9, height=4.6)
        doc.ln(2.5)
    return doc.finish(f"Transcript - {person}", made)
