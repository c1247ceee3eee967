"""Synthetic studies (kapgraph.synth): valid, deterministic, in their own namespace, and queryable."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest

from kapgraph.api import run_query
from kapgraph.errors import KapgraphError
from kapgraph.namespaces import KAP_IRI, PREFIXES, STUDY_IRI
from kapgraph.results import value
from kapgraph.synth import MANIFEST, SYNTH_SOURCE, SYNTH_STUDY_IRI, SynthSummary, synthesize

ROOT = Path(__file__).resolve().parents[1]
N = 17  # one full round: every real study is the template of one synthetic study
RDF_TYPE = PREFIXES["rdf"] + "type"
CONCEPT_PROPERTIES = {
    KAP_IRI + p for p in ("design", "designFeature", "primaryDiagnosis", "comorbidDiagnosis", "route")
}
CONCEPT_PROPERTIES |= {KAP_IRI + p for p in ("modality", "comparator", "instrument", "setting", "frequencyCategory")}
CONCEPT_PROPERTIES |= {KAP_IRI + p for p in ("timingCategory", "phase", "doseUnit", "doseRole")}


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, SynthSummary]:
    out = tmp_path_factory.mktemp("synth") / "out"
    return out, synthesize(N, out, seed=0)


def files(out: Path) -> list[Path]:
    return sorted((out / "studies").glob("*.ttl"))


def triples(paths: list[Path]) -> list[tuple[str, str, str]]:
    """The triples of *paths* as (subject, predicate, object) values: IRIs, blank node ids or literal texts."""
    parsed = [q.triple for p in paths for q in ox.parse(path=p, format=ox.RdfFormat.TURTLE)]
    return [(str(getattr(s, "value", s)), p.value, str(getattr(o, "value", o))) for s, p, o in parsed]


def test_one_file_per_study_and_the_summary_adds_up(synthetic: tuple[Path, SynthSummary]) -> None:
    out, summary = synthetic
    paths = files(out)
    assert [p.name for p in paths] == [f"synth-{k:06d}.ttl" for k in range(1, N + 1)]
    assert (out / MANIFEST).is_file()
    parsed = triples(paths)
    studies = {s for s, p, o in parsed if p == RDF_TYPE and o == KAP_IRI + "Study"}
    assert len(studies) == summary.studies == summary.files == N
    assert summary.triples == len(parsed)
    assert summary.bytes == sum(p.stat().st_size for p in paths)


def test_output_conforms_to_the_shapes(synthetic: tuple[Path, SynthSummary]) -> None:
    from kapgraph.validation import validate  # pySHACL and rdflib: only this test needs them

    out, _ = synthetic
    report = validate([out])
    assert not report.violations, report.text()
    assert report.conforms
    assert len(report.files) == N


def test_same_seed_same_bytes_other_seed_other_bytes(synthetic: tuple[Path, SynthSummary], tmp_path: Path) -> None:
    out, _ = synthetic
    synthesize(N, tmp_path / "again", seed=0)
    synthesize(N, tmp_path / "other", seed=1)
    synthesize(5, tmp_path / "fewer", seed=0)
    first = [p.read_bytes() for p in files(out)]
    assert [p.read_bytes() for p in files(tmp_path / "again")] == first
    assert [p.read_bytes() for p in files(tmp_path / "other")] != first
    assert [p.read_bytes() for p in files(tmp_path / "fewer")] == first[:5]  # study k depends on seed and k only


def test_synthetic_iris_never_look_real(synthetic: tuple[Path, SynthSummary]) -> None:
    out, _ = synthetic
    parsed = triples(files(out))
    assert not [t for s, _, o in parsed for t in (s, o) if t.startswith(STUDY_IRI)]
    studies = {s for s, p, o in parsed if p == RDF_TYPE and o == KAP_IRI + "Study"}
    assert all(s.startswith(SYNTH_STUDY_IRI) for s in studies)
    for study in studies:
        facts = {(p, o) for s, p, o in parsed if s == study}
        label = next(o for p, o in facts if p == PREFIXES["rdfs"] + "label")
        assert label.startswith("Synthetic study"), label
        assert (PREFIXES["dcterms"] + "source", SYNTH_SOURCE) in facts
    assert {o for _, p, o in parsed if p == PREFIXES["oa"] + "hasSource"} == {SYNTH_SOURCE}
    quotes = [o for _, p, o in parsed if p == PREFIXES["oa"] + "exact"]
    assert quotes and all(q.startswith("Synthetic quote") for q in quotes)


def test_values_come_from_the_real_studies(synthetic: tuple[Path, SynthSummary]) -> None:
    out, _ = synthetic

    def concepts(parsed: list[tuple[str, str, str]]) -> set[tuple[str, str]]:
        return {(p, o) for _, p, o in parsed if p in CONCEPT_PROPERTIES}

    real = triples(sorted((ROOT / "data" / "studies").glob("*.ttl")))
    assert concepts(triples(files(out))) <= concepts(real)


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("studies", {}),
        ("psychotherapy-before-and-after", {"diagnosis": "PTSD"}),
        ("studies-by-design", {"design": "RCT"}),
        ("ketamine-regimens", {}),
        ("outcomes", {}),
    ],
)
def test_stored_queries_answer_on_synthetic_data(
    synthetic: tuple[Path, SynthSummary], name: str, params: dict[str, str]
) -> None:
    out, _ = synthetic
    table = run_query(name, params, data=[out])
    assert table.rows, f"{name} returned no rows on {N} synthetic studies"
    assert all(value(s).startswith(SYNTH_STUDY_IRI) for s in table.column("study"))
    if name == "studies":
        assert len(table.rows) == N


@pytest.mark.parametrize("name", ["qc/percentage-fraction-violation", "qc/timing-phase-violation"])
def test_quality_checks_pass_on_synthetic_data(synthetic: tuple[Path, SynthSummary], name: str) -> None:
    assert not run_query(name, data=[synthetic[0]]).rows


def test_progress_is_called_after_each_study(tmp_path: Path) -> None:
    seen: list[int] = []
    synthesize(4, tmp_path / "out", progress=seen.append)
    assert seen == [1, 2, 3, 4]


def test_a_rerun_replaces_an_earlier_run(tmp_path: Path) -> None:
    synthesize(5, tmp_path / "out")
    synthesize(3, tmp_path / "out", seed=2)
    assert len(files(tmp_path / "out")) == 3


@pytest.mark.parametrize("n", [0, -1, True, 2.5, "3"])
def test_a_bad_number_is_refused(tmp_path: Path, n: object) -> None:
    with pytest.raises(KapgraphError, match="at least 1"):
        synthesize(n, tmp_path / "out")  # type: ignore[arg-type]
    assert not (tmp_path / "out").exists()


def test_a_file_or_a_foreign_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "file.ttl").write_text("", encoding="utf-8")
    with pytest.raises(KapgraphError, match="not a folder"):
        synthesize(1, tmp_path / "file.ttl")
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me", encoding="utf-8")
    with pytest.raises(KapgraphError, match=r"not made by kapgraph\.synth"):
        synthesize(1, tmp_path / "mine")
    assert [p.name for p in (tmp_path / "mine").iterdir()] == ["notes.txt"]
    (tmp_path / "empty").mkdir()
    assert synthesize(1, tmp_path / "empty").studies == 1  # an empty folder is fine
