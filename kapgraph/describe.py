"""``kapgraph describe``: a stored query's header, or a resource's facts with the quotes behind them.

A fact ``<s> p o`` is *supported* by a ``kap:Evidence`` when the evidence has ``kap:evidenceFor <s>``
and ``kap:evidenceProperty p``, and either names no ``kap:evidenceValue`` or names ``o``. The quote is
the evidence's ``oa:hasTarget/oa:hasSelector/oa:exact``; ``kap:inferred true`` and its ``skos:note``
mark a curator's reading rather than the review's statement.

Nothing here imports rdflib: terms are pyoxigraph's and CURIEs go through :mod:`curies`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from kapgraph.catalog import Catalog, StoredQuery
from kapgraph.errors import UnknownQueryError, UnknownResourceError
from kapgraph.namespaces import KAP_IRI, VOCAB
from kapgraph.results import Term, compact, value

if TYPE_CHECKING:
    from kapgraph.backends import Engine


class Quote(NamedTuple):
    evidence: str
    exact: str
    inferred: bool
    note: str


class Fact(NamedTuple):
    predicate: str
    object: Term
    quotes: tuple[Quote, ...]


def expand(name: str) -> str:
    """A full IRI from an IRI, ``<IRI>`` or a CURIE with one of the project's prefixes."""
    name = name.strip()
    if name.startswith("<") and name.endswith(">"):
        return name[1:-1]
    if "://" in name:
        return name
    from kapgraph.namespaces import converter

    prefix, sep, _local = name.partition(":")
    iri = converter().expand(name) if sep else None
    if iri is None:
        raise UnknownResourceError(
            f"{name!r} is neither a stored query, an IRI nor a CURIE with a known prefix (e.g. study:dakwar2019)"
            if not sep
            else f"unknown prefix {prefix!r} in {name!r}; see 'kapgraph sparql --help' for the prefixes"
        )
    return iri


def is_query_name(name: str, catalog: Catalog | None = None) -> bool:
    return name in (catalog or Catalog()).names()


# --- stored queries --------------------------------------------------------------------------------

_CONCEPTS = """
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
SELECT ?concept ?notation ?label WHERE {
  VALUES ?scheme { %s }
  ?concept skos:inScheme ?scheme .
  OPTIONAL { ?concept skos:notation ?notation }
  OPTIONAL { ?concept skos:prefLabel ?label FILTER(LANGMATCHES(LANG(?label), "en") || LANG(?label) = "") }
} ORDER BY ?concept"""


def allowed_values(query: StoredQuery, engine: Engine | None) -> dict[str, list[str]]:
    """For each parameter, the values it accepts: enum values, or the concepts of its schemes."""
    allowed: dict[str, list[str]] = {}
    for param in query.params:
        if param.values:
            allowed[param.name] = list(param.values)
        elif param.type == "concept" and engine is not None:
            schemes = " ".join(f"<{VOCAB}{s}>" for s in param.schemes)
            seen: dict[str, str] = {}
            for concept, notation, label in engine.query(_CONCEPTS % schemes).rows:
                key = compact(concept)
                if key not in seen:
                    name = value(notation) if notation is not None else key
                    seen[key] = f"{name} ({value(label)})" if label is not None else name
            allowed[param.name] = list(seen.values())
    return allowed


def query_text(query: StoredQuery, allowed: dict[str, list[str]] | None = None) -> str:
    """The header of a stored query in words, then its SPARQL."""
    lines = [f"{query.name}: {query.summary}"]
    if query.description:
        lines += ["", query.description]
    lines += ["", f"file: {query.path}"]
    if query.tags:
        lines.append(f"tags: {', '.join(query.tags)}")
    lines += ["", "parameters:" if query.params else "parameters: none"]
    for p in query.params:
        kind = p.type + (f" in scheme {' or '.join(p.schemes)}" if p.schemes else "")
        flags = "required" if p.required else "optional"
        if p.default is not None:
            flags += f", default {p.default}"
        lines.append(f"  {p.name} ({kind}; {flags})" + (f": {p.description}" if p.description else ""))
        if p.example is not None:
            lines.append(f"    example: {p.example}")
        values = (allowed or {}).get(p.name)
        if values:
            lines.append(f"    allowed: {', '.join(values)}")
    example = " ".join(f"--param {k}={v}" for k, v in query.example_params().items())
    lines += ["", f"run: kapgraph query {query.name}{' ' + example if example else ''}", "", "SPARQL:", ""]
    body = [line for line in query.text.splitlines() if not line.startswith("#+")]
    lines += body
    return "\n".join(lines).rstrip() + "\n"


def describe_query(name: str, engine: Engine | None = None, catalog: Catalog | None = None) -> str:
    query = (catalog or Catalog()).get(name)
    return query_text(query, allowed_values(query, engine))


# --- resources ---------------------------------------------------------------------------------------

