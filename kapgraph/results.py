"""Query results in one engine-neutral shape, and the formats they are written in.

``json``, ``xml``, ``csv`` and ``tsv`` are the W3C SPARQL 1.1 result formats (the first three
written by rdflib's serializers); ``table`` (rich) and ``md`` are for people and compact IRIs
with the project's prefixes.
"""

from __future__ import annotations

import io
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field

from rdflib import XSD, Graph, Literal, URIRef, Variable
from rdflib.query import Result
from rdflib.term import Identifier

from kapgraph.namespaces import PREFIXES

Row = tuple[Identifier | None, ...]

TABULAR_FORMATS = ("table", "csv", "tsv", "json", "xml", "md")
GRAPH_FORMATS = ("turtle", "nt", "jsonld")


@dataclass
class ResultTable:
    """The answer of a query: variables and rows (SELECT), a boolean (ASK) or a graph (CONSTRUCT)."""

    vars: list[str] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)
    boolean: bool | None = None
    graph: Graph | None = None

    @property
    def kind(self) -> str:
        if self.graph is not None:
            return "graph"
        if self.boolean is not None:
            return "boolean"
        return "select"

    def column(self, name: str) -> list[Identifier | None]:
        index = self.vars.index(name)
        return [row[index] for row in self.rows]

    def records(self) -> list[dict[str, Identifier]]:
        return [{v: t for v, t in zip(self.vars, row, strict=True) if t is not None} for row in self.rows]


def compact(term: Identifier | None) -> str:
    """A short human-readable form: CURIE for known namespaces, lexical form for literals."""
    if term is None:
        return ""
    if isinstance(term, URIRef):
        iri = str(term)
        best = ""
        for prefix, ns in PREFIXES.items():
            if iri.startswith(ns) and len(ns) > len(best):
                best, name = ns, f"{prefix}:{iri[len(ns) :]}"
        return name if best else iri
    if isinstance(term, Literal):
        return str(term)
    return term.n3()


def _rdflib_result(table: ResultTable) -> Result:
    if table.kind == "boolean":
        result = Result("ASK")
        result.askAnswer = bool(table.boolean)
        return result
    result = Result("SELECT")
    result.vars = [Variable(v) for v in table.vars]
    result.bindings = [
        {Variable(v): t for v, t in zip(table.vars, row, strict=True) if t is not None} for row in table.rows
    ]
    return result


def _tsv(table: ResultTable) -> str:
    # SPARQL 1.1 TSV: header of ?vars, terms in Turtle/SPARQL syntax, unbound = empty
    out = io.StringIO()
    out.write("\t".join(f"?{v}" for v in table.vars) + "\n")
    for row in table.rows:
        out.write("\t".join("" if t is None else t.n3() for t in row) + "\n")
    return out.getvalue()


def _markdown(table: ResultTable) -> str:
    def cell(term: Identifier | None) -> str:
        return compact(term).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(table.vars) + " |", "|" + "---|" * len(table.vars)]
    lines += ["| " + " | ".join(cell(t) for t in row) + " |" for row in table.rows]
    return "\n".join(lines) + "\n"


def _rich_table(table: ResultTable) -> str:
    from rich.console import Console
    from rich.table import Table

    grid = Table(show_lines=False, header_style="bold")
    for v in table.vars:
        grid.add_column(v, overflow="fold")
    for row in table.rows:
        grid.add_row(*(compact(t) for t in row))
    width = max(80, shutil.get_terminal_size((160, 24)).columns)
    console = Console(file=io.StringIO(), width=width, force_terminal=False, color_system=None)
    console.print(grid)
    console.print(f"{len(table.rows)} row{'s' if len(table.rows) != 1 else ''}")
    return console.file.getvalue()  # type: ignore[attr-defined]


def render(table: ResultTable, fmt: str) -> str:
    """Write a result in one of :data:`TABULAR_FORMATS` (or a graph in :data:`GRAPH_FORMATS`)."""
    if table.kind == "graph":
        assert table.graph is not None
        graph_fmt = {"nt": "nt", "jsonld": "json-ld"}.get(fmt, "turtle")
        return table.graph.serialize(format=graph_fmt)
    if table.kind == "boolean" and fmt in ("table", "md", "csv", "tsv"):
        return ("true" if table.boolean else "false") + "\n"
    if fmt in ("json", "xml", "csv"):
        data = _rdflib_result(table).serialize(format=fmt)
        text = data.decode("utf-8") if isinstance(data, bytes) else str(data)
        return text if text.endswith("\n") else text + "\n"
    if fmt == "tsv":
        return _tsv(table)
    if fmt == "md":
        return _markdown(table)
    if fmt == "table":
        return _rich_table(table)
    raise ValueError(f"unknown format {fmt!r}")


def with_curies(table: ResultTable) -> ResultTable:
    """The same table with every IRI the prefix map knows written as a compact CURIE (a literal)."""
    from kapgraph.namespaces import converter

    convert = converter()

    def shorten(term: Identifier | None) -> Identifier | None:
        if isinstance(term, URIRef):
            curie = convert.compress(str(term))
            return Literal(curie) if curie else term
        return term

    rows = [tuple(shorten(t) for t in row) for row in table.rows]
    return ResultTable(vars=table.vars, rows=rows, boolean=table.boolean, graph=table.graph)


def from_rdflib(result: Result) -> ResultTable:
    if result.type == "ASK":
        return ResultTable(boolean=bool(result.askAnswer))
    if result.type in ("CONSTRUCT", "DESCRIBE"):
        graph = Graph()
        for prefix, iri in PREFIXES.items():
            graph.bind(prefix, iri)
        assert result.graph is not None
        graph += result.graph
        return ResultTable(graph=graph)
    names = [str(v) for v in (result.vars or [])]
    rows: list[Row] = []
    for solution in result:
        row: Sequence[Identifier | None] = tuple(solution)  # type: ignore[arg-type]
        rows.append(tuple(_simple(t) for t in row))
    return ResultTable(vars=names, rows=rows)


def _simple(term: Identifier | None) -> Identifier | None:
    """Write xsd:string literals as simple literals (RDF 1.1 treats them as the same term)."""
    if isinstance(term, Literal) and term.datatype == XSD.string:
        return Literal(str(term))
    return term
