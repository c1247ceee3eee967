"""``kapgraph describe``, ``list --tag``, the examples in ``--help`` and shell completion."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys

import click
import pytest
from click.testing import CliRunner

from kapgraph.catalog import Catalog
from kapgraph.cli import cli
from kapgraph.describe import expand, resource
from kapgraph.errors import UnknownResourceError
from kapgraph.namespaces import KAP_IRI, STUDY_IRI, VOCAB


def test_resource_quotes_respect_evidence_value(oxigraph) -> None:
    res = resource(oxigraph, STUDY_IRI + "dakwar2019")
    settings = {f.object.value: f for f in res.facts if f.predicate == KAP_IRI + "setting"}
    inpatient, outpatient = settings[VOCAB + "setting/inpatient"], settings[VOCAB + "setting/outpatient"]
    # each setting is backed only by the evidence naming it as kap:evidenceValue
    assert [q.evidence for q in inpatient.quotes] == ["study:dakwar2019/ev-setting-inpatient"]
    assert [q.evidence for q in outpatient.quotes] == ["study:dakwar2019/ev-setting-outpatient"]
    assert outpatient.quotes[0].inferred and outpatient.quotes[0].note
    assert not inpatient.quotes[0].inferred


def test_every_printed_quote_is_in_the_review(oxigraph, review_text: str) -> None:
    from tests.conftest import collapse

    res = resource(oxigraph, STUDY_IRI + "dakwar2019")
    quotes = {q.exact for f in res.facts for q in f.quotes}
    assert quotes
    normalised = collapse(review_text.replace("*", ""))
    for quote in quotes:
        assert collapse(quote.replace("*", "")) in normalised, quote


def test_discrepancies_reach_the_study(oxigraph) -> None:
    # rodriguez2016 is cited by the conflicting evidence of the CBT discrepancy in data/claims.ttl
    res = resource(oxigraph, STUDY_IRI + "rodriguez2016")
    assert any("cbt" in d.iri for d in res.discrepancies)


def test_expand_curies_and_iris() -> None:
    assert expand("study:dakwar2019") == STUDY_IRI + "dakwar2019"
    assert expand("<https://example.org/x>") == "https://example.org/x"
    with pytest.raises(UnknownResourceError, match="unknown prefix 'nope'"):
        expand("nope:x")


def test_describe_command_study_and_errors(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["describe", "study:dakwar2019"])
    assert result.exit_code == 0
    assert "kap:design  design:RCT" in result.stdout and "[inferred]" in result.stdout
    for bad in ("study:no-such-study", "nope:x", "studies-by"):
        result = runner.invoke(cli, ["describe", bad])
        assert result.exit_code == 2, bad
        assert result.stderr.startswith("kapgraph: error:") and "Traceback" not in result.stderr


def test_describe_query_lists_allowed_values_from_the_scheme(runner: CliRunner, oxigraph) -> None:
    result = runner.invoke(cli, ["describe", "studies-by-design"])
    assert result.exit_code == 0
    allowed = next(line for line in result.stdout.splitlines() if line.strip().startswith("allowed:"))
    concepts = oxigraph.query(
        f"SELECT ?c WHERE {{ ?c <http://www.w3.org/2004/02/skos/core#inScheme> <{VOCAB}design> }}"
    ).rows
    assert len(allowed.split("), ")) == len(concepts)
    query = Catalog().get("studies-by-design")
    assert query.text.splitlines()[-1] in result.stdout  # the SPARQL is printed


def test_list_tag_filters_and_rejects_unknown(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["list", "--tag", "timing", "--format", "json"])
    assert result.exit_code == 0
    import json

    names = {q["name"] for q in json.loads(result.stdout)}
    assert names == {q.name for q in Catalog().all() if "timing" in q.tags}
    assert runner.invoke(cli, ["list", "--tag", "no-such-tag"]).exit_code == 2


def _commands() -> list[str]:
    assert isinstance(cli, click.Group)
    return sorted(cli.commands)


@pytest.mark.parametrize("name", _commands())
def test_every_command_help_has_an_example(runner: CliRunner, name: str) -> None:
    result = runner.invoke(cli, [name, "--help"])
    assert result.exit_code == 0
    assert "Example" in result.stdout, f"{name} --help has no example"


@pytest.mark.parametrize("name", ["query", "describe", "list", "info", "sparql"])
def test_help_examples_run(runner: CliRunner, name: str) -> None:
    command = cli.commands[name]  # type: ignore[attr-defined]
    examples = re.split(r";\s*(?=kapgraph )", command.epilog.split(":", 1)[1])
    for example in examples:
        args = shlex.split(example.strip().rstrip("."))
        assert args[0] == "kapgraph"
        result = runner.invoke(cli, args[1:])
        assert result.exit_code == 0, (example, result.output)
        assert result.stdout.strip()


def test_shell_completion_script_and_answers() -> None:
    env = {**os.environ, "_KAPGRAPH_COMPLETE": "bash_source"}
    script = subprocess.run([sys.executable, "-m", "kapgraph"], env=env, capture_output=True, text=True, timeout=60)
    assert "_KAPGRAPH_COMPLETE=bash_complete" in script.stdout
    env = {**os.environ, "_KAPGRAPH_COMPLETE": "bash_complete", "COMP_WORDS": "kapgraph desc", "COMP_CWORD": "1"}
    answer = subprocess.run([sys.executable, "-m", "kapgraph"], env=env, capture_output=True, text=True, timeout=60)
    assert "describe" in answer.stdout


@pytest.mark.parametrize("columns", [60, 100])
def test_result_table_fits_the_terminal_width(monkeypatch: pytest.MonkeyPatch, columns: int) -> None:
    from kapgraph.api import run_query
    from kapgraph.results import render

    monkeypatch.setenv("COLUMNS", str(columns))
    text = render(run_query("studies"), "table")
    assert max(len(line) for line in text.splitlines()) <= columns
    assert text.rstrip().endswith("17 rows")
