"""Time every stored query on each engine and print the numbers (not a test: timings vary by machine).

python benchmarks/queries.py [--repeat N]
"""

from __future__ import annotations

import argparse
import statistics
import time

from kapgraph.api import run_query
from kapgraph.catalog import Catalog
from kapgraph.engines import open_engine

SAMPLE_PARAMS = {
    "studies-by-design": {"design": "RCT"},
    "studies-by-diagnosis": {"diagnosis": "PTSD"},
    "studies-by-route": {"route": "IV"},
    "studies-by-modality": {"modality": "CBT"},
    "studies-by-comparator": {"comparator": "midazolam"},
    "studies-by-timing": {"timing": "B+A"},
    "evidence": {"study": "dakwar2019"},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    for name in ("oxigraph", "rdflib"):
        start = time.perf_counter()
        engine = open_engine(name)
        print(f"{name}: loaded {len(engine.graph)} triples in {time.perf_counter() - start:.2f} s")
        for query in Catalog().names():
            times = []
            for _ in range(args.repeat):
                start = time.perf_counter()
                rows = len(run_query(query, SAMPLE_PARAMS.get(query, {}), engine=engine).rows)
                times.append(time.perf_counter() - start)
            print(f"  {query:36s} {rows:4d} rows  median {statistics.median(times) * 1000:8.1f} ms")


if __name__ == "__main__":
    main()
