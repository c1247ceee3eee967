"""The command line: formats, exit codes and messages (through click's runner and once for real)."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from pathlib import Path

import pyoxigraph as ox
import pytest
from click.testing import CliRunner
from rdflib import Graph

from kapgraph import resources
from kapgraph.cli import cli
from kapgraph.namespaces import KAP_IRI, STUDY_IRI, VOCAB
from tests.conftest import ROOT, SLUGS, TEST_DATA

SRJ = "http://www.w3.org/2005/sparql-results#"


def invoke(runner: CliRunner, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_query_json_is_w3c_sparql_results(runner: CliRunner) -> None:
    code, out, _ = invoke(
        runner, "query", "psychotherapy-before-and-after", "--param", "diagnosis=PTSD", "--format", "json"
    )
    assert code == 0
    data = json.loads(out)
    assert data["head"]["vars"][0] == "study"
    studies = {b["study"]["value"].rsplit("/", 1)[-1] for b in data["results"]["bindings"]}
    assert studies == {"dore2019", "duek2019", "halstead2021", "shiroma2020"}
    assert all(b["study"]["type"] == "uri" for b in data["results"]["bindings"])


def test_query_xml_is_w3c_sparql_results(runner: CliRunner) -> None:
    code, out, _ = invoke(runner, "query", "conference-abstracts", "--format", "xml")
    assert code == 0
    root = ET.fromstring(out.encode())
    assert root.tag == f"{{{SRJ}}}sparql"
    names = [v.get("name") for v in root.iter(f"{{{SRJ}}}variable")]
    assert names[0] == "study"
    uris = {u.text.rsplit("/", 1)[-1] for u in root.iter(f"{{{SRJ}}}uri") if u.text and "/study/" in u.text}
    assert uris == {"adams2017", "duek2019"}


def test_query_csv_and_tsv(runner: CliRunner) -> None:
    code, out, _ = invoke(runner, "query", "studies", "--format", "csv")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert {r["study"].rsplit("/", 1)[-1] for r in rows} == set(SLUGS)
    code, out, _ = invoke(runner, "query", "studies", "--format", "tsv")
    lines = out.splitlines()
    assert lines[0].split("\t")[:2] == ["?study", "?label"]
    assert lines[1].startswith("<https://w3id.org/kap/id/study/")
    assert len(lines) == 18


def test_query_table_and_markdown(runner: CliRunner) -> None:
    code, out, _ = invoke(runner, "query", "studies-by-route", "-p", "route=IN", "--format", "table")
    assert code == 0 and "study:adams2017" in out and "1 row" in out
    code, out, _ = invoke(runner, "query", "studies-by-route", "-p", "route=IN", "--format", "md")
    assert out.splitlines()[0].startswith("| study | label")
    assert "| study:adams2017 |" in out


def test_query_engine_rdflib(runner: CliRunner) -> None:
    code, out, _ = invoke(
        runner, "query", "studies-by-comparator", "-p", "comparator=TAU", "--engine", "rdflib", "--format", "tsv"
    )
    assert code == 0 and "wilkinson2021" in out


def test_list_shows_queries_and_parameters(runner: CliRunner) -> None:
    code, out, _ = invoke(runner, "list", "--format", "json")
    assert code == 0
    items = {q["name"]: q for q in json.loads(out)}
    assert items["studies-by-diagnosis"]["params"][0]["schemes"] == ["diagnosis"]
    assert items["psychotherapy-before-and-after"]["params"][0]["required"] is False


def test_sparql_has_project_prefixes(runner: CliRunner) -> None:
    code, out, _ = invoke(runner, "sparql", "SELECT ?s WHERE { ?s kap:design design:RCT }", "--format", "tsv")
    assert code == 0 and len(out.splitlines()) == 8


def test_sparql_from_file_and_ask(runner: CliRunner, tmp_path: Path) -> None:
    query = tmp_path / "q.rq"
    query.write_text("ASK { study:ocker2020 kap:comorbidDiagnosis dx:OIH }", encoding="utf-8")
    code, out, _ = invoke(runner, "sparql", "--file", str(query), "--format", "json")
    assert code == 0 and json.loads(out)["boolean"] is True


def test_sparql_construct_gives_turtle(runner: CliRunner) -> None:
    code, out, _ = invoke(runner, "sparql", "CONSTRUCT WHERE { study:duek2019 kap:design ?d }", "--format", "turtle")
    assert code == 0
    assert len(Graph().parse(data=out, format="turtle")) == 1


# --- bad input: exit 2, a clear message, no traceback ------------------------------------

BAD_INPUT = [
    (["query", "studies-by-diagnoses"], "unknown query 'studies-by-diagnoses'. Did you mean: studies-by-diagnosis"),
    (["query", "studies-by-route", "-p", "rout=IV"], "has no parameter 'rout'; it accepts: route"),
    (["query", "studies-by-route"], "needs --param route=VALUE"),
    (
        ["query", "studies-by-route", "-p", "route=oral"],
        "Allowed (case-insensitive; labels work too): IM, IM+SL, IN, IV, SL",
    ),
    (["query", "studies-by-diagnosis", "-p", 'diagnosis=PTSD" } ; DROP ALL ; #'], "is not an allowed value"),
    (["query", "studies", "-p", "noequals"], "'noequals' is not KEY=VALUE"),
    (["sparql", "SELECT ?s WHERE { ?s ?p }"], "SPARQL syntax error at line 1, column"),
    (["sparql", "SELECT ?s WHERE {\n  ?s ?p ?o .\n  ?s nope:x ?o }"], "line 3, column 12: undeclared prefix"),
    (["--data", "tests/data/bad/unterminated.ttl", "query", "studies"], "unterminated.ttl:3:"),
    (["--data", "no/such/folder", "info"], "no/such/folder: no such file or folder"),
    (["--data", "README.md", "info"], "unknown RDF file type '.md'"),
    (["sparql"], "give either a QUERY argument or --file"),
    (["sparql", "PREFIX kap: <https://w3id.org/kap/ontology#>\nDELETE WHERE { ?s ?p ?o }"], "SPARQL Update"),
]


@pytest.mark.parametrize(("args", "message"), BAD_INPUT, ids=lambda v: " ".join(v)[:50] if isinstance(v, list) else "")
def test_bad_input_exits_2_with_message(
    args: list[str], message: str, runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    result = runner.invoke(cli, args)
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert "Traceback" not in result.output
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit)


def test_sparql_syntax_error_on_rdflib_engine_gives_position(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["sparql", "--engine", "rdflib", "SELECT ?s WHERE {\n ?s ?p }"])
    assert result.exit_code == 2
    assert "SPARQL syntax error at line 2" in result.stderr


def test_malformed_stored_query_header_exits_2(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "broken.rq").write_text("#+ summary: [oops\nSELECT * WHERE { ?s ?p ?o }\n", encoding="utf-8")
    monkeypatch.setattr(resources, "queries_dir", lambda: tmp_path)
    result = runner.invoke(cli, ["query", "broken"])
    assert result.exit_code == 2
    assert "broken.rq:1: malformed query header: not valid YAML" in result.stderr


# --- validate -----------------------------------------------------------------------------


def test_validate_bundled_graph_passes(runner: CliRunner) -> None:
    code, out, _ = invoke(runner, "validate")
    assert code == 0, out
    assert " 0 violation(s)" in out


def test_validate_broken_study_exits_1_naming_file_study_property_value(runner: CliRunner) -> None:
    path = TEST_DATA / "shapes" / "invalid" / "dose-not-positive.ttl"
    code, out, _ = invoke(runner, "validate", str(path))
    assert code == 1
    line = next(line for line in out.splitlines() if "kap:doseValue" in line and "Violation" in line)
    assert "dose-not-positive.ttl" in line
    assert "study study:example" in line
    assert "value -0.5:" in line
    assert "greater than 0" in line


def test_validate_unparsable_file_exits_2(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["validate", str(TEST_DATA / "bad" / "unterminated.ttl")])
    assert result.exit_code == 2
    assert "unterminated.ttl:3:" in result.stderr


# --- export and info ----------------------------------------------------------------------


@pytest.mark.parametrize(("fmt", "parser"), [("turtle", "turtle"), ("nt", "nt"), ("jsonld", "json-ld")])
def test_export_round_trips(fmt: str, parser: str, runner: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / f"graph.{fmt}"
    code, _, err = invoke(runner, "export", "--format", fmt, "--output", str(out))
    assert code == 0 and f"wrote {out}" in err
    graph = Graph().parse(out, format=parser)
    assert len(graph) > 5000
    assert not list(tmp_path.glob(".kapgraph-*"))


GRAPH_BASE = "https://w3id.org/kap/graph/"


def _canonical(triples: Iterable[ox.Triple]) -> ox.Dataset:
    """*triples* with their blank nodes relabelled canonically (RDFC-1.0), to compare graphs."""
    dataset = ox.Dataset(ox.Quad(t.subject, t.predicate, t.object) for t in triples)
    dataset.canonicalize(ox.CanonicalizationAlgorithm.RDFC_1_0)
    return dataset


def _stored(path: Path) -> list[ox.Triple]:
    """*path* on its own, as an Oxigraph store holds it (the store writes some literals canonically: 40.0 as 40)."""
    store = ox.Store()
    store.load(path=path, format=ox.RdfFormat.TURTLE)
    return [quad.triple for quad in store]


def test_export_trig_has_a_named_graph_per_source_file(runner: CliRunner) -> None:
    code, out, _ = invoke(runner, "export", "--format", "trig")
    assert code == 0
    graphs: dict[str, list[ox.Triple]] = {}
    for quad in ox.parse(out.encode(), format=ox.RdfFormat.TRIG):
        assert isinstance(quad.graph_name, ox.NamedNode), f"a triple outside the named graphs: {quad}"
        graphs.setdefault(quad.graph_name.value, []).append(quad.triple)
    # in load order: the ontology files, then the data files, each named by its path in the repository
    files = sorted((ROOT / "ontology").glob("*.ttl")) + sorted((ROOT / "data").rglob("*.ttl"))
    names = [GRAPH_BASE + path.relative_to(ROOT).as_posix() for path in files]
    assert len(files) == 22
    assert {GRAPH_BASE + "ontology/kap.ttl", GRAPH_BASE + "data/studies/dakwar2019.ttl"} <= set(names)
    assert sorted(graphs) == sorted([*names, GRAPH_BASE + "inferred"]), "one named graph per source file, + inferred"
    inferred = graphs[GRAPH_BASE + "inferred"]
    assert (
        ox.Triple(
            ox.NamedNode(STUDY_IRI + "ocker2020"),
            ox.NamedNode(KAP_IRI + "diagnosis"),
            ox.NamedNode(VOCAB + "diagnosis/SUD"),
        )
        in inferred
    )
    code, asserted_only, _ = invoke(runner, "export", "--format", "trig", "--asserted-only")
    assert code == 0
    assert {q.graph_name.value for q in ox.parse(asserted_only.encode(), format=ox.RdfFormat.TRIG)} == set(names)  # type: ignore[union-attr]
    earlier: set[ox.Triple] = set()
    for path, name in zip(files, names, strict=True):
        # a triple stated in several files is kept once, in the first file's graph
        expected = [t for t in _stored(path) if t not in earlier]
        assert _canonical(graphs[name]) == _canonical(expected), f"the graph {name} does not hold exactly {path.name}"
        earlier |= {t for t in expected if not any(isinstance(x, ox.BlankNode) for x in (t.subject, t.object))}
    # the union of the named graphs is the merged graph of the Turtle export
    union = [t for triples in graphs.values() for t in triples]
    assert len(set(union)) == len(union), "a triple is in two named graphs"
    code, turtle, _ = invoke(runner, "export", "--format", "turtle")
    assert code == 0
    merged = [quad.triple for quad in ox.parse(turtle.encode(), format=ox.RdfFormat.TURTLE)]
    assert len(union) == len(merged) > 5000
    assert _canonical(union) == _canonical(merged)


def test_export_to_unwritable_place_exits_2(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(cli, ["export", "--output", str(tmp_path / "missing" / "x.ttl")])
    assert result.exit_code == 2 and "cannot write" in result.stderr


def test_info_counts(runner: CliRunner) -> None:
    code, out, _ = invoke(runner, "info")
    assert code == 0
    facts = dict(line.split(": ", 1) for line in out.splitlines())
    assert facts["studies"] == "17"
    assert int(facts["triples"]) > 5000
    assert int(facts["participants"]) == 600  # the per-study sizes; the review states 603 (issue #3)


def test_data_option_replaces_the_bundled_studies(runner: CliRunner) -> None:
    study = ROOT / "data" / "studies" / "ocker2020.ttl"
    code, out, _ = invoke(runner, "--data", str(study), "query", "studies", "--format", "tsv")
    assert code == 0
    assert len(out.splitlines()) == 2 and "ocker2020" in out


# --- the installed console script, once for real --------------------------------------------


def test_console_script_runs_in_a_subprocess(tmp_path: Path) -> None:
    exe = shutil.which("kapgraph") or str(Path(sys.executable).with_name("kapgraph"))
    assert Path(exe).exists(), "kapgraph console script not installed (pip install .)"
    done = subprocess.run(
        [exe, "query", "studies-by-diagnosis", "--param", "diagnosis=SUD", "--format", "csv"],
        capture_output=True, text=True, cwd=tmp_path, env={**os.environ, "COLUMNS": "120"}, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "krupitsky2002" in done.stdout and "ocker2020" in done.stdout
    bad = subprocess.run([exe, "query", "nope"], capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr and "unknown query 'nope'" in bad.stderr


def test_a_query_does_not_import_pyshacl_or_owlready2() -> None:
    code = (
        "import sys; from kapgraph.api import run_query; run_query('studies'); "
        "print(sorted(m for m in ('pyshacl', 'owlready2') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


@pytest.mark.parametrize(("debug", "shown"), [("", False), ("1", True)])
def test_library_warnings_stay_off_stderr_also_when_the_library_is_imported_later(debug: str, shown: bool) -> None:
    # the loggers are set when rdflib is first imported, so that a query that never imports it never
    # imports logging either; KAPGRAPH_DEBUG=1 leaves them alone
    code = (
        "import sys; from kapgraph.logs import quiet_libraries; quiet_libraries(); "
        "assert 'logging' not in sys.modules; import rdflib, logging; "
        "logging.getLogger('rdflib.term').warning('ill-typed literal')"
    )
    env = {**os.environ, "KAPGRAPH_DEBUG": debug}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert ("ill-typed literal" in done.stderr) is shown


def test_figure_command_writes_png_and_refuses_unknown_suffix(runner: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "fig3.png"
    result = runner.invoke(cli, ["figure", "fig3", "--out", str(out)])
    assert result.exit_code == 0, result.stderr
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    bad = runner.invoke(cli, ["figure", "fig2", "--out", str(tmp_path / "fig2.pdf")])
    assert bad.exit_code == 2 and "use one of" in bad.stderr and "Traceback" not in bad.output


def test_a_graph_query_on_the_rdflib_engine_says_why_it_cannot_run(runner: CliRunner) -> None:
    query = "SELECT ?g (COUNT(*) AS ?n) { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"
    code, _out, err = invoke(runner, "sparql", "--engine", "rdflib", query)
    assert code == 3 and "without the named graphs that GRAPH or FROM NAMED reads" in err, err
    code, out, _err = invoke(runner, "sparql", "--format", "csv", query)
    assert code == 0 and "https://w3id.org/kap/graph/data/studies/dakwar2019.ttl" in out
