"""Issue 10, point 5 (vocabulary clean-up) and point 1 (every study says its arms).

Each expectation is read from the review text, quoted beside it; none is computed by the code under test.
"""

from __future__ import annotations

import pytest

from kapgraph.api import run_query
from kapgraph.backends import Engine
from kapgraph.errors import ParameterError
from kapgraph.results import value
from tests.conftest import SLUGS

PREFIXES = """PREFIX kap: <https://w3id.org/kap/ontology#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX therapy: <https://w3id.org/kap/vocab/psychotherapy/>
"""


def _local(iri: object) -> str:
    return str(value(iri)).split("/study/")[1]


def _rows(engine: Engine, query: str) -> list[tuple[str, ...]]:
    return [tuple(str(value(t)) for t in row) for row in engine.query(PREFIXES + query).rows]


# --- "not reported" is the absence of a modality ------------------------------------------------


def test_the_modality_scheme_holds_only_named_modalities(engine: Engine) -> None:
    rows = _rows(
        engine,
        """SELECT ?c ?label WHERE { ?c skos:inScheme <https://w3id.org/kap/vocab/psychotherapy> ;
                                     skos:prefLabel ?label }""",
    )
    assert rows
    labels = {label.lower() for _, label in rows}
    assert not [label for label in labels if "not reported" in label or "counsel" in label]
    concepts = {c.rsplit("/", 1)[1] for c, _ in rows}
    assert "not-reported" not in concepts and "addiction-counselling" not in concepts
    # no study uses the retired concepts either
    assert not _rows(engine, "SELECT ?p WHERE { ?p kap:modality therapy:not-reported }")
    assert not _rows(engine, "SELECT ?p WHERE { ?p kap:modality therapy:addiction-counselling }")


def test_programmes_without_a_named_modality_say_so_with_evidence(engine: Engine) -> None:
    rows = _rows(
        engine,
        """SELECT ?p ?quote WHERE { ?s kap:hasPsychotherapy ?p . ?p kap:modalityReported false .
             FILTER NOT EXISTS { ?p kap:modality ?m }
             ?ev kap:evidenceFor ?p ; kap:evidenceProperty kap:modalityReported ;
                 <http://www.w3.org/ns/oa#hasTarget>/<http://www.w3.org/ns/oa#hasSelector>
                 /<http://www.w3.org/ns/oa#exact> ?quote }""",
    )
    programmes = {p.split("/study/")[1] for p, _ in rows}
    # Dore: "guided psychotherapy during KAP sessions"; Becker: "two concurrent ketamine and
    # psychotherapy sessions"; Keizer: "Psychotherapy was administered daily at bedside"; Krupitsky 2007:
    # "5 hours of psychotherapy to prepare", "psychotherapy was provided concurrently", "An additional 5
    # hours of psychotherapy ... to help integrate": none of these paragraphs names a modality.
    assert programmes == {
        "dore2019/psychotherapy",
        "becker2014/psychotherapy-case1",
        "becker2014/psychotherapy-case2",
        "keizer2020/psychotherapy",
        "krupitsky2007/psychotherapy-preparation",
        "krupitsky2007/psychotherapy-ketamine-session",
        "krupitsky2007/psychotherapy-integration",
    }
    assert "Three studies did not report the type of psychotherapy administered." in {q for _, q in rows}


def test_addiction_counselling_is_counselling_not_a_modality(engine: Engine, review_text: str) -> None:
    assert "Addiction counselling was provided prior to the ketamine-psychotherapy sessions." in review_text
    rows = _rows(
        engine,
        """SELECT ?p ?label WHERE { ?p a kap:Counselling, kap:Psychotherapy ; rdfs:label ?label .
             FILTER NOT EXISTS { ?p kap:modality ?m } FILTER NOT EXISTS { ?p kap:modalityReported ?r } }""",
    )
    assert [(p.split("/study/")[1], label) for p, label in rows] == [
        ("krupitsky2007/addiction-counselling", "addiction counselling")
    ]


