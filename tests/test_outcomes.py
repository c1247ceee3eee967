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
    # measured by PLC-5 and the ... (CGI-S)", then the analysis adjusted for depression: "changes in total
    # PLC-5 scores and PLC-5 Avoidance remained significant. However, changes in PCL-5 Intrusions, ... as
    # well as the CAPS-5, were no longer significant." (Shiroma: 2 + 3); "Both groups experienced
    # significantly reduced PTSD scores at the 30-day follow-up" (Duek, one change per arm); "7 of the 11
    # (63.6%) patients reported clinically significant reductions in PTSD symptoms" (Keizer); "scores on
    # the Posttraumatic Cognitions Inventory decreased at 2-weeks" (Halstead); "All subjects experienced
    # reductions in PTSD scores ... at 24 hours" (Pradhan, one change per arm)
    assert sorted(_studies_list(table)) == (
        ["duek2019", "duek2019", "halstead2021", "keizer2020", "pradhan2018", "pradhan2018"] + ["shiroma2020"] * 5
    )
    assert {value(t) for t in table.column("changeLabel")} == {"improved", "change not reported"}


def test_within_group_worsening(engine: Engine) -> None:
    from kapgraph.api import run_query

    table = run_query("within-group-change", {}, engine=engine)
    worse = {
        s for s, c in zip(_studies_list(table), table.column("changeLabel"), strict=True) if value(c) == "worsened"
    }
    # "Patient reported worsening in OCD and MDD symptoms at 2 weeks following discharge" (Adams);
    # "but returned to severe levels at the 6-month follow-up" (Halstead); "five of the eight responders
    # relapsed" (Wilkinson 2017)
    assert worse == {"adams2017", "halstead2021", "wilkinson2017"}


# --- point 6: the whole answer of each comparative query, as read from the review -----------------
# One tuple per row: (study/comparison or change, direction or change label, significance label). The
# labels are the schemes' prefLabels; the rows are what the review's sentences (quoted) say.

FE, ND = "favours the experimental arm", "no difference"
SIG, NS, NR = "significant", "not significant", "significance not reported"

COMPARISONS = {
    # "No significant differences between abstinence or confidence in abstaining were found between those
    # who received single or multiple infusions."
    ("azhari2021/comparison-single-vs-multiple", ND, NS),
    # "those in the ketamine group had a higher rate of abstinence (13/27) over the last 2 weeks of the
    # trial than those in the midazolam group (3/28)"
    ("dakwar2019/comparison-abstinence", FE, NR),
    # "of the 27 individuals in the ketamine group, twelve (44%) remained abstinent compared to none"
    ("dakwar2019/comparison-abstinence-6m", FE, NR),
    # "their scores were 58.1% lower than those in the midazolam group"
    ("dakwar2019/comparison-craving", FE, NR),
    # "more participants in the midazolam group (26/28) went on to use cocaine or drop out"
    ("dakwar2019/comparison-relapse", FE, NR),
    # "75% (6/8) of ketamine participants reported abstinence maintenance, compared to 27% (3/11)"
    ("dakwar2020/comparison-abstinence-6m", FE, NR),
    # "more participants in the midazolam group (59.1%; n = 13/22) than the ketamine group (47.1%; n= 8/17)
    # were using alcohol"
    ("dakwar2020/comparison-alcohol-use", FE, NR),
    # "more individuals in the midazolam group (40.0%; n=9/22) had heavy drinking days compared to the
    # ketamine group (17.6%; n=3/17)"
    ("dakwar2020/comparison-heavy-drinking", FE, NR),
    # "at the 30-day follow-up with no significant differences between groups"
    ("duek2019/comparison-ptsd-30d", ND, NS),
    # "less severe PTSD symptoms than the midazolam group at 90-days. The significance values ... are missing"
    ("duek2019/comparison-ptsd-90d", FE, NR),
    # "The differences between abstinence and relapse rates between groups were significant from the first
    # month almost to the 24-month follow-up"
    ("krupitsky2002/comparison-abstinence", FE, SIG),
    # "with greater reductions experienced by the high-dose group immediately after ..."
    ("krupitsky2002/comparison-craving", FE, NR),
    # "The high-dose group reported reductions in cravings at the 24-month follow-up but not the low-dose group."
    ("krupitsky2002/comparison-craving-24m", FE, NR),
    # "both experienced reductions in anxiety and depression, but there were no significant between-group
    # differences"
    ("krupitsky2002/comparison-anxiety", ND, NS),
    ("krupitsky2002/comparison-depression", ND, NS),
    # "The 1-year follow-up, however, revealed a significant difference between abstinence rates, with 50%
    # (13 of 26) of the multi-dose participants ... as compared to the 22.2% (6 of 27)"
    ("krupitsky2007/comparison-abstinence-1y", FE, SIG),
    # "4 of 26 (15.4%) ... as compared to 7 of the 27 (25.9%) ... The difference in treatment retention
    # between the two groups was not significant."
    ("krupitsky2007/comparison-retention", FE, NS),
    # "Reductions in depression and anxiety ... but no significant differences were observed between groups."
    ("krupitsky2007/comparison-depression", ND, NS),
    ("krupitsky2007/comparison-anxiety", ND, NS),
    # "at 24 hours with no significant differences between groups"
    ("pradhan2018/comparison-ptsd-24h", ND, NS),
    # "a greater duration of sustained response (34.44 ± 19.12 days) when compared to placebo"
    ("pradhan2018/comparison-sustained-response", FE, NR),
    # "They found a significant difference in ... (MADRS) scores, and a significant interaction effect ...
    # (QIDS) scores ..., finding greater sustained improvements in the CBT group."
    ("wilkinson2021/comparison-madrs", FE, SIG),
    ("wilkinson2021/comparison-qids", FE, SIG),
}

