"""Dataset metadata generated from the graph: VoID + DCAT, and a SPARQL 1.1 Service Description.

Counts (triples, entities per class, triples per property) are computed from the loaded graph,
never written by hand; the source is the review's DOI as recorded in ``data/review.ttl``. Terms are
pyoxigraph's, so building the description does not import rdflib.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pyoxigraph as ox

from kapgraph.examples import ENDPOINT
from kapgraph.namespaces import PREFIXES, REVIEW_IRI, VOCAB
from kapgraph.results import value

if TYPE_CHECKING:
    from kapgraph.backends import Engine

DATASET_IRI = "https://w3id.org/kap/id/dataset"
SITE_BASE = "https://w3id.org/kap/"
DATA_LICENSE = "https://creativecommons.org/licenses/by/4.0/"
CODE_LICENSE = "https://opensource.org/license/mit"
TITLE = "kapgraph: ketamine-assisted psychotherapy studies of Drozdz et al. 2022"
DESCRIPTION = (
    "The 17 studies of the systematic review Drozdz et al. 2022 on ketamine-assisted psychotherapy as RDF: "
    "design, participants, diagnoses, ketamine and drug regimens, psychotherapies and their timing, outcomes, "
    "each fact with the review passage that supports it, and the review's own figures as claims."
)

VOID = "http://rdfs.org/ns/void#"
DCAT = "http://www.w3.org/ns/dcat#"
DCT = "http://purl.org/dc/terms/"
FOAF = "http://xmlns.com/foaf/0.1/"
SD = "http://www.w3.org/ns/sparql-service-description#"
FORMATS = "http://www.w3.org/ns/formats/"
XSD = "http://www.w3.org/2001/XMLSchema#"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"

#: namespaces that are vocabularies (not the project's minted data or concept IRIs)
_VOCABULARY_PREFIXES = ("kap", "rdf", "rdfs", "owl", "xsd", "skos", "dcterms", "bibo", "schema", "prov", "oa", "sh")

_CLASSES = (
    "SELECT ?class (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a ?class . FILTER(isIRI(?class)) } "
    "GROUP BY ?class ORDER BY ?class"
)
_PROPERTIES = "SELECT ?p (COUNT(*) AS ?n) WHERE { ?s ?p ?o } GROUP BY ?p ORDER BY ?p"
_DISTINCT = "SELECT (COUNT(DISTINCT ?s) AS ?subjects) (COUNT(DISTINCT ?o) AS ?objects) WHERE { ?s ?p ?o }"
_REVIEW_DOI = f"PREFIX bibo: <http://purl.org/ontology/bibo/> SELECT ?doi WHERE {{ <{REVIEW_IRI}> bibo:doi ?doi }}"
_EXAMPLES = "PREFIX kap: <https://w3id.org/kap/ontology#> SELECT ?s WHERE { ?s a kap:Study } ORDER BY ?s LIMIT 3"

Subject = ox.NamedNode | ox.BlankNode


class _Builder:
    def __init__(self) -> None:
        self.triples: list[ox.Triple] = []

    def add(self, s: Subject, p: str, o: ox.NamedNode | ox.BlankNode | ox.Literal | str | int) -> None:
        if isinstance(o, bool):
            raise TypeError("no booleans here")
        if isinstance(o, int):
            o = ox.Literal(str(o), datatype=ox.NamedNode(XSD + "integer"))
        elif isinstance(o, str):
            o = ox.Literal(o)
        self.triples.append(ox.Triple(s, ox.NamedNode(p), o))

    def a(self, s: Subject, cls: str) -> None:
        self.add(s, RDF_TYPE, ox.NamedNode(cls))


def _number(term: object) -> int:
    return int(value(term))  # type: ignore[arg-type]


def vocabulary_of(iri: str) -> str | None:
    """The vocabulary namespace an IRI belongs to (of :data:`_VOCABULARY_PREFIXES`), if any."""
    best = None
    for prefix in _VOCABULARY_PREFIXES:
        namespace = PREFIXES[prefix]
        if iri.startswith(namespace) and (best is None or len(namespace) > len(best)):
            best = namespace
    return best


def void_triples(engine: Engine, version: str) -> list[ox.Triple]:
    """VoID + DCAT description of the graph *engine* holds (give it an asserted-only engine to
    describe the published files without kapgraph's inferred graph)."""
    b = _Builder()
    ds = ox.NamedNode(DATASET_IRI)
    b.a(ds, VOID + "Dataset")
    b.a(ds, DCAT + "Dataset")
    b.add(ds, DCT + "title", ox.Literal(TITLE, language="en"))
    b.add(ds, DCT + "description", ox.Literal(DESCRIPTION, language="en"))
    b.add(ds, DCT + "license", ox.NamedNode(DATA_LICENSE))
    creator = ox.BlankNode("creator")
    b.add(ds, DCT + "creator", creator)
    b.a(creator, FOAF + "Organization")
    b.add(creator, FOAF + "name", "kapgraph developers")
    for (doi,) in engine.query(_REVIEW_DOI).rows:
        b.add(ds, DCT + "source", ox.NamedNode("https://doi.org/" + value(doi)))
    b.add(ds, DCT + "source", ox.NamedNode(REVIEW_IRI))
    b.add(ds, DCAT + "version", version)
    b.add(ds, "http://www.w3.org/2002/07/owl#versionInfo", version)
    b.add(ds, DCAT + "keyword", ox.Literal("ketamine-assisted psychotherapy", language="en"))
    b.add(ds, DCAT + "keyword", ox.Literal("systematic review", language="en"))
    b.add(ds, VOID + "uriSpace", SITE_BASE + "id/")
    b.add(ds, VOID + "sparqlEndpoint", ox.NamedNode(ENDPOINT))
    b.add(ds, VOID + "feature", ox.NamedNode(FORMATS + "Turtle"))
    b.add(ds, VOID + "feature", ox.NamedNode(FORMATS + "JSON-LD"))
    for fmt, ext, media in (("Turtle", "ttl", "text/turtle"), ("JSON-LD", "jsonld", "application/ld+json")):
        dist = ox.NamedNode(f"{SITE_BASE}kap.{ext}")
        b.add(ds, VOID + "dataDump", dist)
        b.add(ds, DCAT + "distribution", dist)
        b.a(dist, DCAT + "Distribution")
        b.add(dist, DCT + "title", f"the whole graph ({fmt})")
        b.add(dist, DCAT + "downloadURL", dist)
        b.add(dist, DCAT + "mediaType", ox.NamedNode(f"https://www.iana.org/assignments/media-types/{media}"))
        b.add(dist, DCT + "license", ox.NamedNode(DATA_LICENSE))
    service = ox.NamedNode(ENDPOINT)
    b.a(service, DCAT + "DataService")
    b.add(service, DCAT + "endpointURL", service)
    b.add(service, DCAT + "servesDataset", ds)
    b.add(service, DCT + "conformsTo", ox.NamedNode("https://www.w3.org/TR/sparql11-protocol/"))
    b.add(ds, DCAT + "accessService", service)
    for (example,) in engine.query(_EXAMPLES).rows:
        b.add(ds, VOID + "exampleResource", example)  # type: ignore[arg-type]
    b.add(ds, VOID + "exampleResource", ox.NamedNode(VOCAB + "diagnosis/PTSD"))

    b.add(ds, VOID + "triples", engine.triple_count())
    subjects, objects = engine.query(_DISTINCT).rows[0]
    b.add(ds, VOID + "distinctSubjects", _number(subjects))
    b.add(ds, VOID + "distinctObjects", _number(objects))
    vocabularies: set[str] = set()
    classes = engine.query(_CLASSES).rows
    b.add(ds, VOID + "classes", len(classes))
    for cls, n in classes:
        part = ox.BlankNode("class_" + str(len(b.triples)))
        b.add(ds, VOID + "classPartition", part)
        b.add(part, VOID + "class", cls)  # type: ignore[arg-type]
        b.add(part, VOID + "entities", _number(n))
        vocabularies.add(vocabulary_of(value(cls)) or "")
    properties = engine.query(_PROPERTIES).rows
    b.add(ds, VOID + "properties", len(properties))
    for prop, n in properties:
        part = ox.BlankNode("property_" + str(len(b.triples)))
        b.add(ds, VOID + "propertyPartition", part)
        b.add(part, VOID + "property", prop)  # type: ignore[arg-type]
        b.add(part, VOID + "triples", _number(n))
        vocabularies.add(vocabulary_of(value(prop)) or "")
    for namespace in sorted(vocabularies - {""}):
        b.add(ds, VOID + "vocabulary", ox.NamedNode(namespace))
    return b.triples


def service_description(endpoint: str, named_graphs: list[str] | None = None) -> list[ox.Triple]:
    """A SPARQL 1.1 Service Description of a kapgraph endpoint at *endpoint*."""
    b = _Builder()
    svc = ox.BlankNode("service")
    b.a(svc, SD + "Service")
    b.add(svc, SD + "endpoint", ox.NamedNode(endpoint))
    b.add(svc, SD + "supportedLanguage", ox.NamedNode(SD + "SPARQL11Query"))
    b.add(svc, SD + "feature", ox.NamedNode(SD + "UnionDefaultGraph"))
    b.add(svc, SD + "feature", ox.NamedNode(SD + "BasicFederatedQuery"))
    for fmt in ("SPARQL_Results_JSON", "SPARQL_Results_XML", "SPARQL_Results_CSV", "SPARQL_Results_TSV",
                "Turtle", "N-Triples", "JSON-LD"):  # fmt: skip
        b.add(svc, SD + "resultFormat", ox.NamedNode(FORMATS + fmt))
    dataset = ox.BlankNode("dataset")
    b.add(svc, SD + "defaultDataset", dataset)
    b.a(dataset, SD + "Dataset")
    default = ox.BlankNode("default")
    b.add(dataset, SD + "defaultGraph", default)
    b.a(default, SD + "Graph")
    b.add(default, VOID + "inDataset", ox.NamedNode(DATASET_IRI))
    for i, graph in enumerate(named_graphs or []):
        node = ox.BlankNode(f"graph{i}")
        b.add(dataset, SD + "namedGraph", node)
        b.a(node, SD + "NamedGraph")
        b.add(node, SD + "name", ox.NamedNode(graph))
    return b.triples


def turtle(triples: list[ox.Triple]) -> str:
    """Turtle, one block per subject (a stable sort keeps each subject's triples in order)."""
    order = {str(t.subject): i for i, t in reversed(list(enumerate(triples)))}
    triples = sorted(triples, key=lambda t: order[str(t.subject)])
    prefixes = {"void": VOID, "dcat": DCAT, "dcterms": DCT, "foaf": FOAF, "sd": SD, "formats": FORMATS,
                "xsd": XSD, "kap": PREFIXES["kap"], "study": PREFIXES["study"], "owl": PREFIXES["owl"]}  # fmt: skip
    return (ox.serialize(triples, format=ox.RdfFormat.TURTLE, prefixes=prefixes) or b"").decode("utf-8")
