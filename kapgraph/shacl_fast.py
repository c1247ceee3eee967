"""A batched SHACL engine that reproduces pySHACL's report, for validating many studies quickly.

pySHACL evaluates every property shape once per focus node (constructing its constraint objects
each time) and every SHACL-SPARQL constraint once per focus node; that is what makes it slow. This
module drives *pySHACL's own* constraint components, but batched: each shape is evaluated once
for all its focus nodes, so the per-value checks (datatype, pattern, ranges, ...), the results
they make (focus, path, value, messages, severity) and the generic messages are pySHACL's by
construction. The driver reproduces pySHACL's ``Shape.validate`` logic (per-focus conformance,
allowed severities, ``sh:node`` details, ``sh:or``/``sh:and``/``sh:not``/``sh:xone``).

The data lives in :class:`FastGraph`, an rdflib ``Graph`` backed by plain dicts, filled from
Oxigraph's parser with the same terms rdflib would make (literals normalised by rdflib, plain
strings untyped, as the whole-graph reference path does).

SHACL-SPARQL constraints are evaluated once per shard on a pyoxigraph store instead of once per
focus node, with ``$this`` left free and the rows filtered by the shape's focus nodes. This equals
pySHACL's pre-binding only under conditions checked here: the query binds ``$this`` in a top-level
triple pattern and uses no construct whose meaning differs (OPTIONAL, MINUS, sub-queries, ...), and
every literal of the shard is one on which rdflib and Oxigraph agree (:func:`_literal_gate`).
Otherwise the constraint is evaluated the pySHACL way, per focus node, on the same FastGraph.
"""

from __future__ import annotations

import hashlib
import re
from array import array
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import pyoxigraph as ox
from rdflib import RDF, XSD, BNode, Graph, Literal, URIRef
from rdflib.namespace import SH
from rdflib.term import Node, Variable

from kapgraph.backends.rdflib_graph import to_oxigraph
from kapgraph.durations import XSD_DURATION, BadDuration, is_xsd_duration
from kapgraph.errors import LoadError
from kapgraph.gcpause import gc_paused
from kapgraph.limits import check_rdf_file
from kapgraph.loading import FORMATS, parse_errors

_XSD_STRING = str(XSD.string)
RDFS_SUBCLASSOF = "http://www.w3.org/2000/01/rdf-schema#subClassOf"
RDFS_CLASS = URIRef("http://www.w3.org/2000/01/rdf-schema#Class")
_ALLOWED = {SH.Info, SH.Warning}  # kapgraph validates with allow_warnings=True


class UnsupportedShapes(Exception):
    """The shapes use a feature this engine does not reproduce; the caller falls back to pySHACL."""


# --------------------------------------------------------------------------------------------
# The data graph
# --------------------------------------------------------------------------------------------


