"""The fast validation engine gives pySHACL's whole-graph report, finding for finding.

Compared: severity, focus node, result path, value, message, source shape/constraint, the file and
the study each finding is attributed to, and conformance. Blank nodes are compared by their
description (each engine parses the files itself, so blank node labels differ between them).
"""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import pytest
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import SH

from kapgraph import resources
from kapgraph.errors import LoadError
from kapgraph.shacl_fast import Engine, UnsupportedShapes
from kapgraph.validation import Finding, ValidationReport, shapes_graph, validate
from tests.conftest import TEST_DATA

SHAPE_FILES = sorted((TEST_DATA / "shapes").glob("*/*.ttl"))
STUDY_NS = "https://w3id.org/kap/id/study/"


def _canon(term: object) -> object:
    return "_:blank" if isinstance(term, BNode) else term


def _key(f: Finding) -> tuple[object, ...]:
    return (
        f.severity,
        _canon(f.focus),
        _canon(f.path),
        _canon(f.value),
        f.message,
        _canon(f.shape),
        f.file,
        _canon(f.study),
    )


def assert_same_report(fast: ValidationReport, reference: ValidationReport) -> None:
    assert fast.conforms == reference.conforms
    assert fast.files == reference.files
    only_fast = Counter(map(_key, fast.findings)) - Counter(map(_key, reference.findings))
    only_reference = Counter(map(_key, reference.findings)) - Counter(map(_key, fast.findings))
    assert not only_fast and not only_reference, f"fast only: {only_fast}\npySHACL only: {only_reference}"


@pytest.fixture(scope="module")
def bundled_reference() -> ValidationReport:
    return validate(engine="pyshacl")


def test_bundled_data_same_report(bundled_reference: ValidationReport) -> None:
    fast = validate()
    assert fast.engine.startswith("fast")
    assert bundled_reference.findings  # the bundled data has warnings: the comparison is not vacuous
    assert_same_report(fast, bundled_reference)


