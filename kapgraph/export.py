"""Serialising the whole graph (ontology + data)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from rdflib import Dataset, URIRef

from kapgraph import resources
from kapgraph.loading import load, parse_file
from kapgraph.namespaces import PREFIXES

EXPORT_FORMATS = {"turtle": "turtle", "nt": "nt", "jsonld": "json-ld", "trig": "trig"}
#: named graphs used by the TriG export
ONTOLOGY_GRAPH = URIRef("https://w3id.org/kap/ontology")
DATA_GRAPH = URIRef("https://w3id.org/kap/id/")


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
    return graph.serialize(format=EXPORT_FORMATS[fmt])
