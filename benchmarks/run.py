"""Benchmark kapgraph at several sizes and write benchmarks/results.json and a plot.

    python benchmarks/run.py [--sizes 17,1000,10000,100000] [--timeout 10] [--repeat 5]

For each size N (17 is the bundled graph; larger sizes are ``kapgraph synth`` studies, seed 0), it
measures: bulk-load throughput into the on-disk store, and parse time into rdflib for comparison;
each stored query's median latency on embedded Oxigraph (warm store) and on rdflib's engine, each
query in a forked process that is stopped at ``--timeout`` and reported as "> timeout"; SHACL
validation time; the cold wall time of the README's main command and its ratio to
``python -c "import rdflib"`` measured in the same run; peak memory of each step. Nothing here is a
test: the numbers depend on the machine, which is recorded with them.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import multiprocessing
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
MAIN = ["query", "psychotherapy-before-and-after", "--param", "diagnosis=PTSD"]
_FORK = multiprocessing.get_context("fork")


def _peak_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _in_child(work: Callable[[], Any], timeout: float) -> tuple[str, Any]:
    """Run *work* in a forked process: ("ok", result), ("timeout", None) or ("error", message)."""
    reader, writer = _FORK.Pipe(duplex=False)

    def target() -> None:
        try:
            writer.send(("ok", work()))
        except BaseException as exc:  # report, never hang the parent
            writer.send(("error", f"{type(exc).__name__}: {exc}"))

    child = _FORK.Process(target=target)
    child.start()
    writer.close()
    if reader.poll(timeout):
        try:
            outcome = reader.recv()
        except EOFError:
            outcome = ("error", f"the process died (exit code {child.exitcode})")
        child.join(5)
    else:
        child.kill()
        child.join()
        outcome = ("timeout", None)
    return outcome


def _machine() -> dict[str, Any]:
    import pyoxigraph

    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu, "cores": os.cpu_count(), "memory_gib": round(memory, 1), "system": platform.platform(),
        "python": platform.python_version(), "pyoxigraph": pyoxigraph.__version__,
    }  # fmt: skip


def _wall(command: list[str], runs: int) -> float:
    # with bytecode written and read, as after ``pip install`` (rdflib's is in site-packages): with
    # PYTHONDONTWRITEBYTECODE set, a source checkout compiles kapgraph's modules on every run (25 ms)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=600, env=env)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _dataset(n: int, workdir: Path) -> list[Path] | None:
    if n == 17:
        return None  # the bundled graph
    from kapgraph.synth import synthesize

    out = workdir / f"synth-{n}"
    marker = out / "synth.json"
    made = json.loads(marker.read_text()) if marker.exists() else {}
    if (made.get("studies"), made.get("seed"), made.get("complete")) != (n, 0, True):
        synthesize(n, out, seed=0)
    return [out]


def _params(query: Any, engine: Any) -> dict[str, str]:
    """The query's example parameters, with a study of *this* data for study parameters."""
    from kapgraph.binding import allowed_values

    params = query.example_params()
    for param in query.params:
        if param.name in params and param.type == "study":
            allowed = allowed_values(engine, param)
            if params[param.name] not in allowed and allowed:
                params[param.name] = allowed[0]
    return params


def _time_queries(engine_name: str, open_: Callable[[], Any], args: argparse.Namespace) -> dict[str, Any]:
    from kapgraph.api import run_query
    from kapgraph.catalog import Catalog

    timeout, repeat = args.timeout, args.repeat
    catalog = Catalog()
    names = [n for n in catalog.names() if not n.startswith("federated/")]  # they need an endpoint
    if args.queries:
        names = [n for n in names if n in args.queries.split(",")]
    timings: dict[str, Any] = {}
    for name in names:

        def work(name: str = name, runs: int = repeat) -> dict[str, Any]:
            engine = open_()
            query = catalog.get(name)
            params = _params(query, engine)
            times, rows = [], 0
            for _ in range(runs):
                start = time.perf_counter()
                rows = len(run_query(name, params, engine=engine, catalog=catalog).rows)
                times.append(time.perf_counter() - start)
            return {"median_ms": round(statistics.median(times) * 1000, 2), "rows": rows, "runs": runs}

        # the limit is per run: one run within --timeout first, then the repeats within --timeout each
        status, result = _in_child(lambda: work(runs=1), timeout)
        if status == "ok" and repeat > 1:
            status, result = _in_child(work, timeout * repeat)
        if status == "ok":
            timings[name] = result
        elif status == "timeout":
            timings[name] = {"median_ms": None, "timeout_s": timeout, "note": f"> {timeout:g} s"}
        else:
            timings[name] = {"median_ms": None, "error": result}
        shown = timings[name].get("median_ms") or timings[name].get("note") or "error"
        print(f"    {engine_name:8s} {name:40s} {shown}", flush=True)
    return timings