class FastGraph(Graph):
    """An rdflib Graph over dict indexes: subject -> predicate -> {object: first file}.

    Only what pySHACL and kapgraph read is implemented: ``triples`` for every pattern (the
    predicate/object index is built on first use), ``__len__`` and ``query`` (with each distinct
    query text prepared once, as pySHACL hands rdflib the same text for every focus node).
    """

    def __init__(self) -> None:
        super().__init__()
        self.spo: dict[Node, dict[Node, dict[Node, int]]] = {}
        self._pos: dict[Node, dict[Node, set[Node]]] | None = None
        self._osp: dict[Node, set[tuple[Node, Node]]] | None = None
        self._count = 0
        self._prepared: dict[str, Any] = {}

    def add_triple(self, s: Node, p: Node, o: Node, file_index: int) -> None:
        po = self.spo.get(s)
        if po is None:
            po = self.spo[s] = {}
        objects = po.get(p)
        if objects is None:
            objects = po[p] = {}
        if o not in objects:
            objects[o] = file_index
            self._count += 1
            self._pos = self._osp = None

    def file_of(self, s: Node, p: Node, o: Node) -> int | None:
        return self.spo.get(s, {}).get(p, {}).get(o)

    def _by_predicate(self) -> dict[Node, dict[Node, set[Node]]]:
        if self._pos is None:
            pos: dict[Node, dict[Node, set[Node]]] = {}
            for s, po in self.spo.items():
                for p, objects in po.items():
                    by_object = pos.setdefault(p, {})
                    for o in objects:
                        by_object.setdefault(o, set()).add(s)
            self._pos = pos
        return self._pos

    def _by_object(self) -> dict[Node, set[tuple[Node, Node]]]:
        if self._osp is None:
            osp: dict[Node, set[tuple[Node, Node]]] = {}
            for s, po in self.spo.items():
                for p, objects in po.items():
                    for o in objects:
                        osp.setdefault(o, set()).add((s, p))
            self._osp = osp
        return self._osp

    def triples(self, triple: Any) -> Iterator[Any]:  # type: ignore[override]
        s, p, o = triple
        if s is not None and not isinstance(s, Node):
            raise UnsupportedShapes("property paths in triple patterns")
        if p is not None and not isinstance(p, Node):
            # a property path: let rdflib evaluate it over our triples
            for subj, obj in p.eval(self, s, o):
                yield subj, p, obj
            return
        if s is not None:
            po = self.spo.get(s)
            if not po:
                return
            if p is not None:
                objects = po.get(p)
                if objects:
                    if o is not None:
                        if o in objects:
                            yield s, p, o
                    else:
                        for obj in list(objects):
                            yield s, p, obj
                return
            for pred, objects in list(po.items()):
                if o is not None:
                    if o in objects:
                        yield s, pred, o
                else:
                    for obj in list(objects):
                        yield s, pred, obj
            return
        if p is not None:
            by_object = self._by_predicate().get(p)
            if not by_object:
                return
            if o is not None:
                for subj in list(by_object.get(o, ())):
                    yield subj, p, o
            else:
                for obj, subjects in list(by_object.items()):
                    for subj in list(subjects):
                        yield subj, p, obj
            return
        if o is not None:
            for subj, pred in list(self._by_object().get(o, ())):
                yield subj, pred, o
            return
        for subj, po in list(self.spo.items()):
            for pred, objects in list(po.items()):
                for obj in list(objects):
                    yield subj, pred, obj

    def __len__(self) -> int:
        return self._count

    def __contains__(self, triple: Any) -> bool:
        return any(True for _ in self.triples(triple))

    def add(self, triple: Any) -> Graph:  # type: ignore[override]
        raise TypeError("FastGraph is read-only for SHACL validation")

    def query(self, query_object: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(query_object, str):
            from rdflib.plugins.sparql import prepareQuery

            init_ns = kwargs.pop("initNs", None) or dict(self.namespaces())
            if query_object not in self._prepared:
                self._prepared[query_object] = prepareQuery(query_object, initNs=init_ns)
            query_object = self._prepared[query_object]
        return super().query(query_object, *args, **kwargs)


# --------------------------------------------------------------------------------------------
# Parsing: Oxigraph's parser, rdflib's terms
# --------------------------------------------------------------------------------------------


class TermConverter:
    """Oxigraph terms -> the rdflib terms the reference path makes (oxrdflib, then plain strings)."""

    def __init__(self) -> None:
        self.cache: dict[Any, Node] = {}

    def __call__(self, term: Any) -> Node:
        cached = self.cache.get(term)
        if cached is not None:
            return cached
        if isinstance(term, ox.NamedNode):
            node: Node = URIRef(term.value)
        elif isinstance(term, ox.BlankNode):
            node = BNode(term.value)
        elif isinstance(term, ox.Literal):
            if term.language:
                node = Literal(term.value, lang=term.language)
            elif term.datatype.value == _XSD_STRING:
                node = Literal(term.value)
            else:
                node = Literal(term.value, datatype=URIRef(term.datatype.value))
        else:
            raise LoadError(f"unsupported RDF term {term!r} (RDF-star is not read)")
        self.cache[term] = node
        return node


def parse_quads(path: Path) -> list[Any]:
    """The statements of one file as Oxigraph quads, or LoadError naming file:line:column."""
    return list(_parse_iter(path))


def term_key(term: Node) -> int:
    """A process-independent 64-bit hash of a term (for the cross-shard ownership checks)."""
    return int.from_bytes(hashlib.blake2b(term.n3().encode(), digest_size=8).digest(), "little")


# --------------------------------------------------------------------------------------------
# Results: pySHACL's (text, node, triples) reports, flattened
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RawResult:
    """One sh:ValidationResult as kapgraph reads it (nested sh:detail results are separate)."""

    # rdflib terms (typed Any: rdflib's own annotations of graph lookups are loose)
    focus: Any
    path: Any
    value: Any
    severity: Any
    messages: tuple[str, ...]
    source_shape: Any
    source_constraint: Any
    component: Any
    #: the focus node of the top-level result this one is (nested in, by sh:detail)
    root: Any = None
    #: whether this result is another result's sh:detail (counted with it, not on its own)
    nested: bool = False


def _strip(obj: Any) -> Any:
    return obj[1] if isinstance(obj, tuple) else obj


def flatten_reports(reports: Iterable[tuple[str, Node, list[tuple[Any, Any, Any]]]]) -> list[RawResult]:
    """pySHACL's report tuples -> one RawResult per sh:ValidationResult (details included)."""
    out: list[RawResult] = []
    for report in reports:
        _text, _node, triples = report
        root = _report_focus(report)
        props: dict[Node, dict[Node, list[Any]]] = {}
        results: list[Node] = []
        details: set[Node] = set()
        for s, p, o in triples:
            o = _strip(o)
            props.setdefault(s, {}).setdefault(p, []).append(o)
            if p == RDF.type and o == SH.ValidationResult:
                results.append(s)
            elif p == SH.detail:
                details.add(o)
        for r in results:
            d = props.get(r, {})

            def one(pred: Node, d: dict[Node, list[Any]] = d) -> Any:
                values = d.get(pred)
                return values[0] if values else None

            out.append(
                RawResult(
                    focus=one(SH.focusNode),
                    path=one(SH.resultPath),
                    value=one(SH.value),
                    severity=one(SH.resultSeverity),
                    messages=tuple(sorted(str(m) for m in d.get(SH.resultMessage, []))),
                    source_shape=one(SH.sourceShape),
                    source_constraint=one(SH.sourceConstraint),
                    component=one(SH.sourceConstraintComponent),
                    root=root,
                    nested=r in details,
                )
            )
    return out


def results_from_report_graph(report: Graph) -> list[RawResult]:
    """The same records, read from a pySHACL report graph (the reference path)."""
    out = []
    for r in report.subjects(RDF.type, SH.ValidationResult):
        out.append(
            RawResult(
                focus=report.value(r, SH.focusNode),
                path=report.value(r, SH.resultPath),
                value=report.value(r, SH.value),
                severity=report.value(r, SH.resultSeverity),
                messages=tuple(sorted(str(m) for m in report.objects(r, SH.resultMessage))),
                source_shape=report.value(r, SH.sourceShape),
                source_constraint=report.value(r, SH.sourceConstraint),
                component=report.value(r, SH.sourceConstraintComponent),
                nested=(None, SH.detail, r) in report,
            )
        )
    return out


def _report_focus(report: tuple[str, Node, list[tuple[Any, Any, Any]]]) -> Node:
    _text, node, triples = report
    for s, p, o in triples:
        if s == node and p == SH.focusNode:
            return _strip(o)
    raise RuntimeError("a pySHACL result without sh:focusNode")


def _report_severity(report: tuple[str, Node, list[tuple[Any, Any, Any]]]) -> Node | None:
    _text, node, triples = report
    for s, p, o in triples:
        if s == node and p == SH.resultSeverity:
            return _strip(o)
    return None


# --------------------------------------------------------------------------------------------
# SHACL-SPARQL constraints: checked, then evaluated once per shard on Oxigraph
# --------------------------------------------------------------------------------------------

_LEXICAL_FUNCTIONS = {
    "Builtin_STR",
    "Builtin_STRLEN",
    "Builtin_SUBSTR",
    "Builtin_UCASE",
    "Builtin_LCASE",
    "Builtin_STRSTARTS",
    "Builtin_STRENDS",
    "Builtin_CONTAINS",
    "Builtin_STRBEFORE",
    "Builtin_STRAFTER",
    "Builtin_ENCODE_FOR_URI",
    "Builtin_CONCAT",
    "Builtin_REGEX",
    "Builtin_REPLACE",
    "Builtin_sameTerm",
    "Builtin_MD5",
    "Builtin_SHA1",
    "Builtin_SHA256",
    "Builtin_SHA384",
    "Builtin_SHA512",
    "Builtin_STRDT",
    "Builtin_STRLANG",
    "Builtin_IRI",
    "Builtin_LANG",
    "Builtin_LANGMATCHES",
    "Function",
}
_GUARDS = {"Builtin_isIRI", "Builtin_isURI", "Builtin_isBLANK"}
_PATTERN_NODES = {"SelectQuery", "Project", "Filter", "Extend", "Join", "BGP", "Union", "ToMultiSet"}
_REJECTED_VARS = re.compile(r"[$?](PATH|currentShape|shapesGraph)\b")


@dataclass
class SparqlPlan:
    """What a SHACL-SPARQL query reads, and whether Oxigraph may evaluate it for all focus nodes."""

    text: str  # the query, with its prefixes, $this left free
    #: the literals whose lexical form the query reads (string functions on data it does not first
    #: check to be IRIs or blank nodes): ("datatype", IRI) for a read guarded by datatype(?v) = <IRI>,
    #: ("predicate", IRI) for the objects of a fixed predicate; None: any literal
    lexical_reads: frozenset[tuple[str, str]] | None
    reads_incoming: bool  # has a pattern `?x p $this`
    incoming_predicates: frozenset[str] | None  # the p of those patterns (None: a variable)
    global_predicates: frozenset[str]  # predicates of patterns not connected to $this (read everywhere)
    bounded: bool  # every pattern is connected to $this (else the shard analysis gives up)

    def lexically_safe(self, changed: frozenset[tuple[str, str]]) -> bool:
        """Whether none of the literals it reads lexically is one whose form Oxigraph changes.

        *changed* holds ("datatype", IRI) and ("predicate", IRI) of each such literal of the shard."""
        return self.lexical_reads is not None and not (self.lexical_reads & changed)


def _datatype_guard(expr: Any) -> tuple[Variable, str] | None:
    """(?v, IRI) if *expr* is ``datatype(?v) = <IRI>``."""
    from rdflib.plugins.sparql.parserutils import CompValue

    if isinstance(expr, CompValue) and expr.name == "RelationalExpression" and expr.op == "=":
        left, right = expr.expr, expr.other
        if isinstance(right, CompValue):
            left, right = right, left
        if (
            isinstance(left, CompValue)
            and left.name == "Builtin_DATATYPE"
            and isinstance(left.arg, Variable)
            and isinstance(right, URIRef)
        ):
            return left.arg, str(right)
    return None


def _lexical_reads(
    exprs: list[Any],
    binds: dict[Variable, Any],
    triples: list[tuple[Any, Any, Any]],
    data_vars: set[Variable],
    guarded: set[Variable],
) -> frozenset[tuple[str, str]] | None:
    """The literals whose lexical form *exprs* read: see SparqlPlan.lexical_reads."""
    from rdflib.plugins.sparql.parserutils import CompValue

    reads: set[tuple[str, str]] = set()
    anything = False

    def read(var: Variable, guards: dict[Variable, str]) -> None:
        nonlocal anything
        for underlying in _underlying(var, binds, set()):
            if underlying not in data_vars or underlying in guarded:
                continue
            if underlying in guards:
                reads.add(("datatype", guards[underlying]))
                continue
            predicates = {p for _s, p, o in triples if o == underlying}
            if predicates and all(isinstance(p, URIRef) for p in predicates):
                reads.update(("predicate", str(p)) for p in predicates)
            else:
                anything = True

    def scan(node: Any, guards: dict[Variable, str]) -> None:
        if isinstance(node, list | tuple):
            for item in node:
                scan(item, guards)
            return
        if not isinstance(node, CompValue):
            return
        if node.name == "ConditionalAndExpression":
            # a && b: b is evaluated (and matters) only where a holds, so a datatype test in a guards b
            inner = dict(guards)
            for part in [node.expr, *(node.other or [])]:
                scan(part, inner)
                guard = _datatype_guard(part)
                if guard is not None:
                    inner[guard[0]] = guard[1]
            return
        if node.name in _LEXICAL_FUNCTIONS:
            for var in _expr_vars(node):
                read(var, guards)
        for child in node.values():
            scan(child, guards)

    for expr in exprs:
        scan(expr, {})
    return None if anything else frozenset(reads)


def _walk(node: Any) -> Iterator[Any]:
    from rdflib.plugins.sparql.parserutils import CompValue

    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, CompValue):
            yield current
            stack.extend(current.values())
        elif isinstance(current, list | tuple):
            stack.extend(current)


