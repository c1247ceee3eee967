"""Parameters are resolved to RDF terms and bound with VALUES, never pasted into query text."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest

from kapgraph.api import run_query
from kapgraph.backends import Engine
from kapgraph.binding import _outer_brace, bind, inject_values
from kapgraph.catalog import Catalog
from kapgraph.errors import ParameterError
from kapgraph.namespaces import VOCAB
from kapgraph.results import value

XSD_INTEGER = ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer")
PTSD = ox.NamedNode(VOCAB + "diagnosis/PTSD")


@pytest.mark.parametrize("value", ["PTSD", "ptsd", " Ptsd ", "post-traumatic stress disorder", "dx:PTSD", PTSD.value])
def test_concept_accepts_notation_label_curie_or_iri_case_insensitively(value: str, oxigraph: Engine) -> None:
    query = Catalog().get("studies-by-diagnosis")
    assert bind(oxigraph, query, {"diagnosis": value}) == {"diagnosis": PTSD}


def test_unknown_concept_lists_allowed_values(oxigraph: Engine) -> None:
    query = Catalog().get("studies-by-design")
    with pytest.raises(ParameterError) as info:
        bind(oxigraph, query, {"design": "cohort"})
    message = str(info.value)
    assert "'cohort' is not an allowed value of parameter 'design'" in message
    assert "RCT" in message and "OLT" in message


@pytest.mark.parametrize("value", ['PTSD" } ; DROP ALL ; #', "PTSD> } DELETE WHERE { ?s ?p ?o } #", "?x"])
def test_sparql_in_a_parameter_is_a_value_and_is_refused(value: str, oxigraph: Engine) -> None:
    with pytest.raises(ParameterError):
        run_query("studies-by-diagnosis", {"diagnosis": value}, engine=oxigraph)
    # the graph is untouched
    assert len(run_query("studies", {}, engine=oxigraph).rows) == 17


def test_string_values_are_bound_as_escaped_literals() -> None:
    text = "SELECT ?s WHERE { ?s ?p ?label }"
    bound = inject_values(text, {"label": ox.Literal('x" } ; DROP ALL ; #')})
    assert 'VALUES (?label) { ("x\\" } ; DROP ALL ; #") }' in bound


def test_unknown_and_missing_parameters(oxigraph: Engine) -> None:
    query = Catalog().get("studies-by-route")
    with pytest.raises(ParameterError, match="has no parameter 'diagnosis'; it accepts: route"):
        bind(oxigraph, query, {"diagnosis": "PTSD"})
    with pytest.raises(ParameterError, match="needs --param route=VALUE"):
        bind(oxigraph, query, {})


def test_study_parameter_accepts_slug_curie_or_iri(oxigraph: Engine) -> None:
    query = Catalog().get("evidence")
    ocker = ox.NamedNode("https://w3id.org/kap/id/study/ocker2020")
    for given in ("ocker2020", "study:ocker2020", "https://w3id.org/kap/id/study/ocker2020"):
        assert bind(oxigraph, query, {"study": given}) == {"study": ocker}
    with pytest.raises(ParameterError, match="dakwar2019"):
        bind(oxigraph, query, {"study": "smith1999"})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("SELECT * WHERE { ?s ?p ?o }", "{ ?s"),
        ("# a comment { not this\nSELECT * { ?s ?p ?o }", "{ ?s"),
        ('PREFIX a: <http://x/y#>\nSELECT ("{" AS ?b) WHERE { ?s ?p ?o }', "{ ?s"),
        ("SELECT ('''{''' AS ?b) WHERE { ?s ?p ?o }", "{ ?s"),
    ],
)
def test_values_go_into_the_outermost_group(text: str, expected: str) -> None:
    assert text[_outer_brace(text) :].startswith(expected)


def test_notation_beats_label_and_a_phase_label_names_the_phase(oxigraph: Engine) -> None:
    query = Catalog().get("studies-by-timing")
    # "after" is the phase's preferred label; the Table 2 row "A" ("after only") no longer has it as an
    # alternative label (a label/synonym clash, queries/qc/label-synonym-clash-violation.rq)
    assert bind(oxigraph, query, {"timing": "after"}) == {"timing": ox.NamedNode(VOCAB + "phase/after")}
    assert bind(oxigraph, query, {"timing": "A"}) == {"timing": ox.NamedNode(VOCAB + "timing/after")}
    assert bind(oxigraph, query, {"timing": "B+C+A"}) == {
        "timing": ox.NamedNode(VOCAB + "timing/before-concurrent-after")
    }


def test_ill_typed_integer_and_enum_values_are_refused(oxigraph: Engine, tmp_path: Path) -> None:
    (tmp_path / "q.rq").write_text(
        "#+ summary: typed parameters\n#+ params:\n#+   - n: {type: integer}\n"
        "#+   - kind: {type: enum, values: [primary, comorbid], default: primary}\n"
        "SELECT ?study WHERE { ?study <https://w3id.org/kap/ontology#enrolledSize> ?n . BIND(?kind AS ?k) }\n",
        encoding="utf-8",
    )
    query = Catalog(tmp_path).get("q")
    with pytest.raises(ParameterError, match="'n' must be a whole number, got 'twelve'"):
        bind(oxigraph, query, {"n": "twelve"})
    with pytest.raises(ParameterError, match=r"Allowed .*: primary, comorbid"):
        bind(oxigraph, query, {"n": "12", "kind": "secondary"})
    bound = bind(oxigraph, query, {"n": "12"})
    assert bound["n"] == ox.Literal("12", datatype=XSD_INTEGER) and bound["kind"] == ox.Literal("primary")
    table = oxigraph.query(inject_values(query.text, bound))
    assert [value(r["study"]).rsplit("/", 1)[-1] for r in table.records()] == ["shiroma2020"]
