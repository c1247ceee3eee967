"""Find RDF files and load them, natively, into an Oxigraph store: one named graph per file.

Each file goes into its own named graph, named by :func:`graph_name` (for the bundled files
``https://w3id.org/kap/graph/`` + the path in the repository, e.g. ``.../graph/data/studies/dakwar2019.ttl``;
for other files their ``file:`` URI), and queries are evaluated over the union of the graphs. Parse
errors name ``file:line:column``. A triple stated in several files is kept once, in the first file's
graph (files are read in sorted order), so that counts are those of the merged graph on every engine.

:func:`parse_file` (rdflib) is kept for the tools that need rdflib graphs: pySHACL, owlready2's
input, rdflib's reference SPARQL engine and the compacted JSON-LD export. rdflib is imported
only when it is called.
"""

from __future__ import annotations

import errno
import itertools
import os
import stat
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple
from urllib.parse import quote_from_bytes

import pyoxigraph as ox

from kapgraph import resources
from kapgraph.errors import LoadError
from kapgraph.limits import check_rdf_file, too_big_token
from kapgraph.namespaces import GRAPH_BASE, PREFIXES

if TYPE_CHECKING:
    from rdflib import Graph

#: File suffixes kapgraph reads, and Oxigraph's format for each.
FORMATS: dict[str, ox.RdfFormat] = {
    ".ttl": ox.RdfFormat.TURTLE,
    ".nt": ox.RdfFormat.N_TRIPLES,
    ".rdf": ox.RdfFormat.RDF_XML,
    ".owl": ox.RdfFormat.RDF_XML,
    ".jsonld": ox.RdfFormat.JSON_LD,
}
#: the same formats by their oxrdflib parser names (for rdflib)
_RDFLIB_PARSERS = {
    ".ttl": "ox-turtle",
    ".nt": "ox-ntriples",
    ".rdf": "ox-xml",
    ".owl": "ox-xml",
    ".jsonld": "ox-json-ld",
}

#: the duplicate check's part size (quads): a store or predicate larger than this is checked in parts
PARTITION_QUADS = 1_000_000


_QUADS = (
    "kapgraph reads each file into a graph of its own, so it does not read {} files, which name graphs; "
    "write the triples as Turtle (.ttl) or N-Triples (.nt), or move the file out of the data folder"
)
#: RDF files that kapgraph does not read: an error where they are found, in a folder too (a folder's
#: other files, README.md and the like, are skipped)
UNREAD_RDF = {
    ".trig": _QUADS.format("TriG"),
    ".nq": _QUADS.format("N-Quads"),
    ".n3": "kapgraph does not read Notation3 (.n3); write the triples as Turtle (.ttl)",
}


class Source(NamedTuple):
    """One input file and the named graph its statements are loaded into."""

    path: Path
    graph: str


def find_rdf_files(paths: Iterable[Path | str]) -> list[Path]:
    """Expand files and folders into the sorted list of RDF files to read.

    Nothing asked for is skipped without a word: a file or folder that cannot be read, a broken
    symbolic link, a device or FIFO is a LoadError naming it. Symbolic links to folders are
    followed (each folder is read once, so a link back up the tree ends). A file reached twice (named
    twice, in a folder also named, or through a link) is read once, where it first comes: read
    twice, its blank nodes would be two sets of nodes.
    """
    found: list[Path] = []
    seen: set[tuple[int, int]] = set()

    def add(path: Path, st: os.stat_result) -> None:
        if (st.st_dev, st.st_ino) not in seen:
            seen.add((st.st_dev, st.st_ino))
            found.append(path)

    for raw in paths:
        path = Path(raw)
        st = _stat(path)
        if stat.S_ISDIR(st.st_mode):
            files = _walk(path)
            if not files:
                raise LoadError(f"{path}: folder holds no RDF files ({', '.join(sorted(FORMATS))})")
            for file, file_st in files:
                add(file, file_st)
        elif path.suffix.lower() in UNREAD_RDF:
            raise LoadError(f"{path}: {UNREAD_RDF[path.suffix.lower()]}")
        elif path.suffix.lower() not in FORMATS:
            raise LoadError(
                f"{path}: unknown RDF file type {path.suffix or '(none)'!r}; use one of {', '.join(sorted(FORMATS))}"
            )
        elif not stat.S_ISREG(st.st_mode):  # a device such as /dev/zero would be read forever
            raise LoadError(f"{path}: cannot read: not a regular file (a device, FIFO or socket)")
        else:
            add(path, st)
    return found


