"""Serialising the whole graph (ontology + data).

Turtle, N-Triples and TriG are written by Oxigraph from the native store (TriG keeps one named graph
per source file, as the store holds them); compacted JSON-LD, which only rdflib writes, goes
through rdflib with the shipped context.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pyoxigraph as ox

from kapgraph import resources
from kapgraph.namespaces import KAP_IRI, PREFIXES

EXPORT_FORMATS = ("turtle", "nt", "jsonld", "trig")
CONTEXT_FILE = Path(__file__).with_name("context.jsonld")
_UNION = "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }"


def jsonld_context() -> dict[str, object]:
    """A JSON-LD @context for the graph, built from the ontology: the project's prefixes, and a plain
    key for every KAP class and property (object properties typed @id), so that the JSON-LD export
    reads as ordinary JSON. Shipped as kapgraph/context.jsonld."""
    from rdflib import OWL, RDF, URIRef

    from kapgraph.loading import parse_file

    ontology = parse_file(resources.ontology_file())
    names: dict[str, object] = {"id": "@id", "type": "@type", "label": "rdfs:label"}
    for kind in (OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty):
        for term in sorted(ontology.subjects(RDF.type, kind), key=str):
            if isinstance(term, URIRef) and str(term).startswith(KAP_IRI):
                name = str(term)[len(KAP_IRI) :]
                names[name] = {"@id": f"kap:{name}", "@type": "@id"} if kind == OWL.ObjectProperty else f"kap:{name}"
    # a prefix may not share a key with a property (JSON-LD would read "design:RCT" through the
    # property kap:design): such vocabulary prefixes get a plural ("designs:RCT")
    prefixes = {(f"{p}s" if p in names else p): ns for p, ns in PREFIXES.items()}
    return {"@context": {**prefixes, **names}}


def export(
    fmt: str, data: Sequence[Path | str] | None = None, *, store: Path | str | None = None, asserted_only: bool = False
) -> bytes:
    """The ontology and data in *fmt*: turtle, nt, jsonld (one merged graph) or trig (a graph per file,
    and the inferred graph). The inferred triples are left out with *asserted_only*."""
    if fmt not in EXPORT_FORMATS:
        raise ValueError(f"unknown export format {fmt!r}")
    if fmt == "jsonld":
        from kapgraph.backends.rdflib_graph import RdflibEngine

        context = json.loads(CONTEXT_FILE.read_text(encoding="utf-8"))["@context"]
        from rdflib import BNode

        from kapgraph.limits import MAX_BNODE_NESTING, LimitExceeded, bnode_nesting

        graph = RdflibEngine.load(data, asserted_only=asserted_only).graph
        depth = bnode_nesting(graph, BNode)
        if depth > MAX_BNODE_NESTING:
            raise LimitExceeded(
                f"blank nodes nest more than {MAX_BNODE_NESTING} deep; the JSON-LD writer cannot take that "
                "(use --format turtle, nt or trig)"
            )
        return graph.serialize(format="json-ld", context=context, auto_compact=True, encoding="utf-8")
    from kapgraph.backends.oxigraph import open_oxigraph

    engine = open_oxigraph(data, store=store, asserted_only=asserted_only)
    if fmt == "trig":
        if not asserted_only:
            return engine.store.dump(format=ox.RdfFormat.TRIG, prefixes=PREFIXES) or b""
        asserted = (
            q for s in engine.sources for q in engine.store.quads_for_pattern(None, None, None, ox.NamedNode(s.graph))
        )
        return ox.serialize(asserted, format=ox.RdfFormat.TRIG, prefixes=PREFIXES) or b""
    if asserted_only:
        graphs: list[ox.NamedNode | ox.BlankNode | ox.DefaultGraph] = [ox.NamedNode(s.graph) for s in engine.sources]
        triples = engine.store.query(_UNION, default_graph=graphs)
    else:
        triples = engine.store.query(_UNION, use_default_graph_as_union=True)
    assert isinstance(triples, ox.QueryTriples)
    rdf_format = ox.RdfFormat.TURTLE if fmt == "turtle" else ox.RdfFormat.N_TRIPLES
    return ox.serialize(triples, format=rdf_format, prefixes=PREFIXES) or b""
