"""Every quote in the graph is verbatim review text; every extracted value has a quote."""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import RDF, Literal
from rdflib.namespace import SKOS

from kapgraph.loading import parse_file
from kapgraph.namespaces import KAP, OA
from tests.conftest import ROOT, STUDY_FILES, collapse

FILES = [*STUDY_FILES, ROOT / "data" / "review.ttl", ROOT / "data" / "claims.ttl"]


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_every_quote_is_verbatim_review_text(path: Path, review_text: str) -> None:
    graph = parse_file(path)
    selectors = list(graph.subject_objects(OA.exact))
    assert selectors, f"{path.name} has no text-quote selectors"
    for selector, exact in selectors:
        quote = collapse(str(exact))
        assert quote in review_text, f"{path.name}: not in the review: {quote[:100]!r}"
        prefix = collapse(str(graph.value(selector, OA.prefix) or ""))
        suffix = collapse(str(graph.value(selector, OA.suffix) or ""))
        if prefix or suffix:
            context = " ".join(part for part in (prefix, quote, suffix) if part)
            assert collapse(context) in review_text, f"{path.name}: prefix/quote/suffix not contiguous: {quote!r}"


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_every_extracted_value_has_evidence(path: Path) -> None:
    ontology = parse_file(ROOT / "ontology" / "kap.ttl")
    flagged = set(ontology.subjects(KAP.requiresEvidence, Literal(True)))
    graph = parse_file(path)
    supported = {
        (node, prop)
        for ev in graph.subjects(RDF.type, KAP.Evidence)
        for node in graph.objects(ev, KAP.evidenceFor)
        for prop in graph.objects(ev, KAP.evidenceProperty)
    }
    missing = [(s, p, o) for s, p, o in graph if p in flagged and (s, p) not in supported]
    assert not missing, f"{path.name}: values without evidence: {missing[:5]}"


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_inferred_evidence_says_why(path: Path) -> None:
    graph = parse_file(path)
    for ev in graph.subjects(KAP.inferred, Literal(True)):
        assert graph.value(ev, SKOS.note), f"{path.name}: inferred evidence {ev} has no skos:note"


def test_one_file_per_study_named_by_slug() -> None:
    assert len(STUDY_FILES) == 17
    for path in STUDY_FILES:
        graph = parse_file(path)
        studies = list(graph.subjects(RDF.type, KAP.Study))
        assert [str(s) for s in studies] == [f"https://w3id.org/kap/id/study/{path.stem}"], path.name
