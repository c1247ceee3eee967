"""The library functions behind each CLI command. They return data and raise KapgraphError."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from kapgraph import __version__
from kapgraph.binding import bind, inject_services, inject_values
from kapgraph.catalog import Catalog, StoredQuery
from kapgraph.engines import GraphEngine, open_engine
from kapgraph.results import ResultTable

DataPaths = Sequence[Path | str] | None


def run_query(
    name: str,
    params: Mapping[str, str] | None = None,
    *,
    engine: str | GraphEngine = "oxigraph",
    data: DataPaths = None,
    catalog: Catalog | None = None,
) -> ResultTable:
    """Run the stored query *name* with *params* (strings, as on the command line)."""
    query = (catalog or Catalog()).get(name)
    runner = engine if isinstance(engine, GraphEngine) else open_engine(engine, data)
    bindings = bind(runner, query, params or {})
    endpoints = {p.name for p in query.params if p.type == "endpoint"}
    text = inject_services(query.text, {k: v for k, v in bindings.items() if k in endpoints})
    return runner.query(inject_values(text, {k: v for k, v in bindings.items() if k not in endpoints}))


def run_sparql(text: str, *, engine: str | GraphEngine = "oxigraph", data: DataPaths = None) -> ResultTable:
    """Run an ad-hoc query; the project's prefixes are predeclared."""
    runner = engine if isinstance(engine, GraphEngine) else open_engine(engine, data)
    return runner.query(text)


def list_queries(catalog: Catalog | None = None) -> list[StoredQuery]:
    return (catalog or Catalog()).all()


@dataclass
class Info:
    version: str
    engine: str
    files: int
    triples: int
    studies: int
    evidence: int
    inferred: int
    participants: int


_COUNTS = """
PREFIX kap: <https://w3id.org/kap/ontology#>
SELECT
  (COUNT(DISTINCT ?study) AS ?studies)
  (SUM(COALESCE(?n, 0)) AS ?participants)
WHERE { ?study a kap:Study . OPTIONAL { ?study kap:enrolledSize ?n } }"""

_EVIDENCE = """
PREFIX kap: <https://w3id.org/kap/ontology#>
SELECT (COUNT(DISTINCT ?ev) AS ?evidence) (COUNT(DISTINCT ?inf) AS ?inferred) WHERE {
  ?ev a kap:Evidence .
  OPTIONAL { ?ev kap:inferred true . BIND(?ev AS ?inf) }
}"""


def info(*, engine: str | GraphEngine = "oxigraph", data: DataPaths = None) -> Info:
    runner = engine if isinstance(engine, GraphEngine) else open_engine(engine, data)
    studies, participants = runner.query(_COUNTS).rows[0]
    evidence, inferred = runner.query(_EVIDENCE).rows[0]
    return Info(
        version=__version__,
        engine=runner.name,
        files=len(runner.loaded.files),
        triples=len(runner.graph),
        studies=int(studies or 0),
        evidence=int(evidence or 0),
        inferred=int(inferred or 0),
        participants=int(participants or 0),
    )
