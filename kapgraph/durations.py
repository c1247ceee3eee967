"""xsd:duration literals: which lexical forms are valid XSD, and their length in days.

XSD 1.1 writes a duration as ``PnYnMnDTnHnMnS``; it has no week designator, so ``"P10W"`` is not
a valid ``xsd:duration`` (Jena rejects it; rdflib silently reads it as ``P70D``; Oxigraph keeps it
and cannot compare it). SHACL engines built on rdflib never see the form as written, so
:func:`invalid_durations` reads the files with Oxigraph's parser, which keeps it.

:func:`days` is the project's one rule for a comparable length (documented on
``kap:timePointDays`` in the ontology and in data/CURATION.md): a year is 365.25 days, a month
365.25/12 = 30.4375 days, a week 7 days.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

XSD_DURATION = "http://www.w3.org/2001/XMLSchema#duration"

#: the XSD 1.1 lexical space of xsd:duration (at least one component; T only before a time part)
LEXICAL = re.compile(
    r"-?P(?=[0-9]|T[0-9])([0-9]+Y)?([0-9]+M)?([0-9]+D)?(T(?=[0-9])([0-9]+H)?([0-9]+M)?([0-9]+(\.[0-9]+)?S)?)?"
)

YEAR = Decimal("365.25")
MONTH = YEAR / 12  # 30.4375
_PARTS = re.compile(
    r"(?P<sign>-)?P(?:(?P<Y>[0-9]+)Y)?(?:(?P<M>[0-9]+)M)?(?:(?P<W>[0-9]+)W)?(?:(?P<D>[0-9]+)D)?"
    r"(?:T(?:(?P<H>[0-9]+)H)?(?:(?P<min>[0-9]+)M)?(?:(?P<S>[0-9]+(?:\.[0-9]+)?)S)?)?"
)
_FACTORS = {"Y": YEAR, "M": MONTH, "W": Decimal(7), "D": Decimal(1), "H": Decimal(1) / 24}


def is_xsd_duration(lexical: str) -> bool:
    """Whether *lexical* is in the lexical space of xsd:duration."""
    return LEXICAL.fullmatch(lexical) is not None


def days(lexical: str) -> Decimal:
    """The length of a duration in days, by the project's rule (weeks accepted, for old data)."""
    match = _PARTS.fullmatch(lexical)
    if match is None or lexical in {"P", "-P"} or lexical.endswith("T"):
        raise ValueError(f"not a duration: {lexical!r}")
    total = Decimal(0)
    for name, factor in _FACTORS.items():
        if match.group(name):
            total += Decimal(match.group(name)) * factor
    if match.group("min"):
        total += Decimal(match.group("min")) / 1440
    if match.group("S"):
        total += Decimal(match.group("S")) / 86400
    return -total if match.group("sign") else total


@dataclass(frozen=True)
class BadDuration:
    file: Path
    subject: str  # N3 form of the subject (an IRI or a blank node)
    predicate: str  # the property's IRI
    lexical: str

    def message(self) -> str:
        hint = ""
        if "W" in self.lexical:
            with contextlib.suppress(ValueError):
                hint = f"; XSD has no week designator: write P{days(self.lexical).normalize()}D"
        return f'"{self.lexical}"^^xsd:duration is not a valid xsd:duration (PnYnMnDTnHnMnS){hint}'


def invalid_durations(files: Iterable[Path]) -> Iterator[BadDuration]:
    """Every xsd:duration literal of *files* whose lexical form, as written, is not valid XSD."""
    import pyoxigraph as ox

    from kapgraph.loading import FORMATS

    for path in files:
        fmt = FORMATS.get(path.suffix.lower())
        if fmt is None:
            continue
        with path.open("rb") as handle:
            for triple in ox.parse(handle, format=fmt, base_iri=path.resolve().as_uri()):
                obj = triple.object
                duration = isinstance(obj, ox.Literal) and obj.datatype.value == XSD_DURATION
                if duration and not is_xsd_duration(obj.value):
                    yield BadDuration(path, str(triple.subject), triple.predicate.value, obj.value)