def test_no_modality_value_finds_the_programmes_without_one(engine: Engine) -> None:
    for retired in ("NR", "not reported", "addiction counselling"):
        with pytest.raises(ParameterError):
            run_query("studies-by-modality", {"modality": retired}, engine=engine)


def test_studies_overview_still_shows_nr_and_counselling(engine: Engine) -> None:
    rows = {_local(r["study"]): str(value(r["modalities"])) for r in run_query("studies", {}, engine=engine).records()}
    for slug in ("dore2019", "becker2014", "keizer2020"):
        assert rows[slug] == "NR"
    assert set(rows["krupitsky2007"].split(", ")) == {"NR", "addiction counselling"}


# --- combined modalities: found by either parent, once -------------------------------------------


@pytest.mark.parametrize(
    ("modality", "expected"),
    [
        # "Six studies used cognitive behavioral therapy (CBT)": the Results describe five (Wilkinson 2017
        # and 2021, Adams, Ocker, Rodriguez's "exposure-based CBT"; see the discrepancy modality-cbt)
        ("CBT", ["adams2017", "ocker2020", "rodriguez2016", "wilkinson2017", "wilkinson2021"]),
        # "three used exposure therapies": Rodriguez (exposure-based CBT), Duek and Shiroma (prolonged exposure)
        ("exposure therapy", ["duek2019", "rodriguez2016", "shiroma2020"]),
        ("exposure-based CBT", ["rodriguez2016"]),
        # "one focused on existentially oriented therapy" (Krupitsky 2002, three programmes: one row)
        ("existentially oriented therapy", ["krupitsky2002"]),
    ],
)
def test_studies_by_modality_lists_each_study_once(modality: str, expected: list[str], engine: Engine) -> None:
    table = run_query("studies-by-modality", {"modality": modality}, engine=engine)
    assert sorted(_local(s) for s in table.column("study")) == expected


def test_rodriguez_counts_once_under_each_parent(engine: Engine) -> None:
    rows = {
        value(r["id"]): int(str(value(r["graph"])))
        for r in run_query("review/counts", {}, engine=engine).records()
        if str(value(r["id"])).startswith("modality-")
    }
    # the combined concept adds one study to CBT and one to exposure therapy, not two
    assert rows["modality-cbt"] == 5 and rows["modality-exposure"] == 3
    combines = _rows(engine, "SELECT ?m WHERE { therapy:exposure-based-CBT kap:combinesModality ?m }")
    assert {m.rsplit("/", 1)[1] for (m,) in combines} == {"CBT", "exposure-therapy"}


# --- placebo grouping concepts ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("comparator", "expected"),
    [
        # "In their randomized placebo-controlled trial, Pradhan et al" (saline + TIMBER); midazolam in
        # Duek ("a single ketamine or midazolam infusion"), Dakwar 2020 ("midazolam-controlled"), Dakwar 2019
        ("placebo", {"pradhan2018", "duek2019", "dakwar2019", "dakwar2020"}),
        ("active placebo", {"duek2019", "dakwar2019", "dakwar2020"}),
        ("saline placebo", {"pradhan2018"}),
        ("midazolam", {"duek2019", "dakwar2019", "dakwar2020"}),
        # TAU (Wilkinson 2021) and the dose comparisons of Krupitsky are no placebo
        ("TAU", {"wilkinson2021"}),
    ],
)
def test_studies_by_comparator_grouping(comparator: str, expected: set[str], engine: Engine) -> None:
    table = run_query("studies-by-comparator", {"comparator": comparator}, engine=engine)
    studies = [_local(s) for s in table.column("study")]
    assert set(studies) == expected
    assert len(studies) == len(expected)  # one row per study: one comparator arm each
    assert all(value(a) for a in table.column("comparatorArm"))


# --- settings: of the ketamine, of the psychotherapy ------------------------------------------------