def plan_sparql(select_text: str, prefixed_text: str, is_property_shape: bool) -> SparqlPlan | None:
    """Check a constraint's query and describe its reads; None if Oxigraph must not evaluate it."""
    from rdflib.plugins.sparql import prepareQuery
    from rdflib.plugins.sparql.parserutils import CompValue

    if is_property_shape or _REJECTED_VARS.search(select_text):
        return None
    try:
        algebra = prepareQuery(prefixed_text).algebra
    except Exception:
        return None
    this = Variable("this")
    if algebra.name != "SelectQuery" or this not in (algebra.get("PV") or []):
        return None
    # the pattern tree: only plain joins, unions, BINDs and FILTERs
    top_bgp_vars: set[Variable] = set()
    pattern_vars: set[Variable] = set()  # every variable of the query's own (non-EXISTS) patterns
    binds: dict[Variable, Any] = {}
    filters: list[Any] = []
    triples: list[tuple[Any, Any, Any]] = []

    def visit(node: Any, top: bool) -> bool:
        if not isinstance(node, CompValue):
            return True
        if node.name not in _PATTERN_NODES:
            return False
        if node.name == "BGP":
            for t in node.triples:
                triples.append(tuple(t))
                pattern_vars.update(x for x in t if isinstance(x, Variable))
                if top:
                    top_bgp_vars.update(x for x in t if isinstance(x, Variable))
            return True
        if node.name == "ToMultiSet":
            return False  # VALUES
        if node.name == "Extend":
            if node.var == this:
                return False
            binds[node.var] = node.expr
            if this in _expr_vars(node.expr):
                return False  # $this used before the body has bound it
            return visit(node.p, top)
        if node.name == "Filter":
            filters.append(node.expr)
            return visit(node.p, top)
        if node.name == "Union":
            return visit(node.p1, False) and visit(node.p2, False)
        if node.name == "Join":
            return visit(node.p1, top) and visit(node.p2, top)
        if node.name in ("SelectQuery", "Project"):
            return visit(node.p, top)
        return False

    if not visit(algebra, True) or this not in top_bgp_vars:
        return None
    # EXISTS / NOT EXISTS patterns: plain triples, joins and filters only
    exists_ok = {"GroupGraphPatternSub", "Filter", "Join", "BGP", "TriplesBlock", "Extend"}
    for expr in filters + list(binds.values()):
        for sub in _walk(expr):
            if sub.name in ("Builtin_EXISTS", "Builtin_NOTEXISTS"):
                for part in _walk(sub.graph):
                    if part.name == "BGP":
                        triples.extend(tuple(t) for t in part.triples)
                    elif part.name == "TriplesBlock":
                        for block in part.triples:
                            flat = list(block)
                            triples.extend(tuple(flat[i : i + 3]) for i in range(0, len(flat) - 2, 3))
                    elif part.name not in exists_ok and not part.name.startswith(
                        ("Builtin_", "Relational", "Conditional", "Unary", "Additive", "Multiplicative")
                    ):
                        return None
            if sub.name == "SubSelect":
                return None
    data_vars = {x for t in triples for x in t if isinstance(x, Variable)}
    guarded: set[Variable] = set()
    for expr in filters:
        for conjunct in _conjuncts(expr):
            first = conjunct
            while isinstance(first, CompValue) and first.name == "ConditionalAndExpression":
                first = first.expr
            if isinstance(first, CompValue) and first.name in _GUARDS and isinstance(first.arg, Variable):
                guarded.add(first.arg)
    lexical_reads = _lexical_reads(filters + list(binds.values()), binds, triples, data_vars, guarded)
    # which triples the query reads, relative to $this
    anchored: set[Any] = {this}
    reads_incoming = False
    incoming: set[str] | None = set()
    changed = True
    while changed:
        changed = False
        for s, p, o in triples:
            terms = [x for x in (s, p, o) if isinstance(x, Variable)]
            if (not isinstance(s, Variable)) or s in anchored:
                new = {x for x in terms if x not in anchored}
            elif o == this:
                reads_incoming = True
                preds = _path_iris(p)
                incoming = None if preds is None or incoming is None else incoming | preds
                new = {x for x in terms if x not in anchored}
            else:
                continue
            if new:
                anchored |= new
                changed = True
    global_predicates: set[str] = set()
    bounded = True
    for s, p, _o in triples:
        if isinstance(s, Variable) and s not in anchored:
            preds = _path_iris(p)
            if preds is None:
                bounded = False
            else:
                global_predicates |= preds
    return SparqlPlan(
        text=_not_exists_as_minus(prefixed_text, filters, top_bgp_vars, pattern_vars | set(binds)),
        lexical_reads=lexical_reads,
        reads_incoming=reads_incoming,
        incoming_predicates=None if incoming is None else frozenset(incoming),
        global_predicates=frozenset(global_predicates),
        bounded=bounded,
    )


