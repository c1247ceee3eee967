"""The line of a source file that states a validation finding's triple.

RDF parsers give positions for errors, not for the triples they return, so the file a finding is
in (its named graph) is scanned again as text: the focus node's first mention as a subject, then
the first line after it naming the property (and the value, when there is one). Turtle's prefixed
names, full IRIs and the last segment of an IRI are all tried. A finding whose line cannot be
found keeps just the file.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kapgraph.namespaces import PREFIXES

if TYPE_CHECKING:
    from kapgraph.validation import Finding


def _names(term: Any) -> list[str]:
    """How *term* can be written in a file (rdflib URIRef or Literal)."""
    from rdflib import Literal, URIRef

    if isinstance(term, URIRef):
        iri = str(term)
        names = [f"<{iri}>"]
        for prefix, ns in PREFIXES.items():
            if iri.startswith(ns) and len(iri) > len(ns):
                names.append(f"{prefix}:{iri[len(ns) :]}")
        tail = re.split(r"[/#]", iri.rstrip("/#"))[-1]
        if tail:
            names.append(f":{tail}")
            names.append(tail)
        return names
    if isinstance(term, Literal):
        return [f'"{term}"', str(term)] if str(term) else []
    return []


def _first(lines: list[str], names: list[str], start: int = 0, also: list[str] | None = None) -> int | None:
    for number in range(start, len(lines)):
        line = lines[number]
        if any(n in line for n in names) and (not also or any(a in line for a in also)):
            return number
    return None


def _subject_line(lines: list[str], names: list[str]) -> int | None:
    """Where the node is described: a line starting with its name, else its first mention."""
    if not names:
        return None
    for number, line in enumerate(lines):
        if any(line.startswith(n) for n in names):
            return number
    return _first(lines, names)


def line_of(lines: list[str], focus: Any, path: Any, value: Any) -> int | None:
    """The 1-based line stating (focus, path, value) in *lines*, or None."""
    focus_names, path_names, value_names = _names(focus), _names(path), _names(value)
    start = _subject_line(lines, focus_names)
    if value is None:  # a missing property: the node's own block
        return None if start is None else start + 1
    if path_names:
        found = _first(lines, path_names, start or 0, value_names or None)
        if found is None and value_names:
            found = _first(lines, value_names, 0, path_names)
        if found is not None:
            return found + 1
    if value_names:
        found = _first(lines, value_names, start or 0)
        if found is not None:
            return found + 1
    return None if start is None else start + 1


def locate_lines(findings: list[Finding]) -> list[Finding]:
    texts: dict[Path, list[str]] = {}
    out = []
    for finding in findings:
        if finding.file is not None and finding.line is None:
            if finding.file not in texts:
                try:
                    texts[finding.file] = finding.file.read_text(encoding="utf-8", errors="replace").splitlines()
                except OSError:
                    texts[finding.file] = []
            line = line_of(texts[finding.file], finding.focus, finding.path, finding.value)
            if line is not None:
                finding = dataclasses.replace(finding, line=line)
        out.append(finding)
    return out
