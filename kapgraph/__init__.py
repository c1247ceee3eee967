"""kapgraph: a knowledge graph of the clinical evidence on ketamine-assisted psychotherapy.

The library API lives in small modules named for what they do:

- :mod:`kapgraph.loading`    find RDF files and load them natively, one named graph per file
- :mod:`kapgraph.store`      the persistent on-disk Oxigraph store and its cache
- :mod:`kapgraph.backends`   the query engines (Oxigraph, rdflib) behind one interface
- :mod:`kapgraph.catalog`    the stored-query catalog (``queries/*.rq`` and their headers)
- :mod:`kapgraph.binding`    turning ``--param`` values into RDF terms bound into a query
- :mod:`kapgraph.results`    result tables and the W3C result formats
- :mod:`kapgraph.validation` SHACL validation with pySHACL
- :mod:`kapgraph.export`     serialising the whole graph (and the JSON-LD context)
- :mod:`kapgraph.reproduce`  recomputing the review's own figures and comparing
- :mod:`kapgraph.figures`    redrawing the review's figures and tables
- :mod:`kapgraph.mappings`   the SSSOM mapping set
- :mod:`kapgraph.namespaces` prefixes and the CURIE converter
- :mod:`kapgraph.files`      atomic file writing
- :mod:`kapgraph.cache`      the cache folder: what a cold command would compute again, by content hash
- :mod:`kapgraph.api`        the functions the CLI calls
"""

from typing import Any

__all__ = ["__version__"]


def __getattr__(name: str) -> Any:
    # read on first use: importlib.metadata costs a third of a cold query's start-up
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            value = version("kapgraph")
        except PackageNotFoundError:  # pragma: no cover - running from a source tree without installing
            value = "0+unknown"
        globals()["__version__"] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
