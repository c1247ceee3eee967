"""Reproduce the review's own figures from the per-study facts, claim by claim.

Each aggregate the review prints is a ``kap:ReviewClaim`` in the graph (``data/claims.ttl``). The
stored queries under ``queries/review/`` tagged ``reproduction`` compute the same aggregates and return
``?id ?label ?paper ?graph`` rows; the session statistics (median, IQR) are computed here from the
per-study totals of ``review/psychotherapy-sessions``, since SPARQL has no median. A difference is a
``discrepancy`` when a ``kap:Discrepancy`` about the claim explains it, and a ``MISMATCH`` otherwise.
"""

from __future__ import annotations

import re
import statistics
from dataclasses import dataclass
from decimal import Decimal

from kapgraph.backends import Engine
from kapgraph.catalog import Catalog
from kapgraph.errors import KapgraphError
from kapgraph.results import to_python, value

MATCH, DISCREPANCY, MISMATCH = "match", "discrepancy", "MISMATCH"

_CLAIMS = """
PREFIX kap:  <https://w3id.org/kap/ontology#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?id ?label ?paper ?group ?statistic ?explainedValue WHERE {
  ?claim a kap:ReviewClaim ; kap:claimId ?id ; rdfs:label ?label ; kap:statedValue ?paper ; kap:claimGroup ?group .
  OPTIONAL { ?claim kap:statistic ?statistic }
  OPTIONAL { ?claim kap:explainedValue ?explainedValue }
}"""

_EXPLAINED = """
PREFIX kap:  <https://w3id.org/kap/ontology#>
SELECT ?id ?resolution ?adopted WHERE {
  ?discrepancy a kap:Discrepancy ; kap:discrepancyAbout ?claim ; kap:resolution ?resolution .
  ?claim kap:claimId ?id .
  OPTIONAL { ?discrepancy kap:adoptedValue ?adopted }
}"""

_LEADING_NUMBER = re.compile(r"\s*(-?[0-9]+(?:\.[0-9]+)?)(?![0-9.])")


class NothingToReproduce(KapgraphError):
    """The data holds no kap:ReviewClaim: a check that checks nothing is not a pass (exit 2)."""


def explains(adopted: str | None, graph: float | int | None, explained: float | int | None = None) -> bool:
    """Whether a discrepancy whose kap:adoptedValue is *adopted* explains the computed value *graph*
    of a claim whose kap:explainedValue is *explained*.

    An explanation is bound to one value: the claim's kap:explainedValue if it has one, else the
    number an adopted value starts with ("600", "5 (Wilkinson 2017, ...)"). Any other computed
    value, and any value when neither names a number, is a MISMATCH.
    """
    if graph is None:
        return False
    if explained is not None:
        return Decimal(str(explained)) == Decimal(str(graph))
    match = _LEADING_NUMBER.match(adopted or "")
    return match is not None and Decimal(match.group(1)) == Decimal(str(graph))


@dataclass(frozen=True)
class ClaimCheck:
    id: str
    label: str
    paper: float | int
    graph: float | int | None
    status: str
    note: str

    def as_dict(self) -> dict[str, object]:
        return {k: getattr(self, k) for k in ("id", "label", "paper", "graph", "status", "note")}


def _number(value: object) -> float | int | None:
    if value is None:
        return None
    if not isinstance(value, (int, float, Decimal, str)):
        value = to_python(value)  # type: ignore[arg-type]
    number = Decimal(str(value))
    return int(number) if number == number.to_integral_value() else float(number)


def _session_statistics(totals: list[int]) -> dict[str, float | int | None]:
    if not totals:
        return {"count": 0, "min": None, "max": None, "median": None, "iqr": None}
    q1, _, q3 = statistics.quantiles(totals, n=4, method="inclusive") if len(totals) > 1 else (totals[0],) * 3
    return {
        "count": len(totals),
        "min": min(totals),
        "max": max(totals),
        "median": _number(statistics.median(totals)),
        "iqr": _number(round(q3 - q1, 2)),
    }


def reproduce(engine: Engine, catalog: Catalog | None = None) -> list[ClaimCheck]:
    """Check every review claim in the graph against the value computed from the study facts."""
    catalog = catalog or Catalog()
    computed: dict[str, float | int | None] = {}
    totals: list[int] = []
    # the queries tagged 'reproduction': those returning ?id ?graph, and the per-study session totals
    for query in (q for q in catalog.all() if q.name.startswith("review/") and "reproduction" in q.tags):
        table = engine.query(query.text)
        if {"id", "graph"} <= set(table.vars):
            for record in table.records():
                computed[value(record["id"])] = _number(record["graph"]) if "graph" in record else None
        elif query.name == "review/psychotherapy-sessions":
            totals = sorted(int(value(r["sessions"])) for r in table.records())
    stats = _session_statistics(totals)
    explained: dict[str, tuple[str, str | None]] = {}
    for r in engine.query(_EXPLAINED).records():
        explained[value(r["id"])] = (value(r["resolution"]), value(r["adopted"]) if "adopted" in r else None)

    checks = []
    for record in engine.query(_CLAIMS).records():
        claim_id = value(record["id"])
        paper = _number(record["paper"])
        assert paper is not None
        bound = _number(record["explainedValue"]) if "explainedValue" in record else None
        if value(record["group"]) == "sessions" and "statistic" in record:
            graph = stats.get(value(record["statistic"]))
        else:
            graph = computed.get(claim_id)
        if graph is not None and Decimal(str(graph)) == Decimal(str(paper)):
            status, note = MATCH, ""
        elif claim_id in explained and explains(explained[claim_id][1], graph, bound):
            status, note = DISCREPANCY, explained[claim_id][0]
        elif claim_id in explained:
            what = bound if bound is not None else explained[claim_id][1]
            status, note = MISMATCH, f"the recorded kap:Discrepancy explains {what}, not the computed {graph}"
        elif graph is None and claim_id not in computed and value(record["group"]) != "sessions":
            status, note = MISMATCH, "no stored query under queries/review/ computes this claim"
        else:
            status, note = MISMATCH, "no kap:Discrepancy in the graph explains the difference"
        checks.append(ClaimCheck(claim_id, value(record["label"]), paper, graph, status, note))
    if not checks:
        raise NothingToReproduce(
            "the data holds no kap:ReviewClaim, so there is nothing to reproduce; include data/claims.ttl"
        )
    return sorted(checks, key=lambda c: c.id)
