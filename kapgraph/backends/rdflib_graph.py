"""The reference engine: rdflib's in-memory graph and its own pure-Python SPARQL engine.

Files are parsed with Oxigraph's parsers (through oxrdflib, for ``file:line:column`` errors) into
one rdflib graph. Answers are converted to pyoxigraph terms so that they compare with the
embedded engine's.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pyoxigraph as ox
from rdflib import XSD, BNode, Graph, Literal, URIRef
from rdflib.query import Result

from kapgraph.backends.base import oxigraph_syntax_message, refuse_update
from kapgraph.errors import EngineError, QuerySyntaxError
from kapgraph.interrupt import evaluate
from kapgraph.limits import LimitExceeded, check_query
from kapgraph.loading import Source, new_graph, parse_file, sources
from kapgraph.results import ResultTable, Term


def _simple(term: Any) -> Any:
    # Oxigraph's parsers type plain strings as xsd:string (RDF 1.1); rdflib's SPARQL engine still
    # tells "x" and "x"^^xsd:string apart, so string comparisons would silently fail on it.
    if isinstance(term, Literal) and term.datatype == XSD.string:
        return Literal(str(term))
    return term


def to_oxigraph(term: Any) -> Term | None:
    """An rdflib term as the pyoxigraph term every ResultTable holds."""
    if term is None:
        return None
    if isinstance(term, URIRef):
        return ox.NamedNode(str(term))
    if isinstance(term, BNode):
        return ox.BlankNode(str(term))
    if isinstance(term, Literal):
        if term.language:
            return ox.Literal(str(term), language=term.language)
        if term.datatype is not None:
            return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype)))
        return ox.Literal(str(term))
    raise EngineError(f"the rdflib engine returned a term kapgraph cannot read: {term!r}")


def from_oxigraph_term(term: Any) -> Any:
    """A pyoxigraph term as an rdflib term (plain strings without xsd:string, as the graph holds them)."""
    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    if isinstance(term, ox.Literal):
        if term.language:
            return Literal(term.value, lang=term.language)
        if term.datatype.value == str(XSD.string):
            return Literal(term.value)
        return Literal(term.value, datatype=URIRef(term.datatype.value))
    raise EngineError(f"kapgraph cannot convert the term {term!r} to rdflib")


class RdflibEngine:
    name = "rdflib"

    def __init__(self, graph: Graph, files: list[Source], *, inferred: int = 0):
        self.graph = graph
        self.sources = files
        self._inferred = inferred

    @classmethod
    def load(cls, data: Sequence[Path | str] | None = None, *, asserted_only: bool = False) -> RdflibEngine:
        """The sources in one rdflib graph, with the inferred triples unless *asserted_only*.

        The inferred triples are those the embedded engine materialises (:mod:`kapgraph.materialise`),
        so that both engines answer alike."""
        from kapgraph.gcpause import gc_paused

        files = sources(data)
        with gc_paused():  # 1,000 synthetic studies: 22 s -> 17 s
            parsed = [parse_file(s.path) for s in files]  # all or nothing
            graph = new_graph()
            for part in parsed:
                graph.addN((s, p, _simple(o), graph) for s, p, o in part)
            del parsed
            inferred = 0
            if not asserted_only:
                from kapgraph.backends.oxigraph import open_oxigraph
                from kapgraph.materialise import inferred_triples

                native = open_oxigraph(data)
                for triple in inferred_triples(native.store):
                    graph.add(tuple(from_oxigraph_term(t) for t in triple))
                    inferred += 1
        return cls(graph, files, inferred=inferred)

    def query(self, sparql: str) -> ResultTable:
        refuse_update(sparql)
        check_query(sparql)

        def run() -> ResultTable:
            # parsing and translating to algebra take long for a long flat query: both run inside
            # the limited, interruptible evaluation, like the evaluation itself
            prepared = self._check_syntax(sparql)
            return _table(self.graph.query(prepared))

        try:
            return evaluate(run, sparql, "the rdflib engine")
        except SyntaxError as exc:
            raise QuerySyntaxError(oxigraph_syntax_message(str(exc))) from None
        except (QuerySyntaxError, EngineError):
            raise
        except RecursionError:
            raise LimitExceeded("the query nests too deeply for the rdflib engine; use --engine oxigraph") from None
        except Exception as exc:  # rdflib's evaluation failures have no common base class
            if "requiring a dataset" in str(exc):  # GRAPH, FROM NAMED
                raise EngineError(
                    "the rdflib engine holds the files' triples in one graph, without the named graphs that "
                    "GRAPH or FROM NAMED reads; use --engine oxigraph (a named graph per file)"
                ) from None
            raise EngineError(f"the rdflib engine could not evaluate the query: {exc}") from None

    def triple_count(self) -> int:
        """The asserted triples."""
        return len(self.graph) - self._inferred

    def inferred_count(self) -> int:
        return self._inferred

    def _check_syntax(self, sparql: str) -> Any:
        """The query parsed and translated (rdflib's prepared query), or QuerySyntaxError."""
        from pyparsing import ParseException
        from rdflib.plugins.sparql import prepareQuery

        try:
            return prepareQuery(sparql, initNs=dict(self.graph.namespaces()))
        except ParseException as exc:
            raise QuerySyntaxError(f"SPARQL syntax error at line {exc.lineno}, column {exc.col}: {exc.msg}") from None
        except Exception as exc:  # rdflib raises a bare Exception for an unknown prefix
            raise QuerySyntaxError(f"SPARQL error: {exc}") from None


def _table(result: Result) -> ResultTable:
    if result.type == "ASK":
        return ResultTable(boolean=bool(result.askAnswer))
    if result.type in ("CONSTRUCT", "DESCRIBE"):
        assert result.graph is not None
        return ResultTable(
            triples=[ox.Triple(to_oxigraph(s), to_oxigraph(p), to_oxigraph(o)) for s, p, o in result.graph]  # type: ignore[arg-type]
        )
    names = [str(v) for v in (result.vars or [])]
    return ResultTable(vars=names, rows=[tuple(to_oxigraph(_simple(t)) for t in row) for row in result])  # type: ignore[union-attr]
