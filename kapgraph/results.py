"""Query results in one engine-neutral shape, and the formats they are written in.

Every engine answers with a :class:`ResultTable` of pyoxigraph terms (``NamedNode``, ``Literal``,
``BlankNode``). ``json``, ``xml``, ``csv`` and ``tsv`` are the W3C SPARQL 1.1 result formats, written
by Oxigraph's own serialisers (:meth:`pyoxigraph.QuerySolutions.serialize`; CSV by Python's RFC 4180
writer, which quotes an IRI holding a comma); ``table`` (rich) and
``md`` are for people and compact IRIs with the project's prefixes. Nothing here imports rdflib.
"""

from __future__ import annotations

import csv
import io
import json

import pyoxigraph as ox

from kapgraph.errors import KapgraphError
from kapgraph.namespaces import PREFIXES

Term = ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple
Row = tuple[Term | None, ...]

TABULAR_FORMATS = ("table", "csv", "tsv", "json", "xml", "md")
GRAPH_FORMATS = ("turtle", "nt", "jsonld")

_XSD = "http://www.w3.org/2001/XMLSchema#"
_XSD_STRING = _XSD + "string"
_RDF_LANG_STRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"
_RESULT_FORMATS = {
    "json": ox.QueryResultsFormat.JSON,
    "xml": ox.QueryResultsFormat.XML,
    "csv": ox.QueryResultsFormat.CSV,
    "tsv": ox.QueryResultsFormat.TSV,
}
_GRAPH_FORMATS = {"turtle": ox.RdfFormat.TURTLE, "nt": ox.RdfFormat.N_TRIPLES, "jsonld": ox.RdfFormat.JSON_LD}


class ResultTable:
    """The answer of a query: variables and rows (SELECT), a boolean (ASK) or triples (CONSTRUCT).

    A plain class rather than a dataclass: dataclasses compile their methods at import time, and
    the cold start of a query is measured in milliseconds.
    """

    __slots__ = ("boolean", "rows", "triples", "vars")

    def __init__(
        self,
        vars: list[str] | None = None,
        rows: list[Row] | None = None,
        boolean: bool | None = None,
        triples: list[ox.Triple] | None = None,
    ):
        self.vars = vars if vars is not None else []
        self.rows = rows if rows is not None else []
        self.boolean = boolean
        self.triples = triples

    def __repr__(self) -> str:
        return f"ResultTable(vars={self.vars!r}, rows={len(self.rows)}, boolean={self.boolean!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ResultTable):
            return NotImplemented
        return (self.vars, self.rows, self.boolean, self.triples) == (
            other.vars, other.rows, other.boolean, other.triples
        )  # fmt: skip

    __hash__ = None  # type: ignore[assignment]

    @property
    def kind(self) -> str:
        if self.triples is not None:
            return "graph"
        if self.boolean is not None:
            return "boolean"
        return "select"

    def column(self, name: str) -> list[Term | None]:
        index = self.vars.index(name)
        return [row[index] for row in self.rows]

    def records(self) -> list[dict[str, Term]]:
        return [{v: t for v, t in zip(self.vars, row, strict=True) if t is not None} for row in self.rows]

    def values(self, name: str) -> list[str]:
        """The lexical forms (IRIs, literal values) of one column, unbound cells left out."""
        return [value(t) for t in self.column(name) if t is not None]


def from_oxigraph(result: ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples) -> ResultTable:
    """Read an Oxigraph query result into a table."""
    if isinstance(result, ox.QueryBoolean):
        return ResultTable(boolean=bool(result))
    if isinstance(result, ox.QueryTriples):
        return ResultTable(triples=list(result))
    names = [v.value for v in result.variables]
    return ResultTable(vars=names, rows=[tuple(solution[n] for n in names) for solution in result])


def value(term: Term | None) -> str:
    """The IRI of a named node, the lexical form of a literal, the label of a blank node."""
    if term is None:
        return ""
    if isinstance(term, ox.Triple):
        return str(term)
    return term.value


