"""SHACL validation of study data: pySHACL's report, computed fast enough for thousands of studies.

Two engines give the same report:

* ``engine="pyshacl"`` (the reference): pySHACL over one rdflib graph holding the ontology and all
  the data, as before. It evaluates every property shape and every SHACL-SPARQL constraint once
  per focus node, so it takes seconds for the 17 bundled studies and hours for 10,000.
* ``engine="fast"`` (the default): :mod:`kapgraph.shacl_fast` drives pySHACL's own constraint
  components batched (each shape once for all its focus nodes) over dict-indexed graphs, runs the
  SHACL-SPARQL constraints once per shard on Oxigraph, and validates the study files in shards on
  worker processes (``jobs``). Each shard holds the shared files (the ontology, and every data file
  that is not in a ``studies/`` folder) and a group of study files.

Sharding is exact only if no finding depends on triples of a study file outside the shard. Each
finding is kept from the shard whose study files describe its focus node (nodes no study file
describes: from shard 0), and the merge checks, from what the shards report, that

1. no node described by a study file is named by a study file of another shard;
2. every node of a study file that the shared files name is in shard 0, and no shared node that the
   study files of other shards reach leads, through the shared files, to one of those;
3. the predicates that a SHACL-SPARQL query reads regardless of ``$this`` (``?other kap:claimId ?id``)
   are used by no study file outside shard 0, and the focus nodes of a query that reads links
   *into* ``$this`` (``?ev kap:evidenceFor $this``) that no study file describes are named by no
   study file outside shard 0;
4. the shapes only follow IRI paths forwards (no inverse paths, no ``sh:targetObjectsOf``).

Given those, every triple a homed focus node's evaluation can read is in its shard. If a check
fails, the data is validated again as one shard (same engine, exact). If the shapes use a feature
the fast engine does not reproduce, pySHACL does the whole validation.

Library code raises :class:`kapgraph.errors.KapgraphError` subclasses; it never prints.
"""

from __future__ import annotations

import math
import os
import signal
from array import array
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from typing import Literal as TypingLiteral

from rdflib import XSD, Graph, Literal, URIRef
from rdflib.term import Identifier, Node

from kapgraph import resources
from kapgraph.durations import BadDuration
from kapgraph.errors import KapgraphError
from kapgraph.finding_lines import locate_lines
from kapgraph.loading import find_rdf_files, new_graph, parse_file
from kapgraph.namespaces import PREFIXES
from kapgraph.shacl_fast import (
    FastGraph,
    RawResult,
    ShardOutput,
    ShardTask,
    UnsupportedShapes,
    engine_for,
    register_shapes,
    results_from_report_graph,
    study_of,
    term_key,
    validate_shard,
)

Engine = TypingLiteral["fast", "pyshacl"]

#: studies per shard when there are many; fewer studies are validated as one shard, in-process
SHARD_STUDIES = 250


class ValidationWorkerError(KapgraphError):
    """A validation worker process died (killed, out of memory) before it returned its shard."""


@dataclass(frozen=True)
class Finding:
    severity: str  # "Violation", "Warning" or "Info"
    focus: Node
    path: Identifier | None
    value: Identifier | None
    message: str
    shape: Identifier | None
    file: Path | None
    study: Node | None
    #: a result nested in another by sh:detail: printed and counted with that one, not on its own
    nested: bool = False
    #: the line of *file* that states the offending triple (found by scanning the file), if known
    line: int | None = None

    def describe(self) -> str:
        where = (f"{self.file}:{self.line}" if self.line else str(self.file)) if self.file else "(unknown file)"
        parts = [f"{where}: {self.severity}"]
        if self.study is not None:
            parts.append(f"study {_compact(self.study)}")
        parts.append(f"node {_compact(self.focus)}")
        if self.path is not None:
            parts.append(f"property {_compact(self.path)}")
        if self.value is not None:
            parts.append(f"value {_show(self.value)}")
        text = ", ".join(parts) + f": {self.message}"
        if self.shape is not None and isinstance(self.shape, URIRef):
            text += f" [{_compact(self.shape)}]"
        return text