def bench_size(n: int, args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    from kapgraph.loading import sources
    from kapgraph.store import StoreDir

    print(f"N = {n}", flush=True)
    start = time.perf_counter()
    data = _dataset(n, workdir)
    result: dict[str, Any] = {"studies": n, "synth_s": None if data is None else round(time.perf_counter() - start, 2)}
    result["loadavg_start"] = [round(x, 2) for x in os.getloadavg()]  # other work on the machine skews timings
    files = sources(data)
    result["files"] = len(files)
    result["source_mb"] = round(sum(s.path.stat().st_size for s in files) / 2**20, 1)
    folder = workdir / f"store-{n}"

    def load_store() -> dict[str, Any]:
        opened = StoreDir(folder).open(files, rebuild=True)
        m = opened.manifest
        return {"triples": m.triples, "seconds": m.seconds, "triples_per_s": round(m.triples / m.seconds),
                "peak_mb": _peak_mb()}  # fmt: skip

    status, loaded = _in_child(load_store, args.load_timeout)
    result["load_oxigraph"] = loaded if status == "ok" else {"error": status if loaded is None else loaded}
    print(f"  load into the on-disk store: {result['load_oxigraph']}", flush=True)

    def open_store() -> Any:
        from kapgraph.backends import open_engine

        return open_engine("oxigraph", data, store=folder)

    result["queries_oxigraph"] = _time_queries("oxigraph", open_store, args)

    # before rdflib's graph is made: once it is freed (13.7 GB at 10,000 studies) the machine is not as it was
    if n <= args.validate_max:

        def validation() -> dict[str, Any]:
            from kapgraph.validation import validate

            begin = time.perf_counter()
            report = validate(data)
            return {"seconds": round(time.perf_counter() - begin, 2), "findings": len(report.findings),
                    "violations": len(report.violations), "peak_mb": _peak_mb()}  # fmt: skip

        status, checked = _in_child(validation, args.load_timeout)
        result["validation"] = checked if status == "ok" else {"error": status if checked is None else checked}
    else:
        result["validation"] = {"skipped": f"N > --validate-max {args.validate_max}"}
    print(f"  validation: {result['validation']}", flush=True)

    if n <= args.rdflib_max:

        def rdflib_part() -> dict[str, Any]:
            from kapgraph.backends.rdflib_graph import RdflibEngine

            begin = time.perf_counter()
            reference = RdflibEngine.load(data)  # held by this process; each query runs in a fork of it
            seconds = time.perf_counter() - begin
            # Python's advice before fork(): out of the collector's reach, the graph's objects are not
            # scanned (and their pages not copied) by every collection in every forked query
            gc.freeze()
            triples = reference.triple_count()
            loaded = {"triples": triples, "seconds": round(seconds, 2),
                      "triples_per_s": round(triples / seconds), "peak_mb": _peak_mb()}  # fmt: skip
            print(f"  load into rdflib: {loaded}", flush=True)
            return {"load": loaded, "queries": _time_queries("rdflib", lambda: reference, args)}

        # in a process of its own: loading rdflib's graph opens an on-disk Oxigraph store (for the
        # inferred triples). Done here, the next size's store build, forked from this process, hung
        # at its start (seen with --sizes 17,1000,10000), most likely on that store's threads, which
        # a forked child does not have
        status, part = _in_child(rdflib_part, args.load_timeout * 2)
        if status == "ok":
            result["load_rdflib"], result["queries_rdflib"] = part["load"], part["queries"]
        else:
            result["load_rdflib"] = {"error": status if part is None else part}
            result["queries_rdflib"] = {}
    else:
        result["load_rdflib"] = {"skipped": f"N > --rdflib-max {args.rdflib_max} (memory)"}
        result["queries_rdflib"] = {}

    exe = [sys.executable, "-m", "kapgraph"]
    command = [*exe, *MAIN] if data is None else [*exe, "--data", str(data[0]), "--store", str(folder), *MAIN]
    baseline = _wall([sys.executable, "-c", "import rdflib"], args.cli_runs)
    status, _ = _in_child(lambda: _wall(command, 1), args.timeout * 3)  # one warm-up run, time-limited
    cold = _wall(command, args.cli_runs) if status == "ok" else None
    result["cli"] = {
        "command": "kapgraph " + " ".join(MAIN) + ("" if data is None else " (--data, warm --store)"),
        "median_s": None if cold is None else round(cold, 3),
        "import_rdflib_s": round(baseline, 3),
        "ratio": None if cold is None else round(cold / baseline, 2),
        "note": "" if cold is not None else f"the warm-up run did not finish in {args.timeout * 3:g} s",
    }
    print(f"  cli: {result['cli']}", flush=True)
    result["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]
    return result


def plot(results: dict[str, Any], out: Path) -> None:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(11, 4.2))
    left, right = fig.subplots(1, 2)
    sizes = [r["studies"] for r in results["sizes"]]
    plotted = False
    for engine, colour in (("oxigraph", "#0072B2"), ("rdflib", "#E69F00")):
        xs, medians, worst, beyond = [], [], [], []
        for r in results["sizes"]:
            timings = list(r[f"queries_{engine}"].values())
            values = [q["median_ms"] for q in timings if q.get("median_ms") is not None]
            if not values:
                continue
            # the median of all the queries, a timed-out one counted as slower than any that finished:
            # a median over the finished ones alone would fall as more queries time out
            limit = max((q.get("timeout_s") or 0) * 1000 for q in timings)
            median = statistics.median(values + [math.inf] * (len(timings) - len(values)))
            xs.append(r["studies"])
            medians.append(median if median != math.inf else limit)
            beyond.append(median == math.inf)
            worst.append(max(values))
            left.annotate(f"{len(values)}/{len(timings)}", (r["studies"], max(values)), fontsize=6, color=colour,
                          textcoords="offset points", xytext=(4, 4))  # fmt: skip
        left.plot(xs, medians, "o-", color=colour, label=f"{engine}: median query (n/N: finished)")
        over = [(x, m) for x, m, b in zip(xs, medians, beyond, strict=True) if b]
        left.plot([x for x, _m in over], [m for _x, m in over], "^", color=colour, markersize=9,
                  label=f"{engine}: median beyond the time limit")  # fmt: skip
        left.plot(xs, worst, "s--", color=colour, label=f"{engine}: slowest query that finished")
        plotted = plotted or bool(xs)
    # a log axis needs a positive value: at a size where no query finished there is none
    scale = "log" if plotted else "linear"
    left.set(xscale=scale, yscale=scale, xlabel="studies", ylabel="latency (ms)", title="Stored queries")
    left.legend(fontsize=7)
    ox_rate = [r["load_oxigraph"].get("triples_per_s") for r in results["sizes"]]
    rd_rate = [r["load_rdflib"].get("triples_per_s") for r in results["sizes"]]
    right.plot(sizes, ox_rate, "o-", color="#0072B2", label="on-disk Oxigraph store (bulk load)")
    right.plot([s for s, v in zip(sizes, rd_rate, strict=True) if v], [v for v in rd_rate if v], "o-",
               color="#E69F00", label="rdflib (parse)")  # fmt: skip
    right.set(xscale="log", xlabel="studies", ylabel="triples/s", title="Load throughput")
    right.legend(fontsize=7)
    fig.suptitle(f"kapgraph on {results['machine']['cores']} cores, {results['machine']['cpu']}", fontsize=9)
    fig.tight_layout()
    fig.savefig(out, dpi=110)


def _queries_cell(timings: dict[str, Any]) -> str:
    if not timings:
        return "not run"
    done = [q["median_ms"] for q in timings.values() if q.get("median_ms") is not None]
    slow = sum(1 for q in timings.values() if q.get("median_ms") is None)
    cell = f"{statistics.median(done):.0f} / {max(done):.0f} ms" if done else "none finished"
    over = sum(1 for v in done if v >= 100)
    return cell + (f", {over} ≥ 100 ms" if over else "") + (f", {slow} timed out or failed" if slow else "")


def table(results: dict[str, Any]) -> str:
    """The README's summary of a results file, as Markdown."""
    lines = [
        "| studies | triples | load: store | load: rdflib | queries, Oxigraph (median / slowest) "
        "| queries, rdflib | validation | README command (ratio to `import rdflib`) | load average |",
        "|---:|---:|---:|---:|---|---|---:|---|---|",
    ]
    for r in results["sizes"]:
        ox, rd = r["load_oxigraph"], r["load_rdflib"]
        val = r["validation"]
        cli = r["cli"]
        cells = [
            f"{r['studies']:,}",
            f"{ox['triples']:,}" if "triples" in ox else "—",
            f"{ox['triples_per_s']:,}/s" if "triples_per_s" in ox else str(ox.get("error", "—")),
            f"{rd['triples_per_s']:,}/s" if "triples_per_s" in rd else rd.get("skipped", "—"),
            _queries_cell(r["queries_oxigraph"]),
            _queries_cell(r["queries_rdflib"]),
            f"{val['seconds']} s" if "seconds" in val else val.get("skipped", str(val.get("error", "—"))),
            f"{cli['median_s']} s ({cli['ratio']}×)" if cli.get("median_s") else cli.get("note", "—"),
            " → ".join(f"{a[0]:.1f}" for a in (r.get("loadavg_start"), r.get("loadavg_end")) if a) or "—",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="17,1000,10000,100000", help="comma-separated study counts (17: bundled)")
    parser.add_argument("--timeout", type=float, default=10.0, help="time limit of one run of a query, seconds")
    parser.add_argument("--load-timeout", type=float, default=3600.0, help="time limit of a load or validation")
    parser.add_argument("--repeat", type=int, default=5, help="runs per query (the median is reported)")
    parser.add_argument("--cli-runs", type=int, default=5, help="runs of the cold CLI command")
    parser.add_argument("--queries", default="", help="comma-separated stored queries to time (default: all)")
    parser.add_argument("--rdflib-max", type=int, default=10000, help="largest N loaded into rdflib")
    parser.add_argument("--validate-max", type=int, default=10000, help="largest N validated")
    parser.add_argument("--workdir", type=Path, default=Path(os.environ.get("TMPDIR", "/tmp")) / "kapgraph-bench")
    parser.add_argument("--out", type=Path, default=HERE / "results.json")
    parser.add_argument("--plot", type=Path, default=HERE / "results.png")
    parser.add_argument(
        "--merge", action="store_true", help="keep the other sizes already in --out (each size records its own run)"
    )
    parser.add_argument("--table", action="store_true", help="print --out as the README's Markdown table and stop")
    args = parser.parse_args(argv)
    if args.table:
        print(table(json.loads(args.out.read_text(encoding="utf-8"))))
        return
    args.workdir.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {"machine": _machine(), "started": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
                               "settings": {k: v for k, v in vars(args).items() if k not in ("out", "plot", "workdir")},
                               "sizes": []}  # fmt: skip
    sizes = [int(s) for s in args.sizes.split(",")]
    if args.merge and args.out.exists():
        kept = [r for r in json.loads(args.out.read_text(encoding="utf-8"))["sizes"] if r["studies"] not in sizes]
        results["sizes"] = kept
    for n in sizes:
        record = bench_size(n, args, args.workdir)
        record["run"] = {"started": results["started"], "settings": results["settings"]}
        results["sizes"] = sorted([*results["sizes"], record], key=lambda r: r["studies"])
        args.out.write_text(json.dumps(results, indent=1, default=str) + "\n", encoding="utf-8")  # after each size
    plot(results, args.plot)
    print(f"wrote {args.out} and {args.plot}")


if __name__ == "__main__":
    main()
