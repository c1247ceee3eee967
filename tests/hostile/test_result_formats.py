"""The W3C result formats (tsv, csv, json, xml) are exact on hostile literals, checked by a parser.

Each hostile term is written by :func:`kapgraph.results.render` and read back with
``pyoxigraph.parse_query_results``: tsv, json and xml keep the term itself (value, language tag,
datatype). CSV keeps, by its specification, the lexical form only (SPARQL 1.1 CSV §2), and
pyoxigraph refuses to parse it as lossy: it is read back with Python's RFC 4180 ``csv`` reader.
Also checked against the specifications' own rules: CSV records end with CRLF and a field with a
comma, quote or line break is quoted with quotes doubled; TSV escapes tab and newline inside literals.
"""

from __future__ import annotations

import csv
import io

import pyoxigraph as ox
import pytest

from kapgraph.results import ResultTable, render

XSD = "http://www.w3.org/2001/XMLSchema#"
HOSTILE = [
    ox.Literal("line one\nline two"),
    ox.Literal("carriage\r\nreturn"),
    ox.Literal("tab\there"),
    ox.Literal('a "quoted" word'),
    ox.Literal("comma, separated"),
    ox.Literal("semi;colon|pipe"),
    ox.Literal("backslash \\ and \\n literally"),
    ox.Literal("café – Ψ – 日本語 – 🙂"),
    ox.Literal("<not an IRI> & ampersand ]]> cdata end"),
    ox.Literal("  leading and trailing spaces  "),
    ox.Literal(""),
    ox.Literal("ketamine", language="en"),
    ox.Literal('Ketamin, "gut"', language="de-CH"),
    ox.Literal("42", datatype=ox.NamedNode(XSD + "integer")),
    ox.Literal("-0.5e3", datatype=ox.NamedNode(XSD + "double")),
    ox.Literal("2019", datatype=ox.NamedNode(XSD + "gYear")),
    ox.Literal("x\ty", datatype=ox.NamedNode("http://example.org/type#with,comma")),
    ox.NamedNode("http://example.org/a,b?c=d;e&f#g"),
    ox.BlankNode("b0"),
]
FORMATS = {
    "tsv": ox.QueryResultsFormat.TSV,
    "csv": ox.QueryResultsFormat.CSV,
    "json": ox.QueryResultsFormat.JSON,
    "xml": ox.QueryResultsFormat.XML,
}


def _table(term: ox.NamedNode | ox.BlankNode | ox.Literal) -> ResultTable:
    return ResultTable(vars=["x", "y"], rows=[(term, None), (ox.Literal("after"), term)])


@pytest.mark.parametrize("fmt", ["tsv", "json", "xml"])
@pytest.mark.parametrize("term", HOSTILE, ids=lambda t: repr(str(t))[:40])
def test_round_trip(fmt: str, term: ox.NamedNode | ox.BlankNode | ox.Literal) -> None:
    text = render(_table(term), fmt)
    parsed = ox.parse_query_results(text.encode("utf-8"), format=FORMATS[fmt])
    assert isinstance(parsed, ox.QuerySolutions)
    assert [v.value for v in parsed.variables] == ["x", "y"]
    rows = [(s["x"], s["y"]) for s in parsed]
    if isinstance(term, ox.BlankNode):  # blank node labels may be renamed, consistently
        assert isinstance(rows[0][0], ox.BlankNode) and rows[0][0] == rows[1][1] and rows[0][1] is None
    else:
        assert rows == [(term, None), (ox.Literal("after"), term)]


@pytest.mark.parametrize("term", HOSTILE, ids=lambda t: repr(str(t))[:40])
def test_csv_follows_rfc4180(term: ox.NamedNode | ox.BlankNode | ox.Literal) -> None:
    """Every kind of term, IRIs with a comma too (SPARQL 1.1 CSV: an IRI is written bare, so it is quoted)."""
    text = render(_table(term), "csv")
    assert text.startswith("x,y\r\n") and text.endswith("\r\n")
    records = list(csv.reader(io.StringIO(text, newline="")))
    expected = f"_:{term.value}" if isinstance(term, ox.BlankNode) else term.value
    assert records == [["x", "y"], [expected, ""], ["after", expected]]


@pytest.mark.parametrize("term", [t for t in HOSTILE if isinstance(t, ox.Literal)], ids=lambda t: repr(t.value)[:40])
def test_tsv_one_line_per_row(term: ox.Literal) -> None:
    lines = render(_table(term), "tsv").rstrip("\n").split("\n")
    assert len(lines) == 3  # header + 2 rows: tabs and line breaks inside literals are escaped
    assert all(line.count("\t") == 1 for line in lines)
