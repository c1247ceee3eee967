"""Input limits: what the parsers and serialisers underneath cannot take is refused before it reaches them.

Measured on pyoxigraph 0.5.13 with an 8 MiB main-thread stack: its SPARQL parser segfaults at
2,500 nested ``{`` (2,000 pass) and at 5,000 nested ``(`` (4,000 pass); 5,000 ``[`` did not crash. kapgraph
refuses nesting deeper than :data:`MAX_QUERY_NESTING` over all bracket kinds together (``(``, ``{``,
``[``; a subquery is a ``{``), far below, and evaluates queries on a thread with a 64 MiB stack
(:mod:`kapgraph.interrupt`). RDF/XML with a DOCTYPE (internal entities: "billion laughs") is refused
before parsing. Oxigraph's parsers stop at a 16 MiB token (a literal or IRI): that is reported as a
limit. rdflib's JSON-LD serialiser recurses once per level of nested blank nodes: the JSON-LD export
refuses nesting deeper than :data:`MAX_BNODE_NESTING`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from kapgraph.errors import KapgraphError, LoadError
from kapgraph.querytext import MAX_READINGS, readings

MAX_QUERY_NESTING = 256
MAX_QUERY_BYTES = 8 * 1024 * 1024
MAX_TOKEN_BYTES = 16 * 1024 * 1024  # Oxigraph's parser buffer
MAX_BNODE_NESTING = 100
MAX_PARAM_CHARS = 10_000

_XML_SUFFIXES = (".rdf", ".owl", ".xml")
_DOCTYPE = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.I)


class LimitExceeded(KapgraphError):
    """An input is beyond what kapgraph (or the parsers underneath) can safely take (exit 2)."""


def query_nesting(sparql: str) -> int:
    """The deepest nesting of ``(``, ``{`` and ``[`` outside strings, IRIs and comments.

    Over every reading of the text (:func:`kapgraph.querytext.readings`): a ``<`` that may be the
    less-than operator or the start of an IRI is taken both ways, so brackets between ``1<`` and a
    later ``>`` count, as they do for the parser.
    """
    return readings(sparql).deepest


def check_query(sparql: str, where: str = "the query") -> None:
    """Raise LimitExceeded for a query too long or too deeply nested for the engines' parsers."""
    if len(sparql.encode("utf-8", "surrogatepass")) > MAX_QUERY_BYTES:
        raise LimitExceeded(f"{where} is longer than the limit of {MAX_QUERY_BYTES // (1024 * 1024)} MiB")
    scan = readings(sparql)
    if scan.overflow:
        raise LimitExceeded(
            f"{where} can be read in more than {MAX_READINGS} ways ('<' as less-than or as the start of an "
            "IRI), too many to check its nesting; put spaces around the '<' operators"
        )
    if scan.deepest > MAX_QUERY_NESTING:
        raise LimitExceeded(
            f"{where} nests brackets {scan.deepest} deep; the limit is {MAX_QUERY_NESTING} "
            "(deeper nesting overflows the SPARQL parser's stack)"
        )


def check_rdf_file(path: Path, data: bytes | None = None) -> None:
    """Refuse an XML file that declares a DOCTYPE or entities (entity expansion, "billion laughs"),
    and a JSON-LD file that names graphs (see :func:`_check_default_graph`).

    *data*: the file's bytes, when they are what will be parsed (read before)."""
    if path.suffix.lower() == ".jsonld":
        _check_default_graph(path, data)
        return
    if path.suffix.lower() not in _XML_SUFFIXES:
        return
    if data is not None:
        if _DOCTYPE.search(data):
            raise _doctype(path)
        return
    try:
        with path.open("rb") as handle:
            tail = b""
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                if _DOCTYPE.search(tail + chunk):
                    raise _doctype(path)
                tail = chunk[-16:]
    except OSError:
        return  # the parser reports the unreadable file, with its reason


def _check_default_graph(path: Path, data: bytes | None) -> None:
    """LoadError if the JSON-LD file states a triple in a named graph.

    Each input file is read into a graph of its own, named after the file; a graph named inside a
    file would be kept apart by Oxigraph and dropped by rdflib (and so by pySHACL): never read it
    silently one way or the other. (Of the formats kapgraph reads, only JSON-LD can name graphs.)
    """
    import pyoxigraph as ox

    try:
        where = {"path": str(path)} if data is None else {"input": data}
        for quad in ox.parse(**where, format=ox.RdfFormat.JSON_LD, base_iri=path.absolute().as_uri()):
            if not isinstance(quad.graph_name, ox.DefaultGraph):
                raise LoadError(
                    f"{path}: states triples in the named graph {quad.graph_name}; kapgraph reads each file "
                    "into a graph of its own (named after the file), so a file cannot name graphs: "
                    'take the "@id" off the "@graph" object, or move its triples to the top level'
                )
    except (SyntaxError, OSError, ValueError, MemoryError):
        return  # the parser reports it, with its reason


def _doctype(path: Path) -> LimitExceeded:
    return LimitExceeded(
        f"{path}: the RDF/XML declares a DOCTYPE or ENTITY; kapgraph refuses XML entity "
        "declarations (entity expansion can exhaust memory)"
    )


def too_big_token(path: Path | str) -> LimitExceeded:
    return LimitExceeded(
        f"{path}: a literal or IRI is longer than the parser's limit of {MAX_TOKEN_BYTES // (1024 * 1024)} MiB"
    )


def bnode_nesting(triples: Iterable[tuple[object, object, object]], is_blank: type) -> int:
    """How deep blank nodes nest as objects of blank nodes (iteratively: no recursion)."""
    children: dict[object, list[object]] = {}
    blanks_as_objects: set[object] = set()
    for s, _p, o in triples:
        if isinstance(o, is_blank):
            blanks_as_objects.add(o)
            if isinstance(s, is_blank):
                children.setdefault(s, []).append(o)
    depth: dict[object, int] = {}
    deepest = 0
    for root in [b for b in children if b not in blanks_as_objects] + list(children):
        if root in depth:
            continue
        stack: list[tuple[object, int]] = [(root, 1)]
        while stack:
            node, level = stack.pop()
            if depth.get(node, 0) >= level:
                continue
            depth[node] = level
            deepest = max(deepest, level)
            if level > MAX_BNODE_NESTING + 1:
                return level
            stack.extend((child, level + 1) for child in children.get(node, ()))
    return deepest


def check_param(name: str, value: str) -> None:
    """Refuse a parameter value that is not valid text (invalid UTF-8 from the shell) or too long."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise LimitExceeded(f"parameter {name!r}: the value is not valid UTF-8 text") from None
    if len(value) > MAX_PARAM_CHARS:
        raise LimitExceeded(f"parameter {name!r}: the value is longer than {MAX_PARAM_CHARS:,} characters")
