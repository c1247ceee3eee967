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


# --- comparisons and the stored queries -------------------------------------------------------


def _studies(table: object) -> set[str]:
    return {value(t).split("/study/")[1] for t in table.column("study")}  # type: ignore[attr-defined]


def test_comparative_outcomes_abstinence_six_months_or_later(engine: Engine) -> None:
    from kapgraph.api import run_query

    table = run_query("comparative-outcomes", {"domain": "abstinence", "minDays": "180"}, engine=engine)
    # "Of the 19 participants who completed the 6-month follow-up, 75% (6/8) of ketamine participants ..."
    # "a 6-month follow-up interview revealed that ... twelve (44%) remained abstinent compared to none"
    # "significant from the first month almost to the 24-month follow-up" (high vs low dose, prose only)
    # "The 1-year follow-up, however, revealed a significant difference between abstinence rates"
    assert _studies(table) == {"dakwar2020", "dakwar2019", "krupitsky2002", "krupitsky2007"}
    directions = {value(t) for t in table.column("directionLabel")}
    assert directions == {"favours the experimental arm"}
    significant = {
        s
        for s, sig in zip(_studies_list(table), table.column("significanceLabel"), strict=True)
        if value(sig) == "significant"
    }
    assert significant == {"krupitsky2002", "krupitsky2007"}  # the Dakwar sentences state no significance


def _studies_list(table: object) -> list[str]:
    return [value(t).split("/study/")[1] for t in table.column("study")]  # type: ignore[attr-defined]


def test_comparative_outcomes_ptsd_no_difference(engine: Engine) -> None:
    from kapgraph.api import run_query

    table = run_query("comparative-outcomes", {"domain": "PTSD symptoms", "direction": "no difference"}, engine=engine)
    # "at 24 hours with no significant differences between groups" (Pradhan);
    # "at the 30-day follow-up with no significant differences between groups" (Duek)
    assert sorted(_studies_list(table)) == ["duek2019", "pradhan2018"]


def test_comparative_outcomes_ptsd_favouring_ketamine_over_midazolam(engine: Engine) -> None:
    from kapgraph.api import run_query

    table = run_query(
        "comparative-outcomes",
        {"domain": "PTSD symptoms", "direction": "favours the experimental arm", "diagnosis": "PTSD"},
        engine=engine,
    )
    rows = dict(zip(_studies_list(table), (value(t) for t in table.column("significanceLabel")), strict=True))
    # "less severe PTSD symptoms than the midazolam group at 90-days. The significance values ... are missing"
    # "a greater duration of sustained response (34.44 ± 19.12 days) when compared to placebo"
    assert rows == {"duek2019": "significance not reported", "pradhan2018": "significance not reported"}


def test_within_group_change_ptsd(engine: Engine) -> None:
    from kapgraph.api import run_query

    table = run_query("within-group-change", {"domain": "PTSD symptoms"}, engine=engine)
    # "the 4-month follow-up demonstrated a significant decrease in the severity of PTSD symptoms as
    # measured by PLC-5 and the ... (CGI-S)" (Shiroma); "Both groups experienced significantly reduced PTSD
    # scores at the 30-day follow-up" (Duek, one change per arm)
    assert sorted(_studies_list(table)) == ["duek2019", "duek2019", "shiroma2020", "shiroma2020"]
    assert {value(t) for t in table.column("changeLabel")} == {"improved"}


def test_within_group_worsening(engine: Engine) -> None:
    from kapgraph.api import run_query

    table = run_query("within-group-change", {}, engine=engine)
    worse = {
        s for s, c in zip(_studies_list(table), table.column("changeLabel"), strict=True) if value(c) == "worsened"
    }
    # "Patient reported worsening in OCD and MDD symptoms at 2 weeks following discharge" (Adams);
    # "but returned to severe levels at the 6-month follow-up" (Halstead)
    assert worse == {"adams2017", "halstead2021"}


def test_outcomes_by_domain_craving(engine: Engine) -> None:
    from kapgraph.api import run_query

    table = run_query("outcomes-by-domain", {"domain": "craving"}, engine=engine)
    # "Visual Analog Scale of Cravings" (Krupitsky 2002, twice), "reductions in cocaine cravings" (Dakwar
    # 2019), "no significant improvements were observed in pre-to-post assessments of craving" (Azhari)
    assert sorted(_studies_list(table)) == ["azhari2021", "dakwar2019", "krupitsky2002", "krupitsky2002"]


def test_every_comparison_names_two_arms_of_its_study(engines: dict[str, Engine]) -> None:
    q = (
        PREFIXES
        + """SELECT ?c WHERE { ?s kap:hasComparison ?c . ?c a kap:Comparison .
        FILTER NOT EXISTS { ?c kap:comparedArm ?a1, ?a2 . ?s kap:hasArm ?a1, ?a2 . FILTER (?a1 != ?a2) } }"""
    )
    assert engines["oxigraph"].query(q).rows == []