def _target_pattern(sg: Graph, shape: Any) -> str | None:
    """A SPARQL pattern binding ?this to (a superset of) the shape's focus nodes, if it has one."""
    parts = []
    for c in sg.objects(shape.node, SH.targetClass):
        if not isinstance(c, URIRef):
            return None
        parts.append(f"?this <{RDF.type}>/<{RDFS_SUBCLASSOF}>* <{c}>")
    if (shape.node, RDF.type, RDFS_CLASS) in sg and isinstance(shape.node, URIRef):
        parts.append(f"?this <{RDF.type}>/<{RDFS_SUBCLASSOF}>* <{shape.node}>")
    for p in sg.objects(shape.node, SH.targetSubjectsOf):
        if not isinstance(p, URIRef):
            return None
        parts.append(f"?this <{p}> ?kapgraph_object")
    for p in sg.objects(shape.node, SH.targetObjectsOf):
        if not isinstance(p, URIRef):
            return None
        parts.append(f"?kapgraph_subject <{p}> ?this")
    for n in sg.objects(shape.node, SH.targetNode):
        if not isinstance(n, URIRef):
            return None
        parts.append(f"VALUES ?this {{ <{n}> }}")
    if not parts or (shape.node, SH.target, None) in sg:
        return None
    return " UNION ".join(f"{{ {p} }}" for p in parts)


def _restrict(query: str, pattern: str) -> str:
    """Insert *pattern* at the start of the query's WHERE group (it joins with the whole group)."""
    match = re.search(r"\bWHERE\s*\{", query, re.IGNORECASE) or re.search(r"\{", query)
    if match is None:
        return query
    return query[: match.end()] + " " + pattern + " " + query[match.end() :]


_FILTER_NOT_EXISTS = re.compile(r"FILTER\s+NOT\s+EXISTS\s*\{", re.IGNORECASE)


def _not_exists_as_minus(text: str, filters: list[Any], bound: set[Variable], outer: set[Variable]) -> str:
    """The query with each ``FILTER NOT EXISTS { P }`` written ``MINUS { P }``, where that is the same.

    Oxigraph evaluates NOT EXISTS once per solution (slow on a big shard) and MINUS as one
    anti-join. They agree when P is triples only, every variable P shares with the group is bound
    in every solution of the group (it occurs in a top-level triple pattern), and P shares one.
    The text is left alone unless every NOT EXISTS of the query is such a top-level filter.
    """
    from rdflib.plugins.sparql.parserutils import CompValue

    conjuncts = [c for expr in filters for c in _conjuncts(expr)]
    count = 0
    for expr in filters:
        for sub in _walk(expr):
            if sub.name == "Builtin_NOTEXISTS":
                count += 1
            elif sub.name == "Builtin_EXISTS":
                return text
    candidates = [c for c in conjuncts if isinstance(c, CompValue) and c.name == "Builtin_NOTEXISTS"]
    if count == 0 or len(candidates) != count or len(_FILTER_NOT_EXISTS.findall(text)) != count:
        return text
    for c in candidates:
        inner: set[Variable] = set()
        for part in _walk(c.graph):
            if part.name in ("BGP", "TriplesBlock"):
                for t in part.triples:
                    inner.update(x for x in t if isinstance(x, Variable))
            elif part.name not in ("GroupGraphPatternSub", "Join"):
                return text
        if not inner & bound or not (inner & outer) <= bound:
            return text
    return _FILTER_NOT_EXISTS.sub("MINUS {", text)


def _conjuncts(expr: Any) -> list[Any]:
    from rdflib.plugins.sparql.parserutils import CompValue

    if isinstance(expr, CompValue) and expr.name == "ConditionalAndExpression":
        out = _conjuncts(expr.expr)
        for other in expr.other or []:
            out.extend(_conjuncts(other))
        return out
    return [expr]


def _expr_vars(expr: Any) -> set[Variable]:
    found: set[Variable] = set()
    stack = [expr]
    from rdflib.plugins.sparql.parserutils import CompValue

    while stack:
        current = stack.pop()
        if isinstance(current, Variable):
            found.add(current)
        elif isinstance(current, CompValue):
            if current.name in ("Builtin_EXISTS", "Builtin_NOTEXISTS"):
                continue
            stack.extend(v for k, v in current.items() if k != "_vars")
        elif isinstance(current, list | tuple):
            stack.extend(current)
    return found


def _underlying(var: Variable, binds: dict[Variable, Any], seen: set[Variable]) -> set[Variable]:
    if var in seen:
        return set()
    seen.add(var)
    if var not in binds:
        return {var}
    out: set[Variable] = set()
    for v in _expr_vars(binds[var]):
        out |= _underlying(v, binds, seen)
    return out


def _path_iris(p: Any) -> set[str] | None:
    """The IRIs a predicate position can match, if they are all constants."""
    from rdflib.paths import AlternativePath, InvPath, MulPath, NegatedPath, SequencePath

    if isinstance(p, URIRef):
        return {str(p)}
    if isinstance(p, SequencePath | AlternativePath):
        out: set[str] = set()
        for arg in p.args:
            sub = _path_iris(arg)
            if sub is None:
                return None
            out |= sub
        return out
    if isinstance(p, InvPath):
        return _path_iris(p.arg)
    if isinstance(p, MulPath):
        return _path_iris(p.path)
    if isinstance(p, NegatedPath):
        return None
    return None


# literal forms on which rdflib and Oxigraph agree (valid in both, same value)
_SAFE_LEXICAL = {
    str(XSD.integer): re.compile(r"-?(0|[1-9][0-9]*)"),
    str(XSD.decimal): re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?"),
    str(XSD.boolean): re.compile(r"true|false"),
    str(XSD.duration): re.compile(
        r"-?P(?=[0-9]|T[0-9])([0-9]+Y)?([0-9]+M)?([0-9]+D)?(T(?=[0-9])([0-9]+H)?([0-9]+M)?([0-9]+(\.[0-9]+)?S)?)?"
    ),
    str(XSD.gYear): re.compile(r"[0-9]{4}"),
    str(XSD.gYearMonth): re.compile(r"[0-9]{4}-(0[1-9]|1[0-2])"),
    str(XSD.date): re.compile(r"[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"),
}


def to_ox(term: Node) -> Any:
    return to_oxigraph(term)


