"""The stored-query catalog as RDF, in the style of the SIB ``sparql-examples`` collection.

Each ``queries/**/*.rq`` file becomes one ``sh:SPARQLExecutable`` (with ``sh:SPARQLSelectExecutable``,
``sh:SPARQLAskExecutable`` or ``sh:SPARQLConstructExecutable``) carrying the query text in ``sh:select``,
``sh:ask`` or ``sh:construct``, its summary as ``rdfs:comment``, its tags as ``schema:keywords``, and
the endpoint it is meant for as ``schema:target``; queries that call out with ``SERVICE`` name the
default remote endpoint with ``spex:federatesWith``. Parameters are described with ``kapq:parameter``
nodes (name, type, schemes, allowed values, example), which sparql-examples has no term for.

Built only from the header data of :mod:`kapgraph.catalog` (no engine), with pyoxigraph terms.
"""

from __future__ import annotations

import re

import pyoxigraph as ox

from kapgraph.catalog import Catalog, StoredQuery
from kapgraph.namespaces import PREFIXES, VOCAB

#: where the stored queries' IRIs live (one per query: QUERY_BASE + name)
QUERY_BASE = "https://w3id.org/kap/query/"
#: terms for the parameters of a stored query, which sparql-examples has no vocabulary for
KAPQ = "https://w3id.org/kap/query#"
#: the SPARQL endpoint the dataset is published at (``kapgraph serve`` behind the w3id.org ``kap`` entry)
ENDPOINT = "https://w3id.org/kap/sparql"

SH = "http://www.w3.org/ns/shacl#"
SCHEMA = "https://schema.org/"
SPEX = "https://purl.expasy.org/sparql-examples/ontology#"
RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
DCTERMS = "http://purl.org/dc/terms/"

_FORMS = {"SELECT": "select", "ASK": "ask", "CONSTRUCT": "construct", "DESCRIBE": "describe"}
_FORM_RE = re.compile(r"\b(SELECT|ASK|CONSTRUCT|DESCRIBE)\b", re.IGNORECASE)


def query_form(query: StoredQuery) -> str:
    """``select``, ``ask``, ``construct`` or ``describe``: the first query-form keyword of the body."""
    body = "\n".join(line for line in query.text.splitlines() if not line.lstrip().startswith("#"))
    body = re.sub(r"<[^>\s]*>", "<>", body)  # IRIs may contain the keywords
    body = re.sub(r'"[^"\n]*"', '""', body)
    match = _FORM_RE.search(body)
    if match is None:
        from kapgraph.errors import CatalogError

        raise CatalogError(f"{query.path}: no SELECT, ASK, CONSTRUCT or DESCRIBE found")
    return _FORMS[match.group(1).upper()]


def sparql_body(query: StoredQuery) -> str:
    """The query text without its ``#+`` header lines (the header's content is in the other triples)."""
    return "\n".join(line for line in query.text.splitlines() if not line.startswith("#+")).strip() + "\n"


def query_iri(name: str) -> str:
    return QUERY_BASE + name


def _lit(text: str, lang: str | None = None) -> ox.Literal:
    return ox.Literal(text, language=lang) if lang else ox.Literal(text)


def triples(catalog: Catalog | None = None) -> list[ox.Triple]:
    """The catalog as RDF triples (deterministic order)."""
    out: list[ox.Triple] = []

    def add(s: ox.NamedNode | ox.BlankNode, p: str, o: ox.NamedNode | ox.BlankNode | ox.Literal) -> None:
        out.append(ox.Triple(s, ox.NamedNode(p), o))

    prefixes = ox.NamedNode(QUERY_BASE + "prefixes")
    add(prefixes, str(RDF_TYPE.value), ox.NamedNode("http://www.w3.org/2002/07/owl#Ontology"))
    for prefix, namespace in sorted(PREFIXES.items()):
        decl = ox.BlankNode(f"prefix_{prefix}")
        add(prefixes, SH + "declare", decl)
        add(decl, SH + "prefix", _lit(prefix))
        add(
            decl,
            SH + "namespace",
            ox.Literal(namespace, datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#anyURI")),
        )
    for query in (catalog or Catalog()).all():
        node = ox.NamedNode(query_iri(query.name))
        form = query_form(query)
        add(node, RDF_TYPE.value, ox.NamedNode(SH + "SPARQLExecutable"))
        add(node, RDF_TYPE.value, ox.NamedNode(SH + f"SPARQL{form.capitalize()}Executable"))
        add(node, RDFS + "label", _lit(query.name))
        add(node, RDFS + "comment", _lit(query.summary, "en"))
        if query.description:
            add(node, DCTERMS + "description", _lit(query.description, "en"))
        add(node, SH + form, _lit(sparql_body(query)))
        add(node, SH + "prefixes", prefixes)
        add(node, SCHEMA + "target", ox.NamedNode(ENDPOINT))
        for tag in query.tags:
            add(node, SCHEMA + "keywords", _lit(tag))
        for param in query.params:
            if param.type == "endpoint" and param.default:
                add(node, SPEX + "federatesWith", ox.NamedNode(param.default))
            pnode = ox.BlankNode(f"{query.name.replace('/', '_')}_{param.name}")
            add(node, KAPQ + "parameter", pnode)
            add(pnode, RDFS + "label", _lit(param.name))
            add(pnode, KAPQ + "parameterType", _lit(param.type))
            add(pnode, KAPQ + "required", ox.Literal(param.required))
            for scheme in param.schemes:
                add(pnode, KAPQ + "parameterScheme", ox.NamedNode(VOCAB + scheme))
            for allowed in param.values:
                add(pnode, KAPQ + "allowedValue", _lit(allowed))
            if param.default is not None:
                add(pnode, KAPQ + "defaultValue", _lit(param.default))
            if param.example is not None:
                add(pnode, KAPQ + "exampleValue", _lit(param.example))
            if param.description:
                add(pnode, RDFS + "comment", _lit(param.description, "en"))
    return out


def turtle(catalog: Catalog | None = None) -> str:
    prefixes = {"sh": SH, "schema": SCHEMA, "spex": SPEX, "rdfs": RDFS, "dcterms": DCTERMS, "kapq": KAPQ,
                "query": QUERY_BASE}  # fmt: skip
    data = ox.serialize(triples(catalog), format=ox.RdfFormat.TURTLE, prefixes=prefixes)
    return (data or b"").decode("utf-8")