def to_python(term: Term | None) -> object:
    """A literal's value as Python (int, Decimal, float, bool, str); an IRI as its string."""
    if not isinstance(term, ox.Literal):
        return None if term is None else value(term)
    datatype = term.datatype.value
    text = term.value
    try:
        if datatype in _INTEGER_TYPES:
            return int(text)
        if datatype == _XSD + "decimal":
            from decimal import Decimal

            return Decimal(text)
        if datatype in (_XSD + "double", _XSD + "float"):
            return float(text)
        if datatype == _XSD + "boolean":
            return text in ("true", "1")
    except ValueError:  # an ill-typed literal stays its lexical form
        return text
    return text


_INTEGER_TYPES = {
    _XSD + name
    for name in (
        "integer", "int", "long", "short", "byte", "nonNegativeInteger", "positiveInteger", "nonPositiveInteger",
        "negativeInteger", "unsignedLong", "unsignedInt", "unsignedShort", "unsignedByte",
    )
}  # fmt: skip


def compact(term: Term | None) -> str:
    """A short human-readable form: CURIE for known namespaces, lexical form for literals."""
    if term is None:
        return ""
    if isinstance(term, ox.NamedNode):
        iri = term.value
        best = ""
        for prefix, ns in PREFIXES.items():
            if iri.startswith(ns) and len(ns) > len(best):
                best, name = ns, f"{prefix}:{iri[len(ns) :]}"
        return name if best else iri
    if isinstance(term, ox.Literal):
        return term.value
    return str(term)


def compact_iri(iri: str) -> str:
    return compact(ox.NamedNode(iri))


def _json_term(term: Term) -> dict[str, str]:
    if isinstance(term, ox.NamedNode):
        return {"type": "uri", "value": term.value}
    if isinstance(term, ox.BlankNode):
        return {"type": "bnode", "value": term.value}
    if isinstance(term, ox.Literal):
        out = {"type": "literal", "value": term.value}
        if term.language:
            out["xml:lang"] = term.language
        elif term.datatype.value != _XSD_STRING:
            out["datatype"] = term.datatype.value
        return out
    raise ValueError(f"cannot write {term!r} as a SPARQL JSON result term")


def solutions_json(table: ResultTable) -> bytes:
    """The table as SPARQL 1.1 Query Results JSON (the form every other result format is made from)."""
    if table.kind == "boolean":
        return json.dumps({"head": {}, "boolean": bool(table.boolean)}).encode()
    bindings = [{v: _json_term(t) for v, t in zip(table.vars, row, strict=True) if t is not None} for row in table.rows]
    return json.dumps({"head": {"vars": table.vars}, "results": {"bindings": bindings}}, ensure_ascii=False).encode()


def _markdown(table: ResultTable) -> str:
    def cell(term: Term | None) -> str:
        return compact(term).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(table.vars) + " |", "|" + "---|" * len(table.vars)]
    lines += ["| " + " | ".join(cell(t) for t in row) + " |" for row in table.rows]
    return "\n".join(lines) + "\n"


def _rich_table(table: ResultTable) -> str:
    import shutil  # here: with bz2 and lzma, 2 ms of a cold query that writes no table

    from rich.console import Console
    from rich.table import Table

    grid = Table(show_lines=False, header_style="bold")
    for v in table.vars:
        grid.add_column(v, overflow="fold")
    for row in table.rows:
        grid.add_row(*(compact(t) for t in row))
    # fit the terminal ($COLUMNS or the tty's size); long cells fold onto several lines
    width = max(40, shutil.get_terminal_size((160, 24)).columns)
    console = Console(file=io.StringIO(), width=width, force_terminal=False, color_system=None)
    console.print(grid)
    console.print(f"{len(table.rows)} row{'s' if len(table.rows) != 1 else ''}")
    return console.file.getvalue()  # type: ignore[attr-defined]