def _compact(term: Node) -> str:
    if isinstance(term, URIRef):
        iri = str(term)
        best = ""
        name = iri
        for prefix, ns in PREFIXES.items():
            if iri.startswith(ns) and len(ns) > len(best):
                best, name = ns, f"{prefix}:{iri[len(ns) :]}"
        return name
    return str(term)


def _show(term: Identifier) -> str:
    if isinstance(term, Literal):
        if term.datatype in (XSD.integer, XSD.decimal, XSD.double, XSD.boolean):
            return str(term)
        return f'"{term}"' + (f"^^{_compact(term.datatype)}" if term.datatype and term.datatype != XSD.string else "")
    return _compact(term)


@dataclass
class ValidationReport:
    conforms: bool
    findings: list[Finding] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)
    #: which engine made the report, and how ("fast: 4 shards on 2 workers", "pyshacl", ...)
    engine: str = ""

    @property
    def results(self) -> list[Finding]:
        """The validation results, each once (a result nested in another by sh:detail is not one of them)."""
        return [f for f in self.findings if not f.nested]

    @property
    def violations(self) -> list[Finding]:
        return [f for f in self.results if f.severity == "Violation"]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.results if f.severity != "Violation"]

    @property
    def shacl_conforms(self) -> bool:
        """sh:conforms as SHACL means it: no validation result at all, warnings included."""
        return not self.results

    def text(self) -> str:
        lines = [f.describe() for f in sorted(self.results, key=_sort_key)]
        if self.shacl_conforms:
            verdict = "conforms: yes"
        else:
            parts = [_plural(len(self.violations), "violation"), _plural(len(self.warnings), "warning")]
            verdict = f"conforms: no ({', '.join(p for p in parts if p)})"
        lines.append(
            f"{len(self.files)} file(s) checked: {len(self.violations)} violation(s), "
            f"{len(self.warnings)} warning(s); {verdict}."
        )
        return "\n".join(lines) + "\n"


def _plural(n: int, word: str) -> str:
    return "" if n == 0 else f"{n} {word}{'s' if n != 1 else ''}"


def _sort_key(f: Finding) -> tuple[str, str, str, str, str]:
    return (
        (f.severity != "Violation" and "1") or "0",
        str(f.file),
        str(f.focus),
        str(f.path),
        f.message,
    )


def shapes_graph() -> Graph:
    graph = new_graph()
    for path in find_rdf_files([resources.shapes_dir()]):
        graph += parse_file(path)
    return graph


def _simple(term: Node) -> Node:
    # Oxigraph's parsers type plain strings as xsd:string (RDF 1.1); rdflib's SPARQL engine still
    # tells "x" and "x"^^xsd:string apart, so string comparisons would silently fail on it.
    if isinstance(term, Literal) and term.datatype == XSD.string and not term.language:
        return Literal(str(term))
    return term


def _input_files(data: Sequence[Path | str] | None) -> tuple[list[Path], list[Path]]:
    """(every file in input order: the ontology, then the data; the data files alone)."""
    ontology = list(resources.ontology_files())
    files = find_rdf_files([*ontology, *(data if data else [resources.data_dir()])])  # each file once
    return files, files[len(ontology) :]


def validate(
    data: Sequence[Path | str] | None = None,
    *,
    engine: Engine = "fast",
    jobs: int | None = None,
    shard_studies: int = SHARD_STUDIES,
) -> ValidationReport:
    """Validate the bundled data (or the given files/folders) against the shapes.

    *engine* ``"pyshacl"`` is the reference (pySHACL over the whole graph); ``"fast"`` gives the
    same report. *jobs* worker processes validate the shards (default: the CPU count);
    *shard_studies* study files go in a shard. Raises LoadError for an unreadable file.
    """
    files, data_files = _input_files(data)
    bad: list[BadDuration] | None = None  # found by the fast engine's workers, or read again below
    if engine == "pyshacl":
        findings, conforms = _validate_pyshacl(files)
        how = "pyshacl"
    elif engine == "fast":
        try:
            findings, conforms, how, bad = _validate_fast(files, jobs, shard_studies)
        except UnsupportedShapes as exc:
            findings, conforms = _validate_pyshacl(files)
            how = f"pyshacl (the fast engine does not support {exc})"
    else:
        raise ValueError(f"unknown validation engine {engine!r}; use 'fast' or 'pyshacl'")
    findings = _with_lexical_findings(findings, files, bad)
    violations = [f for f in findings if f.severity == "Violation"]
    findings = locate_lines(findings)
    return ValidationReport(conforms=conforms and not violations, findings=findings, files=data_files, engine=how)