_FACTS = "SELECT ?p ?o WHERE { <%s> ?p ?o } ORDER BY ?p ?o"
_EVIDENCE = """
PREFIX kap: <https://w3id.org/kap/ontology#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX oa: <http://www.w3.org/ns/oa#>
SELECT ?ev ?prop ?val ?inferred ?note ?exact WHERE {
  ?ev kap:evidenceFor <%s> ; kap:evidenceProperty ?prop .
  OPTIONAL { ?ev kap:evidenceValue ?val }
  OPTIONAL { ?ev kap:inferred ?inferred }
  OPTIONAL { ?ev skos:note ?note }
  OPTIONAL { ?ev oa:hasTarget/oa:hasSelector/oa:exact ?exact }
} ORDER BY ?ev ?prop"""
_DISCREPANCIES = """
PREFIX kap: <https://w3id.org/kap/ontology#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT DISTINCT ?d ?label ?printed ?adopted ?resolution WHERE {
  ?d a kap:Discrepancy ; rdfs:label ?label .
  { ?d kap:conflictingEvidence/kap:evidenceFor <%s> } UNION { ?d kap:discrepancyAbout <%s> }
  OPTIONAL { ?d kap:printedValue ?printed } OPTIONAL { ?d kap:adoptedValue ?adopted }
  OPTIONAL { ?d kap:resolution ?resolution }
} ORDER BY ?d"""


class Discrepancy(NamedTuple):
    iri: str
    label: str
    printed: str
    adopted: str
    resolution: str


class Resource(NamedTuple):
    iri: str
    facts: tuple[Fact, ...]
    discrepancies: tuple[Discrepancy, ...]


def resource(engine: Engine, iri: str) -> Resource:
    """The facts of *iri*, each with the quotes that support it, and the discrepancies touching it."""
    if any(c in iri for c in '<>"{}| \\^`'):
        raise UnknownResourceError(f"{iri!r} is not a valid IRI")
    evidence: list[tuple[str, str, Term | None, Quote]] = []
    for ev, prop, val, inferred, note, exact in engine.query(_EVIDENCE % iri).rows:
        quote = Quote(compact(ev), value(exact), value(inferred) == "true", value(note))
        evidence.append((value(prop), value(ev), val, quote))
    facts = []
    for p, o in engine.query(_FACTS % iri).rows:
        assert p is not None and o is not None
        quotes = tuple(
            q for prop, _ev, val, q in evidence if prop == value(p) and (val is None or val == o)
        )  # fmt: skip
        facts.append(Fact(value(p), o, tuple(dict.fromkeys(quotes))))
    if not facts:
        raise UnknownResourceError(f"{compact_or(iri)} has no facts in the graph (is the IRI right?)")
    discrepancies = tuple(
        Discrepancy(value(d), value(label), value(printed), value(adopted), value(resolution))
        for d, label, printed, adopted, resolution in engine.query(_DISCREPANCIES % (iri, iri)).rows
    )
    return Resource(iri, tuple(facts), discrepancies)


def compact_or(iri: str) -> str:
    from pyoxigraph import NamedNode

    return compact(NamedNode(iri))


def resource_text(res: Resource) -> str:
    lines = [compact_or(res.iri), f"<{res.iri}>", ""]
    for fact in res.facts:
        lines.append(f"{compact_or(fact.predicate)}  {compact(fact.object)}")
        for q in fact.quotes:
            mark = " [inferred]" if q.inferred else ""
            if q.exact:
                lines.append(f"    “{q.exact}” ({q.evidence}){mark}")
            if q.note:
                lines.append(f"    note: {q.note}")
    unsupported = [f for f in res.facts if not f.quotes and f.predicate.startswith(KAP_IRI)]
    supported = sum(1 for f in res.facts if f.quotes)
    lines += ["", f"{len(res.facts)} facts, {supported} with a supporting quote"]
    if unsupported:
        lines.append("(facts without a quote are structure: links to arms, regimens, outcomes; describe those)")
    for d in res.discrepancies:
        lines += ["", f"discrepancy {compact_or(d.iri)}: {d.label}"]
        if d.printed:
            lines.append(f"    printed: {d.printed}")
        if d.adopted:
            lines.append(f"    adopted: {d.adopted}")
        if d.resolution:
            lines.append(f"    why: {d.resolution}")
    return "\n".join(lines) + "\n"


def describe(name: str, engine_factory: object) -> str:
    """A stored query's description if *name* is one, else the resource *name* (IRI or CURIE).

    *engine_factory* is a callable returning the engine; it is only called when needed.
    """
    catalog = Catalog()
    if is_query_name(name, catalog):
        query = catalog.get(name)
        needs_engine = any(p.type == "concept" and not p.values for p in query.params)
        engine = engine_factory() if needs_engine else None  # type: ignore[operator]
        return query_text(query, allowed_values(query, engine))
    if ":" not in name and "/" not in name:
        import difflib

        raise UnknownQueryError(name, difflib.get_close_matches(name, catalog.names(), n=3, cutoff=0.5))
    return resource_text(resource(engine_factory(), expand(name)))  # type: ignore[operator]