IMP, WORSE, SAME, MIXED, CNR = "improved", "worsened", "no change", "mixed", "change not reported"

CHANGES = {
    # Adams: "the patient reported less distress associated with OCD symptoms and reduced OCD-related
    # functional impairment"; "reduced suicidality"; "depression symptoms did improve"; "worsening in OCD
    # and MDD symptoms at 2 weeks following discharge"
    ("adams2017/change-ocd", IMP, NR),
    ("adams2017/change-suicidality", IMP, NR),
    ("adams2017/change-depression", IMP, NR),
    ("adams2017/change-worsening", WORSE, NR),
    # Azhari: "Cannabis use had decreased significantly"; "no significant improvements were observed in
    # pre-to-post assessments of craving"; "an average baseline DCQ of 44.7 increasing to an average of 87.5"
    ("azhari2021/change-cannabis-use", IMP, SIG),
    ("azhari2021/change-craving", SAME, NS),
    ("azhari2021/change-confidence", IMP, NR),
    # Dakwar 2019: "those in the ketamine group were observed to have early improvements in craving scores"
    ("dakwar2019/change-craving-ketamine", IMP, NR),
    # Pradhan: "All subjects experienced reductions in PTSD scores ... at 24 hours" (both arms)
    ("pradhan2018/change-ptsd-24h-ketamine", IMP, NR),
    ("pradhan2018/change-ptsd-24h-saline", IMP, NR),
    # Wilkinson 2021: "Of the 42 subjects, 28 (66.7%) achieved a response to ketamine"
    ("wilkinson2021/change-response", IMP, NR),
    # Becker: "normalized caloric intake and improvements in treatment engagement"; "improvements in
    # depressive symptoms that were sustained at the 2-month follow-up"; "both women reported an increased
    # capacity to make effective use of psychological insight"
    ("becker2014/change-case1", IMP, NR),
    ("becker2014/change-case2", IMP, NR),
    ("becker2014/change-insight-case1", IMP, NR),
    ("becker2014/change-insight-case2", IMP, NR),
    # Dore: "The results showed significant decreases in anxiety and depression scores"
    ("dore2019/change-anxiety", IMP, SIG),
    ("dore2019/change-depression", IMP, SIG),
    # Duek: "Both groups experienced significantly reduced PTSD scores at the 30-day follow-up"
    ("duek2019/change-ptsd-30d-ketamine", IMP, SIG),
    ("duek2019/change-ptsd-30d-midazolam", IMP, SIG),
    # Halstead: "self-reported reductions in anxiety"; "severe depression scores on the BDI-II decreased from
    # baseline to the 2-week time point, but returned to severe levels at the 6-month follow-up";
    # "Posttraumatic Cognitions Inventory decreased at 2-weeks"
    ("halstead2021/change-anxiety", IMP, NR),
    ("halstead2021/change-depression-2w", IMP, NR),
    ("halstead2021/change-depression-6m", WORSE, NR),
    ("halstead2021/change-ptci-2w", IMP, NR),
    # Keizer: "Reductions in pre-post pain ... for 6 patients, whereas 2 showed no change and 3 reported
    # increased pain intensity"; "7 of the 11 (63.6%) patients reported clinically significant reductions"
    ("keizer2020/change-pain", MIXED, NR),
    ("keizer2020/change-ptsd", IMP, NR),
    # Krupitsky 2002, per arm: "Both high and low-dose groups reported significantly reduced cravings";
    # "The high-dose group reported reductions in cravings at the 24-month follow-up but not the low-dose
    # group"; "the high and low-dose groups both experienced reductions in anxiety and depression"
    ("krupitsky2002/change-craving-high", IMP, SIG),
    ("krupitsky2002/change-craving-low", IMP, SIG),
    ("krupitsky2002/change-craving-24m-high", IMP, NR),
    ("krupitsky2002/change-craving-24m-low", SAME, NR),
    ("krupitsky2002/change-anxiety-high", IMP, NR),
    ("krupitsky2002/change-anxiety-low", IMP, NR),
    ("krupitsky2002/change-depression-high", IMP, NR),
    ("krupitsky2002/change-depression-low", IMP, NR),
    # Krupitsky 2007: "Reductions in depression and anxiety ... were found amongst those who remained abstinent"
    ("krupitsky2007/change-anxiety-abstinent", IMP, NR),
    ("krupitsky2007/change-depression-abstinent", IMP, NR),
    # Ocker, from "an NPRS score of 9": "NPRS of 0 and 2" at 30 days and 6 months, "NPRS = 4" at 1 year;
    # "reported continuous abstinence in opioids"
    ("ocker2020/change-pain-30d", IMP, NR),
    ("ocker2020/change-pain-6m", IMP, NR),
    ("ocker2020/change-pain-1y", IMP, NR),
    ("ocker2020/change-opioid-abstinence", IMP, NR),
    # Rodriguez: "A significant decrease in OCD symptoms as measured by the YBOCS"
    ("rodriguez2016/change-ocd", IMP, SIG),
    # Shiroma: "a significant decrease in the severity of PTSD symptoms as measured by PLC-5 and the ...
    # (CGI-S)"; adjusted: "remained significant" / "were no longer significant" (no direction stated)
    ("shiroma2020/change-pcl5", IMP, SIG),
    ("shiroma2020/change-cgis", IMP, SIG),
    ("shiroma2020/change-pcl5-adjusted", IMP, SIG),
    ("shiroma2020/change-pcl5-clusters-adjusted", CNR, NS),
    ("shiroma2020/change-caps5-adjusted", CNR, NS),
    # Wilkinson 2017: "Of the eight (50%) participants who responded"; "five of the eight responders relapsed"
    ("wilkinson2017/change-response", IMP, NR),
    ("wilkinson2017/change-relapse", WORSE, NR),
}


