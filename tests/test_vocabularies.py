"""Links to external vocabularies: prefix map and CURIEs, identifier syntax, SSSOM, JSON-LD."""

from __future__ import annotations

import csv
import json
import os
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from rdflib import BNode, Graph, URIRef
from rdflib.namespace import SKOS

from kapgraph.api import run_query
from kapgraph.backends import Engine
from kapgraph.cli import cli
from kapgraph.export import CONTEXT_FILE, jsonld_context
from kapgraph.namespaces import EXTERNAL_PREFIXES, converter
from kapgraph.results import value
from tests.conftest import ROOT

IDENTIFIERS = ROOT.parent / "shared" / "reference" / "identifiers.tsv"
MATCHES = (SKOS.exactMatch, SKOS.closeMatch, SKOS.broadMatch, SKOS.narrowMatch, SKOS.relatedMatch)


def test_shape_patterns_are_the_prefix_map_patterns() -> None:
    from kapgraph.validation import shapes_graph

    select = str(next(shapes_graph().objects(URIRef("https://w3id.org/kap/shapes#ExternalIdentifierPattern"),
                                            URIRef("http://www.w3.org/ns/shacl#select"))))  # fmt: skip
    in_shapes = dict(
        re.findall(r'BIND \("([^"]+)" AS \?vocabulary\) BIND \("[^"]+" AS \?namespace\) BIND \("([^"]+)"', select)
    )
    expected = {
        prefix: pattern.replace(r"\d", "[0-9]").replace(r"\w", "[A-Za-z0-9_]").replace("\\.", "[.]")
        for prefix, _, pattern, _ in EXTERNAL_PREFIXES
    }
    assert in_shapes == expected


@pytest.mark.parametrize(
    ("curie", "iri"),
    [
        ("mesh:D013313", "http://id.nlm.nih.gov/mesh/D013313"),
        ("MONDO:0005146", "http://purl.obolibrary.org/obo/MONDO_0005146"),
        ("dx:PTSD", "https://w3id.org/kap/vocab/diagnosis/PTSD"),
        ("wikidata:Q243547", "http://www.wikidata.org/entity/Q243547"),
    ],
)
def test_prefix_map_expands_and_compresses(curie: str, iri: str) -> None:
    assert converter().expand(curie) == iri
    assert converter().expand(converter().compress(iri)) == iri


def test_curies_option_compacts_iris(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["query", "studies-by-route", "-p", "route=IN", "--format", "csv", "--curies"])
    assert result.exit_code == 0
    row = next(csv.DictReader(result.stdout.splitlines()))
    assert row["study"] == "study:adams2017" and row["studyRoute"] == "route:IN"


def test_export_jsonld_uses_the_shipped_context_and_round_trips(
    tmp_path: Path, runner: CliRunner, rdf_graph: Graph
) -> None:
    assert json.loads(CONTEXT_FILE.read_text(encoding="utf-8")) == jsonld_context(), (
        "kapgraph/context.jsonld is stale: regenerate it from kapgraph.export.jsonld_context()"
    )
    out = tmp_path / "kap.jsonld"
    assert runner.invoke(cli, ["export", "--format", "jsonld", "--output", str(out)]).exit_code == 0
    document = json.loads(out.read_text(encoding="utf-8"))
    dakwar = next(node for node in document["@graph"] if node.get("id") == "study:dakwar2019")
    assert {"Study", "SubstanceUseDisorderStudy", "RandomizedControlledTrial"} <= set(dakwar["type"])  # + inferred
    # the asserted graph alone round-trips
    assert runner.invoke(cli, ["export", "--format", "jsonld", "--asserted-only", "--output", str(out)]).exit_code == 0
    document = json.loads(out.read_text(encoding="utf-8"))
    dakwar = next(node for node in document["@graph"] if node.get("id") == "study:dakwar2019")
    assert dakwar["type"] == "Study" and dakwar["design"] == "designs:RCT" and dakwar["enrolledSize"] == 55

    def named(graph: Graph) -> set[tuple]:
        return {t for t in graph if not any(isinstance(x, BNode) for x in t)}

    parsed = Graph().parse(out, format="json-ld")
    original = rdf_graph
    assert len(parsed) == len(original)
    assert named(parsed) == named(original)


