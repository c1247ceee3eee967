"""Serialising the whole graph (ontology + data)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from rdflib import OWL, RDF, Dataset, URIRef

from kapgraph import resources
from kapgraph.loading import load, parse_file
from kapgraph.namespaces import PREFIXES

EXPORT_FORMATS = {"turtle": "turtle", "nt": "nt", "jsonld": "json-ld", "trig": "trig"}
#: named graphs used by the TriG export
ONTOLOGY_GRAPH = URIRef("https://w3id.org/kap/ontology")
DATA_GRAPH = URIRef("https://w3id.org/kap/id/")


CONTEXT_FILE = Path(__file__).with_name("context.jsonld")


def jsonld_context() -> dict[str, object]:
    """A JSON-LD @context for the graph, built from the ontology: the project's prefixes, and a plain
    key for every KAP class and property (object properties typed @id), so that the JSON-LD export
    reads as ordinary JSON. Shipped as kapgraph/context.jsonld."""
    ontology = parse_file(resources.ontology_file())
    kap = PREFIXES["kap"]
    names: dict[str, object] = {"id": "@id", "type": "@type", "label": "rdfs:label"}
    for kind in (OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty):
        for term in sorted(ontology.subjects(RDF.type, kind), key=str):
            if isinstance(term, URIRef) and str(term).startswith(kap):
                name = str(term)[len(kap) :]
                names[name] = {"@id": f"kap:{name}", "@type": "@id"} if kind == OWL.ObjectProperty else f"kap:{name}"
    # a prefix may not share a key with a property (JSON-LD would read "design:RCT" through the
    # property kap:design): such vocabulary prefixes get a plural ("designs:RCT")
    prefixes = {(f"{p}s" if p in names else p): ns for p, ns in PREFIXES.items()}
    return {"@context": {**prefixes, **names}}


def export(fmt: str, data: Sequence[Path | str] | None = None) -> str:
    """The ontology and data in *fmt* (turtle, nt, jsonld: one graph; trig: two named graphs)."""
    if fmt not in EXPORT_FORMATS:
        raise ValueError(f"unknown export format {fmt!r}")
    if fmt == "trig":
        dataset = Dataset()
        for prefix, iri in PREFIXES.items():
            dataset.bind(prefix, iri)
        for path in resources.ontology_files():
            dataset.graph(ONTOLOGY_GRAPH).__iadd__(parse_file(path))
        dataset.graph(DATA_GRAPH).__iadd__(load(data, include_ontology=False).graph)
        return dataset.serialize(format="trig")
    graph = load(data).graph
    if fmt == "jsonld":
        context = json.loads(CONTEXT_FILE.read_text(encoding="utf-8"))["@context"]
        return graph.serialize(format="json-ld", context=context, auto_compact=True)
    return graph.serialize(format=EXPORT_FORMATS[fmt])
