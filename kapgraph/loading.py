"""Find RDF files and parse them into an rdflib graph.

Files are parsed with Oxigraph's parsers (through oxrdflib), which report errors with line and
column. Each file is parsed on its own first, so a broken file changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from rdflib import XSD, Graph, Literal
from rdflib.term import Node

from kapgraph import resources
from kapgraph.errors import LoadError
from kapgraph.namespaces import PREFIXES

#: File suffixes kapgraph reads, and the (oxrdflib) parser for each.
PARSERS: dict[str, str] = {
    ".ttl": "ox-turtle",
    ".nt": "ox-ntriples",
    ".rdf": "ox-xml",
    ".owl": "ox-xml",
    ".jsonld": "ox-json-ld",
}


@dataclass
class LoadedGraph:
    """A graph and where its statements came from."""

    graph: Graph
    files: list[Path] = field(default_factory=list)
    #: subject -> the file that first described it (for validation reports)
    subject_files: dict[Node, Path] = field(default_factory=dict)
    #: each file with the statements parsed from it
    sources: list[tuple[Path, Graph]] = field(default_factory=list)

    def file_of(self, subject: Node, predicate: Node | None = None, obj: Node | None = None) -> Path | None:
        """The file that states (subject, predicate, obj) if given, else the first to describe subject."""
        if predicate is not None and obj is not None:
            for path, graph in self.sources:
                if (subject, predicate, obj) in graph:
                    return path
        return self.subject_files.get(subject)


def find_rdf_files(paths: Iterable[Path | str]) -> list[Path]:
    """Expand files and folders into the sorted list of RDF files to read."""
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if not path.exists():
            raise LoadError(f"{path}: no such file or folder")
        if path.is_dir():
            files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in PARSERS)
            if not files:
                raise LoadError(f"{path}: folder holds no RDF files ({', '.join(sorted(PARSERS))})")
            found.extend(files)
        elif path.suffix.lower() in PARSERS:
            found.append(path)
        else:
            raise LoadError(
                f"{path}: unknown RDF file type {path.suffix or '(none)'!r}; use one of {', '.join(sorted(PARSERS))}"
            )
    return found


def parse_file(path: Path) -> Graph:
    """Parse one file into a new in-memory graph, or raise LoadError naming file:line:column."""
    graph = Graph()
    try:
        graph.parse(str(path), format=PARSERS[path.suffix.lower()])
    except SyntaxError as exc:  # raised by Oxigraph's parsers, with the position
        line, col = exc.lineno or 0, exc.offset or 0
        message = str(exc.msg if hasattr(exc, "msg") else exc)
        raise LoadError(f"{path}:{line}:{col}: RDF syntax error: {message}") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise LoadError(f"{path}: cannot read: {exc}") from None
    return graph


def _simple(term: Node) -> Node:
    # Oxigraph's parsers type plain strings as xsd:string (RDF 1.1); rdflib's SPARQL engine still
    # tells "x" and "x"^^xsd:string apart, so string comparisons would silently fail on it.
    if isinstance(term, Literal) and term.datatype == XSD.string:
        return Literal(str(term))
    return term


def new_graph(store: str = "default") -> Graph:
    graph = Graph(store=store)
    for prefix, iri in PREFIXES.items():
        graph.bind(prefix, iri, override=True, replace=True)
    return graph


def load(
    data: Sequence[Path | str] | None = None,
    *,
    store: str = "default",
    include_ontology: bool = True,
) -> LoadedGraph:
    """Load the ontology and the study data (the bundled ``data/`` unless *data* is given)."""
    files: list[Path] = []
    if include_ontology:
        files.extend(resources.ontology_files())
    files.extend(find_rdf_files(data if data else [resources.data_dir()]))
    parsed = [(path, parse_file(path)) for path in files]  # all or nothing
    loaded = LoadedGraph(graph=new_graph(store), files=files, sources=parsed)
    for path, graph in parsed:
        loaded.graph.addN((s, p, _simple(o), loaded.graph) for s, p, o in graph)
        for subject in graph.subjects(unique=True):
            loaded.subject_files.setdefault(subject, path)
    return loaded
