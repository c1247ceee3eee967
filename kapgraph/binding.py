"""Binding ``--param KEY=VALUE`` pairs into a stored query, as RDF terms.

Values are never pasted into query text: each is resolved to an RDF term (a pyoxigraph concept IRI,
study IRI or typed literal) and bound with a ``VALUES`` block written in N-Triples syntax at the
start of the query's outermost group. The same text then runs on every engine, including remote
endpoints, with standard SPARQL semantics. (Engine-side substitution is not used: Oxigraph's
SEP-0007 substitution only accepts projected variables and leaves ``BOUND()`` false.)
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import pyoxigraph as ox

from kapgraph.backends import Engine
from kapgraph.catalog import Param, StoredQuery
from kapgraph.errors import ParameterError, QuerySyntaxError
from kapgraph.namespaces import STUDY_IRI, VOCAB
from kapgraph.querytext import first_code
from kapgraph.results import Term, compact
from kapgraph.results import value as term_value

Identifier = Term
_XSD_INTEGER = ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer")

_CONCEPTS = """
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
SELECT ?concept ?scheme ?notation ?pref ?alt WHERE {
  ?concept skos:inScheme ?scheme .
  OPTIONAL { ?concept skos:notation ?notation }
  OPTIONAL { ?concept skos:prefLabel ?pref }
  OPTIONAL { ?concept skos:altLabel ?alt }
}"""

_MAPPED = """
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
SELECT ?concept WHERE { ?concept skos:exactMatch|skos:closeMatch ?external }"""

_STUDIES = "SELECT ?study WHERE { ?study a <https://w3id.org/kap/ontology#Study> } ORDER BY ?study"
_STUDY_LABELS = (
    "SELECT ?study ?label WHERE { ?study a <https://w3id.org/kap/ontology#Study> ; "
    "<http://www.w3.org/2000/01/rdf-schema#label> ?label }"
)


class _Concept:
    # a plain class: a dataclass costs a compile() at import, and the query path starts cold
    __slots__ = ("display", "iri", "keys")

    def __init__(self, iri: ox.NamedNode, keys: dict[int, set[str]], display: str):
        self.iri = iri
        #: casefolded names by priority: 0 notation, 1 preferred label, 2 alternative label, 3 IRI forms
        self.keys = keys
        self.display = display


def _concepts(engine: Engine, schemes: tuple[str, ...]) -> list[_Concept]:
    wanted = {ox.NamedNode(VOCAB + s) for s in schemes}
    found: dict[ox.NamedNode, _Concept] = {}
    table = engine.query(_CONCEPTS)
    for concept, scheme, notation, pref, alt in table.rows:
        if scheme not in wanted or not isinstance(concept, ox.NamedNode):
            continue
        entry = found.setdefault(concept, _Concept(concept, {0: set(), 1: set(), 2: set(), 3: set()}, ""))
        entry.keys[3] |= {
            concept.value.casefold(),
            compact(concept).casefold(),
            concept.value.rsplit("/", 1)[-1].casefold(),
        }
        for rank, label in enumerate((notation, pref, alt)):
            if label is not None:
                entry.keys[rank].add(term_value(label).casefold())
        if notation is not None:
            entry.display = term_value(notation)
        elif pref is not None and not entry.display:
            entry.display = term_value(pref)
    return sorted(found.values(), key=lambda c: c.display.casefold())


def allowed_values(engine: Engine, param: Param) -> list[str]:
    """The values a user may give for *param* (for messages and ``kapgraph list``)."""
    if param.type == "concept":
        return [c.display for c in _concepts(engine, param.schemes)]
    if param.type == "study":
        return [s.removeprefix(STUDY_IRI) for s in engine.query(_STUDIES).values("study")]
    if param.type == "enum":
        return list(param.values)
    return []


def resolve(engine: Engine, query: StoredQuery, param: Param, value: str) -> Identifier:
    """Turn one user-given value into the RDF term bound to ``?name``."""
    text = value.strip()
    if param.type == "concept":
        key = text.casefold()
        concepts = _concepts(engine, param.schemes)
        for rank in range(4):  # a notation beats a label, a label beats an IRI's local name
            found = _single(query, param, value, [c for c in concepts if key in c.keys[rank]], "is ambiguous for")
            if found is not None:
                return found
        external = _external_iri(text)
        if external is not None:
            mapped = {c for (c,) in engine.query(inject_values(_MAPPED, {"external": external})).rows}
            found = _single(
                query, param, value, [c for c in concepts if c.iri in mapped], "is mapped to several concepts of"
            )
            if found is not None:
                return found
            raise ParameterError(
                f"query {query.name!r}: no concept allowed for parameter {param.name!r} has an exact or close "
                f"match {value!r} ({external}). Allowed: {', '.join(c.display for c in concepts)}"
            )
        raise _not_allowed(query, param, value, [c.display for c in concepts])
    if param.type == "study":
        studies = [s for (s,) in engine.query(_STUDIES).rows if isinstance(s, ox.NamedNode)]
        for study in studies:
            if text in (study.value, study.value.removeprefix(STUDY_IRI), compact(study)):
                return study
        # as the refusal says: case-insensitive, and a study's label works too
        key = text.casefold()
        by_name = [s for s in studies if key in (s.value.removeprefix(STUDY_IRI).casefold(), compact(s).casefold())]
        if not by_name:
            known = {s.value for s in studies}
            by_name = sorted(
                {s for s, label in engine.query(_STUDY_LABELS).rows
                 if isinstance(s, ox.NamedNode) and s.value in known and isinstance(label, ox.Literal)
                 and label.value.strip().casefold() == key},
                key=lambda s: s.value,
            )  # fmt: skip
        if len(by_name) == 1:
            return by_name[0]
        if by_name:
            raise ParameterError(
                f"query {query.name!r}: {value!r} is ambiguous for parameter {param.name!r}: "
                f"{', '.join(compact(s) for s in by_name)}; give one of these instead"
            )
        raise _not_allowed(query, param, value, [s.value.removeprefix(STUDY_IRI) for s in studies])
    if param.type == "enum":
        for allowed in param.values:
            if text.casefold() == allowed.casefold():
                return ox.Literal(allowed)
        raise _not_allowed(query, param, value, list(param.values))
    if param.type == "endpoint":
        return _endpoint(query, param, text)
    if param.type == "integer":
        try:
            return ox.Literal(str(int(text)), datatype=_XSD_INTEGER)
        except ValueError:
            raise ParameterError(
                f"query {query.name!r}: parameter {param.name!r} must be a whole number, got {value!r}"
            ) from None
    return ox.Literal(value)


def _single(query: StoredQuery, param: Param, value: str, matches: list[_Concept], problem: str) -> ox.NamedNode | None:
    """The one matching concept, None for no match; several matches are an error naming them."""
    if len(matches) == 1:
        return matches[0].iri
    if matches:
        raise ParameterError(
            f"query {query.name!r}: {value!r} {problem} parameter {param.name!r}: "
            f"{', '.join(compact(c.iri) for c in matches)}; give one of these instead"
        )
    return None


def _external_iri(text: str) -> ox.NamedNode | None:
    """An external identifier given as a CURIE (mesh:D013313, MONDO:0005146) or an IRI."""
    if text.startswith(("http://", "https://")):
        try:
            return ox.NamedNode(text)
        except ValueError:
            return None
    if ":" not in text:
        return None
    from kapgraph.namespaces import converter

    iri = converter().expand(text)
    if not iri:
        return None
    try:
        return ox.NamedNode(iri)
    except ValueError:
        return None


def _endpoint(query: StoredQuery, param: Param, text: str) -> ox.NamedNode:
    from urllib.parse import urlsplit

    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc or any(c in text for c in '<>"{}|\\^` \t\n'):
        raise ParameterError(
            f"query {query.name!r}: parameter {param.name!r} must be an http(s) URL of a SPARQL endpoint, got {text!r}"
        )
    return ox.NamedNode(text)


def inject_services(sparql: str, endpoints: Mapping[str, Identifier]) -> str:
    """Put endpoint IRIs after ``SERVICE ?name``.

    HACK: Oxigraph evaluates ``SERVICE ?var`` before a ``VALUES`` binding of ``?var`` reaches it
    ("the variable encoding the service name is unbound"), so an endpoint cannot be bound like other
    parameters. The IRI has been checked by :func:`_endpoint` and is written in N-Triples syntax.
    Remove when Oxigraph binds service variables.
    """
    for name, iri in endpoints.items():
        # a backslash-free replacement: a checked http(s) IRI has no backslashes
        target = str(iri)
        sparql = re.sub(rf"(SERVICE\s+(?:SILENT\s+)?)[?$]{name}\b", rf"\g<1>{target}", sparql, flags=re.I)
    return sparql


def _not_allowed(query: StoredQuery, param: Param, value: str, allowed: list[str]) -> ParameterError:
    shown = ", ".join(allowed) if allowed else "(none in the loaded graph)"
    return ParameterError(
        f"query {query.name!r}: {value!r} is not an allowed value of parameter {param.name!r}. "
        f"Allowed (case-insensitive; labels work too): {shown}"
    )


def bind(engine: Engine, query: StoredQuery, raw: Mapping[str, str]) -> dict[str, Identifier]:
    """Check the user's parameters against the header and resolve each to an RDF term."""
    declared = {p.name for p in query.params}
    unknown = sorted(set(raw) - declared)
    if unknown:
        accepted = ", ".join(sorted(declared)) if declared else "none"
        raise ParameterError(
            f"query {query.name!r} has no parameter {', '.join(map(repr, unknown))}; it accepts: {accepted}"
        )
    bound: dict[str, Identifier] = {}
    for param in query.params:
        value = raw.get(param.name, param.default)
        if value is None:
            if param.required:
                allowed = allowed_values(engine, param)
                hint = f" Allowed: {', '.join(allowed)}" if allowed else ""
                raise ParameterError(f"query {query.name!r} needs --param {param.name}=VALUE ({param.type}).{hint}")
            continue
        bound[param.name] = resolve(engine, query, param, value)
    return bound


def inject_values(sparql: str, bindings: Mapping[str, Identifier]) -> str:
    """Insert ``VALUES (?a ?b) { (<x> "y") }`` right after the outermost group's opening brace."""
    if not bindings:
        return sparql
    position = _outer_brace(sparql)
    names = " ".join(f"?{name}" for name in bindings)
    terms = " ".join(str(term) for term in bindings.values())  # N-Triples syntax is SPARQL syntax
    block = f"\n  VALUES ({names}) {{ ({terms}) }}\n"
    return sparql[: position + 1] + block + sparql[position + 1 :]


def _outer_brace(sparql: str) -> int:
    """Index of the first '{' outside comments, strings and IRIs (the WHERE clause's group)."""
    position = first_code(sparql, "{")
    if position < 0:
        raise QuerySyntaxError("the query has no '{ ... }' group to bind parameters into")
    return position
