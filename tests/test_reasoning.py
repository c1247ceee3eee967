"""OWL reasoning: HermiT finds the graph consistent and derives exactly the memberships the native SPARQL
rules materialise; contradictions are reported; queries by a super-property, super-class, broader concept or
defined class are complete on both embedded engines, and the stored queries do not change with the
inferred graph."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pyoxigraph as ox
import pytest
from click.testing import CliRunner

from kapgraph import materialise
from kapgraph.api import run_query
from kapgraph.backends import Engine, open_engine
from kapgraph.catalog import Catalog
from kapgraph.cli import cli
from kapgraph.loading import load_memory, sources
from kapgraph.namespaces import KAP_IRI, STUDY_IRI, VOCAB
from kapgraph.reasoning import Reasoning, owl_ntriples, reason
from kapgraph.results import value
from tests.conftest import ROOT
from tests.test_queries import NEEDS_ENDPOINT, canonical

SKOS = "http://www.w3.org/2004/02/skos/core#"
STUDIES = ROOT / "data" / "studies"


def need_java() -> None:
    """HermiT needs Java: CI has it (.ci/run installs it), so there a missing Java is a failure."""
    if shutil.which("java") is None:
        if os.environ.get("CI"):
            pytest.fail("no Java runtime: HermiT cannot run (.ci/run installs default-jre-headless)")
        pytest.skip("no Java runtime here, so HermiT cannot run (CI installs one)")


@pytest.fixture(scope="module")
def hermit() -> Reasoning:
    need_java()
    result = reason(reasoner="hermit")
    print(f"\nHermiT reasoned over the bundled graph in {result.seconds:.1f} s")  # a benchmark, no assertion
    print(result.text().splitlines()[1])  # the time of each phase
    return result


@pytest.fixture(scope="module")
def native() -> ox.Store:
    store = load_memory(sources())
    done = materialise.materialise(store)
    print(f"\nnative rules: {done.triples} inferred triples in {done.seconds:.3f} s ({done.rounds} rounds)")
    return store


@pytest.fixture(scope="module")
def plain() -> dict[str, Engine]:
    return {name: open_engine(name, asserted_only=True) for name in ("oxigraph", "rdflib")}


def slugs(members: set[tuple[str, str]], cls: str) -> set[str]:
    return {i.removeprefix(STUDY_IRI) for i, c in members if c == KAP_IRI + cls}


# --- HermiT ---------------------------------------------------------------------------------


def test_the_bundled_graph_is_consistent_with_no_unsatisfiable_class(hermit: Reasoning) -> None:
    assert hermit.reasoner == "hermit"
    assert hermit.consistent, hermit.inconsistency
    assert hermit.unsatisfiable == []
    assert hermit.literals_left_out > 50  # the xsd:duration and xsd:gYear values never reach HermiT


def test_native_memberships_are_hermits(hermit: Reasoning, native: ox.Store) -> None:
    assert hermit.memberships  # HermiT derived memberships of every defined class
    assert {c for _, c in hermit.memberships} == set(materialise.defined_class_rules(native))
    assert materialise.memberships(native) == hermit.memberships


def test_literals_outside_the_owl2_datatype_map_are_left_out(native: ox.Store) -> None:
    ntriples, dropped = owl_ntriples(native, [s.graph for s in sources()])
    text = ntriples.decode()
    assert dropped > 0
    for datatype in ("duration", "gYear", "gYearMonth"):
        assert f"XMLSchema#{datatype}>" not in text
    assert "XMLSchema#decimal>" in text


# --- what the defined classes hold ------------------------------------------------------------


def test_substance_use_disorder_studies_are_the_six_the_review_names(native: ox.Store) -> None:
    # "Six studies involved participants with substance use disorders: two on heroin use disorder; one on
    # cannabis use disorder (CUD); one on cocaine use disorder; one on alcohol use disorder; and one on
    # opioid-induced hyperalgesia (OIH)."
    members = slugs(materialise.memberships(native), "SubstanceUseDisorderStudy")
    assert members == {"krupitsky2002", "krupitsky2007", "azhari2021", "dakwar2019", "dakwar2020", "ocker2020"}
    # and by diagnosis, as the review breaks them down: each member's asserted diagnoses under dx:SUD
    per_disorder: dict[str, set[str]] = {}
    for slug in members:
        for prop in ("primaryDiagnosis", "comorbidDiagnosis"):
            for (dx,) in native.query(
                f"SELECT ?dx WHERE {{ <{STUDY_IRI}{slug}> <{KAP_IRI}{prop}> ?dx . "
                f"?dx <{SKOS}broader>+ <{VOCAB}diagnosis/SUD> }}",
                use_default_graph_as_union=True,
            ):
                per_disorder.setdefault(dx.value.removeprefix(VOCAB + "diagnosis/"), set()).add(slug)
    assert {d: len(s) for d, s in per_disorder.items()} == {
        "heroin-use-disorder": 2,
        "cocaine-use-disorder": 1,
        "cannabis-use-disorder": 1,
        "alcohol-use-disorder": 1,
        "OIH": 1,
    }, per_disorder


@pytest.mark.parametrize(
    ("cls", "expected"),
    [
        # "Six articles studied participants with PTSD"
        ("PTSDStudy", {"pradhan2018", "duek2019", "halstead2021", "shiroma2020", "keizer2020", "dore2019"}),
        # "six studied participants with MDD" (six with Halstead 2021's persistent depressive disorder)
        ("DepressionStudy", {"wilkinson2017", "wilkinson2021", "adams2017", "becker2014", "dore2019", "halstead2021"}),
        # "chronic neuropathic pain (2 studies)"
        ("ChronicPainStudy", {"keizer2020", "ocker2020"}),
        # "There are five case studies,^{21,22,28,36,40}"
        ("CaseStudy", {"keizer2020", "ocker2020", "becker2014", "adams2017", "halstead2021"}),
        # "two studies that administered a single continuous infusion over 5 days"
        ("ContinuousInfusionStudy", {"keizer2020", "ocker2020"}),
    ],
)
def test_defined_classes_hold_what_the_review_counts(cls: str, expected: set[str], native: ox.Store) -> None:
    assert slugs(materialise.memberships(native), cls) == expected


def test_each_defined_class_admits_a_concept_with_all_its_narrower_ones(native: ox.Store) -> None:
    """The owl:hasValue lists bridge the classes to the SKOS hierarchies: none may miss a narrower concept."""
    listed = native.query(
        """SELECT ?c ?p ?v WHERE { ?c owl:equivalentClass/(owl:intersectionOf|owl:unionOf|rdf:rest|rdf:first)* ?r .
           ?r owl:onProperty ?p ; owl:hasValue ?v . }""",
        use_default_graph_as_union=True,
        prefixes={"owl": "http://www.w3.org/2002/07/owl#", "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#"},
    )
    assert isinstance(listed, ox.QuerySolutions)
    admitted: dict[tuple[str, str], set[str]] = {}
    for row in listed:
        admitted.setdefault((row["c"].value, row["p"].value), set()).add(row["v"].value)
    assert len(admitted) >= 10
    for (cls, prop), concepts in admitted.items():
        for concept in concepts:
            narrower = {
                q.subject.value
                for q in native.quads_for_pattern(None, ox.NamedNode(SKOS + "broader"), ox.NamedNode(concept), None)
            }
            assert narrower <= concepts, f"{cls} on {prop} admits {concept} but not its narrower {narrower - concepts}"


# --- contradictions ---------------------------------------------------------------------------


def _contradict(tmp_path: Path, slug: str, old: str, new: str) -> Path:
    text = (STUDIES / f"{slug}.ttl").read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / f"{slug}.ttl"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def test_a_study_with_two_disjoint_designs_is_reported_by_hermit(tmp_path: Path) -> None:
    need_java()
    bad = _contradict(
        tmp_path, "ocker2020", "kap:design design:case-report ;", "kap:design design:case-report, design:RCT ;"
    )
    result = CliRunner().invoke(cli, ["--data", str(bad), "reason"], catch_exceptions=False)
    print(result.stdout)
    assert result.exit_code == 1
    assert "inconsistent" in result.stdout and "study:ocker2020" in result.stdout
    assert "kap:CaseStudy" in result.stdout and "kap:RandomizedControlledTrial" in result.stdout
    assert str(bad) in result.stdout  # the file to fix


def test_a_regimen_with_two_disjoint_routes_is_reported_by_owlrl(tmp_path: Path) -> None:
    bad = _contradict(tmp_path, "dakwar2019", "kap:route route:IV ;", "kap:route route:IV, route:IM ;")
    result = CliRunner().invoke(cli, ["--data", str(bad), "reason", "--reasoner", "owlrl"], catch_exceptions=False)
    assert result.exit_code == 1
    assert "owlrl" in result.stdout and "cannot prove a class unsatisfiable" in result.stdout  # what it loses
    assert "study:dakwar2019/" in result.stdout and "kap:IntravenousRegimen" in result.stdout
    assert str(bad) in result.stdout


def test_without_java_reason_falls_back_to_owlrl(monkeypatch: pytest.MonkeyPatch) -> None:
    import kapgraph.reasoning

    monkeypatch.setattr(kapgraph.reasoning.shutil, "which", lambda _name: None)
    result = reason([STUDIES / "ocker2020.ttl"], reasoner="hermit")
    assert result.reasoner == "owlrl" and "no Java runtime" in result.note
    assert result.consistent
    assert slugs(result.memberships, "SubstanceUseDisorderStudy") == {"ocker2020"}
    assert slugs(result.memberships, "CaseStudy") == {"ocker2020"}


def test_reason_out_writes_the_memberships_as_turtle(tmp_path: Path) -> None:
    out = tmp_path / "inferred.ttl"
    result = CliRunner().invoke(
        cli, ["--data", str(STUDIES / "azhari2021.ttl"), "reason", "--reasoner", "owlrl", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "consistent: yes" in result.stdout
    triples = {(t.subject.value, t.object.value) for t in ox.parse(path=out, format=ox.RdfFormat.TURTLE)}
    assert (STUDY_IRI + "azhari2021", KAP_IRI + "SubstanceUseDisorderStudy") in triples
    assert (STUDY_IRI + "azhari2021", KAP_IRI + "OpenLabelTrial") in triples


# --- complete answers on the embedded engines ---------------------------------------------------

COMPLETE = [
    # (query with the inferred graph, the same question asked of the asserted graph with property paths)
    (
        "SELECT DISTINCT ?s WHERE { ?s kap:diagnosis dx:SUD }",
        "SELECT DISTINCT ?s WHERE { ?s (kap:primaryDiagnosis|kap:comorbidDiagnosis)/skos:broader* dx:SUD }",
    ),
    (
        "SELECT DISTINCT ?s ?r WHERE { ?s kap:hasDrugRegimen ?r }",
        "SELECT DISTINCT ?s ?r WHERE { ?s kap:hasDrugRegimen|kap:hasKetamineRegimen ?r }",
    ),
    (
        "SELECT DISTINCT ?r WHERE { ?r a kap:DrugRegimen }",
        "SELECT DISTINCT ?r WHERE { ?r a/rdfs:subClassOf* kap:DrugRegimen }",
    ),
    (
        "SELECT DISTINCT ?s WHERE { ?s kap:design design:case-study }",
        "SELECT DISTINCT ?s WHERE { ?s kap:design/skos:broader* design:case-study }",
    ),
    (
        "SELECT DISTINCT ?p WHERE { ?p kap:modality therapy:MBI }",
        "SELECT DISTINCT ?p WHERE { ?p kap:modality/skos:broader* therapy:MBI }",
    ),
    (
        "SELECT DISTINCT ?c WHERE { ?c skos:broaderTransitive dx:SUD }",
        "SELECT DISTINCT ?c WHERE { ?c skos:broader+ dx:SUD }",
    ),
    (
        "SELECT DISTINCT ?p ?s WHERE { ?s kap:reportedIn ?p }",
        "SELECT DISTINCT ?p ?s WHERE { ?p kap:reports ?s }",
    ),
]


@pytest.mark.parametrize(("inferred", "asserted"), COMPLETE, ids=[c[0] for c in COMPLETE])
def test_queries_by_a_super_term_are_complete_on_both_engines(
    inferred: str, asserted: str, engines: dict[str, Engine], plain: dict[str, Engine]
) -> None:
    expected = canonical(plain["oxigraph"].query(asserted))
    assert len(expected) >= 2
    for name, engine in engines.items():
        assert canonical(engine.query(inferred)) == expected, name
    if "reportedIn" not in inferred:  # (the curators state both directions of kap:reports)
        # without the inferred graph the simple query misses answers: the reason for the graph
        assert len(canonical(plain["oxigraph"].query(inferred))) < len(expected)


def test_suds_are_found_by_the_broader_concept(engine: Engine) -> None:
    found = {
        value(t).removeprefix(STUDY_IRI)
        for t in engine.query("SELECT ?s WHERE { ?s kap:diagnosis dx:SUD }").column("s")
    }
    assert {"krupitsky2002", "ocker2020", "azhari2021", "dore2019"} <= found


@pytest.mark.parametrize("name", sorted(set(Catalog().names()) - NEEDS_ENDPOINT))
def test_every_stored_query_returns_the_same_rows_without_the_inferred_graph(
    name: str, engines: dict[str, Engine], plain: dict[str, Engine]
) -> None:
    if name == "studies-by-class":
        pytest.skip("reads the defined-class memberships, which only the inferred graph holds (tested below)")
    params = Catalog().get(name).example_params()
    for engine in ("oxigraph", "rdflib"):  # the queries walk the hierarchies: no row gained, none counted twice
        assert canonical(run_query(name, params, engine=engines[engine])) == canonical(
            run_query(name, params, engine=plain[engine])
        ), engine


def test_studies_by_class_lists_the_defined_classes(native: ox.Store, engines: dict[str, Engine]) -> None:
    (param,) = Catalog().get("studies-by-class").params
    defined = {c.removeprefix(KAP_IRI) for c in materialise.defined_class_rules(native)}
    studies = {c for c in defined if not c.endswith("Regimen")}
    assert set(param.values) == studies
    for cls in ("SubstanceUseDisorderStudy", "CaseStudy"):
        rows = run_query("studies-by-class", {"class": cls}, engine=engines["rdflib"])
        assert {value(t).removeprefix(STUDY_IRI) for t in rows.column("study")} == slugs(
            materialise.memberships(native), cls
        )


def test_info_counts_asserted_and_inferred_triples(runner: CliRunner) -> None:
    full = runner.invoke(cli, ["info"]).stdout
    bare = runner.invoke(cli, ["info", "--asserted-only"]).stdout
    facts = {k: v for k, _, v in (line.partition(": ") for line in full.splitlines())}
    assert int(facts["inferred_triples"]) > 1000
    assert "inferred_triples: 0" in bare
    assert f"triples: {facts['triples']}" in bare


def test_the_stored_build_holds_the_inferred_graph(tmp_path: Path, oxigraph: Engine) -> None:
    on_disk = open_engine("oxigraph", store=tmp_path / "store")
    assert on_disk.inferred_count() == oxigraph.inferred_count() > 0
    assert on_disk.triple_count() == oxigraph.triple_count()
    bare = open_engine("oxigraph", store=tmp_path / "store", asserted_only=True)
    assert bare.query("SELECT ?s WHERE { ?s kap:diagnosis dx:SUD }").rows == []
    assert bare.query(f"ASK {{ <{STUDY_IRI}ocker2020> kap:diagnosis <{VOCAB}diagnosis/OIH> }}").boolean is False


def test_leaving_out_the_evidence_layer_changes_no_membership() -> None:
    """What HermiT is given: no kap:Evidence, target or quote selector (they are three of every four
    individuals); owlrl derives the same defined-class memberships with and without them."""
    import owlrl
    from rdflib import Graph, URIRef
    from rdflib.namespace import RDF as RDFNS

    files = sources([STUDIES / "ocker2020.ttl", STUDIES / "dakwar2019.ttl", STUDIES / "krupitsky2002.ttl"])
    store = load_memory(files)
    graphs = [s.graph for s in files]
    slim, _ = owl_ntriples(store, graphs)
    full, _ = owl_ntriples(store, graphs, evidence=True)
    assert b"/ev-" in full and b"/ev-" not in slim
    defined = sorted(materialise.defined_class_rules(store))

    def members(ntriples: bytes) -> set[tuple[str, str]]:
        graph = Graph().parse(data=ntriples, format="nt")
        owlrl.DeductiveClosure(owlrl.OWLRL_Semantics, rdfs_closure=False, axiomatic_triples=False).expand(graph)
        return {(str(s), c) for c in defined for s in graph.subjects(RDFNS.type, URIRef(c)) if isinstance(s, URIRef)}

    found = members(slim)
    assert slugs(found, "SubstanceUseDisorderStudy") == {"ocker2020", "dakwar2019", "krupitsky2002"}
    assert found == members(full)


def test_hermit_names_an_unsatisfiable_class(tmp_path: Path) -> None:
    need_java()
    bad = tmp_path / "unsatisfiable.ttl"
    bad.write_text(
        "@prefix kap: <https://w3id.org/kap/ontology#> .\n"
        "@prefix owl: <http://www.w3.org/2002/07/owl#> .\n"
        "@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n"
        "# a class under two disjoint designs: no study can be in it, but nothing is, so still consistent\n"
        "kap:CaseReportTrial a owl:Class ; rdfs:subClassOf kap:CaseStudy, kap:RandomizedControlledTrial .\n",
        encoding="utf-8",
    )
    result = reason([STUDIES / "ocker2020.ttl", bad], reasoner="hermit")
    assert result.consistent
    assert result.unsatisfiable == [KAP_IRI + "CaseReportTrial"]
    assert slugs(result.memberships, "CaseStudy") == {"ocker2020"}


def test_a_failing_java_is_a_reasoner_error_naming_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import owlready2

    from kapgraph.reasoning import ReasonerError

    fake = tmp_path / "java"
    fake.write_text("#!/bin/sh\necho 'Error: could not create the Java Virtual Machine.' >&2\nexit 7\n")
    fake.chmod(0o755)
    monkeypatch.setattr(owlready2, "JAVA_EXE", str(fake))
    with pytest.raises(ReasonerError, match="HermiT failed: Error: could not create the Java Virtual Machine"):
        reason([STUDIES / "ocker2020.ttl"], reasoner="hermit")


def _broader_concept_params() -> list[tuple[str, str, str]]:
    """(query, parameter, concept) for every concept parameter value that has a narrower concept.

    These are the values for which the inferred graph matters (a study recorded with a narrower concept
    also has the broader one there), which the queries' own examples mostly are not."""
    store = load_memory(sources())
    cases = []
    for name in sorted(set(Catalog().names()) - NEEDS_ENDPOINT):
        for param in Catalog().get(name).params:
            for scheme in param.schemes:
                rows = store.query(
                    f"SELECT DISTINCT ?c WHERE {{ ?n <{SKOS}broader> ?c . ?c <{SKOS}inScheme> <{VOCAB}{scheme}> }}",
                    use_default_graph_as_union=True,
                )
                cases += [(name, param.name, row["c"].value) for row in rows]  # type: ignore[index]
    return sorted(cases)


