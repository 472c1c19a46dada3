"""Parsing untrusted XML with lxml: no network, no entity expansion, no DTD loading."""
from __future__ import annotations

from lxml import etree

from .report import Report

XML_NS = "http://www.w3.org/XML/1998/namespace"


def _parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                           dtd_validation=False, huge_tree=False, remove_comments=True,
                           remove_pis=True)


def parse(data: bytes, file: str, report: Report) -> etree._Element | None:
    """The root element, or None after adding an ``xml.malformed`` error to ``report``."""
    try:
        return etree.fromstring(data, parser=_parser())
    except etree.XMLSyntaxError as exc:
        line = exc.lineno or None
        report.error("xml.malformed", f"{file} is not well-formed XML: {exc.msg}", file=file, line=line)
        return None


def local(el_or_name) -> str:
    """Local name of an element or a ``{ns}name`` string."""
    name = el_or_name if isinstance(el_or_name, str) else el_or_name.tag
    return name.rsplit("}", 1)[-1] if isinstance(name, str) else ""


def ns(el) -> str | None:
    return etree.QName(el).namespace


def text(el) -> str | None:
    """Text of an element with surrounding whitespace removed; None when absent or empty."""
    if el is None or el.text is None:
        return None
    value = el.text.strip()
    return value or None


def where(el) -> str:
    """A readable path to ``el``: local names, with the identifier of each step where it has one."""
    steps = []
    node = el
    while node is not None and isinstance(node.tag, str):
        ident = node.get("identifier") or node.get("id") or node.get("ID")
        steps.append(f"{local(node)}[{ident}]" if ident else local(node))
        node = node.getparent()
    return "/".join(reversed(steps))