# --- mappings (ontology/mappings.ttl, data/identifiers.ttl) --------------------------------------


@pytest.fixture(scope="module")
def identifiers() -> dict[str, str]:
    """uri -> status, from shared/reference/identifiers.tsv."""
    if not IDENTIFIERS.is_file():
        if os.environ.get("CI"):
            pytest.fail(f"identifiers.tsv is missing at {IDENTIFIERS}; CI must provide shared/ beside the clone")
        pytest.skip(f"identifiers.tsv not found at {IDENTIFIERS} (shared/ beside the clone)")
    with IDENTIFIERS.open(encoding="utf-8") as stream:
        rows = list(csv.DictReader(stream, delimiter="\t"))
    found: dict[str, str] = {}
    for row in rows:
        if row["uri"]:
            found[row["uri"]] = "verified" if row["status"] == "verified" else found.get(row["uri"], row["status"])
    return found


def test_every_published_match_is_a_checked_identifier(rdf_graph: Graph, identifiers: dict[str, str]) -> None:
    graph = rdf_graph
    published = [
        (s, p, o) for p in MATCHES for s, o in graph.subject_objects(p) if str(s).startswith("https://w3id.org/kap/")
    ]
    assert len(published) > 100
    for s, p, o in published:
        assert str(o) in identifiers, f"{s} {p} {o}: not in identifiers.tsv"
        if p != SKOS.relatedMatch:
            assert identifiers[str(o)] == "verified", f"{s} {p} {o}: only a best guess in identifiers.tsv"


def test_publications_link_their_doi(oxigraph: Engine, identifiers: dict[str, str]) -> None:
    rows = oxigraph.query(
        "SELECT ?pub ?doi ?same WHERE { ?pub bibo:doi ?doi . OPTIONAL { ?pub schema:sameAs ?same } }"
    ).records()
    assert len(rows) == 18  # 17 studies and the review
    for row in rows:
        assert value(row["same"]) == f"https://doi.org/{value(row['doi'])}", row["pub"]
        assert identifiers[value(row["same"])] == "verified"
    printed = oxigraph.query("SELECT ?doi ?printed WHERE { ?pub kap:printedDoi ?printed ; bibo:doi ?doi }").records()
    assert {(value(r["printed"]), value(r["doi"])) for r in printed} == {
        ("10.4088/JCP.15110138", "10.4088/JCP.15l10138"),
        ("10.4088/JCP.20113406", "10.4088/JCP.20l13406"),
    }


@pytest.mark.parametrize(
    ("query", "param", "notation", "curie"),
    [
        ("studies-by-diagnosis", "diagnosis", "PTSD", "mesh:D013313"),
        ("studies-by-diagnosis", "diagnosis", "PTSD", "MONDO:0005146"),
        ("studies-by-diagnosis", "diagnosis", "OCD", "doid:10933"),
        ("studies-by-route", "route", "IV", "ncit:C38276"),
        ("psychotherapy-before-and-after", "diagnosis", "PTSD", "http://id.nlm.nih.gov/mesh/D013313"),
    ],
)
def test_curie_parameters_give_the_rows_of_notations(
    query: str, param: str, notation: str, curie: str, engine: Engine
) -> None:
    by_notation = run_query(query, {param: notation}, engine=engine)
    by_curie = run_query(query, {param: curie}, engine=engine)
    assert by_notation.rows and by_curie.rows == by_notation.rows


def test_unmapped_curie_is_refused(oxigraph: Engine) -> None:
    from kapgraph.errors import ParameterError

    with pytest.raises(
        ParameterError, match="no concept allowed for parameter 'diagnosis' has an exact or close match"
    ):
        run_query("studies-by-diagnosis", {"diagnosis": "mesh:D000001"}, engine=oxigraph)


def test_wrong_identifier_pattern_fails_validation_naming_the_concept(runner: CliRunner) -> None:
    bad = ROOT / "tests" / "data" / "shapes" / "invalid" / "mesh-id-wrong-pattern.ttl"
    result = runner.invoke(cli, ["validate", str(bad)])
    assert result.exit_code == 1
    assert "node dx:PTSD, property skos:exactMatch" in result.stdout and "not a valid mesh identifier" in result.stdout