@dataclass
class LiteralMap:
    """Oxigraph's form of each literal of a shard -> the rdflib literal, and whether it is safe."""

    back: dict[Any, Literal]
    safe: bool  # every literal is one both engines read the same way
    #: the literals whose lexical form Oxigraph changes ("80.0"^^xsd:decimal is "80" there)
    changed: frozenset[Literal] = frozenset()


def literal_map(literals: Iterable[Literal]) -> LiteralMap:
    items = list(dict.fromkeys(literals))
    scratch = ox.Store()
    predicate = ox.NamedNode("urn:kapgraph:literal")
    scratch.extend(ox.Quad(ox.NamedNode(f"urn:kapgraph:l{i}"), predicate, to_ox(lit)) for i, lit in enumerate(items))
    canonical: dict[int, Any] = {int(q.subject.value[len("urn:kapgraph:l") :]): q.object for q in scratch}
    back: dict[Any, Literal] = {}
    safe = True
    changed: set[Literal] = set()
    for i, lit in enumerate(items):
        stored = canonical[i]
        if stored in back and back[stored] != lit:
            safe = False  # two rdflib literals are one in Oxigraph
        back[stored] = lit
        if stored.value != str(lit):
            changed.add(lit)
        if lit.language or lit.datatype is None:
            continue
        pattern = _SAFE_LEXICAL.get(str(lit.datatype))
        if pattern is None or not pattern.fullmatch(str(lit)) or getattr(lit, "ill_typed", False):
            safe = False
    return LiteralMap(back=back, safe=safe, changed=frozenset(changed))


# --------------------------------------------------------------------------------------------
# The batched driver
# --------------------------------------------------------------------------------------------

Report = tuple[str, Node, list[tuple[Any, Any, Any]]]
_UNSUPPORTED_COMPONENTS = {
    "NotConstraintComponent",
    "XoneConstraintComponent",
    "QualifiedValueShapeConstraintComponent",
    "ExpressionConstraint",
    "JSConstraint",
}


class Outcome:
    """How one focus node fared against one shape (only made for nodes with reports)."""

    __slots__ = ("conforms", "reports")

    def __init__(self) -> None:
        self.conforms = True
        self.reports: list[Report] = []


_CLEAN = Outcome()  # the outcome of every focus node without reports (never modified)


def _no_description(*args: Any, **kwargs: Any) -> str:
    return ""


