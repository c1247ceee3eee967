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
from kapgraph.loading import Source, load_small, sources
from kapgraph.materialise import INFERRED_GRAPH, materialise_cached
from kapgraph.namespaces import PREFIXES
from kapgraph.results import ResultTable, from_oxigraph

#: sources larger than this (bytes, all files together) are loaded through the automatic cache
#: (:func:`kapgraph.store.default_cache`) instead of into memory: about where a warm store opens
#: faster than the files parse (0.2 s on a 2-core machine)
CACHE_THRESHOLD = 4 * 1024 * 1024


class OxigraphEngine:
    name = "oxigraph"

    def __init__(
        self,
        store: ox.Store,
        files: list[Source],
        *,
        triples: int | None = None,
        location: Path | None = None,
        asserted_only: bool = False,
    ):
        self.store = store
        self.sources = files
        #: the on-disk build the store was opened from (None: in memory)
        self.location = location
        #: queries leave out the inferred graph (kapgraph.materialise.INFERRED_GRAPH)
        self.asserted_only = asserted_only
        self._triples = triples
        self._paths = {s.graph: s.path for s in files}
        self._asserted: list[ox.NamedNode | ox.BlankNode] = [ox.NamedNode(s.graph) for s in files]

    def query(self, sparql: str) -> ResultTable:
        refuse_update(sparql)
        check_query(sparql)

        def run() -> ResultTable:
            if self.asserted_only:
                graphs = self._asserted
                result = self.store.query(sparql, default_graph=list(graphs), named_graphs=graphs, prefixes=PREFIXES)
            else:
                result = self.store.query(sparql, use_default_graph_as_union=True, prefixes=PREFIXES)
            return from_oxigraph(result)

        try:
            return evaluate(run, sparql, "the oxigraph engine")
        except SyntaxError as exc:  # "error at L:C: ..."
            raise QuerySyntaxError(oxigraph_syntax_message(str(exc))) from None
        except (OSError, RuntimeError, ValueError) as exc:  # evaluation failures (SERVICE, I/O)
            raise EngineError(f"the oxigraph engine could not evaluate the query: {exc}") from None

    def triple_count(self) -> int:
        """The asserted triples (the inferred graph holds only triples that no source states)."""
        if self._triples is None:
            # one graph per file, duplicates dropped: distinct triples
            self._triples = len(self.store) - self.inferred_count()
        return self._triples

    def inferred_count(self) -> int:
        """The triples of the inferred graph (0 with asserted_only)."""
        if self.asserted_only:
            return 0
        return sum(1 for _ in self.store.quads_for_pattern(None, None, None, ox.NamedNode(INFERRED_GRAPH)))

    def files_of(
        self,
        subject: ox.NamedNode | ox.BlankNode,
        predicate: ox.NamedNode | None = None,
        obj: ox.NamedNode | ox.BlankNode | ox.Literal | None = None,
    ) -> list[Path]:
        """The files that state (subject, predicate, obj) — or anything about *subject* when those are None."""
        graphs = {q.graph_name for q in self.store.quads_for_pattern(subject, predicate, obj, None)}
        return sorted(self._paths[g.value] for g in graphs if isinstance(g, ox.NamedNode) and g.value in self._paths)


def open_oxigraph(
    data: Sequence[Path | str] | None = None, *, store: Path | str | None = None, asserted_only: bool = False
) -> OxigraphEngine:
    """The ontology and the data in an Oxigraph store: on disk if asked or large, else in memory.

    The entailments are materialised into the inferred graph (:mod:`kapgraph.materialise`): in memory
    for small data, with the on-disk build otherwise (cached with it). *asserted_only* leaves them out.
    """
    files = sources(data)
    folder = store or os.environ.get("KAPGRAPH_STORE") or None
    if folder is None and sum(s.path.stat().st_size for s in files) <= CACHE_THRESHOLD:
        memory, inputs = load_small(files)
        if not asserted_only:
            materialise_cached(memory, inputs)
        return OxigraphEngine(memory, files, asserted_only=asserted_only)
    from kapgraph import store as stores  # only for data that is not small

    if folder is None:
        folder = stores.default_cache(files)
    opened = stores.StoreDir(folder).open(files)
    engine = OxigraphEngine(
        opened.store, files, triples=opened.manifest.triples, location=opened.path, asserted_only=asserted_only
    )
    engine._opened = opened  # type: ignore[attr-defined]  # keeps the build's in-use lock while the engine lives
    return engine
