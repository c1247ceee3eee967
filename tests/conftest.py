"""Shared, session-scoped fixtures: the loaded engines, the rdflib graph, the review text, the CLI runner.

See tests/data/README.md for where each test file comes from.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from click.testing import CliRunner

from kapgraph.backends import Engine, open_engine
from tests.servers import virtuoso  # noqa: F401  (a session fixture: Virtuoso, for the server-marked tests)

if TYPE_CHECKING:
    from rdflib import Graph

    from kapgraph.backends.oxigraph import OxigraphEngine
    from kapgraph.backends.rdflib_graph import RdflibEngine

ROOT = Path(__file__).resolve().parents[1]
TEST_DATA = Path(__file__).resolve().parent / "data"
REVIEW_TEXT = Path(
    os.environ.get("KAPGRAPH_REVIEW_TEXT", ROOT.parent / "shared" / "source" / "drozdz-2022-kap-review.txt")
)
STUDY_FILES = sorted((ROOT / "data" / "studies").glob("*.ttl"))
SLUGS = [p.stem for p in STUDY_FILES]


def collapse(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


@pytest.fixture(scope="session")
def review_text() -> str:
    if not REVIEW_TEXT.is_file():
        if os.environ.get("CI"):
            pytest.fail(f"the review text is missing at {REVIEW_TEXT}; CI must provide shared/ beside the clone")
        pytest.skip(f"review text not found at {REVIEW_TEXT} (set KAPGRAPH_REVIEW_TEXT to its path)")
    return collapse(REVIEW_TEXT.read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def engines() -> dict[str, Engine]:
    return {name: open_engine(name) for name in ("oxigraph", "rdflib")}


@pytest.fixture(scope="session", params=["oxigraph", "rdflib"])
def engine(request: pytest.FixtureRequest, engines: dict[str, Engine]) -> Engine:
    return engines[request.param]


@pytest.fixture(scope="session")
def oxigraph(engines: dict[str, Engine]) -> OxigraphEngine:
    return engines["oxigraph"]  # type: ignore[return-value]


@pytest.fixture(scope="session")
def rdflib_engine(engines: dict[str, Engine]) -> RdflibEngine:
    return engines["rdflib"]  # type: ignore[return-value]


@pytest.fixture(scope="session")
def rdf_graph() -> Graph:
    """The bundled ontology and data as one rdflib graph, for oracles that walk it in Python (no SPARQL):
    the asserted triples only (the oracles must not lean on kapgraph's own inferred graph)."""
    from kapgraph.backends.rdflib_graph import RdflibEngine

    return RdflibEngine.load(asserted_only=True).graph


@pytest.fixture()
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture(scope="session")
def served(tmp_path_factory: pytest.TempPathFactory) -> object:
    """``kapgraph serve`` on the bundled graph, on a free loopback port, stopped (SIGINT) at the end.

    Yields its base URL (``http://127.0.0.1:PORT``); the endpoint is BASE + ``/query``, the site BASE + ``/kap/``."""
    from tests.endpoint_helpers import free_port, start_serve, stop

    port = free_port()
    process = start_serve(tmp_path_factory.mktemp("serve-store"), port)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(process)


@pytest.fixture(scope="session")
def writable_oxigraph(tmp_path_factory: pytest.TempPathFactory) -> object:
    """A writable ``oxigraph serve`` in a temporary folder on a free loopback port, killed at the end.

    Yields its base URL (``/store``, ``/update``, ``/query`` below it)."""
    from tests.endpoint_helpers import oxigraph_server

    with oxigraph_server(tmp_path_factory.mktemp("oxigraph-writable")) as base:
        yield base