def _settings(engine: Engine, kind: str) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for s, node, setting in _rows(
        engine,
        f"""SELECT ?s ?n ?setting WHERE {{ ?s a kap:Study ; {kind} ?n . ?n kap:setting ?setting }}""",
    ):
        found.setdefault(s.split("/study/")[1] + "/" + node.rsplit("/", 1)[1], set()).add(setting.rsplit("/", 1)[1])
    return found


def test_where_ketamine_was_given(engine: Engine) -> None:
    ketamine = _settings(engine, "kap:hasKetamineRegimen")
    # "to receive a single ketamine or midazolam infusion during a 5-day inpatient stay"
    assert ketamine["dakwar2019/ketamine"] == {"inpatient"}
    # "IM ketamine was administered in-office"; "Patients were started on SL ketamine in office";
    # "Home-use dosing was SL"
    assert ketamine["dore2019/ketamine-im"] == {"private-practice"}
    assert ketamine["dore2019/ketamine-sl"] == {"private-practice", "home"}
    # "returned to the hospital and received another 5-day continuous infusion"
    assert ketamine["ocker2020/ketamine"] == {"inpatient"}
    # "In a sample of 10 unmedicated OCD outpatients": the review does not say which part was outpatient
    assert "rodriguez2016/ketamine" not in ketamine


def test_where_psychotherapy_was_given(engine: Engine) -> None:
    therapy = _settings(engine, "kap:hasPsychotherapy")
    # "Participants received daily MBRP sessions over the 5-day inpatient stay ... Following discharge,
    # participants returned for twice weekly MBRP sessions"
    assert therapy["dakwar2019/mbrp"] == {"inpatient", "outpatient"}
    # "After discharge, the patient attended CBT sessions every 3–4 weeks."
    assert therapy["ocker2020/cbt"] == {"outpatient"}
    # "Psychotherapy was administered daily at bedside"
    assert therapy["keizer2020/psychotherapy"] == {"inpatient"}


def test_every_intervention_setting_is_a_study_setting(engine: Engine) -> None:
    missing = _rows(
        engine,
        """SELECT ?s ?n ?v WHERE { ?s kap:hasKetamineRegimen|kap:hasDrugRegimen|kap:hasPsychotherapy ?n .
             ?n kap:setting ?v FILTER NOT EXISTS { ?s kap:setting ?v } }""",
    )
    assert missing == []


# --- point 1: every study says its arms ----------------------------------------------------------


def test_every_study_has_an_arm_with_a_role(engine: Engine) -> None:
    rows = _rows(engine, "SELECT ?s ?a ?role WHERE { ?s a kap:Study ; kap:hasArm ?a . ?a kap:armRole ?role }")
    roles: dict[str, list[str]] = {}
    for s, _, role in rows:
        roles.setdefault(s.split("/study/")[1], []).append(role.rsplit("/", 1)[1])
    assert set(roles) == set(SLUGS)
    # "Dore et al²³ collected data from 235 patients" (one retrospective group); "In an open-label trial in
    # 2017, Wilkinson et al³⁴ ... in 16 patients" (one group)
    assert roles["dore2019"] == ["single-group"] and roles["wilkinson2017"] == ["single-group"]
    # the case reports: "Becker²⁸ presented case reports of two female participants", Adams "a case of a
    # single male inpatient", Halstead "a case of a female patient", Ocker "a single male patient"
    assert sorted(roles["becker2014"]) == ["case", "case"]
    for slug in ("adams2017", "halstead2021", "ocker2020"):
        assert roles[slug] == ["case"]


def test_single_group_arm_sizes(engine: Engine) -> None:
    sizes = dict(
        _rows(
            engine,
            """SELECT ?s ?n WHERE { VALUES ?s { <https://w3id.org/kap/id/study/dore2019>
                 <https://w3id.org/kap/id/study/wilkinson2017> } ?s kap:hasArm/kap:armSize ?n }""",
        )
    )
    assert sizes == {
        "https://w3id.org/kap/id/study/dore2019": "235",
        "https://w3id.org/kap/id/study/wilkinson2017": "16",
    }
