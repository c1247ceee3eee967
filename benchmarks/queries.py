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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    for name in ("oxigraph", "rdflib"):
        start = time.perf_counter()
        engine = open_engine(name)
        print(f"{name}: loaded {len(engine.graph)} triples in {time.perf_counter() - start:.2f} s")
        for query in (n for n in Catalog().names() if not n.startswith("federated/")):
            times = []
            for _ in range(args.repeat):
                start = time.perf_counter()
                rows = len(run_query(query, Catalog().get(query).example_params(), engine=engine).rows)
                times.append(time.perf_counter() - start)
            print(f"  {query:36s} {rows:4d} rows  median {statistics.median(times) * 1000:8.1f} ms")


if __name__ == "__main__":
    main()
