"""Outcomes that answer comparative questions (issue 10): durations, domains, arm roles, comparisons.

Expected values are read from the review text (the quote is beside each case), not from the queries.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from kapgraph.backends import Engine
from kapgraph.durations import days, invalid_durations, is_xsd_duration
from kapgraph.loading import find_rdf_files
from kapgraph.results import value
from tests.conftest import TEST_DATA

PREFIXES = """PREFIX kap: <https://w3id.org/kap/ontology#>
PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>
"""
DATA = TEST_DATA.parent.parent / "data"


# --- durations ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lexical", "valid"),
    [
        ("P70D", True),
        ("P6M", True),
        ("P1Y", True),
        ("PT90M", True),
        ("PT1H30M", True),
        ("P1DT2H", True),
        ("P10W", False),
        ("P", False),
        ("PT", False),
        ("P1DT", False),
        ("6 months", False),
        ("P-1D", False),
    ],
)
def test_xsd_duration_lexical_space(lexical: str, valid: bool) -> None:
    assert is_xsd_duration(lexical) is valid


def test_day_rule() -> None:
    # the rule written on kap:timePointDays: year 365.25 d, month 365.25/12 d, week 7 d, hour 1/24 d
    assert days("P6M") == Decimal("182.625")
    assert days("P24M") == days("P2Y") == Decimal("730.5")
    assert days("P10W") == days("P70D") == 70
    assert days("PT24H") == 1
    assert days("PT90M") == days("PT1H30M")


def test_bundled_durations_are_valid_xsd() -> None:
    # 23 week literals (P10W...) were not XSD; none may come back
    bad = list(invalid_durations(find_rdf_files([DATA])))
    assert bad == [], [b.message() for b in bad]


def test_every_printed_duration_has_its_day_count(engines: dict[str, Engine]) -> None:
    q = (
        PREFIXES
        + """SELECT ?s ?p WHERE {
        VALUES (?p ?n) { (kap:timePoint kap:timePointDays) (kap:followUpDuration kap:followUpDays)
                         (kap:effectDuration kap:effectDurationDays) }
        ?s ?p ?d FILTER NOT EXISTS { ?s ?n ?x } }"""
    )
    assert engines["oxigraph"].query(q).rows == []


def test_duration_comparison_is_the_same_on_both_engines(engines: dict[str, Engine]) -> None:
    """Outcomes assessed six months or more after the reference event, by the day count."""
    q = PREFIXES + "SELECT ?o WHERE { ?o kap:timePointDays ?d FILTER (?d >= 182.625) }"
    rows = {e: sorted(value(r[0]) for r in engine.query(q).rows) for e, engine in engines.items()}
    assert rows["oxigraph"] == rows["rdflib"]
    got = {o.split("/study/")[1].split("/")[0] for o in rows["oxigraph"]}
    # "Of the 19 participants who completed the 6-month follow-up" (dakwar2020); "a 6-month follow-up
    # interview" (dakwar2019); "At the 24-month follow-up" (krupitsky2002); "The 1-year follow-up"
    # (krupitsky2007); "maintained up to a 6-month follow-up" (halstead2021); "reported mild pain at the
    # 6-month follow-up" and "at 1-year follow-up (post initial infusion)" (ocker2020)
    assert {"dakwar2020", "dakwar2019", "krupitsky2002", "krupitsky2007", "halstead2021", "ocker2020"} <= got
    # "the 4-month follow-up demonstrated" (shiroma2020) is shorter than six months
    assert "shiroma2020" not in got


def test_rdflib_cannot_order_durations_as_the_readme_says(engines: dict[str, Engine]) -> None:
    """The README's engine-difference row: rdflib returns nothing (no error) for a duration FILTER."""
    q = PREFIXES + 'SELECT ?o WHERE { ?o kap:timePoint ?t FILTER (?t >= "P60D"^^xsd:duration) }'
    assert engines["oxigraph"].query(q).rows
    assert engines["rdflib"].query(q).rows == []


# --- outcome domains and arm roles ------------------------------------------------------------


def _pairs(engine: Engine, query: str) -> dict[str, str]:
    rows = engine.query(PREFIXES + query).rows
    return {value(r[0]).split("/study/")[1]: value(r[1]).rsplit("/", 1)[1] for r in rows}


def test_every_outcome_has_one_domain_and_every_arm_one_role(engines: dict[str, Engine]) -> None:
    ox = engines["oxigraph"]
    assert (
        ox.query(PREFIXES + "SELECT ?o WHERE { ?o a kap:Outcome FILTER NOT EXISTS { ?o kap:outcomeDomain ?d } }").rows
        == []
    )
    assert ox.query(PREFIXES + "SELECT ?a WHERE { ?a a kap:Arm FILTER NOT EXISTS { ?a kap:armRole ?r } }").rows == []


def test_arm_roles_follow_the_review(engines: dict[str, Engine]) -> None:
    roles = _pairs(engines["oxigraph"], "SELECT ?a ?r WHERE { ?a kap:armRole ?r }")
    # "randomly assigned 55 cocaine-dependent participants to receive a single ketamine or midazolam infusion"
    assert roles["dakwar2019/arm-ketamine"] == "experimental" and roles["dakwar2019/arm-midazolam"] == "comparator"
    # "ketamine + TIMBER vs saline + TIMBER"
    assert roles["pradhan2018/arm-saline"] == "comparator"
    # "investigated whether repeated ketamine dosing increased abstinence rates"
    assert roles["krupitsky2007/arm-multi-dose"] == "experimental"
    # "Becker²⁸ presented case reports of two female participants."
    assert roles["becker2014/arm-case1"] == roles["becker2014/arm-case2"] == "case"
    # "In a sample of 10 unmedicated OCD outpatients" (no control group)
    assert roles["rodriguez2016/arm-ketamine-cbt"] == "single-group"


def test_outcome_domains_follow_the_review(engines: dict[str, Engine]) -> None:
    domains = _pairs(engines["oxigraph"], "SELECT ?o ?d WHERE { ?o kap:outcomeDomain ?d }")
    # "Visual Analog Scale of Cravings"
    assert domains["krupitsky2002/outcome-craving"] == "craving"
    # "reported reduced suicidality as measured by item 10 on the ... (MADRS)"
    assert domains["adams2017/outcome-suicidality"] == "suicidality"
    # "Numeric Pain Rating Scale (NPRS)"
    assert domains["keizer2020/outcome-pain"] == "pain-intensity"
    # "The difference in treatment retention between the two groups was not significant."
    assert domains["krupitsky2007/outcome-retention"] == "treatment-engagement"
    abstinence = {k.split("/")[0] for k, v in domains.items() if v == "abstinence"}
    # abstinence is reported for cannabis, cocaine, alcohol, heroin (x2) and opioids (Ocker)
    assert abstinence == {"azhari2021", "dakwar2019", "dakwar2020", "krupitsky2002", "krupitsky2007", "ocker2020"}
