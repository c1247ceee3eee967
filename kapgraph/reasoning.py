"""OWL reasoning over the ontology and the data: HermiT through owlready2, or the OWL 2 RL rules of owlrl.

:func:`reason` checks that the graph is consistent, lists the unsatisfiable classes and the
defined-class memberships of each individual, and, on an inconsistency, names the studies (files)
involved: first the individuals the disjointness axioms single out, else a search that leaves out one
data file at a time.

owlready2 does not read Turtle: the asserted graphs are written to N-Triples in memory. Literals whose
datatype is outside the OWL 2 datatype map (``xsd:duration``, ``xsd:gYear``, ``xsd:gYearMonth``,
``xsd:date``) are left out first: HermiT rejects them, and no axiom of the ontology reads them.

Without Java (or with ``reasoner="owlrl"``) the OWL 2 RL rules of owlrl are used instead; they derive
the same memberships for these class definitions but cannot find unsatisfiable classes, nor
inconsistencies other than a violated disjointness.
"""

from __future__ import annotations

import contextlib
import shutil
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

from kapgraph import resources
from kapgraph.errors import KapgraphError
from kapgraph.loading import Source, load_memory, sources
from kapgraph.materialise import defined_class_rules

REASONERS = ("hermit", "owlrl")
XSD = "http://www.w3.org/2001/XMLSchema#"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
OWL = "http://www.w3.org/2002/07/owl#"
#: the datatypes of the OWL 2 datatype map (OWL 2 Structural Specification, section 4)
OWL2_DATATYPES = {
    RDF + "PlainLiteral", RDF + "XMLLiteral", RDF + "langString", "http://www.w3.org/2000/01/rdf-schema#Literal",
    OWL + "real", OWL + "rational",
    *(XSD + t for t in (
        "decimal", "integer", "nonNegativeInteger", "nonPositiveInteger", "positiveInteger", "negativeInteger",
        "long", "int", "short", "byte", "unsignedLong", "unsignedInt", "unsignedShort", "unsignedByte",
        "double", "float", "string", "normalizedString", "token", "language", "Name", "NCName", "NMTOKEN",
        "boolean", "hexBinary", "base64Binary", "anyURI", "dateTime", "dateTimeStamp",
    )),
}  # fmt: skip
OWLRL_NOTE = (
    "owlrl applies the OWL 2 RL rules: it derives the defined-class memberships of this ontology, and "
    "finds an individual in two disjoint classes, but it cannot prove a class unsatisfiable nor reason by cases"
)


class ReasonerError(KapgraphError):
    """The reasoner could not run (no Java, HermiT failed)."""


@dataclass
class Inconsistency:
    message: str
    #: the individuals and the axiom involved, as far as they were found
    individuals: list[str] = field(default_factory=list)
    axioms: list[str] = field(default_factory=list)
    #: data files without which the graph is consistent (the studies to fix)
    files: list[Path] = field(default_factory=list)


@dataclass
class Reasoning:
    reasoner: str
    consistent: bool
    seconds: float
    unsatisfiable: list[str] = field(default_factory=list)
    #: (individual IRI, defined class IRI)
    memberships: set[tuple[str, str]] = field(default_factory=set)
    inconsistency: Inconsistency | None = None
    note: str = ""
    literals_left_out: int = 0

    def text(self) -> str:
        """The report for people: the verdict, the unsatisfiable classes, the memberships per individual."""
        lines = [f"reasoner: {self.reasoner} ({self.seconds:.1f} s)"]
        if self.note:
            lines.append(f"note: {self.note}")
        if self.literals_left_out:
            lines.append(
                f"left out: {self.literals_left_out} literals outside the OWL 2 datatype map (xsd:duration, gYear...)"
            )
        if not self.consistent:
            assert self.inconsistency is not None
            lines.append(self.inconsistency.message)
            return "\n".join(lines) + "\n"
        lines.append("consistent: yes")
        lines.append(f"unsatisfiable classes: {', '.join(_short(c) for c in self.unsatisfiable) or 'none'}")
        by_individual: dict[str, list[str]] = {}
        for individual, cls in sorted(self.memberships):
            by_individual.setdefault(individual, []).append(_short(cls))
        lines.append(f"defined-class memberships: {len(self.memberships)}")
        lines.extend(f"  {_short(i)}: {', '.join(classes)}" for i, classes in by_individual.items())
        return "\n".join(lines) + "\n"

    def inferred_turtle(self) -> bytes:
        """The inferred memberships as Turtle."""
        from kapgraph.namespaces import PREFIXES

        triples = [
            ox.Triple(ox.NamedNode(i), ox.NamedNode(RDF + "type"), ox.NamedNode(c)) for i, c in sorted(self.memberships)
        ]
        return ox.serialize(triples, format=ox.RdfFormat.TURTLE, prefixes=PREFIXES) or b""


