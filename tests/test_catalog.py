"""The stored-query catalog: strict headers, names, suggestions."""

from __future__ import annotations

from pathlib import Path

import pytest

from kapgraph.catalog import Catalog
from kapgraph.errors import CatalogError, UnknownQueryError

GOOD = """#+ summary: A test query
#+ params:
#+   - design: {type: concept, scheme: design}
#+ tags: [test]
SELECT ?study WHERE { ?study <https://w3id.org/kap/ontology#design> ?design }
"""

MALFORMED = {
    "no-header": ("SELECT * WHERE { ?s ?p ?o }", "must start with '#+ summary"),
    "bad-yaml": ("#+ summary: [unclosed\nSELECT * WHERE { ?s ?p ?o }", "not valid YAML"),
    "unknown-key": ("#+ summary: x\n#+ sumary: y\nSELECT * WHERE { ?s ?p ?o }", "unknown key"),
    "no-summary": ("#+ tags: [a]\nSELECT * WHERE { ?s ?p ?o }", "'summary' is required"),
    "bad-type": ("#+ summary: x\n#+ params:\n#+   - s: {type: number}\nSELECT * WHERE { ?s ?p ?o }", "type must be"),
    "bad-scheme": ("#+ summary: x\n#+ params:\n#+   - s: {type: concept, scheme: nope}\nSELECT * WHERE { ?s ?p ?o }",
                   "'scheme' must name"),
    "unused-param": ("#+ summary: x\n#+ params:\n#+   - zz: {type: string}\nSELECT * WHERE { ?s ?p ?o }",
                     "not used as ?zz"),
    "param-not-mapping": ("#+ summary: x\n#+ params: [design]\nSELECT * WHERE { ?s ?p ?design }", "each entry"),
    "bad-tags": ("#+ summary: x\n#+ tags: 3\nSELECT * WHERE { ?s ?p ?o }", "'tags' must be"),
}  # fmt: skip


def write(root: Path, name: str, text: str) -> Catalog:
    (root / f"{name}.rq").write_text(text, encoding="utf-8")
    return Catalog(root)


def test_bundled_catalog_parses_and_every_query_has_a_summary() -> None:
    queries = Catalog().all()
    names = {q.name for q in queries}
    assert {"studies", "studies-by-design", "studies-by-diagnosis", "studies-by-route", "studies-by-modality",
            "studies-by-comparator", "studies-by-timing", "psychotherapy-before-and-after",
            "ketamine-regimens", "conference-abstracts", "evidence"} <= names  # fmt: skip
    assert all(q.summary for q in queries)


def test_good_header_is_parsed(tmp_path: Path) -> None:
    query = write(tmp_path, "good", GOOD).get("good")
    assert query.summary == "A test query"
    assert query.tags == ("test",)
    (param,) = query.params
    assert (param.name, param.type, param.schemes, param.required) == ("design", "concept", ("design",), True)


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_header_is_an_error_naming_the_file(case: str, tmp_path: Path) -> None:
    text, expected = MALFORMED[case]
    catalog = write(tmp_path, case, text)
    with pytest.raises(CatalogError) as info:
        catalog.get(case)
    assert f"{case}.rq:" in str(info.value)
    assert expected in str(info.value)


def test_unknown_query_suggests_close_names() -> None:
    with pytest.raises(UnknownQueryError) as info:
        Catalog().get("studies-by-diagnoses")
    assert "studies-by-diagnosis" in info.value.suggestions
    assert "kapgraph list" in str(info.value)


def test_path_like_names_are_not_followed(tmp_path: Path) -> None:
    with pytest.raises(UnknownQueryError):
        Catalog().get("../pyproject")


def test_every_required_parameter_has_an_example_so_every_query_can_run() -> None:
    for query in Catalog().all():
        for param in query.params:
            if param.required and param.default is None:
                assert param.example is not None, f"{query.name}: parameter {param.name!r} needs an 'example'"