# --- SSSOM ---------------------------------------------------------------------------------------

SSSOM_FILE = ROOT / "mappings" / "kap.sssom.tsv"


def test_sssom_file_is_generated_from_the_graph(oxigraph: Engine) -> None:
    from kapgraph.mappings import sssom_tsv

    assert SSSOM_FILE.read_text(encoding="utf-8") == sssom_tsv(oxigraph), (
        "mappings/kap.sssom.tsv is stale: run `kapgraph mappings --out mappings/kap.sssom.tsv`"
    )


def test_sssom_file_validates_and_round_trips(tmp_path: Path, rdf_graph: Graph) -> None:
    from sssom.parsers import parse_sssom_table
    from sssom.validators import validate
    from sssom.writers import write_table

    msdf = parse_sssom_table(SSSOM_FILE)
    validate(msdf, fail_on_error=True)
    mappings = sum(
        1 for p in MATCHES for s, _ in rdf_graph.subject_objects(p) if str(s).startswith("https://w3id.org/kap/vocab/")
    )
    assert len(msdf.df) == mappings
    assert set(msdf.df["mapping_justification"]) == {"semapv:ManualMappingCuration"}
    assert msdf.metadata["license"] == "https://creativecommons.org/licenses/by/4.0/"
    again = tmp_path / "again.sssom.tsv"
    with again.open("w", encoding="utf-8") as stream:
        write_table(msdf, stream)
    reparsed = parse_sssom_table(again)
    columns = ["subject_id", "predicate_id", "object_id"]
    assert sorted(map(tuple, reparsed.df[columns].values)) == sorted(map(tuple, msdf.df[columns].values))


def test_mapping_hygiene_as_obo_mapping_sets_want_it(oxigraph: Engine) -> None:
    """Evidence is the vocabulary's own record of the target (its IRI as identifiers.tsv gives it, or for
    MeSH the MeSH Browser page, a registry prefix the tsv verified), never the mirror or aggregator page
    the tsv's evidence column may name; no ICD-10-CM block range mapped as a code; the object CURIEs
    written as OBO mapping sets write them (MESH:, MONDO:)."""
    if not IDENTIFIERS.is_file():
        if os.environ.get("CI"):
            pytest.fail(f"identifiers.tsv is missing at {IDENTIFIERS}; CI must provide shared/ beside the clone")
        pytest.skip(f"identifiers.tsv not found at {IDENTIFIERS} (shared/ beside the clone)")
    with IDENTIFIERS.open(encoding="utf-8") as handle:
        rows = [r for r in csv.DictReader(handle, delimiter="\t") if r["status"] == "verified"]
    verified = {r["uri"] for r in rows}
    meshb = "https://meshb.nlm.nih.gov/record/ui?ui="
    assert meshb in verified, "the MeSH Browser prefix is no longer a verified row of identifiers.tsv"
    mesh = "http://id.nlm.nih.gov/mesh/"
    evidence = oxigraph.query(
        "SELECT ?t ?e WHERE { ?a owl:annotatedProperty ?p ; owl:annotatedTarget ?t ; kap:mappingEvidence ?e "
        "VALUES ?p { skos:exactMatch skos:closeMatch skos:broadMatch skos:narrowMatch skos:relatedMatch } }"
    ).rows
    assert len(evidence) > 150
    for target, text in evidence:
        target_iri = value(target)
        assert target_iri in verified, f"{target_iri} is not a verified row of identifiers.tsv"
        record = meshb + target_iri.removeprefix(mesh) if target_iri.startswith(mesh) else target_iri
        assert value(text) == record, f"evidence for {target_iri} is not the vocabulary's own record"
    targets = {value(t) for (t,) in oxigraph.query("SELECT ?t WHERE { ?a owl:annotatedTarget ?t }").rows}
    assert not [t for t in targets if "/ICD10CM/" in t and "-" in t.rsplit("/", 1)[1]], "an ICD-10-CM range"
    text = SSSOM_FILE.read_text(encoding="utf-8")
    assert "\tMESH:D013313\t" in text and "\tMONDO:0005146\t" in text and "\tmesh:" not in text
