"""kapgraph: a knowledge graph of the clinical evidence on ketamine-assisted psychotherapy.

The library API lives in small modules named for what they do:

- :mod:`kapgraph.loading`    find and parse RDF files into a graph
- :mod:`kapgraph.engines`    the query engines (Oxigraph, rdflib) behind one interface
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
- :mod:`kapgraph.api`        the functions the CLI calls
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("kapgraph")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without installing
    __version__ = "0+unknown"

__all__ = ["__version__"]