def _with_lexical_findings(
    findings: list[Finding], files: list[Path], found: list[BadDuration] | None
) -> list[Finding]:
    """Add a violation of kapsh:Duration-lexical for each xsd:duration not valid as written.

    rdflib (under both engines) rewrites some invalid forms ("P10W" -> "P70D") while parsing, so
    the shape's own pattern cannot see them there; Oxigraph's parser keeps the form as written.
    *found*: those forms as the fast engine's workers found them while parsing (else the files are
    read again here: 11 s at 10,000 studies, on one core).
    """
    from rdflib import BNode

    from kapgraph.durations import invalid_durations
    from kapgraph.namespaces import KAPSH

    shape = KAPSH["Duration-lexical"]
    seen = {(f.focus, f.path, f.value) for f in findings if f.shape == shape}
    extra: list[Finding] = []
    graphs: dict[Path, Graph] = {}
    for bad in invalid_durations(files) if found is None else found:
        focus: Node = URIRef(bad.subject[1:-1]) if bad.subject.startswith("<") else BNode(bad.subject[2:])
        path, value = URIRef(bad.predicate), Literal(bad.lexical, datatype=XSD.duration, normalize=False)
        if (focus, path, value) in seen:
            continue
        study = None
        if isinstance(focus, URIRef):
            graph = graphs.get(bad.file) or graphs.setdefault(bad.file, parse_file(bad.file))
            study = study_of(focus, graph)
        extra.append(Finding("Violation", focus, path, value, bad.message(), shape, bad.file, study))
    return sorted(findings + extra, key=_sort_key) if extra else findings


def _finding(raw: RawResult, file: Path | None, study: Node | None) -> Finding:
    constraint = raw.source_constraint
    shape = constraint if isinstance(constraint, URIRef) else raw.source_shape
    return Finding(
        severity=str(raw.severity).rsplit("#", 1)[-1] if raw.severity else "Violation",
        focus=raw.focus,
        path=raw.path,
        value=raw.value,
        message="; ".join(raw.messages) if raw.messages else "constraint not met",
        shape=shape,
        file=file,
        study=study,
        nested=raw.nested,
    )


# --- the reference: pySHACL over the whole graph ------------------------------------------