def _triples(table: object, label: str) -> set[tuple[str, str, str]]:
    records = table.records()  # type: ignore[attr-defined]
    first = "comparison" if label == "directionLabel" else "change"
    return {
        (str(value(r[first])).split("/study/")[1], str(value(r[label])), str(value(r["significanceLabel"])))
        for r in records
    }


def test_comparative_outcomes_whole_answer_is_the_reviews(engine: Engine) -> None:
    from kapgraph.api import run_query

    table = run_query("comparative-outcomes", {}, engine=engine)
    assert len(table.rows) == len(COMPARISONS)
    assert _triples(table, "directionLabel") == COMPARISONS


def test_within_group_change_whole_answer_is_the_reviews(engine: Engine) -> None:
    from kapgraph.api import run_query

    table = run_query("within-group-change", {}, engine=engine)
    assert len(table.rows) == len(CHANGES)
    assert _triples(table, "changeLabel") == CHANGES


def test_comparison_and_change_times_in_days(engine: Engine) -> None:
    from kapgraph.api import run_query

    days = {
        str(value(r["comparison"])).split("/study/")[1]: float(str(value(r["days"])))
        for r in run_query("comparative-outcomes", {}, engine=engine).records()
        if "days" in r
    }
    # "At the 21-day post-infusion follow-up"; "at the 30-day follow-up"; "at 90-days"; "a 6-month follow-up
    # interview" (6 x 30.4375); "The 1-year follow-up"; "to the 24-month follow-up" (24 x 30.4375);
    # "from baseline to week 17" (17 x 7, counted from baseline like the outcome's time point)
    assert days["dakwar2020/comparison-alcohol-use"] == 21
    assert days["duek2019/comparison-ptsd-30d"] == 30 and days["duek2019/comparison-ptsd-90d"] == 90
    assert days["dakwar2019/comparison-abstinence-6m"] == days["dakwar2020/comparison-abstinence-6m"] == 182.625
    assert days["krupitsky2007/comparison-abstinence-1y"] == 365.25
    assert days["krupitsky2002/comparison-abstinence"] == 730.5
    assert days["wilkinson2021/comparison-qids"] == 119
    changes = {
        str(value(r["change"])).split("/study/")[1]: float(str(value(r["days"])))
        for r in run_query("within-group-change", {}, engine=engine).records()
        if "days" in r
    }
    # Ocker "at a 30-day follow-up", "the 6-month follow-up", "1-year follow-up"; Krupitsky "at the
    # 24-month follow-up"; Wilkinson 2017 "(10 weeks post-infusion)"
    assert changes["ocker2020/change-pain-30d"] == 30
    assert changes["ocker2020/change-pain-6m"] == 182.625
    assert changes["ocker2020/change-pain-1y"] == 365.25
    assert changes["krupitsky2002/change-craving-24m-low"] == 730.5
    assert changes["wilkinson2017/change-relapse"] == 70


def test_within_group_pain(engine: Engine) -> None:
    from kapgraph.api import run_query

    table = run_query("within-group-change", {"domain": "pain intensity"}, engine=engine)
    # Keizer: 6 better, 2 unchanged, 3 worse (no direction for the group); Ocker: NPRS 9 -> 0, 2, 4
    assert _triples(table, "changeLabel") == {
        ("keizer2020/change-pain", MIXED, NR),
        ("ocker2020/change-pain-30d", IMP, NR),
        ("ocker2020/change-pain-6m", IMP, NR),
        ("ocker2020/change-pain-1y", IMP, NR),
    }


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
