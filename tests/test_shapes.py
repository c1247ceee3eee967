"""SHACL shapes: one test per example file (tests/data/shapes/{valid,invalid}/*.ttl).

Each invalid file is the valid minimal study with one edit, and names in a '# expect:' line the
shape that must fire (its sh:sourceShape).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from rdflib import URIRef
from rdflib.namespace import SH

from kapgraph.namespaces import KAPSH
from kapgraph.validation import shapes_graph, validate
from tests.conftest import TEST_DATA

VALID = sorted((TEST_DATA / "shapes" / "valid").glob("*.ttl"))
INVALID = sorted((TEST_DATA / "shapes" / "invalid").glob("*.ttl"))


def expected_shape(path: Path) -> URIRef:
    match = re.search(r"^# expect: kapsh:(\S+)$", path.read_text(encoding="utf-8"), re.M)
    assert match, f"{path.name} has no '# expect: kapsh:...' line"
    return KAPSH[match.group(1)]


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.name)
def test_valid_example_conforms(path: Path) -> None:
    report = validate([path])
    assert report.conforms, report.text()
    assert not report.findings, report.text()


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.name)
def test_invalid_example_fires_its_shape(path: Path) -> None:
    shape = expected_shape(path)
    report = validate([path])
    assert not report.conforms
    fired = {f.shape for f in report.violations}
    assert shape in fired, f"expected {shape}, got {fired}\n{report.text()}"
    hit = next(f for f in report.violations if f.shape == shape)
    assert hit.file == path and hit.message
    # a result nested in another (sh:detail) is reported with it, not counted again
    for detail in re.findall(r"^# detail: kapsh:(\S+)$", path.read_text(encoding="utf-8"), re.M):
        nested = [f for f in report.findings if f.nested]
        assert KAPSH[detail] in {f.shape for f in nested}, report.text()
        assert KAPSH[detail] not in {f.shape for f in report.results}


def test_bundled_data_conforms() -> None:
    report = validate()
    assert report.conforms, report.text()
    assert len(report.files) == 20  # 17 studies, the review, its claims, the publication identifiers


def test_every_shape_has_an_actionable_message() -> None:
    shapes = shapes_graph()
    named = {s for s in shapes.subjects() if isinstance(s, URIRef) and str(s).startswith(str(KAPSH))}
    constraint_shapes = {s for s in named if (s, SH.path, None) in shapes or (s, SH.select, None) in shapes}
    assert len(constraint_shapes) > 40
    missing = sorted(str(s) for s in constraint_shapes if (s, SH.message, None) not in shapes)
    assert not missing, missing