_RDFS = "http://www.w3.org/2000/01/rdf-schema#"
#: the built-in annotation properties of OWL 2
_BUILTIN_ANNOTATIONS = {_RDFS + p for p in ("label", "comment", "seeAlso", "isDefinedBy")} | {
    OWL + p for p in ("versionInfo", "deprecated", "priorVersion", "backwardCompatibleWith", "incompatibleWith")
}
_ANNOTATION_PROPERTIES = "SELECT ?p WHERE { ?p a <http://www.w3.org/2002/07/owl#AnnotationProperty> }"
_AXIOMS = "SELECT ?a WHERE { ?a a <http://www.w3.org/2002/07/owl#Axiom> }"


def owl_ntriples(store: ox.Store, graphs: Sequence[str], *, annotations: bool = False) -> tuple[bytes, int]:
    """The triples of *graphs* as N-Triples for an OWL reasoner; and how many literals were left out.

    Left out: the literals outside the OWL 2 datatype map, which HermiT refuses; and, unless
    *annotations*, the annotation assertions and annotated axioms (labels, definitions, mapping
    evidence), which have no logical consequence under the OWL 2 Direct Semantics and only slow the
    reasoner down (the mappings file is nothing else).
    """
    skip: set[str] = set()
    axioms: set[ox.BlankNode | ox.NamedNode] = set()
    if not annotations:
        for query, names in ((_ANNOTATION_PROPERTIES, skip),):
            solutions = store.query(query, use_default_graph_as_union=True)
            assert isinstance(solutions, ox.QuerySolutions)
            names.update(row[0].value for row in solutions)
        skip |= _BUILTIN_ANNOTATIONS
        solutions = store.query(_AXIOMS, use_default_graph_as_union=True)
        assert isinstance(solutions, ox.QuerySolutions)
        axioms = {row[0] for row in solutions}
    kept: list[ox.Triple] = []
    dropped = 0
    for graph in graphs:
        for quad in store.quads_for_pattern(None, None, None, ox.NamedNode(graph)):
            obj = quad.object
            if isinstance(obj, ox.Literal) and not obj.language and obj.datatype.value not in OWL2_DATATYPES:
                dropped += 1
                continue
            if quad.predicate.value in skip or quad.subject in axioms:
                continue
            kept.append(quad.triple)
    return ox.serialize(kept, format=ox.RdfFormat.N_TRIPLES) or b"", dropped


def reason(data: Sequence[Path | str] | None = None, *, reasoner: str = "hermit", explain: bool = True) -> Reasoning:
    """Reason over the ontology and *data* (the bundled data unless given)."""
    if reasoner not in REASONERS:
        raise ReasonerError(f"unknown reasoner {reasoner!r}; choose one of: {', '.join(REASONERS)}")
    files = sources(data)
    store = load_memory(files)
    defined = sorted(defined_class_rules(store))
    graphs = [s.graph for s in files]
    note = ""
    if reasoner == "hermit" and shutil.which("java") is None:
        reasoner, note = "owlrl", f"no Java runtime found, so HermiT cannot run; fell back to owlrl. {OWLRL_NOTE}"
    elif reasoner == "owlrl":
        note = OWLRL_NOTE
    run = _hermit if reasoner == "hermit" else _owlrl
    start = time.perf_counter()
    consistent, unsatisfiable, members, dropped = run(store, graphs, defined)
    result = Reasoning(reasoner, consistent, 0.0, unsatisfiable, members, note=note, literals_left_out=dropped)
    if not consistent:
        result.inconsistency = _explain(store, files, defined, run) if explain else Inconsistency("inconsistent")
    result.seconds = round(time.perf_counter() - start, 3)
    return result


# --- HermiT -------------------------------------------------------------------------------


@contextlib.contextmanager
def _private_tempdir() -> Iterator[None]:
    """Make the temporary files of the block in a folder of our own, removed on the way out.

    owlready2 hands HermiT the ontology in a ``NamedTemporaryFile(delete=False)`` and deletes it only
    when HermiT returns normally: Ctrl-C, SIGTERM (see :mod:`kapgraph.interrupt`) or an inconsistent
    ontology would leave it in /tmp. The folder is removed whatever way the block ends.
    """
    import tempfile

    with tempfile.TemporaryDirectory(prefix="kapgraph-hermit-") as folder:
        previous = tempfile.tempdir
        tempfile.tempdir = folder
        try:
            yield
        finally:
            tempfile.tempdir = previous


