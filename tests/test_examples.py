"""The query catalog as SIB-style sparql-examples RDF, checked against the ``.rq`` files themselves."""

from __future__ import annotations

import re

import pytest
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import RDF, RDFS
from rdflib.plugins.sparql import prepareQuery

from kapgraph import resources
from kapgraph.examples import ENDPOINT, KAPQ, SPEX, query_iri, turtle

SH = Namespace("http://www.w3.org/ns/shacl#")
SCHEMA = Namespace("https://schema.org/")
FORMS = {"SelectQuery": "select", "AskQuery": "ask", "ConstructQuery": "construct", "DescribeQuery": "describe"}
RQ_FILES = sorted(resources.queries_dir().rglob("*.rq"))


@pytest.fixture(scope="module")
def catalog_graph() -> Graph:
    return Graph().parse(data=turtle(), format="turtle")


def _header(path) -> dict[str, str]:
    import yaml

    lines = [line[2:] for line in path.read_text(encoding="utf-8").splitlines() if line.startswith("#+")]
    return yaml.safe_load("\n".join(lines))


def test_one_executable_per_rq_file(catalog_graph: Graph) -> None:
    executables = set(catalog_graph.subjects(RDF.type, SH.SPARQLExecutable))
    names = {p.relative_to(resources.queries_dir()).with_suffix("").as_posix() for p in RQ_FILES}
    assert executables == {URIRef(query_iri(n)) for n in names}


@pytest.mark.parametrize("path", RQ_FILES, ids=lambda p: p.stem)
def test_entry_matches_its_file(catalog_graph: Graph, path) -> None:
    name = path.relative_to(resources.queries_dir()).with_suffix("").as_posix()
    node = URIRef(query_iri(name))
    text = path.read_text(encoding="utf-8")
    header = _header(path)
    # the query form, by rdflib's own SPARQL parser (not the generator's regex)
    form = FORMS[prepareQuery(text).algebra.name]
    bodies = list(catalog_graph.objects(node, SH[form]))
    assert len(bodies) == 1
    body = str(bodies[0])
    assert body.strip() == "\n".join(ln for ln in text.splitlines() if not ln.startswith("#+")).strip()
    assert (node, RDF.type, SH[f"SPARQL{form.capitalize()}Executable"]) in catalog_graph
    assert (node, RDFS.comment, Literal(header["summary"].strip(), lang="en")) in catalog_graph
    assert set(map(str, catalog_graph.objects(node, SCHEMA.keywords))) == set(header.get("tags") or [])
    assert (node, SCHEMA.target, URIRef(ENDPOINT)) in catalog_graph
    params = {
        str(catalog_graph.value(p, RDFS.label)): p for p in catalog_graph.objects(node, URIRef(KAPQ + "parameter"))
    }
    expected = {next(iter(item)): next(iter(item.values())) for item in header.get("params") or []}
    assert set(params) == set(expected)
    for pname, spec in expected.items():
        assert str(catalog_graph.value(params[pname], URIRef(KAPQ + "parameterType"))) == spec["type"]
        allowed = {str(v) for v in catalog_graph.objects(params[pname], URIRef(KAPQ + "allowedValue"))}
        assert allowed == {str(v) for v in spec.get("values", [])}
    services = re.findall(r"SERVICE\s+\?(\w+)", body)
    federates = {str(o) for o in catalog_graph.objects(node, URIRef(SPEX + "federatesWith"))}
    assert federates == {expected[v]["default"] for v in services if "default" in expected.get(v, {})}


def test_catalog_rdf_is_queryable(catalog_graph: Graph) -> None:
    rows = catalog_graph.query(
        "PREFIX sh: <http://www.w3.org/ns/shacl#> PREFIX schema: <https://schema.org/> "
        'SELECT ?q WHERE { ?q a sh:SPARQLSelectExecutable ; schema:keywords "timing" }'
    )
    assert {str(r.q).rsplit("/", 1)[-1] for r in rows} >= {"studies-by-timing"}
