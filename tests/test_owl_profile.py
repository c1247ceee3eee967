"""The ontology is OWL 2 DL: the OWL API's own profile checker (OWL2DLProfile) finds no violation.

The checker is the OWL API 5.1 (Debian's libowlapi-java, jars in /usr/share/java) driven by a few lines of
Java (tests/java/OwlProfile.java), compiled into a temporary folder. CI installs both (.ci/run); where
either is missing the tests fail on CI and are skipped elsewhere, saying why.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pyoxigraph as ox
import pytest

from kapgraph.loading import load_memory, sources
from kapgraph.reasoning import owl_ntriples

OWLAPI = Path(os.environ.get("KAPGRAPH_OWLAPI_JAR", "/usr/share/java/owlapi-distribution.jar"))
SOURCE = Path(__file__).parent / "java" / "OwlProfile.java"


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"the OWL 2 DL profile check cannot run: {reason} (.ci/run installs it)")
    pytest.skip(f"the OWL 2 DL profile check cannot run here: {reason}")


@pytest.fixture(scope="module")
def checker(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """The java command line that runs the compiled checker (the file name is appended)."""
    if shutil.which("javac") is None or shutil.which("java") is None:
        _unavailable("no Java compiler (javac) or runtime")
    if not OWLAPI.is_file():
        _unavailable(f"the OWL API is not at {OWLAPI} (Debian: libowlapi-java)")
    folder = tmp_path_factory.mktemp("owlprofile")
    classpath = f"{OWLAPI}:{OWLAPI.parent}/*"
    shutil.copy(SOURCE, folder / SOURCE.name)
    done = subprocess.run(
        ["javac", "-cp", classpath, "-d", str(folder), str(folder / SOURCE.name)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return ["java", "-cp", f"{classpath}:{folder}", "OwlProfile"]


def violations(checker: list[str], ntriples: bytes, folder: Path) -> list[str]:
    path = folder / "input.nt"
    path.write_bytes(ntriples)
    done = subprocess.run([*checker, str(path)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stdout.splitlines()
    assert lines and lines[-1].startswith("VIOLATIONS "), done.stdout[-2000:]
    found = [line for line in lines if line.startswith("VIOLATION\t")]
    assert int(lines[-1].split()[1]) == len(found)
    return found


def test_the_ontology_and_mappings_are_owl2_dl(checker: list[str], tmp_path: Path) -> None:
    files = [s for s in sources() if "/ontology/" in s.graph]
    assert {Path(s.path).name for s in files} >= {"kap.ttl", "mappings.ttl"}
    store = load_memory(files)
    found = violations(checker, ox.serialize((q.triple for q in store), format=ox.RdfFormat.N_TRIPLES) or b"", tmp_path)
    assert found == [], "\n".join(found[:20])


def test_the_reasoners_input_is_owl2_dl(checker: list[str], tmp_path: Path) -> None:
    """Ontology + data as HermiT gets them: only the xsd:duration/gYear literals were in the way."""
    files = sources()
    ntriples, dropped = owl_ntriples(load_memory(files), [s.graph for s in files], annotations=True)
    assert dropped > 50
    found = violations(checker, ntriples, tmp_path)
    assert found == [], "\n".join(found[:20])


def test_the_checker_sees_a_violation(checker: list[str], tmp_path: Path) -> None:
    """An undeclared annotation property (as skos:prefLabel was) is reported: the check is not vacuous."""
    nt = (
        b"<https://w3id.org/kap/x> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> "
        b"<http://www.w3.org/2002/07/owl#Ontology> .\n"
        b"<https://w3id.org/kap/x#C> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> "
        b"<http://www.w3.org/2002/07/owl#Class> .\n"
        b'<https://w3id.org/kap/x#C> <http://www.w3.org/2004/02/skos/core#prefLabel> "c" .\n'
        b'<https://w3id.org/kap/x#C> <http://example.org/undeclared> "d" .\n'
    )
    found = violations(checker, nt, tmp_path)
    assert any("UseOfUndeclaredAnnotationProperty" in v for v in found), found
