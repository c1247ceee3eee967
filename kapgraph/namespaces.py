"""The project's namespaces and prefixes, defined once."""

from __future__ import annotations

from rdflib import Namespace

KAP = Namespace("https://w3id.org/kap/ontology#")
KAPSH = Namespace("https://w3id.org/kap/shapes#")
STUDY = Namespace("https://w3id.org/kap/id/study/")
VOCAB = "https://w3id.org/kap/vocab/"
REVIEW_IRI = "https://w3id.org/kap/id/review"
OA = Namespace("http://www.w3.org/ns/oa#")

#: Prefixes predeclared for ad-hoc queries and used to compact IRIs in human-readable output.
PREFIXES: dict[str, str] = {
    "kap": str(KAP),
    "kapsh": str(KAPSH),
    "study": str(STUDY),
    "design": VOCAB + "design/",
    "feature": VOCAB + "design-feature/",
    "dx": VOCAB + "diagnosis/",
    "substance": VOCAB + "substance/",
    "drug": VOCAB + "drug/",
    "route": VOCAB + "route/",
    "freq": VOCAB + "frequency/",
    "unit": VOCAB + "unit/",
    "doserole": VOCAB + "dose-role/",
    "therapy": VOCAB + "psychotherapy/",
    "phase": VOCAB + "phase/",
    "timing": VOCAB + "timing/",
    "comparator": VOCAB + "comparator/",
    "instrument": VOCAB + "instrument/",
    "setting": VOCAB + "setting/",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "dcterms": "http://purl.org/dc/terms/",
    "bibo": "http://purl.org/ontology/bibo/",
    "schema": "http://schema.org/",
    "prov": "http://www.w3.org/ns/prov#",
    "oa": str(OA),
    "sh": "http://www.w3.org/ns/shacl#",
}
