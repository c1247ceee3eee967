"""SHACL validation of study data with pySHACL (imported lazily: queries never pay for it).

The shapes in ``shapes/`` are the shapes graph and ``ontology/kap.ttl`` the ontology graph, which
pySHACL mixes into the data graph so that concept-scheme membership, ``rdfs:subClassOf`` targets
and the ``kap:requiresEvidence`` flags are visible to the shapes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rdflib import RDF, XSD, Graph, Literal, URIRef
from rdflib.namespace import SH
from rdflib.term import Identifier, Node

from kapgraph import resources
from kapgraph.loading import find_rdf_files, load, new_graph, parse_file
from kapgraph.namespaces import KAP
from kapgraph.results import compact


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

    def describe(self) -> str:
        where = str(self.file) if self.file else "(unknown file)"
        parts = [f"{where}: {self.severity}"]
        if self.study is not None:
            parts.append(f"study {compact(self.study)}")  # type: ignore[arg-type]
        parts.append(f"node {compact(self.focus)}")  # type: ignore[arg-type]
        if self.path is not None:
            parts.append(f"property {compact(self.path)}")
        if self.value is not None:
            parts.append(f"value {_show(self.value)}")
        text = ", ".join(parts) + f": {self.message}"
        if self.shape is not None and isinstance(self.shape, URIRef):
            text += f" [{compact(self.shape)}]"
        return text


def _show(term: Identifier) -> str:
    if isinstance(term, Literal):
        if term.datatype in (XSD.integer, XSD.decimal, XSD.double, XSD.boolean):
            return str(term)
        return f'"{term}"' + (f"^^{compact(term.datatype)}" if term.datatype and term.datatype != XSD.string else "")
    return compact(term)


@dataclass
class ValidationReport:
    conforms: bool
    findings: list[Finding] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)

    @property
    def violations(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "Violation"]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity != "Violation"]

    def text(self) -> str:
        lines = [f.describe() for f in sorted(self.findings, key=_sort_key)]
        lines.append(
            f"{len(self.files)} file(s) checked: {len(self.violations)} violation(s), {len(self.warnings)} warning(s)."
        )
        return "\n".join(lines) + "\n"


def _sort_key(f: Finding) -> tuple[str, str, str]:
    return ((f.severity != "Violation" and "1") or "0", str(f.file), str(f.focus))


def shapes_graph() -> Graph:
    graph = new_graph()
    for path in find_rdf_files([resources.shapes_dir()]):
        graph += parse_file(path)
    return graph


def _study_of(node: Node, data: Graph) -> Node | None:
    """The study a node belongs to: itself, or the study reached by following links backwards."""
    seen: set[Node] = set()
    frontier = [node]
    while frontier:
        current = frontier.pop()
        if current in seen:
            continue
        seen.add(current)
        if (current, RDF.type, KAP.Study) in data:
            return current
        if (current, RDF.type, KAP.Publication) in data:
            study = data.value(current, KAP.reports)
            if study is not None:
                return study
        for subject in data.subjects(None, current):
            frontier.append(subject)
        for study in data.objects(current, KAP.evidenceFor):
            frontier.append(study)
    return None


class _PreparedQueryGraph(Graph):
    """A graph that parses each distinct SPARQL text once.

    HACK: pySHACL evaluates a SPARQL-based constraint once per focus node and hands rdflib the
    query text every time, so rdflib re-parses it (about 10 ms each, ~1,000 times for the bundled
    data: 16 s of a 2.5 s validation). Memoising the prepared query keeps the semantics (the
    bindings still come with each call). Remove when pySHACL prepares its constraint queries.
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


def validate(data: Sequence[Path | str] | None = None) -> ValidationReport:
    """Validate the bundled data (or the given files/folders) against the shapes."""
    import pyshacl

    # The ontology is loaded into the data graph (not passed as ont_graph): the shapes need its
    # concept schemes, subclass axioms and kap:requiresEvidence flags in the graph they query.
    loaded = load(data, include_ontology=True)
    graph = _PreparedQueryGraph()
    graph += loaded.graph
    # SHACL Core + SHACL-SPARQL only (advanced=False), so pySHACL validates our graph in place
    conforms, report_graph, _ = pyshacl.validate(
        graph,
        shacl_graph=shapes_graph(),
        inference="none",
        allow_warnings=True,
        advanced=False,
    )
    findings = []
    for result in report_graph.subjects(RDF.type, SH.ValidationResult):
        focus = report_graph.value(result, SH.focusNode)
        severity = report_graph.value(result, SH.resultSeverity)
        messages = list(report_graph.objects(result, SH.resultMessage))
        message = "; ".join(str(m) for m in messages) if messages else "constraint not met"
        # a SPARQL constraint is named by sh:sourceConstraint; its node shape by sh:sourceShape
        constraint = report_graph.value(result, SH.sourceConstraint)
        shape = constraint if isinstance(constraint, URIRef) else report_graph.value(result, SH.sourceShape)
        path = report_graph.value(result, SH.resultPath)
        value = report_graph.value(result, SH.value)
        findings.append(
            Finding(
                severity=str(severity).rsplit("#", 1)[-1] if severity else "Violation",
                focus=focus,
                path=path,
                value=value,
                message=message,
                shape=shape,
                file=loaded.file_of(focus, path, value),
                study=_study_of(focus, loaded.graph),
            )
        )
    violations = [f for f in findings if f.severity == "Violation"]
    data_files = [f for f in loaded.files if f not in resources.ontology_files()]
    return ValidationReport(conforms=bool(conforms) and not violations, findings=findings, files=data_files)