def _stat(path: Path | str) -> os.stat_result:
    """The status of *path* (links followed), or LoadError saying why it cannot be used."""
    try:
        return os.stat(path)
    except FileNotFoundError:
        if os.path.islink(path):
            raise LoadError(f"{path}: cannot read: a broken symbolic link") from None
        raise LoadError(f"{path}: no such file or folder") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise LoadError(f"{path}: cannot read: a broken symbolic link (a loop)") from None
        parent = Path(path).parent
        if exc.errno == errno.EACCES:  # the folder holding it can be listed but not entered
            raise LoadError(f"{parent}: cannot read the folder: {exc.strerror}") from None
        raise LoadError(f"{path}: cannot read: {exc.strerror or exc}") from None


def _walk(folder: Path) -> list[tuple[Path, os.stat_result]]:
    """The RDF files under *folder*, sorted; LoadError for a sub-folder or file that cannot be read (never skipped).

    One ``scandir`` per folder: an entry's type comes from the listing, so a file costs one ``stat``
    (which also proves it can be entered) and one ``access`` call (10,000 files: a few hundredths of a second).
    """
    found: list[tuple[str, os.stat_result]] = []
    root_stat = os.stat(folder)
    seen = {(root_stat.st_dev, root_stat.st_ino)}
    pending = [os.fspath(folder)]
    while pending:
        root = pending.pop()
        try:
            with os.scandir(root) as listing:
                entries = list(listing)
        except OSError as exc:
            raise LoadError(f"{exc.filename or root}: cannot read the folder: {exc.strerror or exc}") from None
        for entry in entries:
            path = entry.path
            if _is_folder(entry):
                try:
                    st = os.stat(path)
                except OSError as exc:
                    raise LoadError(f"{path}: cannot read the folder: {exc.strerror or exc}") from None
                if (st.st_dev, st.st_ino) not in seen:  # a link to a folder already read (a loop): read once
                    seen.add((st.st_dev, st.st_ino))
                    pending.append(path)
                continue
            suffix = os.path.splitext(entry.name)[1].lower()
            if suffix in UNREAD_RDF:  # RDF, but not read: never skipped in silence
                raise LoadError(f"{path}: {UNREAD_RDF[suffix]}")
            if suffix not in FORMATS:
                try:
                    is_link = stat.S_ISLNK(os.lstat(path).st_mode)
                except OSError as exc:  # the folder can be listed but not entered
                    raise LoadError(f"{root}: cannot read the folder: {exc.strerror or exc}") from None
                if is_link and not os.path.exists(path):
                    # it may have been a folder of studies: never skip it silently
                    raise LoadError(f"{path}: cannot read: a broken symbolic link")
                continue
            st = _stat(path)
            if not stat.S_ISREG(st.st_mode):
                raise LoadError(f"{path}: cannot read: not a regular file")
            if not os.access(path, os.R_OK):
                raise LoadError(f"{path}: cannot read: permission denied")
            found.append((path, st))
    # in Path order (part by part), sorted as strings: comparing 100k Path objects costs seconds
    return [(Path(p), st) for p, st in sorted(found, key=lambda f: f[0].split(os.sep))]


def _is_folder(entry: os.DirEntry[str]) -> bool:
    """Whether *entry* is a folder or a link to one (a broken link or an unreadable entry is not)."""
    try:
        return entry.is_dir()
    except OSError:
        return False


def graph_name(path: Path, roots: dict[str, str] | None = None) -> str:
    """The IRI of the named graph that holds *path*'s statements.

    Paths are made absolute without resolving symbolic links (100k ``resolve()`` calls cost seconds):
    a bundled file is recognised by its path under the (resolved) bundled folders.
    """
    absolute = os.path.abspath(path)
    for folder, root in (roots or _bundled_roots()).items():
        if absolute.startswith(root):
            return f"{GRAPH_BASE}{folder}/{absolute[len(root) :]}"
    # what Path.as_uri() gives for an absolute POSIX path, without building a Path per file
    return "file://" + quote_from_bytes(os.fsencode(absolute))


def _bundled_roots() -> dict[str, str]:
    return {folder: str(resources.bundled_root(folder).resolve()) + os.sep for folder in ("ontology", "data")}


def sources(data: Iterable[Path | str] | None = None, *, include_ontology: bool = True) -> list[Source]:
    """The ontology files and the data files (the bundled ``data/`` unless *data* is given)."""
    ontology: list[Path] = list(resources.ontology_files()) if include_ontology else []
    files = find_rdf_files([*ontology, *(data if data else [resources.data_dir()])])  # each file once
    roots = _bundled_roots()
    return [Source(path, graph_name(path, roots)) for path in files]


