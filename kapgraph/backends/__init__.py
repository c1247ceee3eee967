"""Query engines behind one small interface, as rdflib keeps its stores in ``plugins/stores``.

Every engine answers :meth:`Engine.query` with a :class:`~kapgraph.results.ResultTable` of
pyoxigraph terms, so the same stored query runs on each and tests can compare them:

- ``oxigraph`` (default, :mod:`kapgraph.backends.oxigraph`): a native pyoxigraph store, in memory
  or on disk (:mod:`kapgraph.store`), one named graph per source file, queried over their union;
- ``rdflib`` (:mod:`kapgraph.backends.rdflib_graph`): rdflib's in-memory graph and its own
  pure-Python SPARQL engine, the reference to compare with;
- ``remote`` (:mod:`kapgraph.backends.remote`): any SPARQL 1.1 Protocol endpoint, through SPARQLWrapper.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from kapgraph.errors import EngineError
from kapgraph.loading import Source
from kapgraph.results import ResultTable

ENGINES = ("oxigraph", "rdflib", "remote")


class Engine(Protocol):
    name: str
    #: the files the engine's graph was loaded from
    sources: list[Source]

    def query(self, sparql: str) -> ResultTable:
        """Run a SPARQL 1.1 query (SELECT, ASK, CONSTRUCT or DESCRIBE) over the union of the sources."""
        ...

    def triple_count(self) -> int:
        """The number of distinct asserted triples in the merged graph."""
        ...

    def inferred_count(self) -> int:
        """The number of inferred triples the engine's queries see (kapgraph.materialise)."""
        ...


def open_engine(
    name: str = "oxigraph",
    data: Sequence[Path | str] | None = None,
    *,
    store: Path | str | None = None,
    asserted_only: bool = False,
    endpoint: str | None = None,
    timeout: float | None = None,
    user: str | None = None,
    password: str | None = None,
    graph: str | None = None,
) -> Engine:
    """Load the ontology and data (bundled unless *data* is given) into the named engine.

    For ``oxigraph``, *store* (or ``KAPGRAPH_STORE``) names an on-disk store folder; without one,
    sources larger than :data:`kapgraph.store.CACHE_THRESHOLD` go through the automatic cache and
    smaller ones are loaded into memory. The entailed triples (:mod:`kapgraph.materialise`) are
    queried with the asserted ones unless *asserted_only*. For ``remote``, *endpoint* is the query URL; *timeout*
    (seconds, default 60), *user* and *password* (HTTP basic auth) and *graph* (``default-graph-uri``)
    shape each request.
    """
    if name == "oxigraph":
        from kapgraph.backends.oxigraph import open_oxigraph

        return open_oxigraph(data, store=store, asserted_only=asserted_only)
    if name == "rdflib":
        from kapgraph.backends.rdflib_graph import RdflibEngine

        return RdflibEngine.load(data, asserted_only=asserted_only)
    if name == "remote":
        from kapgraph.backends.remote import DEFAULT_TIMEOUT, RemoteEngine

        if not endpoint:
            raise EngineError("the remote engine needs an endpoint URL (--endpoint or KAPGRAPH_ENDPOINT)")
        limit = DEFAULT_TIMEOUT if timeout is None else timeout
        return RemoteEngine(endpoint, timeout=limit, user=user, password=password, graph=graph)
    raise EngineError(f"unknown engine {name!r}; choose one of: {', '.join(ENGINES)}")
