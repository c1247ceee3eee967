"""The project's namespaces and prefixes, defined once."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import curies
    from rdflib import Namespace

KAP_IRI = "https://w3id.org/kap/ontology#"
KAPSH_IRI = "https://w3id.org/kap/shapes#"
STUDY_IRI = "https://w3id.org/kap/id/study/"
OA_IRI = "http://www.w3.org/ns/oa#"
VOCAB = "https://w3id.org/kap/vocab/"
REVIEW_IRI = "https://w3id.org/kap/id/review"
#: named graphs of the bundled files: GRAPH_BASE + the file's path in the repository
GRAPH_BASE = "https://w3id.org/kap/graph/"

#: rdflib ``Namespace`` objects, made on first use (``from kapgraph.namespaces import KAP``) so that
#: the query path, which works on pyoxigraph terms and plain IRIs, never imports rdflib.
_RDFLIB_NAMESPACES = {"KAP": KAP_IRI, "KAPSH": KAPSH_IRI, "STUDY": STUDY_IRI, "OA": OA_IRI}

if TYPE_CHECKING:
    KAP: Namespace
    KAPSH: Namespace
    STUDY: Namespace
    OA: Namespace


def __getattr__(name: str) -> Any:
    if name in _RDFLIB_NAMESPACES:
        from rdflib import Namespace

        namespace = Namespace(_RDFLIB_NAMESPACES[name])
        globals()[name] = namespace
        return namespace
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


#: Prefixes predeclared for ad-hoc queries and used to compact IRIs in human-readable output.
PREFIXES: dict[str, str] = {
    "kap": KAP_IRI,
    "kapsh": KAPSH_IRI,
    "study": STUDY_IRI,
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
    "oa": OA_IRI,
    "sh": "http://www.w3.org/ns/shacl#",
}

#: External vocabularies the graph links to: Bioregistry prefix, URI prefix as used in the data,
#: local-identifier pattern and accepted synonyms. Prefixes and patterns are Bioregistry's, as
#: recorded (verified) in shared/reference/identifiers.tsv; URI prefixes are those of its identifiers.
EXTERNAL_PREFIXES: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("mesh", "http://id.nlm.nih.gov/mesh/", r"^(C|D)\d{6,9}$", ("MESH", "MeSH")),
    ("mondo", "http://purl.obolibrary.org/obo/MONDO_", r"^\d{7}$", ("MONDO",)),
    ("doid", "http://purl.obolibrary.org/obo/DOID_", r"^\d+$", ("DOID",)),
    ("ncit", "http://purl.obolibrary.org/obo/NCIT_", r"^C\d+$", ("NCIT",)),
    ("chebi", "http://purl.obolibrary.org/obo/CHEBI_", r"^\d+$", ("CHEBI",)),
    ("wikidata", "http://www.wikidata.org/entity/", r"^(Q|P)\d+$", ("wd",)),
    ("doi", "https://doi.org/", r"^10.\d{2,9}/.*$", ("DOI",)),
    ("pubmed", "https://pubmed.ncbi.nlm.nih.gov/", r"^\d+$", ("PMID", "pmid")),
    ("clinicaltrials", "https://clinicaltrials.gov/study/", r"^NCT\d{8}$", ("NCT",)),
    ("snomedct", "http://snomed.info/id/", r"^(\w+)?\d+$", ("SCTID", "SNOMEDCT")),
    (
        "icd10cm",
        "http://purl.bioontology.org/ontology/ICD10CM/",
        r"^([A-Z][0-9][0-9AB]((-[A-Z][0-9][0-9AB])|(\.[0-9A-KXZ]([0-9A-EXYZ]([0-9A-HX][0-59A-HJKMNP-S]?)?)?)?))$",
        ("ICD10CM",),
    ),
    ("drugbank", "https://go.drugbank.com/drugs/", r"^DB\d{5}$", ("DRUGBANK",)),
)


def converter() -> curies.Converter:
    """The project's curies.Converter: its own prefixes plus the external vocabularies (cached)."""
    global _CONVERTER
    if _CONVERTER is None:
        import curies

        records = [curies.Record(prefix=p, uri_prefix=ns) for p, ns in PREFIXES.items()]
        records += [
            curies.Record(prefix=p, uri_prefix=ns, pattern=pattern, prefix_synonyms=list(synonyms))
            for p, ns, pattern, synonyms in EXTERNAL_PREFIXES
        ]
        _CONVERTER = curies.Converter(records)
    return _CONVERTER


_CONVERTER: curies.Converter | None = None
