"""Every GROUP_CONCAT cell of the stored queries lists its parts in the order its query states, on both engines.

SPARQL leaves the order of GROUP_CONCAT's parts to the engine, so the same question could give differently
ordered cells on Oxigraph, rdflib and remote servers. Each query that concatenates sorts the parts in an
ordered sub-select and says in its header in which order they come; :data:`ORDERS` repeats that statement
for each concatenated column, and the test splits every cell at its separator and checks the parts.

The standard does not promise that GROUP_CONCAT keeps a sub-select's order: this test is what holds the
two engines to it. The queries run on the bundled data plus ``tests/data/concat-order/local.ttl``, whose
synthetic study and terms give a multi-valued cell to the queries that have none on the bundled data (a
``-violation`` query has no rows there at all), and the federated ones against a loopback Oxigraph server
holding the fixtures of ``tests/data/federated/`` and ``tests/data/concat-order/endpoint.trig``. Each case
must check at least one cell with several parts, so that it cannot pass by having nothing to check.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import NamedTuple

import pytest

from kapgraph import resources
from kapgraph.api import run_query
from kapgraph.backends import Engine, open_engine
from kapgraph.catalog import Catalog
from kapgraph.errors import EngineError
from kapgraph.results import value
from tests.conftest import TEST_DATA
from tests.endpoint_helpers import oxigraph_server
from tests.test_federated import FIXTURES, RDFLIB_FAILS, oxigraph_binary

LOCAL = TEST_DATA / "concat-order" / "local.ttl"
ENDPOINT_DATA = TEST_DATA / "concat-order" / "endpoint.trig"
#: stands for the loopback endpoint's URL in the parameters of a federated case
ENDPOINT = "<loopback endpoint>"


class Order(NamedTuple):
    separator: str
    #: the sort key of one part
    key: Callable[[str], object]
    #: the order as the query's header states it
    stated: str


def alphabetical(part: str) -> object:
    return part


def primary_then_comorbid(part: str) -> object:
    return (part.startswith("(comorbid "), part)


PHASES = ["before", "during", "after"]


def in_time(part: str) -> object:
    assert part in PHASES, f"{part!r} is no phase this test knows: say where it comes in the order of time"
    return PHASES.index(part)


ALPHABETICAL = {sep: Order(sep, alphabetical, "alphabetical") for sep in (" ", ", ", " | ")}

#: each stored query that uses GROUP_CONCAT: its concatenated columns and their stated order
ORDERS: dict[str, dict[str, Order]] = {
    "qc/duplicate-label-violation": {"which": ALPHABETICAL[" "]},
    "review/discrepancies": {"printedValues": ALPHABETICAL[" | "], "quotes": ALPHABETICAL[" | "]},
    "studies": {
        "diagnoses": Order(", ", primary_then_comorbid, "primary diagnoses, then comorbid ones, each alphabetical"),
        "routes": ALPHABETICAL[", "],
        "modalities": ALPHABETICAL[", "],
    },
    "studies-by-modality": {"modalities": ALPHABETICAL[", "]},
    "studies-by-timing": {"phases": Order(", ", in_time, "the order of time: before, during, after")},
    "psychotherapy-before-and-after": {"diagnoses": ALPHABETICAL[", "]},
    "federated/mesh-diagnoses": {"treeNumbers": ALPHABETICAL[" | "], "broaderDescriptors": ALPHABETICAL[" | "]},
    "federated/wikidata-drugs": {
        column: ALPHABETICAL[" | "] for column in ("cas", "pubchem", "drugbank", "conditions")
    },
}

#: (query, parameters): each gives cells with several parts
CASES = [
    ("qc/duplicate-label-violation", {}),
    ("review/discrepancies", {}),
    ("studies", {}),
    ("studies-by-modality", {"modality": "MBI"}),
    ("studies-by-timing", {"timing": "after"}),
    ("studies-by-timing", {"timing": "B+A"}),
    ("psychotherapy-before-and-after", {}),
    ("federated/mesh-diagnoses", {"endpoint": ENDPOINT}),
    ("federated/wikidata-drugs", {"endpoint": ENDPOINT}),
]


def case_id(case: object) -> str:
    if isinstance(case, dict):
        return ",".join(f"{k}={v}" for k, v in case.items() if v != ENDPOINT) or "-"
    return str(case)


@pytest.fixture(scope="module", params=["oxigraph", "rdflib"])
def engine_with_synthetic(request: pytest.FixtureRequest) -> Engine:
    """The named engine over the bundled data and ``tests/data/concat-order/local.ttl``."""
    return open_engine(request.param, [resources.data_dir(), LOCAL])


@pytest.fixture(scope="module")
def order_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The query URL of a read-only loopback Oxigraph server with the federated fixtures and endpoint.trig."""
    oxigraph_binary()  # a clear failure if the server binary is missing
    store = tmp_path_factory.mktemp("concat-order") / "store"
    with oxigraph_server(store, *FIXTURES, ENDPOINT_DATA, read_only=True) as base:
        yield f"{base}/query"


def test_every_concatenating_query_states_an_order() -> None:
    concatenating = {q.name for q in Catalog().all() if "GROUP_CONCAT" in q.text.upper()}
    assert concatenating == set(ORDERS), "a query that uses GROUP_CONCAT needs its order in ORDERS (and a case)"
    assert {name for name, _ in CASES} == set(ORDERS)


@pytest.mark.parametrize(("name", "params"), CASES, ids=case_id)
def test_concatenated_parts_come_in_the_stated_order(
    name: str, params: dict[str, str], engine_with_synthetic: Engine, request: pytest.FixtureRequest
) -> None:
    engine = engine_with_synthetic
    if ENDPOINT in params.values():
        url = request.getfixturevalue("order_endpoint")
        params = {k: url if v == ENDPOINT else v for k, v in params.items()}
    try:
        table = run_query(name, params, engine=engine)
    except EngineError as exc:
        if engine.name != "rdflib" or name not in RDFLIB_FAILS:
            raise
        message, reason = RDFLIB_FAILS[name]
        assert message in str(exc), f"rdflib failed otherwise than known: {exc}"
        pytest.xfail(reason)
    orders = ORDERS[name]
    assert set(orders) <= set(table.vars), f"{name} no longer has the columns {sorted(set(orders) - set(table.vars))}"
    several = 0
    for record in table.records():
        for column, order in orders.items():
            if record.get(column) is None:
                continue
            cell = str(value(record[column]))
            parts = cell.split(order.separator)
            several += len(parts) > 1
            assert parts == sorted(parts, key=order.key), (
                f"{name} on {engine.name}: {column} = {cell!r} is not in the stated order ({order.stated})"
            )
    assert several, f"{name} gave no cell with several parts: the case checks nothing"