def _hermit(
    store: ox.Store, graphs: Sequence[str], defined: Sequence[str]
) -> tuple[bool, list[str], set[tuple[str, str]], int]:
    import io

    import owlready2

    ntriples, dropped = owl_ntriples(store, graphs)
    world = owlready2.World()
    onto = world.get_ontology("https://w3id.org/kap/reasoning-input").load(
        fileobj=io.BytesIO(ntriples), format="ntriples"
    )
    try:
        with onto, _private_tempdir():
            owlready2.sync_reasoner_hermit(world, infer_property_values=False, debug=0)
    except owlready2.OwlReadyInconsistentOntologyError:
        return False, [], set(), dropped
    except (owlready2.OwlReadyJavaError, OSError) as exc:
        raise ReasonerError(
            f"HermiT failed: {str(exc).strip().splitlines()[-1] if str(exc).strip() else exc}"
        ) from None
    nothing = "http://www.w3.org/2002/07/owl#Nothing"
    unsatisfiable = sorted(c.iri for c in world.inconsistent_classes() if c.iri != nothing)
    members: set[tuple[str, str]] = set()
    for iri in defined:
        cls = world[iri]
        if cls is None:
            continue
        for individual in cls.instances(world=world):
            members.add((individual.iri, iri))
    return True, unsatisfiable, members, dropped


# --- owlrl ----------------------------------------------------------------------------------


def _owlrl(
    store: ox.Store, graphs: Sequence[str], defined: Sequence[str]
) -> tuple[bool, list[str], set[tuple[str, str]], int]:
    import owlrl
    from rdflib import Graph, URIRef
    from rdflib.namespace import RDF as RDFNS

    ntriples, dropped = owl_ntriples(store, graphs)
    graph = Graph()
    graph.parse(data=ntriples, format="nt")
    owlrl.DeductiveClosure(owlrl.OWLRL_Semantics, rdfs_closure=False, axiomatic_triples=False).expand(graph)
    errors = _owlrl_errors(graph)
    if errors:
        return False, [], set(), dropped
    members = {
        (str(s), iri) for iri in defined for s in graph.subjects(RDFNS.type, URIRef(iri)) if isinstance(s, URIRef)
    }
    return True, [], members, dropped


def _owlrl_errors(graph: object) -> list[str]:
    # owlrl records a violated axiom (cax-dw, prp-pdw, ...) as an rdfs:comment on a node typed
    # with its error class, instead of raising
    from rdflib import Graph, Namespace

    assert isinstance(graph, Graph)
    error = Namespace("http://www.daml.org/2002/03/agents/agent-ont#")
    return [str(o) for _, o in graph.subject_objects(error.error)]


# --- explaining an inconsistency -------------------------------------------------------------

_DISJOINT = """
PREFIX owl: <http://www.w3.org/2002/07/owl#>
PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
SELECT DISTINCT ?x ?c1 ?c2 WHERE {
  { ?axiom a owl:AllDisjointClasses ; owl:members ?list .
    ?list rdf:rest*/rdf:first ?c1 . ?list rdf:rest*/rdf:first ?c2 }
  UNION { ?c1 owl:disjointWith ?c2 }
  FILTER (STR(?c1) < STR(?c2))
  ?x a ?c1, ?c2 .
} ORDER BY ?x ?c1 ?c2"""


def _explain(store: ox.Store, files: list[Source], defined: Sequence[str], run: object) -> Inconsistency:
    """Who makes the graph inconsistent: the individuals in two disjoint classes (from the natively
    materialised memberships), and the data files without which the reasoner finds it consistent."""
    from kapgraph.materialise import INFERRED_GRAPH, materialise

    materialise(store)
    solutions = store.query(_DISJOINT, use_default_graph_as_union=True)
    assert isinstance(solutions, ox.QuerySolutions)
    individuals: list[str] = []
    axioms: list[str] = []
    for row in solutions:
        individuals.append(row["x"].value)
        axioms.append(f"DisjointClasses({_short(row['c1'].value)} {_short(row['c2'].value)})")
    store.remove_graph(ox.NamedNode(INFERRED_GRAPH))
    ontology = {Path(p).resolve() for p in resources.ontology_files()}
    data = [s for s in files if s.path.resolve() not in ontology]
    # try first the files that state something about those individuals (their study files)
    named = [ox.NamedNode(i) for i in dict.fromkeys(individuals)]
    about = [s for s in data if any(_states(store, i, s.graph) for i in named)] or data
    culprits: list[Path] = []
    for source in about:
        keep = [s.graph for s in files if s is not source]
        if run(store, keep, defined)[0]:  # type: ignore[operator]
            culprits.append(source.path)
    who = ", ".join(_short(i) for i in dict.fromkeys(individuals)) or "(not found)"
    where = ", ".join(str(p) for p in culprits) or "(no single file: the contradiction spans several)"
    axiom = "; ".join(dict.fromkeys(axioms)) or "(unknown axiom)"
    message = f"inconsistent: {who} in disjoint classes {axiom}; remove or fix: {where}"
    return Inconsistency(message, list(dict.fromkeys(individuals)), list(dict.fromkeys(axioms)), culprits)


def _states(store: ox.Store, subject: ox.NamedNode, graph: str) -> bool:
    return next(iter(store.quads_for_pattern(subject, None, None, ox.NamedNode(graph))), None) is not None


def _short(iri: str) -> str:
    from kapgraph.namespaces import PREFIXES

    for prefix, namespace in PREFIXES.items():
        if iri.startswith(namespace):
            return f"{prefix}:{iri[len(namespace) :]}"
    return f"<{iri}>"