class Engine:
    """Evaluates a shapes graph over one FastGraph, batched, with pySHACL's components."""

    def __init__(self, shapes: Graph) -> None:
        from pyshacl.constraints import CONSTRAINT_PARAMETERS_MAP
        from pyshacl.pytypes import SHACLExecutor
        from pyshacl.shapes_graph import ShapesGraph

        self.sg = ShapesGraph(shapes)
        self.shapes = list(self.sg.shapes)
        self.executor = SHACLExecutor(allow_warnings=True)
        self.parameter_map = CONSTRAINT_PARAMETERS_MAP
        self._components: dict[tuple[Node, type], Any] = {}
        self.plans: dict[Node, SparqlPlan | None] = {}
        if self.sg.custom_constraints:
            raise UnsupportedShapes("custom constraint components")
        for shape in self.shapes:
            for p in self.sg.graph.predicates(shape.node):
                cls = self.parameter_map.get(p)
                if cls is not None and cls.__name__ in _UNSUPPORTED_COMPONENTS:
                    raise UnsupportedShapes(cls.__name__)
        self.iri_paths_only = all(not s.is_property_shape or isinstance(s.path(), URIRef) for s in self.shapes)
        self.targets_objects = any((s.node, SH.targetObjectsOf, None) in self.sg.graph for s in self.shapes) or any(
            (s.node, SH.target, None) in self.sg.graph for s in self.shapes
        )
        self.nested_sparql = False
        for shape in self.shapes:
            for p in (SH.node, SH.property, SH["not"], SH["and"], SH["or"], SH.xone, SH.qualifiedValueShape):
                for ref in self.sg.graph.objects(shape.node, p):
                    members = list(self.sg.graph.items(ref)) if p in (SH["and"], SH["or"], SH.xone) else [ref]
                    for m in members:
                        if (m, SH.sparql, None) in self.sg.graph:
                            self.nested_sparql = True
        if self.nested_sparql:
            raise UnsupportedShapes("SHACL-SPARQL constraints on nested shapes")
        targets: dict[Node, set[str] | None] = {}
        helpers: dict[Node, tuple[Any, Any]] = {}
        for shape in self.shapes:
            component = self._sparql_component(shape)
            if component is None:
                continue
            pattern = _target_pattern(self.sg.graph, shape)
            for helper in component.sparql_constraints:
                helpers.setdefault(helper.node, (helper, shape))
                known = targets.get(helper.node, set())
                targets[helper.node] = None if pattern is None or known is None else known | {pattern}
        for node, (helper, shape) in helpers.items():
            plan = plan_sparql(helper.select_text, helper.apply_prefixes(helper.select_text), shape.is_property_shape)
            restriction = targets[node]
            if plan is not None and restriction:
                # only the focus nodes' rows: the union of the targets of the shapes that use it
                union = " UNION ".join(f"{{ {t} }}" for t in sorted(restriction))
                plan.text = _restrict(plan.text, f"{{ SELECT DISTINCT ?this WHERE {{ {union} }} }}")
            self.plans[node] = plan

    def _sparql_component(self, shape: Any) -> Any:
        if (shape.node, SH.sparql, None) not in self.sg.graph:
            return None
        return self.component(shape, self.parameter_map[SH.sparql])

    def component(self, shape: Any, cls: type) -> Any:
        key = (shape.node, cls)
        if key not in self._components:
            component = cls(shape)
            # pySHACL writes a text description of every result (for its text report, which
            # kapgraph does not use); it costs more than the check. Only on our own instances.
            component.make_v_result_description = _no_description
            self._components[key] = component
        return self._components[key]

    # -- shape evaluation ------------------------------------------------------------------

    def validate(
        self, graph: FastGraph, sparql: dict[Node, dict[Node, list[Any]]] | None, owned: set[Node]
    ) -> tuple[bool, bool, list[Report], dict[Node, set[Node]]]:
        """All shapes over *graph*.

        Returns pySHACL's conformance over the focus nodes in *owned* and over the others, the
        reports, and the focus nodes of each shape with SPARQL constraints. *sparql* gives, per
        SPARQL constraint node, the rows of its query by focus node; a constraint missing from it
        is evaluated per focus node, by pySHACL.
        """
        conforms_owned = conforms_other = True
        reports: list[Report] = []
        sparql_focus: dict[Node, set[Node]] = {}
        for shape in self.shapes:
            if shape.deactivated:
                continue
            focus = list(shape.focus_nodes(graph))
            if not focus:
                continue
            if self._sparql_component(shape) is not None:
                sparql_focus[shape.node] = set(focus)
            mine = {f for f in focus if f in owned}
            outcome_by_focus, (nc_owned, nc_other) = self._evaluate(
                graph, shape, focus, [], sparql, (mine, set(focus) - mine)
            )
            for outcome in outcome_by_focus.values():
                reports.extend(outcome.reports)
            conforms_owned = conforms_owned and not nc_owned
            conforms_other = conforms_other and not nc_other
        return conforms_owned, conforms_other, reports, sparql_focus

    def _evaluate(
        self,
        graph: FastGraph,
        shape: Any,
        focus: list[Node],
        path: list[Node],
        sparql: dict[Node, dict[Node, list[Any]]] | None = None,
        groups: tuple[set[Node], ...] = (),
    ) -> tuple[dict[Node, Outcome], tuple[bool, ...]]:
        """Shape.validate for each focus node, batched.

        Returns the outcome for each focus node and, for each set in *groups*, whether
        Shape.validate on that set of focus nodes would be non-conformant (pySHACL decides it
        over the whole batch of a top-level shape).
        """
        out: dict[Node, Outcome] = {}
        batch = [False] * len(groups)
        if shape.deactivated or not focus:
            return out, tuple(batch)
        if shape.node in path:
            raise UnsupportedShapes("recursive shapes")
        path = [*path, shape.node]
        if len(path) > 30:
            raise UnsupportedShapes("shapes nested too deep")
        shape_path = shape.path() if shape.is_property_shape else None
        if isinstance(shape_path, URIRef):
            spo = graph.spo
            fvn = {f: set(spo.get(f, {}).get(shape_path, ())) for f in focus}
        else:
            fvn = shape.value_nodes(graph, focus)
        allow_conform = shape.severity in _ALLOWED
        done: set[type] = set()
        for p, _v in self.sg.graph.predicate_objects(shape.node):
            cls = self.parameter_map.get(p)
            if cls is None or cls in done:
                continue
            done.add(cls)
            name = cls.__name__
            if name == "SPARQLBasedConstraint":
                per_focus = self._sparql(graph, shape, fvn, sparql)
            elif name == "PropertyConstraintComponent":
                per_focus = self._property(graph, shape, fvn, path)
            elif name == "NodeConstraintComponent":
                per_focus = self._node(graph, shape, fvn, path)
            elif name in ("OrConstraintComponent", "AndConstraintComponent"):
                per_focus = self._logical(graph, shape, fvn, path, name)
            elif name in _UNSUPPORTED_COMPONENTS:
                raise UnsupportedShapes(name)
            else:
                per_focus = self._leaf(graph, shape, cls, fvn, path)
            for f, (nonconform, reps) in per_focus.items():
                if not reps and not nonconform:
                    continue
                outcome = out.get(f)
                if outcome is None:
                    outcome = out[f] = Outcome()
                outcome.reports.extend(reps)
                if nonconform and not allow_conform and not all(_report_severity(r) in _ALLOWED for r in reps):
                    outcome.conforms = False
            if allow_conform:
                continue
            for i, group in enumerate(groups):
                members = [(nc, reps) for f, (nc, reps) in per_focus.items() if f in group]
                if not any(nc for nc, _reps in members):
                    continue
                if not all(_report_severity(r) in _ALLOWED for _nc, reps in members for r in reps):
                    batch[i] = True
        return out, tuple(batch)

    def _leaf(
        self, graph: FastGraph, shape: Any, cls: type, fvn: dict, path: list
    ) -> dict[Node, tuple[bool, list[Report]]]:
        from pyshacl.errors import ConstraintLoadWarning

        try:
            component = self.component(shape, cls)
        except ConstraintLoadWarning:
            return {}
        _ok, reports = component.evaluate(self.executor, graph, fvn, path)
        per_focus: dict[Node, tuple[bool, list[Report]]] = {}
        for r in reports:
            f = _report_focus(r)
            per_focus.setdefault(f, (True, []))[1].append(r)
        return {f: (True, reps) for f, (_x, reps) in per_focus.items()}

    def _nested(self, graph: FastGraph, node: Node, fvn: dict, path: list) -> tuple[Any, dict[Node, Outcome]]:
        other = self.sg.lookup_shape_from_node(node)
        values = list(dict.fromkeys(v for vs in fvn.values() for v in vs))
        outcomes, _ = self._evaluate(graph, other, values, path)
        return other, outcomes

    def _property(self, graph: FastGraph, shape: Any, fvn: dict, path: list) -> dict[Node, tuple[bool, list[Report]]]:
        per_focus: dict[Node, tuple[bool, list[Report]]] = {}
        for p_node in self.sg.graph.objects(shape.node, SH.property):
            if self.sg.is_filtered_out_shape(p_node):
                continue
            _other, outcomes = self._nested(graph, p_node, fvn, path)
            for f, values in fvn.items():
                for v in values:
                    o = outcomes.get(v, _CLEAN)
                    if o is _CLEAN:
                        continue
                    nc, reps = per_focus.get(f, (False, []))
                    per_focus[f] = (nc or not o.conforms, reps + o.reports)
        return per_focus

    def _node(self, graph: FastGraph, shape: Any, fvn: dict, path: list) -> dict[Node, tuple[bool, list[Report]]]:
        from pyshacl.constraints.core.shape_based_constraints import NodeConstraintComponent
        from pyshacl.consts import SH_detail

        component = self.component(shape, NodeConstraintComponent)
        per_focus: dict[Node, tuple[bool, list[Report]]] = {}
        for n_node in component.node_shapes:
            if self.sg.is_filtered_out_shape(n_node):
                continue
            _other, outcomes = self._nested(graph, n_node, fvn, path)
            for f, values in fvn.items():
                for v in values:
                    o = outcomes.get(v, _CLEAN)
                    if o.conforms and not o.reports:
                        continue
                    text, node, triples = component.make_v_result(graph, f, value_node=v)
                    for _t, sub_node, sub_triples in o.reports:
                        triples.append((node, SH_detail, sub_node))
                        triples.extend(sub_triples)
                    _nc, reps = per_focus.get(f, (True, []))
                    per_focus[f] = (True, [*reps, (text, node, triples)])
        return per_focus

    def _logical(
        self, graph: FastGraph, shape: Any, fvn: dict, path: list, name: str
    ) -> dict[Node, tuple[bool, list[Report]]]:
        """sh:or / sh:and as pySHACL evaluates them: each value node against every member shape."""
        is_or = name == "OrConstraintComponent"
        component = self.component(shape, self.parameter_map[SH["or"] if is_or else SH["and"]])
        per_focus: dict[Node, tuple[bool, list[Report]]] = {}
        for lst in component.or_list if is_or else component.and_list:
            members = [m for m in set(self.sg.graph.items(lst)) if not self.sg.is_filtered_out_shape(m)]
            if not members:
                continue
            outcomes = [self._nested(graph, m, fvn, path)[1] for m in members]
            for f, values in fvn.items():
                for v in values:
                    results = [o.get(v, _CLEAN).conforms for o in outcomes]
                    if (not any(results)) if is_or else (not all(results)):
                        _nc, reps = per_focus.get(f, (True, []))
                        per_focus[f] = (True, [*reps, component.make_v_result(graph, f, value_node=v)])
        return per_focus

    def _sparql(
        self, graph: FastGraph, shape: Any, fvn: dict, sparql: dict | None
    ) -> dict[Node, tuple[bool, list[Report]]]:
        component = self._sparql_component(shape)
        per_focus: dict[Node, tuple[bool, list[Report]]] = {}
        for helper in component.sparql_constraints:
            if helper.deactivated:
                continue
            rows = None if sparql is None else sparql.get(helper.node)
            if rows is None:
                _nc, reports = component._evaluate_sparql_constraint(helper, graph, fvn)
            else:
                reports = _sparql_reports(component, helper, graph, fvn, rows)
            for r in reports:
                f = _report_focus(r)
                _x, reps = per_focus.get(f, (True, []))
                per_focus[f] = (True, [*reps, r])
        return per_focus


