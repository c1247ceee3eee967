"""Materialise the ontology's entailments natively, with SPARQL rules on Oxigraph, into a named graph.

No store that kapgraph queries reasons (embedded Oxigraph, rdflib's engine, a remote store after
``push``), so what the ontology entails is written down once, into the graph
:data:`INFERRED_GRAPH`, and queries see it beside the asserted graphs:

- sub-properties (``kap:primaryDiagnosis`` ⊑ ``kap:diagnosis``, ``kap:hasKetamineRegimen`` ⊑
  ``kap:hasDrugRegimen``) and sub-classes (``kap:KetamineRegimen`` ⊑ ``kap:DrugRegimen``), named
  super-classes only;
- inverses (``owl:inverseOf``), transitive properties (``skos:broaderTransitive``) and two-step
  property chains (``kap:diagnosis o skos:broaderTransitive`` ⊑ ``kap:diagnosis``: a study with a
  heroin use disorder has the diagnosis ``dx:SUD`` too);
- the memberships of the defined classes (``owl:equivalentClass`` of an intersection, union,
  ``owl:hasValue`` or ``owl:someValuesFrom`` restriction), compiled from the ontology's own class
  expressions into SPARQL, so that they cannot drift from it. ``kapgraph reason`` checks them
  against HermiT (tests/test_reasoning.py).

The rules run to a fixpoint over the union of the graphs. Only triples that no asserted graph holds
are written, so a query that reads the union never sees a triple twice.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import NamedTuple

import pyoxigraph as ox

from kapgraph.errors import KapgraphError
from kapgraph.loading import bulk_extend
from kapgraph.namespaces import GRAPH_BASE
from kapgraph.results import Term

INFERRED_GRAPH = GRAPH_BASE + "inferred"
#: bump when the rules change, so that cached stores are rebuilt
RULES_VERSION = 3

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
OWL = "http://www.w3.org/2002/07/owl#"
_TYPE = ox.NamedNode(RDF + "type")

_PREFIXES = f"PREFIX rdf: <{RDF}>\nPREFIX rdfs: <{RDFS}>\nPREFIX owl: <{OWL}>\n"

#: the rules that do not depend on the class expressions, as (template, pattern) over the union: each
#: becomes ``CONSTRUCT { template } WHERE { pattern FILTER NOT EXISTS { template } }`` (see :func:`_rule`)
_FIXED_RULES = {
    "sub-property": ("?s ?q ?o", "?p rdfs:subPropertyOf ?q . FILTER(?p != ?q) ?s ?p ?o"),
    "sub-class": ("?x a ?d", "?c rdfs:subClassOf ?d . FILTER(isIRI(?d) && ?c != ?d) ?x a ?c"),
    "inverse": ("?o ?q ?s", "?p owl:inverseOf ?q . ?s ?p ?o"),
    "inverse-back": ("?o ?p ?s", "?p owl:inverseOf ?q . ?s ?q ?o"),
    "transitive": ("?x ?p ?z", "?p a owl:TransitiveProperty . ?x ?p ?y . ?y ?p ?z"),
    "chain": (
        "?x ?r ?z",
        """?r owl:propertyChainAxiom ?l . ?l rdf:first ?p1 ; rdf:rest ?l2 . ?l2 rdf:first ?p2 ; rdf:rest rdf:nil .
        ?x ?p1 ?y . ?y ?p2 ?z""",
    ),
}


def _rule(template: str, pattern: str) -> str:
    """A rule as a CONSTRUCT that yields only what the store does not hold yet (asserted or inferred).

    The engine filters natively, so a round costs what it derives anew, not what was derived before."""
    return f"{_PREFIXES}CONSTRUCT {{ {template} }} WHERE {{ {pattern} FILTER NOT EXISTS {{ {template} }} }}"


_DEFINED = "SELECT ?c ?e WHERE { ?c owl:equivalentClass ?e . FILTER(isIRI(?c) && isBlank(?e)) } ORDER BY ?c"


class MaterialiseError(KapgraphError):
    """An ontology construct the native rules cannot translate (use ``kapgraph reason``)."""


class Materialised(NamedTuple):
    # a NamedTuple: a dataclass costs a compile() at import, and materialise is on the query path
    triples: int
    seconds: float
    rounds: int


def _objects(store: ox.Store, subject: ox.NamedNode | ox.BlankNode, predicate: str) -> list[Term]:
    return [q.object for q in store.quads_for_pattern(subject, ox.NamedNode(predicate), None, None)]


def _one(store: ox.Store, subject: ox.NamedNode | ox.BlankNode, predicate: str) -> Term | None:
    found = _objects(store, subject, predicate)
    return found[0] if found else None


def _list(store: ox.Store, head: Term) -> list[Term]:
    items: list[Term] = []
    while isinstance(head, ox.BlankNode):
        first = _one(store, head, RDF + "first")
        rest = _one(store, head, RDF + "rest")
        if first is None or rest is None:
            break
        items.append(first)
        head = rest
    return items


class _Compiler:
    """OWL class expressions (as stored in RDF) to SPARQL graph patterns over one variable."""

    def __init__(self, store: ox.Store):
        self.store = store
        self.fresh = 0

    def var(self) -> str:
        self.fresh += 1
        return f"?v{self.fresh}"

    def pattern(self, expr: Term, var: str) -> str:
        if isinstance(expr, ox.NamedNode):
            return "" if expr.value == OWL + "Thing" else f"{var} a {expr} ."
        if not isinstance(expr, ox.BlankNode):
            raise MaterialiseError(f"unexpected class expression {expr}")
        store = self.store
        if (inter := _one(store, expr, OWL + "intersectionOf")) is not None:
            return " ".join(self.pattern(part, var) for part in _list(store, inter))
        if (union := _one(store, expr, OWL + "unionOf")) is not None:
            return " UNION ".join("{ " + self.pattern(part, var) + " }" for part in _list(store, union))
        prop = _one(store, expr, OWL + "onProperty")
        if isinstance(prop, ox.NamedNode):
            if (value := _one(store, expr, OWL + "hasValue")) is not None:
                return f"{var} {prop} {value} ."
            if (filler := _one(store, expr, OWL + "someValuesFrom")) is not None:
                inner = self.var()
                return f"{var} {prop} {inner} . {self.pattern(filler, inner)}"
        raise MaterialiseError(
            f"the native rules do not translate the class expression {expr} "
            "(only intersectionOf, unionOf, hasValue and someValuesFrom); run kapgraph reason"
        )


def defined_class_rules(store: ox.Store) -> dict[str, str]:
    """One CONSTRUCT query per defined class: its members by its owl:equivalentClass expression."""
    solutions = store.query(_PREFIXES + _DEFINED, use_default_graph_as_union=True)
    assert isinstance(solutions, ox.QuerySolutions)
    rules: dict[str, str] = {}
    for row in solutions:
        cls, expr = row["c"], row["e"]
        compiler = _Compiler(store)
        rules[cls.value] = _rule(f"?x a {cls}", "{ " + compiler.pattern(expr, "?x") + " }")
    return rules


def rules(store: ox.Store) -> dict[str, str]:
    """Every rule, by name: the fixed ones and one per defined class."""
    return {**{k: _rule(*v) for k, v in _FIXED_RULES.items()}, **defined_class_rules(store)}


#: the rules with one data pattern, run from the previous round's new triples after the first round
#: (semi-naive evaluation): (rule name, the schema query giving (sub, super) pairs)
_DELTA_RULES = {
    "sub-class": f"{_PREFIXES}SELECT ?a ?b WHERE {{ ?a rdfs:subClassOf ?b . FILTER(isIRI(?b) && ?a != ?b) }}",
    "sub-property": f"{_PREFIXES}SELECT ?a ?b WHERE {{ ?a rdfs:subPropertyOf ?b . FILTER(?a != ?b) }}",
}
#: the predicates those schema queries read: a round that derives one of them is followed by a full round
_SCHEMA = frozenset({ox.NamedNode(RDFS + "subClassOf"), ox.NamedNode(RDFS + "subPropertyOf")})


def _supers(store: ox.Store, query: str) -> dict[Term, list[Term]]:
    found: dict[Term, list[Term]] = {}
    for row in store.query(query, use_default_graph_as_union=True):  # type: ignore[union-attr]
        found.setdefault(row["a"], []).append(row["b"])
    return found


def _held(store: ox.Store, triple: ox.Triple) -> bool:
    """Whether any graph of *store* holds *triple*."""
    return next(iter(store.quads_for_pattern(triple.subject, triple.predicate, triple.object, None)), None) is not None


def _from_delta(
    store: ox.Store, delta: Iterable[ox.Quad], supers: dict[str, dict[Term, list[Term]]]
) -> Iterator[ox.Triple]:
    """What the sub-class and sub-property rules derive from *delta*, the triples new in the last round."""
    classes, properties = supers["sub-class"], supers["sub-property"]
    for t in delta:
        if t.predicate == _TYPE and t.object in classes:
            for d in classes[t.object]:
                derived = ox.Triple(t.subject, _TYPE, d)
                if not _held(store, derived):
                    yield derived
        if t.predicate in properties:
            for q in properties[t.predicate]:
                derived = ox.Triple(t.subject, q, t.object)  # type: ignore[arg-type]
                if not _held(store, derived):
                    yield derived


class _Round:
    """One round's new triples, each rule's written to a file of its own and loaded once the rule is done.

    Nothing is held in memory (at 100,000 studies a round derives millions of triples); the rules see
    what the rules before them in the round added, and the next round reads the files back as its delta."""

    def __init__(self, store: ox.Store, folder: Path, number: int):
        self.store, self.folder, self.number = store, folder, number
        self.files: list[Path] = []
        self.triples = 0
        self.schema = False  # whether a triple of the round is one the delta rules' schema queries read

    def add(self, triples: Iterable[ox.Triple]) -> None:
        path = self.folder / f"round-{self.number}-{len(self.files)}.nt"
        written = 0

        def kept() -> Iterator[ox.Triple]:
            nonlocal written
            for triple in triples:
                # blank nodes are local to a file (and renamed by each parser): only IRIs are inferred
                if isinstance(triple.subject, ox.BlankNode | ox.Triple) or isinstance(triple.object, ox.BlankNode):
                    continue
                if triple.predicate in _SCHEMA:
                    self.schema = True
                written += 1
                yield triple

        with path.open("wb") as out:
            ox.serialize(kept(), out, format=ox.RdfFormat.N_TRIPLES)
        if written:
            # bulk: a third of the time of a transactional extend into an on-disk store (a build in
            # staging has no other reader); in bounded calls (one call of 760,000 triples took 0.5 GB)
            graph = ox.NamedNode(INFERRED_GRAPH)
            parsed = ox.parse(path=path, format=ox.RdfFormat.N_TRIPLES)
            bulk_extend(self.store, (ox.Quad(t.subject, t.predicate, t.object, graph) for t in parsed))
            self.files.append(path)
            self.triples += written
        else:
            path.unlink()

    def delta(self) -> Iterator[ox.Quad]:
        for path in self.files:
            yield from ox.parse(path=path, format=ox.RdfFormat.N_TRIPLES)

    def discard(self) -> None:
        for path in self.files:
            path.unlink(missing_ok=True)


def _count(store: ox.Store) -> int:
    counted = store.query(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{INFERRED_GRAPH}> {{ ?s ?p ?o }} }}")
    assert isinstance(counted, ox.QuerySolutions)
    return int(next(iter(counted))["n"].value)


def materialise(
    store: ox.Store, *, max_rounds: int = 50, semi_naive: bool = True, scratch: Path | None = None
) -> Materialised:
    """Run the rules over *store*'s union graph to a fixpoint, adding what is new to INFERRED_GRAPH.

    Replaces any previous content of INFERRED_GRAPH. After the first round the rules with one data
    pattern (sub-class, sub-property) start from the triples the round before added, not from every
    rdf:type again (semi-naive evaluation: the same fixpoint; at 10,000 studies the sub-class rule took
    7 s a round over the whole store). ``semi_naive=False`` runs every rule over everything each round.
    Each rule's new triples go through a temporary N-Triples file (see :class:`_Round`), in a folder
    made in *scratch* (default: the system's temporary folder), so memory does not grow with what is
    inferred."""
    import tempfile

    start = time.perf_counter()
    store.remove_graph(ox.NamedNode(INFERRED_GRAPH))
    queries = rules(store)
    supers = {name: _supers(store, query) for name, query in _DELTA_RULES.items()}
    rounds = 0
    last: _Round | None = None  # the last round, whose triples are the next one's delta
    with tempfile.TemporaryDirectory(prefix=".build-rules-", dir=scratch) as folder:
        while True:
            rounds += 1
            now = _Round(store, Path(folder), rounds)
            for name, query in queries.items():
                if last is not None and name in _DELTA_RULES:
                    continue  # from the delta, below
                result = store.query(query, use_default_graph_as_union=True)
                assert isinstance(result, ox.QueryTriples)
                now.add(result)
            if last is not None:
                now.add(_from_delta(store, last.delta(), supers))
                last.discard()
            if not now.triples:
                break
            # a derived schema triple changes what the delta rules read: the next round runs them in full
            last = now if semi_naive else None
            if now.schema:
                supers = {name: _supers(store, query) for name, query in _DELTA_RULES.items()}
                last = None
            if not semi_naive or now.schema:
                now.discard()
            if rounds >= max_rounds:
                raise MaterialiseError(f"the rules did not reach a fixpoint in {max_rounds} rounds")
    return Materialised(_count(store), round(time.perf_counter() - start, 3), rounds)


def materialise_cached(store: ox.Store, inputs: str | None) -> None:
    """:func:`materialise`, reusing the inferred triples computed before for the same inputs.

    For in-memory stores loaded by :func:`kapgraph.loading.load_small`, whose key of the inputs
    (their contents) is *inputs* (None: nothing is cached): the inferred graph of each set of inputs
    is kept as N-Triples under ``$XDG_CACHE_HOME/kapgraph/inferred/`` (named by that key and the
    rules, this module's source: no stale cache after an edit), so that a cold query reads it
    (milliseconds) instead of running the rules again. A cache that cannot be read or written is
    ignored."""
    import hashlib

    from kapgraph.cache import cache_root, keep

    if inputs is None:
        materialise(store)
        return
    try:
        # not kapgraph.__version__, whose importlib.metadata costs a cold query 0.1 s
        digest = hashlib.sha256(Path(__file__).read_bytes() + inputs.encode())
        path = cache_root() / "inferred" / f"{digest.hexdigest()[:24]}.nt"
    except (OSError, RuntimeError):  # this module's source, or a home folder, cannot be found
        materialise(store)
        return
    graph = ox.NamedNode(INFERRED_GRAPH)
    try:
        body = _checked(path.read_bytes())
        if body is not None:
            store.load(input=body, format=ox.RdfFormat.N_TRIPLES, to_graph=graph)
            return
    except (OSError, SyntaxError, ValueError):
        store.remove_graph(graph)
    materialise(store)
    body = ox.serialize(inferred_triples(store), format=ox.RdfFormat.N_TRIPLES) or b""
    keep(path, _CHECK.format(hashlib.sha256(body).hexdigest()).encode() + body)


#: the first line of an inferred-graph cache entry (an N-Triples comment): the SHA-256 of the rest, so
#: that an entry cut short or emptied, even at a line's end, is computed again rather than trusted
_CHECK = "# kapgraph inferred graph, sha256 {}\n"


def _checked(entry: bytes) -> bytes | None:
    """The N-Triples of a cache entry whose first line vouches for the rest, else None."""
    import hashlib

    line, _, body = entry.partition(b"\n")
    expected = _CHECK.format(hashlib.sha256(body).hexdigest()).encode()
    return body if line + b"\n" == expected else None


def inferred_triples(store: ox.Store) -> Iterable[ox.Triple]:
    """The triples of INFERRED_GRAPH."""
    for quad in store.quads_for_pattern(None, None, None, ox.NamedNode(INFERRED_GRAPH)):
        yield ox.Triple(quad.subject, quad.predicate, quad.object)


def memberships(store: ox.Store, classes: Iterable[str] | None = None) -> set[tuple[str, str]]:
    """(individual, class) for every rdf:type of the defined classes (or *classes*) in the union graph."""
    wanted = set(classes) if classes is not None else set(defined_class_rules(store))
    found = set()
    for cls in wanted:
        for quad in store.quads_for_pattern(None, _TYPE, ox.NamedNode(cls), None):
            if isinstance(quad.subject, ox.NamedNode):
                found.add((quad.subject.value, cls))
    return found