class _PreparedQueryGraph(Graph):
    """A graph that parses each distinct SPARQL text once.

    HACK: pySHACL evaluates a SPARQL-based constraint once per focus node and hands rdflib the
    query text every time, so rdflib re-parses it (about 10 ms each, ~1,000 times for the bundled
    data). Memoising the prepared query keeps the semantics (the bindings still come with each
    call). Remove when pySHACL prepares its constraint queries.
    """

    def __init__(self) -> None:
        super().__init__()
        self._prepared: dict[tuple[str, tuple[tuple[str, str], ...]], Any] = {}

    def query(self, query_object: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(query_object, str):
            from rdflib.plugins.sparql import prepareQuery

            init_ns = kwargs.get("initNs") or dict(self.namespaces())
            key = (query_object, tuple(sorted((k, str(v)) for k, v in init_ns.items())))
            if key not in self._prepared:
                self._prepared[key] = prepareQuery(query_object, initNs=init_ns)
            query_object = self._prepared[key]
        return super().query(query_object, *args, **kwargs)


def _validate_pyshacl(files: list[Path]) -> tuple[list[Finding], bool]:
    import pyshacl

    parsed = [(path, parse_file(path)) for path in files]  # all or nothing
    graph = _PreparedQueryGraph()
    index = FastGraph()  # which file states what, for the findings
    subject_file: dict[Node, int] = {}
    study_subject: dict[Node, int] = {}  # a node a study file describes: findings on it are that file's
    per_file: dict[int, FastGraph] = {}
    for position, (source_path, g) in enumerate(parsed):
        own = per_file[position] = FastGraph()
        for s, p, o in g:
            o = _simple(o)
            graph.add((s, p, o))
            index.add_triple(s, p, o, position)
            own.add_triple(s, p, o, position)
            subject_file.setdefault(s, position)
            if _is_study_file(source_path):
                study_subject.setdefault(s, position)
    # SHACL Core + SHACL-SPARQL only (advanced=False), so pySHACL validates our graph in place.
    # The ontology is in the data graph (not ont_graph): the shapes need its concept schemes,
    # subclass axioms and kap:requiresEvidence flags in the graph they query.
    conforms, report_graph, _ = pyshacl.validate(
        graph, shacl_graph=shapes_graph(), inference="none", allow_warnings=True, advanced=False
    )
    findings = []
    for raw in results_from_report_graph(report_graph):
        where: int | None = None
        if raw.path is not None and raw.value is not None:
            where = index.file_of(raw.focus, raw.path, raw.value)
        if where is None:
            where = study_subject.get(raw.focus, subject_file.get(raw.focus))
        study = study_of(raw.focus, per_file[where]) if where is not None else None
        findings.append(_finding(raw, files[where] if where is not None else None, study))
    return findings, bool(conforms)


# --- the fast engine ------------------------------------------------------------------------


def _is_study_file(path: Path) -> bool:
    return path.parent.name == "studies"


_SHAPES_KEYS: dict[tuple[tuple[str, int, int], ...], str] = {}


def _shapes_key() -> str:
    """A key for the current shapes files; their triples (and blank nodes) are parsed once."""
    stamp = tuple((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in find_rdf_files([resources.shapes_dir()]))
    if stamp not in _SHAPES_KEYS:
        key = f"shapes-{len(_SHAPES_KEYS)}-{os.getpid()}"
        register_shapes(key, list(shapes_graph()))
        _SHAPES_KEYS[stamp] = key
    key = _SHAPES_KEYS[stamp]
    engine_for(key)  # raises UnsupportedShapes early, in this process
    return key


def _init_worker(key: str, triples: list[tuple[Node, Node, Node]]) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    from kapgraph.logs import quiet_libraries

    quiet_libraries()
    register_shapes(key, triples)


def _validate_fast(
    files: list[Path], jobs: int | None, shard_studies: int
) -> tuple[list[Finding], bool, str, list[BadDuration]]:
    key = _shapes_key()
    engine = engine_for(key)
    positions = {path: i for i, path in enumerate(files)}
    shared = [p for p in files if not _is_study_file(p)]
    studies = [p for p in files if _is_study_file(p)]
    shardable = (
        engine.iri_paths_only
        and not engine.targets_objects
        and all(plan is not None and plan.bounded for plan in engine.plans.values())
    )
    if not shardable or len(studies) <= shard_studies:
        output = validate_shard(_task(0, files, positions, key))
        conforms = output.conforms_owned and output.conforms_other
        return _merge([output], files), conforms, "fast: 1 shard", output.bad_durations
    per_shard = max(1, shard_studies)
    groups = [studies[i : i + per_shard] for i in range(0, len(studies), per_shard)]
    tasks = [_task(i, shared + group, positions, key) for i, group in enumerate(groups)]
    workers = max(1, min(jobs or os.cpu_count() or 1, len(tasks)))
    outputs = _run_pool(tasks, workers, key)
    problem = _sharding_problem(outputs, engine, files, positions)
    if problem is not None:
        output = validate_shard(_task(0, files, positions, key))
        how = f"fast: 1 shard (sharding would not be exact: {problem})"
        return _merge([output], files), output.conforms_owned and output.conforms_other, how, output.bad_durations
    conforms = all(o.conforms_owned for o in outputs) and outputs[0].conforms_other
    bad = [b for o in outputs for b in o.bad_durations]
    return _merge(outputs, files), conforms, f"fast: {len(tasks)} shards on {workers} worker(s)", bad


def _task(index: int, files: list[Path], positions: dict[Path, int], key: str) -> ShardTask:
    ordered = sorted(files, key=lambda p: positions[p])
    return ShardTask(index, tuple((positions[p], str(p), _is_study_file(p)) for p in ordered), key)


def _run_pool(tasks: list[ShardTask], workers: int, key: str) -> list[ShardOutput]:
    import multiprocessing

    from kapgraph.shacl_fast import _SHAPES

    # not "fork": children forked from this process would share its random state, and with it
    # the blank node identifiers Oxigraph's parser draws (and the ones rdflib draws)
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
    pool = ProcessPoolExecutor(
        max_workers=workers, mp_context=context, initializer=_init_worker, initargs=(key, _SHAPES[key])
    )
    futures: list[Future[ShardOutput]] = []
    try:
        futures = [pool.submit(validate_shard, task) for task in tasks]
        outputs = [f.result() for f in futures]
    except BrokenProcessPool as exc:
        _stop(pool, futures)
        raise ValidationWorkerError(
            f"a validation worker process died ({exc}); try fewer jobs (--jobs) or more memory"
        ) from None
    except BaseException:  # KeyboardInterrupt, or a LoadError from a worker: stop the others
        _stop(pool, futures)
        raise
    pool.shutdown()
    return outputs


def _stop(pool: ProcessPoolExecutor, futures: list[Future[ShardOutput]]) -> None:
    for f in futures:
        f.cancel()
    processes = list(getattr(pool, "_processes", {}).values())
    for process in processes:
        if process.is_alive():
            process.terminate()
    pool.shutdown(wait=True, cancel_futures=True)


def _sharding_problem(
    outputs: list[ShardOutput], engine: Any, files: list[Path], positions: dict[Path, int]
) -> str | None:
    """Why merging these shards might differ from validating the whole graph (None: it does not)."""
    owner: dict[int, int] = {}
    for out in outputs:
        for key in array("Q", out.owned):
            if owner.setdefault(key, out.index) != out.index:
                return "a node is described by study files of two shards"
    for out in outputs:
        for n3 in out.mentions:
            other = owner.get(_key_of_n3(n3))
            if other is not None and other != out.index:
                return f"{n3} is described in one shard and named in another"
    exposed = {n3 for out in outputs for n3 in out.exposed}
    if any(out.exposed for out in outputs[1:]):
        return "the shared files name nodes of study files outside the first shard"
    if exposed:
        entry = {n3 for out in outputs[1:] for n3 in out.mentions}
        if _reaches(files, entry, exposed):
            return "a shared node leads from a study to another study's nodes"
    global_predicates = {p for plan in engine.plans.values() if plan is not None for p in plan.global_predicates}
    for out in outputs[1:]:
        used = global_predicates.intersection(out.study_predicates)
        if used:
            return (
                f"study files outside the first shard use {sorted(used)[0]}, which a SPARQL constraint reads everywhere"
            )
    incoming = set(outputs[0].incoming_focus)
    for out in outputs[1:]:
        if incoming.intersection(out.incoming_mentions):
            return "study files outside the first shard link to a shared node that a SPARQL constraint checks"
    return None


def _key_of_n3(n3: str) -> int:
    from rdflib.util import from_n3

    term = from_n3(n3)
    if not isinstance(term, Node):
        raise ValueError(f"not an RDF term: {n3}")
    return term_key(term)


def _reaches(files: list[Path], entry: set[str], targets: set[str]) -> bool:
    """Whether, following the shared files' triples forwards, a node in *entry* reaches *targets*."""
    edges: dict[str, set[str]] = {}
    for path in files:
        if _is_study_file(path):
            continue
        for s, p, o in parse_file(path):
            if not isinstance(o, Literal):
                edges.setdefault(s.n3(), set()).update((p.n3(), o.n3()))
    seen: set[str] = set()
    frontier = [n for n in entry if n in edges]
    while frontier:
        node = frontier.pop()
        if node in seen:
            continue
        seen.add(node)
        if node in targets:
            return True
        frontier.extend(edges.get(node, ()))
    return False


def _merge(outputs: list[ShardOutput], files: list[Path]) -> list[Finding]:
    """Each shard's findings on the nodes its study files describe; the others from shard 0."""
    owned_anywhere: set[int] = set()
    if len(outputs) > 1:
        for out in outputs:
            owned_anywhere.update(array("Q", out.owned))
    findings = []
    for out in outputs:
        for raw, owned_here, position, study in out.results:
            # a result nested in another (sh:detail) goes with it: decided by the top-level focus
            if not owned_here and (
                out.index != 0 or (owned_anywhere and term_key(raw.root or raw.focus) in owned_anywhere)
            ):
                continue
            findings.append(_finding(raw, files[position] if position is not None else None, study))
    return findings


def _ceil(a: int, b: int) -> int:
    return math.ceil(a / b)