def _sparql_reports(
    component: Any, helper: Any, graph: FastGraph, fvn: dict, rows: dict[Node, list[dict]]
) -> list[Report]:
    """pySHACL's _evaluate_sparql_constraint, with the rows of a whole-shard query."""
    reports: list[Report] = []
    extra_messages = helper.messages or None
    kwargs = {"source_constraint": helper.node, "extra_messages": extra_messages}
    for f in fvn:
        violations: list[Any] = []
        seen_failure = False
        for var_dict in rows.get(f, ()):
            var_dict = dict(var_dict)
            failure = var_dict.pop("failure", None)
            if failure is not None:
                if not seen_failure:
                    violations.append((True, var_dict))
                    seen_failure = True
                continue
            p = var_dict.pop("path", None)
            v = var_dict.pop("value", None)
            t = var_dict.pop("this", None)
            if (p is not None) or (v is not None) or (t is not None):
                if (t, p, v, var_dict) in violations:
                    continue
                violations.append((t, p, v, var_dict))
        result_val = f if not component.shape.is_property_shape else None
        for violation in violations:
            if len(violation) == 2:
                _, vars_dict = violation
                reports.append(component.make_v_result(graph, f, value_node=result_val, bound_vars=vars_dict, **kwargs))
            else:
                t, p, v, vars_dict = violation
                if v is None:
                    v = result_val
                reports.append(
                    component.make_v_result(
                        graph, t or f, value_node=v, result_path=p, bound_vars=(t, p, v, vars_dict), **kwargs
                    )
                )
    return reports


@lru_cache(maxsize=4)
def _var_names(text: str) -> tuple[str, ...]:
    return tuple(sorted(set(re.findall(r"[?$]([A-Za-z_][A-Za-z0-9_]*)", text))))


def run_sparql(
    store: ox.Store, plan: SparqlPlan, back: dict[Any, Literal], convert: TermConverter
) -> dict[Node, list[dict]]:
    """A constraint's query over the whole shard: its rows, as rdflib terms, by ?this."""
    rows: dict[Node, list[dict]] = {}
    solutions = store.query(plan.text)
    if not isinstance(solutions, ox.QuerySolutions):
        raise TypeError("a SHACL-SPARQL constraint must be a SELECT query")
    names = [v.value for v in solutions.variables]
    for solution in solutions:
        row: dict[str, Node] = {}
        for name in names:
            term = solution[name]
            if term is None:
                continue
            # a literal of the data maps back to rdflib's form of it; one the query made is converted
            mapped = back.get(term) if isinstance(term, ox.Literal) else None
            row[name] = mapped if mapped is not None else convert(term)
        this = row.get("this")
        if this is not None:
            rows.setdefault(this, []).append(row)
    return rows


# --------------------------------------------------------------------------------------------
# One shard: parse, index, validate, and report what the merge needs to check the sharding
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ShardTask:
    index: int
    #: (position in the whole input, path, is a study file), in input order
    files: tuple[tuple[int, str, bool], ...]
    shapes_key: str


@dataclass
class ShardOutput:
    index: int
    #: (result, focus is owned by a study file of this shard, file position, study)
    results: list[tuple[RawResult, bool, int | None, Node | None]]
    #: batch conformance over the focus nodes owned here, and over the others
    conforms_owned: bool
    conforms_other: bool
    owned: bytes  # array('Q') of term_key() of the subjects of this shard's study files
    mentions: list[str]  # N3 of the IRIs/blank nodes its study files name but do not describe
    exposed: list[str]  # N3 of owned nodes that the shared files also name
    study_predicates: list[str]
    incoming_focus: list[str]  # N3 of focus nodes not owned here, of shapes whose SPARQL reads `?x p $this`
    incoming_mentions: list[str]  # N3 of the objects of those p in this shard's study files
    sparql_on_oxigraph: int = 0
    sparql_per_focus: int = 0
    pid: int = 0
    seconds: float = 0.0  # wall time of this shard in its worker
    started: float = 0.0  # time.time() when the worker started it
    #: the xsd:duration literals not valid as written (rdflib rewrites some while parsing): of the study
    #: files, and in shard 0 of the shared files too
    bad_durations: list[BadDuration] = field(default_factory=list)


_ENGINES: dict[str, Engine] = {}
_SHAPES: dict[str, list[tuple[Node, Node, Node]]] = {}
_FILES: dict[tuple[str, float], list[Any]] = {}


def register_shapes(key: str, triples: list[tuple[Node, Node, Node]]) -> None:
    _SHAPES[key] = triples


def engine_for(key: str) -> Engine:
    if key not in _ENGINES:
        graph = Graph()
        for t in _SHAPES[key]:
            graph.add(t)
        _ENGINES[key] = Engine(graph)
    return _ENGINES[key]


#: the formats whose statements are all in the default graph
_TRIPLE_FORMATS = (ox.RdfFormat.TURTLE, ox.RdfFormat.N_TRIPLES, ox.RdfFormat.RDF_XML)


def _parse_iter(path: Path) -> Iterator[Any]:
    """The statements of one file as Oxigraph quads, streamed (LoadError as parse_quads)."""
    check_rdf_file(path)
    with parse_errors(path):
        yield from ox.parse(path=str(path), format=FORMATS[path.suffix.lower()], base_iri=path.absolute().as_uri())


def _quads(path: Path, cache: bool) -> list[Any]:
    if not cache:
        return parse_quads(path)
    key = (str(path.resolve()), path.stat().st_mtime)
    if key not in _FILES:
        _FILES[key] = parse_quads(path)
    return _FILES[key]


def study_of(node: Node, graph: Graph) -> Node | None:
    """The study a node belongs to: itself, or the study reached by following links backwards."""
    from kapgraph.namespaces import KAP

    seen: set[Node] = set()
    frontier = [node]
    while frontier:
        current = frontier.pop()
        if current in seen:
            continue
        seen.add(current)
        if (current, RDF.type, KAP.Study) in graph:
            return current
        if (current, RDF.type, KAP.Publication) in graph:
            study = graph.value(current, KAP.reports)
            if study is not None:
                return study
        frontier.extend(sorted(graph.subjects(None, current), key=str, reverse=True))
        frontier.extend(sorted(graph.objects(current, KAP.evidenceFor), key=str, reverse=True))
    return None


