"""Query engines behind one small interface.

Every engine answers :meth:`Engine.query` with a :class:`~kapgraph.results.ResultTable`, so the
same stored query runs on each and tests can compare them:

- ``oxigraph`` (default): rdflib graph backed by Oxigraph's store and SPARQL engine (oxrdflib);
- ``rdflib``: rdflib's in-memory store and its own pure-Python SPARQL engine.

A remote endpoint (SPARQLWrapper) will be a third implementation of the same protocol.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from rdflib import Graph

from kapgraph.errors import EngineError, QuerySyntaxError
from kapgraph.loading import LoadedGraph, load
from kapgraph.namespaces import PREFIXES
from kapgraph.results import ResultTable, from_rdflib

ENGINES = ("oxigraph", "rdflib")
_UPDATE = re.compile(
    r"\s*(?:(?:PREFIX\s+[^\s:]*:\s*<[^>]*>|BASE\s*<[^>]*>)\s*)*(?:INSERT|DELETE|LOAD|CLEAR|DROP|CREATE|ADD|MOVE|COPY|WITH)\b",
    re.I,
)


class Engine(Protocol):
    name: str

    def query(self, sparql: str) -> ResultTable:
        """Run a SPARQL 1.1 query (SELECT, ASK, CONSTRUCT or DESCRIBE)."""
        ...


class GraphEngine:
    """An engine over an rdflib :class:`Graph`; the graph's store decides who evaluates SPARQL."""

    def __init__(self, name: str, loaded: LoadedGraph):
        self.name = name
        self.loaded = loaded

    @property
    def graph(self) -> Graph:
        return self.loaded.graph

    def query(self, sparql: str) -> ResultTable:
        if _UPDATE.match(re.sub(r"(?m)^\s*#.*$", "", sparql)):  # whole-line comments only: IRIs hold #
            raise QuerySyntaxError(
                "SPARQL Update (INSERT, DELETE, LOAD, CLEAR, DROP...) is not supported: kapgraph only queries "
                "the graph (SELECT, ASK, CONSTRUCT, DESCRIBE); edit the Turtle files instead"
            )
        if self.name == "rdflib":
            self._check_syntax_rdflib(sparql)
        try:
            return from_rdflib(self.graph.query(sparql))
        except SyntaxError as exc:  # Oxigraph: "error at L:C: ..."
            raise QuerySyntaxError(_oxigraph_syntax_message(str(exc))) from None
        except QuerySyntaxError:
            raise
        except Exception as exc:  # evaluation failures of either engine
            raise EngineError(f"the {self.name} engine could not evaluate the query: {exc}") from None

    def _check_syntax_rdflib(self, sparql: str) -> None:
        from pyparsing import ParseException
        from rdflib.plugins.sparql import prepareQuery

        try:
            prepareQuery(sparql, initNs=dict(self.graph.namespaces()))
        except ParseException as exc:
            raise QuerySyntaxError(f"SPARQL syntax error at line {exc.lineno}, column {exc.col}: {exc.msg}") from None
        except Exception as exc:  # rdflib raises a bare Exception for an unknown prefix
            raise QuerySyntaxError(f"SPARQL error: {exc}") from None


def _oxigraph_syntax_message(text: str) -> str:
    match = re.match(r"error at (\d+):(\d+): (.*)", text, re.S)
    if match:
        line, col, rest = match.groups()
        if "Prefix not found" in rest:
            rest = f"undeclared prefix; declare it with PREFIX (predeclared: {', '.join(PREFIXES)})"
        return f"SPARQL syntax error at line {line}, column {col}: {rest.strip()}"
    return f"SPARQL syntax error: {text}"


def open_engine(name: str = "oxigraph", data: Sequence[Path | str] | None = None) -> GraphEngine:
    """Load the ontology and data (bundled unless *data* is given) into the named engine."""
    if name not in ENGINES:
        raise EngineError(f"unknown engine {name!r}; choose one of: {', '.join(ENGINES)}")
    store = "Oxigraph" if name == "oxigraph" else "default"
    return GraphEngine(name, load(data, store=store))