def _syntax_error(path: Path, exc: SyntaxError) -> LoadError:
    message = str(exc.msg if hasattr(exc, "msg") else exc)
    if "LoadDocumentCallback" in message:  # a JSON-LD @context by URL (Oxigraph fetches nothing)
        return LoadError(
            f"{path}: the JSON-LD @context names a remote document, which kapgraph does not fetch (it reads "
            "nothing from the network but the endpoints you name): put the context in the file"
        )
    where = f"{exc.lineno}:{exc.offset or 0}:" if exc.lineno else ""  # a JSON-LD error may have no position
    return LoadError(f"{path}:{where} RDF syntax error: {message}")


@contextmanager
def parse_errors(path: Path) -> Iterator[None]:
    """Turn what a parser of *path* raises into LoadError (a syntax error names file:line:column)."""
    try:
        yield
    except SyntaxError as exc:  # raised by Oxigraph's parsers, with the position
        raise _syntax_error(path, exc) from None
    except MemoryError:  # Oxigraph's parser stops at a 16 MiB token
        raise too_big_token(path) from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise LoadError(f"{path}: cannot read: {exc}") from None


def load_into(store: ox.Store, files: list[Source], progress: Callable[[Source], None] | None = None) -> None:
    """Parse each file natively into its named graph of *store* (an in-memory or empty store).

    All or nothing for the caller: on a parse error nothing is usable and LoadError names the file.
    """
    for source in files:
        _load_file(store, source)
        if progress is not None:
            progress(source)
    drop_duplicates(store, files)


def _load_file(store: ox.Store, source: Source, data: bytes | None = None) -> None:
    """Parse *source* (its bytes *data* if given, else the file) into its named graph of *store*."""
    check_rdf_file(source.path, data)
    where = {"path": source.path} if data is None else {"input": data}
    with parse_errors(source.path):
        store.load(**where, format=FORMATS[source.path.suffix.lower()], to_graph=ox.NamedNode(source.graph))


def load_small(files: list[Source]) -> tuple[ox.Store, str | None]:
    """A new in-memory store holding *files* (small ones: each is read into memory once), and their key.

    The key is a hash of pyoxigraph's version, this module's source and each file's graph, format and
    bytes, in order: of the very bytes that were parsed, so that what is cached under it
    (:mod:`kapgraph.cache`) was computed from them. That the files state no triple twice is cached
    under it (``loaded/``): the search for duplicates, a fifth of the load, runs once per set of
    contents. The key is None when a file could not be read in Python: Oxigraph then reads it, and
    says why it cannot; nothing is cached.
    """
    import hashlib

    from kapgraph.cache import cache_root, keep

    store = ox.Store()
    parts = [ox.__version__]
    read_all = True
    for source in files:
        try:
            data: bytes | None = source.path.read_bytes()
        except OSError:
            data, read_all = None, False
        _load_file(store, source, data)
        if data is not None:
            parts.append(f"{source.graph} {source.path.suffix.lower()} {hashlib.sha256(data).hexdigest()}")
    key = checked = None
    try:
        if read_all:
            key = hashlib.sha256(Path(__file__).read_bytes() + "\n".join(parts).encode()).hexdigest()
            checked = cache_root() / "loaded" / f"{key[:24]}.no-duplicates"
    except (OSError, RuntimeError):  # this module's source, or a home folder, cannot be found
        key = checked = None
    if checked is not None and checked.is_file():
        return store, key
    if drop_duplicates(store, files) == 0 and checked is not None:
        keep(checked, b"")
    return store, key


def quads(files: list[Source], progress: Callable[[Source, int], None] | None = None) -> Iterator[ox.Quad]:
    """Every statement of *files* as a quad in its file's graph (for the bulk loader), streaming."""
    for source in files:
        graph = ox.NamedNode(source.graph)
        count = 0
        check_rdf_file(source.path)
        with parse_errors(source.path):
            parser = ox.parse(path=source.path, format=FORMATS[source.path.suffix.lower()], rename_blank_nodes=True)
            for quad in parser:
                yield ox.Quad(quad.subject, quad.predicate, quad.object, graph)
                count += 1
        if progress is not None:
            progress(source, count)


class _Part(NamedTuple):
    """The quads with this predicate and object (None: any), and how many there are."""

    predicate: ox.NamedNode | None
    object: ox.NamedNode | ox.Literal | None
    quads: int

    @property
    def pattern(self) -> str:
        return f"?s {self.predicate or '?p'} {self.object or '?o'}"

    @property
    def variables(self) -> str:
        return "?s" + (" ?p" if self.predicate is None else "") + (" ?o" if self.object is None else "")