BROADER = _broader_concept_params()


def test_there_are_broader_concept_cases() -> None:
    assert {name for name, _, _ in BROADER} >= {"studies-by-design", "studies-by-diagnosis", "studies-by-modality"}


@pytest.mark.parametrize(("name", "param", "concept"), BROADER, ids=[f"{n}-{c.rsplit('/')[-1]}" for n, _, c in BROADER])
def test_broader_concepts_give_the_same_rows_without_the_inferred_graph(
    name: str, param: str, concept: str, engines: dict[str, Engine], plain: dict[str, Engine]
) -> None:
    params = {**Catalog().get(name).example_params(), param: concept}
    with_inferred = canonical(run_query(name, params, engine=engines["oxigraph"]))
    assert with_inferred == canonical(run_query(name, params, engine=plain["oxigraph"]))


@pytest.mark.parametrize("synthetic", [0, 40], ids=["bundled", "bundled+40-synthetic"])
def test_semi_naive_materialisation_reaches_the_naive_fixpoint(synthetic: int, tmp_path: Path) -> None:
    # after the first round the sub-class and sub-property rules start from the last round's triples only;
    # the inferred graph must be the one that running every rule over everything each round gives
    paths = None
    if synthetic:
        out = tmp_path / "synth"
        assert CliRunner().invoke(cli, ["synth", "--studies", str(synthetic), "--out", str(out)]).exit_code == 0
        paths = [ROOT / "data", out]
    graphs = {}
    for semi in (True, False):
        store = load_memory(sources(paths))
        done = materialise.materialise(store, semi_naive=semi)
        graphs[semi] = set(materialise.inferred_triples(store))
        assert done.triples == len(graphs[semi]) > 1000 and done.rounds >= 3  # chains of rules: several rounds
    assert graphs[True] == graphs[False]
