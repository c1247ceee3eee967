"""Time `kapgraph validate` on many studies and print the numbers (not a test: timings vary by machine).

python benchmarks/validation.py [--studies N ...] [--jobs J] [--pyshacl-max N] [FOLDER ...]

Without FOLDER it makes a scale fixture per N in a temporary folder: the 17 bundled study files
copied over and over, each copy with its IRIs moved from https://w3id.org/kap/id/study/ to
https://w3id.org/kap/id/synth/copyNNNN/ (so every copy is a distinct study), plus the bundled
shared files (review, claims, identifiers). With FOLDER (e.g. the output of kapgraph.synth) it
validates that folder. For each it prints the wall time and the findings of the fast engine, and
for N up to --pyshacl-max also pySHACL's whole-graph reference (and whether the reports agree).
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from collections import Counter
from pathlib import Path

from rdflib import BNode

from kapgraph import resources
from kapgraph.validation import Finding, validate

STUDY_NS = "https://w3id.org/kap/id/study/"


def make_fixture(out: Path, studies: int) -> Path:
    """Write *studies* copied study files (and the shared files) under *out*; return *out*."""
    data = resources.data_dir()
    (out / "studies").mkdir(parents=True, exist_ok=True)
    for shared in sorted(data.glob("*.ttl")):
        shutil.copy(shared, out / shared.name)
    originals = [(p.stem, p.read_text(encoding="utf-8")) for p in sorted((data / "studies").glob("*.ttl"))]
    written = 0
    copy = 0
    while written < studies:
        copy += 1
        for stem, text in originals:
            if written >= studies:
                break
            moved = text.replace(STUDY_NS, f"https://w3id.org/kap/id/synth/copy{copy:04d}/")
            (out / "studies" / f"copy{copy:04d}-{stem}.ttl").write_text(moved, encoding="utf-8")
            written += 1
    return out


def _key(f: Finding) -> tuple[object, ...]:
    def c(x: object) -> object:
        return "_:b" if isinstance(x, BNode) else x

    return (f.severity, c(f.focus), c(f.path), c(f.value), f.message, c(f.shape), str(f.file))


def _run(label: str, folder: Path, jobs: int | None, pyshacl: bool) -> None:
    start = time.perf_counter()
    fast = validate([folder], jobs=jobs)
    seconds = time.perf_counter() - start
    found = len(fast.findings)
    print(f"{label}: fast    {seconds:7.2f} s  {found:6d} findings  conforms={fast.conforms}  [{fast.engine}]")
    if pyshacl:
        start = time.perf_counter()
        ref = validate([folder], engine="pyshacl")
        seconds = time.perf_counter() - start
        same = Counter(map(_key, ref.findings)) == Counter(map(_key, fast.findings)) and ref.conforms == fast.conforms
        print(f"{label}: pyshacl {seconds:7.2f} s  {len(ref.findings):6d} findings  same report: {same}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folders", nargs="*", type=Path, help="validate these folders instead of copied fixtures")
    parser.add_argument("--studies", type=int, nargs="+", default=[17, 1000, 10000])
    parser.add_argument("--jobs", type=int, default=None, help="worker processes (default: CPU count)")
    parser.add_argument("--pyshacl-max", type=int, default=100, help="also run pySHACL up to this many studies")
    args = parser.parse_args()
    if args.folders:
        for folder in args.folders:
            count = len(list(folder.rglob("studies/*.ttl")))
            _run(f"{folder} ({count} studies)", folder, args.jobs, count <= args.pyshacl_max)
        return
    for n in args.studies:
        with tempfile.TemporaryDirectory(prefix="kapgraph-bench-") as tmp:
            folder = make_fixture(Path(tmp), n)
            _run(f"{n:6d} studies", folder, args.jobs, n <= args.pyshacl_max)


if __name__ == "__main__":
    main()