def _partitions(store: ox.Store) -> list[_Part]:
    """Parts that split the store's quads, each with its quad count.

    One part per predicate; a predicate with more than :data:`PARTITION_QUADS` quads and at most
    10,000 objects, all IRIs or literals (``rdf:type``, ``kap:evidenceProperty``), is split by object.
    A triple's duplicates lie in its own part, so each part is checked alone and memory is bounded by
    the largest."""
    parts: list[_Part] = []
    by_predicate = store.query("SELECT ?p (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?p")
    assert isinstance(by_predicate, ox.QuerySolutions)
    for row in by_predicate:
        predicate, count = row["p"], int(row["n"].value)
        assert isinstance(predicate, ox.NamedNode)
        if count > PARTITION_QUADS:
            objects = store.query(
                f"SELECT ?o (COUNT(*) AS ?n) WHERE {{ GRAPH ?g {{ ?s {predicate} ?o }} }} GROUP BY ?o LIMIT 10001"
            )
            assert isinstance(objects, ox.QuerySolutions)
            found = [(o["o"], int(o["n"].value)) for o in objects]
            # a blank node in a pattern would be a variable: split only by IRIs and literals
            if len(found) <= 10_000 and all(isinstance(o, ox.NamedNode | ox.Literal) for o, _ in found):
                parts.extend(_Part(predicate, o, n) for o, n in found)
                continue
        parts.append(_Part(predicate, None, count))
    return parts


def drop_duplicates(store: ox.Store, files: list[Source]) -> int:
    """Keep a triple stated in several of *files* only in the graph of the first of them; return how many went.

    A store of up to :data:`PARTITION_QUADS` quads is checked with one ``DISTINCT`` over every triple;
    a larger one part by part (:func:`_partitions`): at 10,000 studies the whole ``DISTINCT`` peaked at
    1.2 GB, the parts at 0.23 GB, in the same time (8 s)."""
    total = len(store)
    parts = [_Part(None, None, total)] if total <= PARTITION_QUADS else _partitions(store)
    order = {source.graph: i for i, source in enumerate(files)}
    removed = 0
    for part in parts:
        distinct = f"SELECT DISTINCT {part.variables} WHERE {{ GRAPH ?g {{ {part.pattern} }} }}"
        counted = store.query(f"SELECT (COUNT(*) AS ?n) WHERE {{ {distinct} }}")
        assert isinstance(counted, ox.QuerySolutions)
        if int(next(iter(counted))["n"].value) == part.quads:  # the common case, told by a cheaper query
            continue
        duplicates = store.query(
            f"SELECT {part.variables} (GROUP_CONCAT(STR(?g); separator=' ') AS ?graphs) "
            f"WHERE {{ GRAPH ?g {{ {part.pattern} }} }} GROUP BY {part.variables} HAVING (COUNT(?g) > 1)"
        )
        assert isinstance(duplicates, ox.QuerySolutions)
        for solution in list(duplicates):
            graphs = sorted(solution["graphs"].value.split(" "), key=lambda g: order.get(g, len(order)))
            predicate = part.predicate or solution["p"]
            obj = part.object or solution["o"]
            for graph in graphs[1:]:
                store.remove(ox.Quad(solution["s"], predicate, obj, ox.NamedNode(graph)))
                removed += 1
    return removed


#: quads per call of the bulk loader: it holds a call's quads in memory (the 545,605 of 1,000 studies took
#: 494 MB in one call, 171 MB in calls of 100,000; the 5.4 M of 10,000 studies 223 MB in such calls)
BULK_CHUNK = 100_000


def bulk_extend(store: ox.Store, quads: Iterable[ox.Quad], chunk: int = BULK_CHUNK) -> None:
    """``Store.bulk_extend`` in calls of *chunk* quads, so that memory does not grow with the data."""
    iterator = iter(quads)
    while batch := list(itertools.islice(iterator, chunk)):
        store.bulk_extend(batch)


def load_memory(files: list[Source]) -> ox.Store:
    """A new in-memory store holding *files*."""
    store = ox.Store()
    load_into(store, files)
    return store


# --- rdflib, for the tools that need it -----------------------------------------------------


def parse_file(path: Path) -> Graph:
    """Parse one file into a new rdflib graph, or raise LoadError naming file:line:column."""
    from rdflib import Graph

    graph = Graph()
    check_rdf_file(path)
    with parse_errors(path):
        graph.parse(str(path), format=_RDFLIB_PARSERS[path.suffix.lower()])
    return graph


def new_graph(store: str = "default") -> Graph:
    """An empty rdflib graph with the project's prefixes bound."""
    from rdflib import Graph

    graph = Graph(store=store)
    for prefix, iri in PREFIXES.items():
        graph.bind(prefix, iri, override=True, replace=True)
    return graph
