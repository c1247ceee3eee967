"""`kapgraph reproduce`: the review's own figures recomputed from the per-study facts."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from kapgraph.api import run_query
from kapgraph.backends import Engine, open_engine
from kapgraph.cli import cli
from kapgraph.reproduce import DISCREPANCY, MATCH, MISMATCH, reproduce
from kapgraph.results import to_python, value
from tests.conftest import ROOT

# values the graph computes where the review prints something else: each is the count of the
# studies its Results describe that way (see the discrepancies in data/claims.ttl)
GRAPH_VALUES = {
    "diagnosis-mdd": 5,
    "diagnosis-ocd": 3,
    "diagnosis-sud": 7,
    "modality-cbt": 5,
    "modality-met": 2,
    "modality-not-reported": 4,
    "participants-total": 600,
    "sessions-reporting": 10,
    "sessions-min": 3,
    "sessions-max": 52,
    "sessions-median": 11.5,
}


@pytest.fixture(scope="module")
def checks(engines: dict[str, Engine]) -> dict[str, dict[str, object]]:
    return {name: {c.id: c.as_dict() for c in reproduce(engine)} for name, engine in engines.items()}


def test_no_unexplained_mismatch_and_engines_agree(checks: dict[str, dict[str, dict[str, object]]]) -> None:
    assert checks["oxigraph"] == checks["rdflib"]
    ox = checks["oxigraph"]
    assert len(ox) > 90
    assert not [c for c in ox.values() if c["status"] == MISMATCH]


@pytest.mark.parametrize(
    "prefix", ["table1-", "table2-", "design-", "route-", "frequency-", "iv-dose-", "im-dose-", "sl-dose-", "funnel-"]
)
def test_tables_designs_routes_and_doses_are_reproduced(prefix: str, checks: dict[str, dict[str, dict]]) -> None:
    group = {k: v for k, v in checks["oxigraph"].items() if k.startswith(prefix)}
    assert group
    assert all(c["status"] == MATCH and c["graph"] == c["paper"] for c in group.values()), group


def test_case_share_is_computed_as_a_percentage(checks: dict[str, dict[str, dict]]) -> None:
    assert checks["oxigraph"]["design-case-share"]["graph"] == 29.4


@pytest.mark.parametrize(("claim", "value"), sorted(GRAPH_VALUES.items()))
def test_differences_are_explained(claim: str, value: float, checks: dict[str, dict[str, dict]]) -> None:
    check = checks["oxigraph"][claim]
    assert check["graph"] == value
    assert check["status"] == DISCREPANCY and check["note"]


def test_every_discrepancy_claim_has_both_quotes(engine: Engine) -> None:
    rows = [r for r in run_query("review/discrepancies", {}, engine=engine).records() if "claim" in r]
    assert {value(r["claim"]).rsplit("/", 1)[-1] for r in rows} >= set(GRAPH_VALUES)
    for row in rows:
        assert len(value(row["quotes"]).split(" | ")) >= 2, row["label"]


def test_cli_json_output(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["reproduce", "--format", "json"])
    assert result.exit_code == 0, result.stderr
    items = json.loads(result.stdout)
    assert set(items[0]) == {"id", "label", "paper", "graph", "status", "note"}
    by_id = {i["id"]: i for i in items}
    assert by_id["table1-iv-single"] == {**by_id["table1-iv-single"], "paper": 5, "graph": 5, "status": "match"}
    assert isinstance(by_id["participants-total"]["graph"], int)
    assert "0 MISMATCH" in result.stderr


def test_a_changed_route_breaks_the_claims_that_count_it(runner: CliRunner, tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(ROOT / "data", data)
    study = data / "studies" / "halstead2021.ttl"
    study.write_text(
        study.read_text(encoding="utf-8").replace("kap:route route:SL", "kap:route route:IV"), encoding="utf-8"
    )
    result = runner.invoke(cli, ["--data", str(data), "reproduce", "--format", "json"])
    assert result.exit_code == 1
    broken = {i["id"] for i in json.loads(result.stdout) if i["status"] == MISMATCH}
    assert broken == {
        "table1-sl-total", "table1-sl-multiple", "route-sl",
        "table1-iv-total", "table1-iv-multiple", "route-iv", "sl-dose-150mg",
    }  # fmt: skip
    assert "7 MISMATCH" in result.stderr


def test_session_statistics_come_from_per_study_totals() -> None:
    engine = open_engine("oxigraph")
    records = run_query("review/psychotherapy-sessions", {}, engine=engine).records()
    totals = sorted(int(to_python(r["sessions"])) for r in records)  # type: ignore[call-overload]
    assert len(totals) == GRAPH_VALUES["sessions-reporting"]
    assert (totals[0], totals[-1]) == (GRAPH_VALUES["sessions-min"], GRAPH_VALUES["sessions-max"])


def test_an_explanation_is_bound_to_the_value_it_explains(runner: CliRunner, tmp_path: Path) -> None:
    """The sessions discrepancy explains the computed maximum of 52 (kap:explainedValue); a study
    changed to 53 sessions makes that claim a MISMATCH, not a silently explained discrepancy."""
    data = tmp_path / "data"
    shutil.copytree(ROOT / "data", data)
    study = data / "studies" / "adams2017.ttl"
    text = study.read_text(encoding="utf-8")
    assert text.count("kap:sessionCount 52") == 1
    study.write_text(text.replace("kap:sessionCount 52", "kap:sessionCount 53"), encoding="utf-8")
    result = runner.invoke(cli, ["--data", str(data), "reproduce", "--format", "json"])
    assert result.exit_code == 1
    broken = {i["id"]: i for i in json.loads(result.stdout) if i["status"] == MISMATCH}
    assert set(broken) == {"sessions-max"}
    assert "explains 52, not the computed 53" in broken["sessions-max"]["note"]