def _csv(table: ResultTable) -> str:
    """SPARQL 1.1 Query Results CSV (§2), written with Python's RFC 4180 writer.

    Oxigraph's CSV serialiser quotes literals but not IRIs, and an IRI may hold a comma
    (``.../wiki/Washington,_D.C.``): such a row would gain a column. Here every field that holds a
    comma, a quote, CR or LF is quoted, quotes doubled, records end with CRLF; an IRI is written
    bare, a literal as its lexical form, a blank node as ``_:label``, an unbound variable empty.
    """

    def field(term: Term | None) -> str:
        if term is None:
            return ""
        if isinstance(term, ox.BlankNode):
            return f"_:{term.value}"
        return value(term)

    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(table.vars)
    for row in table.rows:
        writer.writerow([field(term) for term in row])
    return out.getvalue()


def render(table: ResultTable, fmt: str) -> str:
    """Write a result in one of :data:`TABULAR_FORMATS` (or a graph in :data:`GRAPH_FORMATS`)."""
    if table.kind == "graph":
        assert table.triples is not None
        data = ox.serialize(table.triples, format=_GRAPH_FORMATS.get(fmt, ox.RdfFormat.TURTLE), prefixes=PREFIXES)
        return (data or b"").decode("utf-8")
    if table.kind == "boolean" and fmt in ("table", "md", "csv", "tsv"):
        return ("true" if table.boolean else "false") + "\n"
    if fmt == "csv" and not any(isinstance(t, ox.Triple) for row in table.rows for t in row):
        return _csv(table)
    if fmt in _RESULT_FORMATS:
        parsed = ox.parse_query_results(solutions_json(table), format=ox.QueryResultsFormat.JSON)
        text = (parsed.serialize(format=_RESULT_FORMATS[fmt]) or b"").decode("utf-8")
        return text if text.endswith("\n") else text + "\n"
    if fmt == "md":
        return _markdown(table)
    if fmt == "table":
        return _rich_table(table)
    raise ValueError(f"unknown format {fmt!r}")


class FormatError(KapgraphError):
    """The asked result format does not apply to the query's form (exit 2)."""


def result_format(table: ResultTable, asked: str | None, default: str) -> str:
    """The format to write *table* in: *asked* if it applies to the query form, else FormatError."""
    if table.kind == "graph":
        if asked is None:
            return "turtle"
        if asked not in GRAPH_FORMATS:
            raise FormatError(
                f"--format {asked} is for SELECT and ASK results; a CONSTRUCT or DESCRIBE result is written "
                f"as {', '.join(GRAPH_FORMATS)}"
            )
        return asked
    if asked in GRAPH_FORMATS:
        form = "an ASK" if table.kind == "boolean" else "a SELECT"
        raise FormatError(
            f"--format {asked} is for CONSTRUCT and DESCRIBE results; {form} result is written as "
            f"{', '.join(TABULAR_FORMATS)}"
        )
    return asked or default


def with_curies(table: ResultTable) -> ResultTable:
    """The same table with every IRI the prefix map knows written as a compact CURIE (a literal)."""
    from kapgraph.namespaces import converter

    convert = converter()

    def shorten(term: Term | None) -> Term | None:
        if isinstance(term, ox.NamedNode):
            curie = convert.compress(term.value)
            return ox.Literal(curie) if curie else term
        return term

    rows = [tuple(shorten(t) for t in row) for row in table.rows]
    return ResultTable(vars=table.vars, rows=rows, boolean=table.boolean, triples=table.triples)


def literal_table(names: list[str], rows: list[tuple[object, ...]]) -> ResultTable:
    """A table of plain literals from Python values (None is an empty cell), for reports."""
    return ResultTable(
        vars=list(names), rows=[tuple(ox.Literal("" if v is None else str(v)) for v in row) for row in rows]
    )
