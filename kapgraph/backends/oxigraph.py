"""The embedded engine: a native pyoxigraph store (in memory, or on disk through :mod:`kapgraph.store`).

No term passes through Python on the way in: files are parsed by Oxigraph into one named graph
each, and queries are evaluated over the union of the graphs (``use_default_graph_as_union``).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import pyoxigraph as ox

from kapgraph.backends.base import oxigraph_syntax_message, refuse_update
from kapgraph.errors import EngineError, QuerySyntaxError
from kapgraph.interrupt import evaluate
from kapgraph.limits import check_query
from kapgraph.loading import Source, load_memory, sources
from kapgraph.namespaces import PREFIXES
from kapgraph.results import ResultTable, from_oxigraph

#: sources larger than this (bytes, all files together) are loaded through the automatic cache
#: (:func:`kapgraph.store.default_cache`) instead of into memory: about where a warm store opens
#: faster than the files parse (0.2 s on a 2-core machine)
CACHE_THRESHOLD = 4 * 1024 * 1024


class OxigraphEngine:
    name = "oxigraph"

    def __init__(
        self, store: ox.Store, files: list[Source], *, triples: int | None = None, location: Path | None = None
    ):
        self.store = store
        self.sources = files
        #: the on-disk build the store was opened from (None: in memory)
        self.location = location
        self._triples = triples
        self._paths = {s.graph: s.path for s in files}

    def query(self, sparql: str) -> ResultTable:
        refuse_update(sparql)
        check_query(sparql)

        def run() -> ResultTable:
            result = self.store.query(sparql, use_default_graph_as_union=True, prefixes=PREFIXES)
            return from_oxigraph(result)

        try:
            return evaluate(run, sparql, "the oxigraph engine")
        except SyntaxError as exc:  # "error at L:C: ..."
            raise QuerySyntaxError(oxigraph_syntax_message(str(exc))) from None
        except (OSError, RuntimeError, ValueError) as exc:  # evaluation failures (SERVICE, I/O)
            raise EngineError(f"the oxigraph engine could not evaluate the query: {exc}") from None

    def triple_count(self) -> int:
        if self._triples is None:
            self._triples = len(self.store)  # one graph per file, duplicates dropped: distinct triples
        return self._triples

    def files_of(
        self,
        subject: ox.NamedNode | ox.BlankNode,
        predicate: ox.NamedNode | None = None,
        obj: ox.NamedNode | ox.BlankNode | ox.Literal | None = None,
    ) -> list[Path]:
        """The files that state (subject, predicate, obj) — or anything about *subject* when those are None."""
        graphs = {q.graph_name for q in self.store.quads_for_pattern(subject, predicate, obj, None)}
        return sorted(self._paths[g.value] for g in graphs if isinstance(g, ox.NamedNode) and g.value in self._paths)


def open_oxigraph(data: Sequence[Path | str] | None = None, *, store: Path | str | None = None) -> OxigraphEngine:
    """The ontology and the data in an Oxigraph store: on disk if asked or large, else in memory."""
    files = sources(data)
    folder = store or os.environ.get("KAPGRAPH_STORE") or None
    if folder is None and sum(s.path.stat().st_size for s in files) <= CACHE_THRESHOLD:
        return OxigraphEngine(load_memory(files), files)
    from kapgraph import store as stores  # only for data that is not small

    if folder is None:
        folder = stores.default_cache(files)
    opened = stores.StoreDir(folder).open(files)
    engine = OxigraphEngine(opened.store, files, triples=opened.manifest.triples, location=opened.path)
    engine._opened = opened  # type: ignore[attr-defined]  # keeps the build's in-use lock while the engine lives
    return engine
