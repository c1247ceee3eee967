"""The stored-query catalog: strict headers, names, suggestions."""

from __future__ import annotations

import json
import os
import subprocess
import sys
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


# --- the header cache: what PyYAML read, kept for that very text ------------------------------


def headers_in(cache: Path) -> list[Path]:
    return sorted((cache / "kapgraph" / "headers").glob("*.json"))


@pytest.fixture()
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(folder))
    return folder


def test_a_query_run_again_does_not_import_pyyaml_and_answers_the_same(tmp_path: Path) -> None:
    script = (
        "import sys\n"
        "from kapgraph.cli import main\n"
        "sys.argv = ['kapgraph', 'query', 'psychotherapy-before-and-after', '--param', 'diagnosis=PTSD']\n"
        "try:\n    main()\nexcept SystemExit as exit:\n    assert not exit.code, exit.code\n"
        "print('YAML', 'yaml' in sys.modules, file=sys.stderr)\n"
    )
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    runs = [subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120)]
    runs.append(subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120))
    assert all(run.returncode == 0 for run in runs), runs[-1].stderr
    assert "YAML True" in runs[0].stderr and "YAML False" in runs[1].stderr
    assert "duek2019" in runs[1].stdout and runs[0].stdout == runs[1].stdout
    assert len(headers_in(tmp_path / "cache")) == 1


def test_an_edited_header_is_read_again(tmp_path: Path, cache: Path) -> None:
    first = write(tmp_path, "good", GOOD).get("good")
    again = write(tmp_path, "good", GOOD).get("good")
    assert again == first and len(headers_in(cache)) == 1
    edited = write(tmp_path, "good", GOOD.replace("A test query", "An edited query")).get("good")
    assert edited.summary == "An edited query" and len(headers_in(cache)) == 2
    broken = GOOD.replace("tags: [test]", "tags: [test")
    with pytest.raises(CatalogError, match="not valid YAML"):
        write(tmp_path, "good", broken).get("good")


@pytest.mark.parametrize(
    "damage",
    [b"", b"{not json", b"[]", b'{"header": "summary: other", "yaml": "x", "data": {"summary": "other"}}'],
    ids=["empty", "not-json", "not-a-mapping", "another-text"],
)
def test_a_damaged_or_foreign_cache_entry_is_not_used(damage: bytes, tmp_path: Path, cache: Path) -> None:
    catalog = write(tmp_path, "good", GOOD)
    expected = catalog.get("good")
    (entry,) = headers_in(cache)
    entry.write_bytes(damage)
    assert catalog.get("good") == expected
    assert json.loads(entry.read_bytes())["data"]["summary"] == "A test query"  # written anew


def test_a_header_that_json_cannot_hold_is_read_each_time_and_not_kept(tmp_path: Path, cache: Path) -> None:
    dated = GOOD.replace("#+ tags: [test]", "#+ tags: [test]\n#+ description: 2024-01-31")
    keyed = GOOD.replace("#+ tags: [test]", "#+ tags: [test]\n#+ description: {1: one}")
    assert write(tmp_path, "dated", dated).get("dated").description == "2024-01-31"
    assert write(tmp_path, "dated", dated).get("dated").description == "2024-01-31"
    assert write(tmp_path, "keyed", keyed).get("keyed").description == "{1: 'one'}"
    assert write(tmp_path, "keyed", keyed).get("keyed").description == "{1: 'one'}"
    assert headers_in(cache) == []


def test_a_cache_that_cannot_be_written_only_costs_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the cache folder would be", encoding="utf-8")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocked))
    catalog = write(tmp_path, "good", GOOD)
    assert catalog.get("good") == catalog.get("good")
    assert catalog.get("good").summary == "A test query"