def validate_shard(task: ShardTask) -> ShardOutput:
    import os
    import time

    started, clock = time.time(), time.perf_counter()
    with gc_paused():  # see kapgraph.gcpause: 2.5 s -> 1.8 s for a 250-study shard
        output = _validate_shard(task)
    output.pid, output.started, output.seconds = os.getpid(), started, time.perf_counter() - clock
    return output


def _validate_shard(task: ShardTask) -> ShardOutput:
    engine = engine_for(task.shapes_key)
    convert = TermConverter()
    graph = FastGraph()
    subject_file: dict[Node, int] = {}
    study_subject: dict[Node, int] = {}  # a finding on a node a study file describes is that file's
    per_file: dict[int, list[tuple[Node, Node, Node]]] = {}
    owned: set[Node] = set()
    study_terms: set[Node] = set()
    study_predicates: set[str] = set()
    shared_terms: set[Node] = set()
    literals: set[Literal] = set()
    # the shard for Oxigraph: each parsed quad as it is, unless rdflib reads its literal otherwise
    # (then rdflib's form, so that both engines see the same literal)
    quads: list[Any] = []
    literal_fix: dict[Any, Any] = {}
    incoming_any = any(plan is not None and plan.incoming_predicates is None for plan in engine.plans.values())
    incoming_preds = {
        URIRef(p) for plan in engine.plans.values() if plan is not None for p in plan.incoming_predicates or ()
    }
    incoming_objects: set[Node] = set()
    cache = convert.cache
    spo = graph.spo
    bad_durations: list[BadDuration] = []
    duration = ox.NamedNode(XSD_DURATION)
    for position, name, is_study in task.files:
        path = Path(name)
        triples: list[tuple[Node, Node, Node]] = []
        file_subjects: set[Node] = set()
        file_objects: set[Node] = set()
        file_predicates: set[Node] = set()
        source = _quads(path, cache=True) if not is_study else _parse_iter(path)
        durations_here = is_study or task.index == 0
        # a JSON-LD file's named graphs go into the shard's one graph, as on the rdflib side
        quad_format = FORMATS[path.suffix.lower()] not in _TRIPLE_FORMATS
        for quad in source:
            s_ox, p_ox, o_ox = quad.subject, quad.predicate, quad.object
            if quad_format:
                quad = ox.Quad(s_ox, p_ox, o_ox)
            lexical = durations_here and type(o_ox) is ox.Literal and o_ox.datatype == duration
            if lexical and not is_xsd_duration(o_ox.value):
                bad_durations.append(BadDuration(path, str(s_ox), p_ox.value, o_ox.value))
            s = cache.get(s_ox) or convert(s_ox)
            p = cache.get(p_ox) or convert(p_ox)
            o = cache.get(o_ox)
            if o is None:
                o = convert(o_ox)
            triples.append((s, p, o))
            # FastGraph.add_triple, inlined (this loop runs for every triple of the shard)
            po = spo.get(s)
            if po is None:
                po = spo[s] = {}
                subject_file[s] = position
            if is_study and s not in study_subject:
                study_subject[s] = position
            objects = po.get(p)
            if objects is None:
                objects = po[p] = {}
            if o not in objects:
                objects[o] = position
                graph._count += 1
            file_subjects.add(s)
            file_predicates.add(p)
            if type(o) is Literal:
                literals.add(o)
                fixed = literal_fix.get(o_ox, o_ox)
                if fixed is o_ox:
                    form = to_ox(o)
                    fixed = literal_fix[o_ox] = None if form == o_ox else form
                quads.append(quad if fixed is None else ox.Quad(s_ox, p_ox, fixed))
            else:
                file_objects.add(o)
                quads.append(quad)
        if is_study:
            owned |= file_subjects
            study_terms |= file_predicates | file_objects
            study_predicates.update(str(p) for p in file_predicates)
            if incoming_any or incoming_preds & file_predicates:
                incoming_objects.update(
                    o for _s, p, o in triples if (incoming_any or p in incoming_preds) and type(o) is not Literal
                )
        else:
            shared_terms |= file_subjects | file_predicates | file_objects
        per_file[position] = triples
    graph._pos = graph._osp = None
    # SHACL-SPARQL on Oxigraph where the literals and the query allow it
    lmap = literal_map(literals)
    store = None
    sparql: dict[Node, dict[Node, list[Any]]] = {}
    on_oxigraph = per_focus = 0
    changed: frozenset[tuple[str, str]] = frozenset()
    if lmap.changed:  # where they occur: by datatype and by predicate
        found: set[tuple[str, str]] = set()
        for file_triples in per_file.values():
            for _s, p, lit in file_triples:
                if type(lit) is Literal and lit in lmap.changed:
                    found.add(("predicate", str(p)))
                    if lit.datatype is not None:
                        found.add(("datatype", str(lit.datatype)))
        changed = frozenset(found)
    for node, plan in engine.plans.items():
        if plan is None or not lmap.safe or not plan.lexically_safe(changed):
            per_focus += 1
            continue
        if store is None:
            store = ox.Store()
            store.extend(quads)
        sparql[node] = run_sparql(store, plan, lmap.back, convert)
        on_oxigraph += 1
    del quads, store
    conforms_owned, conforms_other, reports, sparql_focus = engine.validate(graph, sparql, owned)
    results: list[tuple[RawResult, bool, int | None, Node | None]] = []
    file_graphs: dict[int, FastGraph] = {}
    for raw in flatten_reports(reports):
        where: int | None = None
        if raw.path is not None and raw.value is not None:
            where = graph.file_of(raw.focus, raw.path, raw.value)
        if where is None:
            where = study_subject.get(raw.focus, subject_file.get(raw.focus))
        study = None
        if where is not None:
            if where not in file_graphs:
                fg = FastGraph()
                for s, p, o in per_file[where]:
                    fg.add_triple(s, p, o, where)
                file_graphs[where] = fg
            study = study_of(raw.focus, file_graphs[where])
        results.append((raw, raw.root in owned, where, study))
    incoming_shapes = {
        shape
        for shape in sparql_focus
        if any(
            plan is not None and plan.reads_incoming
            for helper in engine._sparql_component(engine.sg.lookup_shape_from_node(shape)).sparql_constraints
            for plan in [engine.plans.get(helper.node)]
        )
    }
    incoming_focus = sorted({f.n3() for shape in incoming_shapes for f in sparql_focus[shape] if f not in owned})
    return ShardOutput(
        index=task.index,
        results=results,
        conforms_owned=conforms_owned,
        conforms_other=conforms_other,
        owned=array("Q", (term_key(n) for n in owned)).tobytes(),
        mentions=sorted(t.n3() for t in study_terms - owned),
        exposed=sorted(n.n3() for n in owned & shared_terms),
        study_predicates=sorted(study_predicates),
        incoming_focus=incoming_focus,
        incoming_mentions=sorted(n.n3() for n in incoming_objects - owned),
        sparql_on_oxigraph=on_oxigraph,
        sparql_per_focus=per_focus,
        bad_durations=bad_durations,
    )
