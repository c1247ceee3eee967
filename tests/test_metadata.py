"""VoID + DCAT and the Service Description, checked against the graph walked in Python (no SPARQL)."""

from __future__ import annotations

from collections import Counter

import pytest
from rdflib import Graph, Namespace, URIRef
from rdflib.namespace import DCTERMS, RDF

from kapgraph import resources
from kapgraph.metadata import DATASET_IRI, service_description, turtle, void_triples

VOID = Namespace("http://rdfs.org/ns/void#")
DCAT = Namespace("http://www.w3.org/ns/dcat#")
SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
BIBO = Namespace("http://purl.org/ontology/bibo/")
DS = URIRef(DATASET_IRI)


@pytest.fixture(scope="module")
def void() -> Graph:
    from kapgraph.backends import open_engine

    asserted = open_engine("oxigraph", asserted_only=True)  # rdf_graph, the oracle, is the asserted graph
    return Graph().parse(data=turtle(void_triples(asserted, "9.9.9")), format="turtle")


def test_counts_per_class_match_the_graph(void: Graph, rdf_graph: Graph) -> None:
    expected = Counter()
    for cls in {o for o in rdf_graph.objects(None, RDF.type) if isinstance(o, URIRef)}:
        expected[cls] = len(set(rdf_graph.subjects(RDF.type, cls)))
    got = {
        void.value(p, VOID["class"]): int(void.value(p, VOID.entities)) for p in void.objects(DS, VOID.classPartition)
    }
    assert got == dict(expected)
    assert got[URIRef("https://w3id.org/kap/ontology#Study")] == 17


def test_totals_and_property_counts_match_the_graph(void: Graph, rdf_graph: Graph) -> None:
    triples = set(rdf_graph.triples((None, None, None)))
    assert int(void.value(DS, VOID.triples)) == len(triples)
    per_property = Counter(p for _s, p, _o in triples)
    got = {
        void.value(p, VOID.property): int(void.value(p, VOID.triples)) for p in void.objects(DS, VOID.propertyPartition)
    }
    assert got == dict(per_property)


def test_source_is_the_reviews_doi_from_review_ttl(void: Graph) -> None:
    review = Graph().parse(resources.data_dir() / "review.ttl")
    doi = str(next(review.objects(None, BIBO.doi)))
    assert URIRef("https://doi.org/" + doi) in set(void.objects(DS, DCTERMS.source))


def test_descriptive_fields(void: Graph) -> None:
    assert str(void.value(DS, DCAT.version)) == "9.9.9"
    assert void.value(DS, DCTERMS.license) is not None and void.value(DS, DCTERMS.creator) is not None
    vocabularies = set(map(str, void.objects(DS, VOID.vocabulary)))
    assert {
        "https://w3id.org/kap/ontology#",
        "http://www.w3.org/2004/02/skos/core#",
        "http://www.w3.org/ns/oa#",
    } <= vocabularies
    for example in void.objects(DS, VOID.exampleResource):
        assert void.value(DS, VOID.sparqlEndpoint) is not None
        assert str(example).startswith("https://w3id.org/kap/")


def test_service_description(oxigraph) -> None:
    graphs = sorted({s.graph for s in oxigraph.sources})
    sd = Graph().parse(data=turtle(service_description("http://127.0.0.1:7878/sparql", graphs)), format="turtle")
    service = next(sd.subjects(RDF.type, SD.Service))
    assert sd.value(service, SD.endpoint) == URIRef("http://127.0.0.1:7878/sparql")
    assert (service, SD.supportedLanguage, SD.SPARQL11Query) in sd
    names = {str(sd.value(g, SD.name)) for g in sd.objects(None, SD.namedGraph)}
    assert names == set(graphs)