@pytest.mark.parametrize("path", SHAPE_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_shape_example_same_report(path: Path) -> None:
    assert_same_report(validate([path]), validate([path], engine="pyshacl"))


def test_all_invalid_examples_together_same_report() -> None:
    # all in one graph: the examples share IRIs, so their findings interact (duplicate values, ...)
    folder = TEST_DATA / "shapes" / "invalid"
    assert_same_report(validate([folder]), validate([folder], engine="pyshacl"))


def _copy_studies(tmp: Path, sources: list[Path], copies: int) -> Path:
    """A data folder: the bundled shared files, and *copies* renamed copies of each study file."""
    (tmp / "studies").mkdir()
    for shared in sorted(resources.data_dir().glob("*.ttl")):
        shutil.copy(shared, tmp / shared.name)
    for n in range(copies):
        for source in sources:
            name = f"c{n}-{source.parent.name}-{source.stem}"
            text = source.read_text(encoding="utf-8").replace(STUDY_NS, f"https://w3id.org/kap/id/synth/{name}/")
            (tmp / "studies" / f"{name}.ttl").write_text(text, encoding="utf-8")
    return tmp


# describes dx:PTSD, a node of the vocabulary: copies of it are not independent studies
DESCRIBES_VOCABULARY = "mesh-id-wrong-pattern.ttl"


@pytest.fixture(scope="module")
def mixed_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two copies of two bundled studies and of (nearly) every shape example, as distinct studies."""
    bundled = [resources.data_dir() / "studies" / f"{slug}.ttl" for slug in ("dakwar2020", "duek2019")]  # warnings
    examples = [p for p in SHAPE_FILES if p.name != DESCRIBES_VOCABULARY]
    return _copy_studies(tmp_path_factory.mktemp("mixed"), bundled + examples, 2)


def test_sharded_report_equals_pyshacl(mixed_folder: Path) -> None:
    sharded = validate([mixed_folder], jobs=2, shard_studies=7)
    studies = len(list((mixed_folder / "studies").glob("*.ttl")))  # 2 x (2 + the shape examples but one)
    assert studies == 2 * (2 + len(SHAPE_FILES) - 1)
    assert sharded.engine.startswith(f"fast: {-(-studies // 7)} shards"), sharded.engine
    assert sharded.violations and sharded.warnings
    reference = validate([mixed_folder], engine="pyshacl")
    assert_same_report(sharded, reference)
    assert_same_report(validate([mixed_folder], shard_studies=10**6), reference)


def test_a_bad_duration_in_a_shared_file_is_reported_once_when_sharded(tmp_path: Path) -> None:
    # the workers report the xsd:duration forms rdflib rewrites: a study file's from its shard, a
    # shared file's (in every shard) from shard 0 only
    bundled = sorted((resources.data_dir() / "studies").glob("*.ttl"))[:4]
    folder = _copy_studies(tmp_path, bundled, 1)
    (folder / "zz-shared.ttl").write_text(
        '<urn:test:x> <https://w3id.org/kap/ontology#timePoint> "P3W"^^<http://www.w3.org/2001/XMLSchema#duration> .\n',
        encoding="utf-8",
    )
    shutil.copy(TEST_DATA / "shapes" / "invalid" / "duration-week-designator.ttl", folder / "studies" / "zz-week.ttl")
    sharded = validate([folder], jobs=2, shard_studies=2)
    assert sharded.engine.startswith("fast: 3 shards"), sharded.engine
    lexical = sorted(str(f.value) for f in sharded.findings if f.shape.endswith("Duration-lexical"))
    assert lexical == ["P10W", "P3W"]
    assert_same_report(sharded, validate([folder], engine="pyshacl"))


def test_study_describing_a_shared_node_disables_sharding(tmp_path: Path) -> None:
    # the example adds an identifier to dx:PTSD; studies in the other shard have dx:PTSD too
    bundled = [resources.data_dir() / "studies" / f"{slug}.ttl" for slug in ("dore2019", "keizer2020", "pradhan2018")]
    example = TEST_DATA / "shapes" / "invalid" / DESCRIBES_VOCABULARY
    folder = _copy_studies(tmp_path, [*bundled, example], 1)
    report = validate([folder], jobs=2, shard_studies=2)
    assert "1 shard (sharding would not be exact" in report.engine, report.engine
    assert_same_report(report, validate([folder], engine="pyshacl"))


def test_cross_study_link_disables_sharding(tmp_path: Path) -> None:
    # a study file that describes evidence for another study's node: the evidence lives in a
    # different shard from the node it supports, so the data must be validated as one shard
    bundled = sorted((resources.data_dir() / "studies").glob("*.ttl"))[:4]
    folder = _copy_studies(tmp_path, bundled, 1)
    first = sorted((folder / "studies").glob("*.ttl"))[0]
    target = f"https://w3id.org/kap/id/synth/c0-studies-{bundled[-1].stem}/{bundled[-1].stem}"
    (folder / "studies" / "zz-late.ttl").write_text(
        f"<{target}/extra> <https://w3id.org/kap/ontology#evidenceFor> <{target}> .\n", encoding="utf-8"
    )
    assert first.exists()
    report = validate([folder], jobs=2, shard_studies=2)
    assert "1 shard (sharding would not be exact" in report.engine, report.engine
    assert_same_report(report, validate([folder], engine="pyshacl"))


def test_broken_study_file_in_a_worker_raises_load_error(tmp_path: Path) -> None:
    bundled = sorted((resources.data_dir() / "studies").glob("*.ttl"))[:4]
    folder = _copy_studies(tmp_path, bundled, 1)
    (folder / "studies" / "zz-broken.ttl").write_text('<a> <b> "unterminated .\n', encoding="utf-8")
    with pytest.raises(LoadError, match=r"zz-broken\.ttl:1"):
        validate([folder], jobs=2, shard_studies=2)


@pytest.mark.parametrize("enabled", [True, False])
def test_validation_gives_back_the_garbage_collector_as_it_found_it(enabled: bool, tmp_path: Path) -> None:
    # a shard, and rdflib's graph, are made with the cyclic collector paused: after them (and after
    # a failure) the collector is on again if it was on, and left off if the caller had turned it off
    import gc

    from kapgraph.backends.rdflib_graph import RdflibEngine

    bundled = sorted((resources.data_dir() / "studies").glob("*.ttl"))[:2]
    folder = _copy_studies(tmp_path, bundled, 1)
    was = gc.isenabled()
    try:
        gc.enable() if enabled else gc.disable()
        assert validate([folder]).files
        assert gc.isenabled() is enabled
        assert RdflibEngine.load([folder], asserted_only=True).triple_count() > 0
        assert gc.isenabled() is enabled
        (folder / "studies" / "zz-broken.ttl").write_text('<a> <b> "unterminated .\n', encoding="utf-8")
        with pytest.raises(LoadError):
            validate([folder])
        assert gc.isenabled() is enabled
        with pytest.raises(LoadError):
            RdflibEngine.load([folder], asserted_only=True)
        assert gc.isenabled() is enabled
    finally:
        gc.enable() if was else gc.disable()


def test_unsupported_shapes_are_refused() -> None:
    shapes = Graph()
    shape = URIRef("urn:test:shape")
    inner = URIRef("urn:test:inner")
    shapes.add((shape, SH.targetClass, URIRef("urn:test:C")))
    shapes.add((shape, SH["not"], inner))
    shapes.add((inner, SH.path, URIRef("urn:test:p")))
    shapes.add((inner, SH.minCount, Literal(1)))
    with pytest.raises(UnsupportedShapes, match="NotConstraintComponent"):
        Engine(shapes)


def test_every_sparql_constraint_runs_on_oxigraph() -> None:
    # the bundled shapes' SHACL-SPARQL queries all pass the checks that let Oxigraph evaluate them
    # once per shard (if one did not, it would silently fall back to per-focus-node evaluation)
    engine = Engine(shapes_graph())
    # 6 before issue 10; + kapsh:Duration-lexical and the six kapsh:Days-* checks (shapes, outcomes section)
    # + kapsh:Study-settingsCover (settings of the regimens and psychotherapies, issue 10 point 5)
    assert len(engine.plans) == 14
    assert all(plan is not None and plan.bounded for plan in engine.plans.values()), engine.plans
    assert all("NOT EXISTS" not in plan.text.upper() for plan in engine.plans.values() if plan)


# --- which SHACL-SPARQL constraints Oxigraph may evaluate: the literals whose lexical form they read ---

XSD_NS = "http://www.w3.org/2001/XMLSchema#"
LEXICAL_READS = [
    # (query, the lexical reads the plan records; None: any literal)
    (
        'SELECT $this ?value WHERE { $this ?p ?value . FILTER (datatype(?value) = <X:d> && regex(str(?value), "a")'
        " || datatype(?value) = <X:d> && strlen(str(?value)) > 3) }",
        {("datatype", "X:d")},
    ),
    ('SELECT $this ?value WHERE { $this <X:p> ?value . FILTER (regex(str(?value), "a")) }', {("predicate", "X:p")}),
    ('SELECT $this ?s WHERE { $this <X:p> ?v . BIND (str(?v) AS ?s) FILTER (?s != "a") }', {("predicate", "X:p")}),
    # the guard must come first: in b && datatype(?v) = <d>, b is evaluated for every literal
    (
        'SELECT $this ?value WHERE { $this ?p ?value . FILTER (regex(str(?value), "a") && datatype(?value) = <X:d>) }',
        None,
    ),
    ('SELECT $this ?value WHERE { $this ?p ?value . FILTER (regex(str(?value), "a")) }', None),
    ('SELECT $this ?value WHERE { $this ?p ?value . FILTER (isIRI(?value) && strstarts(str(?value), "a")) }', set()),
    ("SELECT $this ?value WHERE { $this <X:p> ?value . FILTER (?value > 3) }", set()),
]


@pytest.mark.parametrize(("query", "expected"), LEXICAL_READS, ids=[q[40:90] for q, _ in LEXICAL_READS])
def test_a_plan_records_the_literals_whose_lexical_form_it_reads(query: str, expected: set | None) -> None:
    from kapgraph.shacl_fast import plan_sparql

    plan = plan_sparql(query, query, False)
    assert plan is not None
    assert plan.lexical_reads == (None if expected is None else frozenset(expected))
    if expected:  # changed literals elsewhere do not matter; where it reads, they do
        assert plan.lexically_safe(frozenset({("datatype", "X:other"), ("predicate", "X:other")}))
        assert not plan.lexically_safe(frozenset(expected))


def test_every_sparql_constraint_of_the_bundled_data_runs_on_oxigraph() -> None:
    # the bundled data has decimals Oxigraph writes otherwise ("70.0" is "70" there); the constraints that
    # read lexical forms read durations only, so none of them falls back to pySHACL's per-focus-node
    # evaluation (which made 1,000 synthetic studies take 29 s instead of 13 s on one core)
    from kapgraph.shacl_fast import literal_map
    from kapgraph.validation import _input_files, _shapes_key, _task, validate_shard

    files, _data = _input_files(None)
    output = validate_shard(_task(0, files, {p: i for i, p in enumerate(files)}, _shapes_key()))
    assert output.sparql_per_focus == 0 and output.sparql_on_oxigraph == 14, output
    changed = literal_map([Literal("70.0", datatype=URIRef(XSD_NS + "decimal"))]).changed
    assert changed, "Oxigraph no longer rewrites 70.0: the test no longer covers a changed literal"
