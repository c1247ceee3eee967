"""The SSSOM mapping set of the KAP vocabularies, generated from the graph.

The mappings live in ``ontology/mappings.ttl`` as SKOS mapping triples, each annotated by an
``owl:Axiom`` with the external label and the evidence (the vocabulary's own record of the object,
written as SSSOM's ``see_also``); this module turns them into an SSSOM/TSV
table (``mappings/kap.sssom.tsv``), so they are never maintained twice.
"""

from __future__ import annotations

import csv
import io

import yaml

from kapgraph import __version__
from kapgraph.backends import Engine
from kapgraph.namespaces import converter
from kapgraph.results import value

MAPPING_SET_ID = "https://w3id.org/kap/mappings/kap.sssom.tsv"
COLUMNS = [
    "subject_id",
    "subject_label",
    "predicate_id",
    "object_id",
    "object_label",
    "mapping_justification",
    "see_also",
]
#: the prefixes OBO mapping sets write (Mondo's SSSOM files: MONDO:0005146, MESH:D013313, ICD10CM:F43.1,
#: SCTID:47505003), so that this set joins with theirs; others keep the project's (Bioregistry) prefix
SSSOM_PREFIXES = {
    "mesh": "MESH",
    "mondo": "MONDO",
    "doid": "DOID",
    "ncit": "NCIT",
    "chebi": "CHEBI",
    "icd10cm": "ICD10CM",
    "snomedct": "SCTID",
}
GENERATED = "Generated from the graph by: kapgraph mappings --out mappings/kap.sssom.tsv (do not edit by hand)."

_MAPPINGS = """
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX owl:  <http://www.w3.org/2002/07/owl#>
PREFIX kap:  <https://w3id.org/kap/ontology#>
SELECT ?subject ?subjectLabel ?predicate ?object ?objectLabel ?evidence WHERE {
  VALUES ?predicate { skos:exactMatch skos:closeMatch skos:broadMatch skos:narrowMatch skos:relatedMatch }
  ?subject a skos:Concept ; skos:prefLabel ?subjectLabel ; ?predicate ?object .
  OPTIONAL {
    ?axiom owl:annotatedSource ?subject ; owl:annotatedProperty ?predicate ; owl:annotatedTarget ?object .
    OPTIONAL { ?axiom kap:mappingObjectLabel ?objectLabel }
    OPTIONAL { ?axiom kap:mappingEvidence ?evidence }
  }
}"""


def _obo(curie: str) -> str:
    prefix, _, local = curie.partition(":")
    return f"{SSSOM_PREFIXES.get(prefix, prefix)}:{local}"


def sssom_rows(engine: Engine) -> list[dict[str, str]]:
    convert = converter()
    rows = []
    for record in engine.query(_MAPPINGS).records():
        rows.append(
            {
                "subject_id": convert.compress(value(record["subject"]), strict=True),
                "subject_label": value(record["subjectLabel"]),
                "predicate_id": convert.compress(value(record["predicate"]), strict=True),
                "object_id": _obo(convert.compress(value(record["object"]), strict=True)),
                "object_label": value(record.get("objectLabel")),
                "mapping_justification": "semapv:ManualMappingCuration",
                # the vocabulary's own record of the object, where the mapping can be checked
                "see_also": value(record.get("evidence")),
            }
        )
    return sorted(rows, key=lambda r: (r["subject_id"], r["predicate_id"], r["object_id"]))


def sssom_tsv(engine: Engine) -> str:
    """The mapping set as SSSOM/TSV: a '#'-prefixed YAML metadata block, then the table."""
    rows = sssom_rows(engine)
    used = {r[c].split(":", 1)[0] for r in rows for c in ("subject_id", "predicate_id", "object_id")}
    convert = converter()
    obo = {v: k for k, v in SSSOM_PREFIXES.items()}
    curie_map = {p: convert.prefix_map[obo.get(p, p)] for p in sorted(used) if obo.get(p, p) in convert.prefix_map}
    curie_map["semapv"] = "https://w3id.org/semapv/vocab/"
    metadata = {
        "comment": GENERATED,
        "curie_map": curie_map,
        "mapping_set_id": MAPPING_SET_ID,
        "mapping_set_version": __version__,
        "mapping_set_description": "Mappings of the KAP vocabularies (diagnoses, drugs, routes, designs, "
        "psychotherapies, instruments) to MeSH, MONDO, DOID, ICD-10-CM, SNOMED CT, NCIT, ChEBI, DrugBank and "
        "Wikidata, curated from checked identifiers.",
        "license": "https://creativecommons.org/licenses/by/4.0/",
        "mapping_provider": "https://w3id.org/kap/ontology",
    }
    block = yaml.safe_dump(metadata, sort_keys=False, allow_unicode=True, width=1000)
    out = io.StringIO()
    out.write("".join(f"#{line}\n" for line in block.splitlines()))
    writer = csv.DictWriter(out, fieldnames=COLUMNS, delimiter="\t", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()
