"""The ``kapgraph`` command line: a thin layer over :mod:`kapgraph.api`.

Exit codes: 0 success; 1 validation found violations; 2 bad input (usage, unreadable or
unparsable RDF, unknown query, bad parameter, malformed query header, SPARQL syntax error, a store
folder that cannot be used, an endpoint URL that is malformed, unknown or refuses connections, a
missing ``oxigraph`` binary); 3 the query engine failed while evaluating a valid query (including
a time limit, or an endpoint's HTTP error or non-SPARQL answer); 130 interrupted (Ctrl-C).
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from kapgraph.errors import EngineError, KapgraphError

EXIT_OK, EXIT_VIOLATIONS, EXIT_BAD_INPUT, EXIT_ENGINE, EXIT_INTERRUPTED = 0, 1, 2, 3, 130
QUERY_FORMATS = ["table", "csv", "tsv", "json", "xml", "md", "turtle", "nt", "jsonld"]

F = TypeVar("F", bound=Callable[..., Any])


def _errors_to_exit_codes(func: F) -> F:
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except EngineError as exc:
            click.echo(f"kapgraph: error: {exc}", err=True)
            sys.exit(EXIT_ENGINE)
        except KapgraphError as exc:
            click.echo(f"kapgraph: error: {exc}", err=True)
            sys.exit(EXIT_BAD_INPUT)
        except KeyboardInterrupt:
            click.echo("kapgraph: interrupted", err=True)
            sys.exit(EXIT_INTERRUPTED)

    return wrapper  # type: ignore[return-value]


def _default_format() -> str:
    return "table" if sys.stdout.isatty() else "tsv"


def _data(ctx: click.Context) -> list[Path] | None:
    paths = ctx.obj.get("data") if ctx.obj else None
    return list(paths) if paths else None


def _store(ctx: click.Context) -> Path | None:
    """The store folder: the command's --store, else the group's, else None (KAPGRAPH_STORE or automatic)."""
    return ctx.obj.get("store") if ctx.obj else None


def _engine(ctx: click.Context, name: str) -> Any:
    from kapgraph.backends import open_engine

    remote = ctx.obj.get("remote", {}) if ctx.obj else {}
    if remote.get("endpoint"):
        return open_engine("remote", **remote, password=_password(remote.get("user")))
    return open_engine(name, _data(ctx), store=_store(ctx))


def _password(user: str | None) -> str | None:
    """The password of *user*: $KAPGRAPH_PASSWORD, else a hidden prompt; never a command-line argument."""
    if user is None:
        return None
    import os

    secret = os.environ.get("KAPGRAPH_PASSWORD")
    if secret is None:
        secret = click.prompt(f"password for {user}", hide_input=True, err=True)
    return secret


def _remember_remote(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    if value is not None:
        ctx.ensure_object(dict).setdefault("remote", {})[param.name] = value
    return value


def endpoint_options(func: F) -> F:
    """--endpoint, --timeout, --user, --graph: run the command on a SPARQL endpoint (the remote engine)."""
    options = [
        click.option(
            "--endpoint", metavar="URL", envvar="KAPGRAPH_ENDPOINT", expose_value=False, callback=_remember_remote,
            help="Query this SPARQL 1.1 endpoint instead of the local graph (Oxigraph: http://HOST:PORT/query, "
            "Virtuoso: http://HOST:PORT/sparql). Default: $KAPGRAPH_ENDPOINT.",
        ),
        click.option(
            "--timeout", type=click.FloatRange(min=0, min_open=True), metavar="SECONDS", expose_value=False,
            callback=_remember_remote, help="Time limit of each request to the endpoint, in seconds (default 60).",
        ),
        click.option(
            "--user", metavar="NAME", expose_value=False, callback=_remember_remote,
            help="HTTP basic-auth user for --endpoint; the password comes from $KAPGRAPH_PASSWORD or a prompt.",
        ),
        click.option(
            "--graph", metavar="IRI", expose_value=False, callback=_remember_remote,
            help="Query only this named graph of the endpoint (sent as default-graph-uri).",
        ),
    ]  # fmt: skip
    for option in reversed(options):
        func = option(func)
    return func


def _remember_store(ctx: click.Context, _param: click.Parameter, value: Path | None) -> Path | None:
    if value is not None:
        ctx.ensure_object(dict)["store"] = value
    return value


STORE_HELP = (
    "On-disk Oxigraph store folder to use (built on first use, reused while the sources are unchanged). "
    "Default: $KAPGRAPH_STORE, else an automatic cache for sources over 4 MiB, else in memory."
)
store_option = click.option(
    "--store", type=click.Path(file_okay=False, path_type=Path), default=None, expose_value=False,
    callback=_remember_store, help=STORE_HELP,
)  # fmt: skip


def _parse_params(pairs: tuple[str, ...]) -> dict[str, str]:
    params: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"{pair!r} is not KEY=VALUE", param_hint="--param")
        params[key.strip()] = value
    return params


format_option = click.option(
    "--format", "fmt", type=click.Choice(QUERY_FORMATS), default=None,
    help="Result format: W3C SPARQL json, xml, csv, tsv; table or md for people "
    "(default: table on a terminal, tsv otherwise). CONSTRUCT results: turtle, nt, jsonld.",
)  # fmt: skip
curies_option = click.option(
    "--curies", "use_curies", is_flag=True,
    help="Write IRIs as compact CURIEs (dx:PTSD, mesh:D013313, mondo:0005146) instead of full IRIs.",
)  # fmt: skip
engine_option = click.option(
    "--engine", type=click.Choice(["oxigraph", "rdflib"]), default="oxigraph", show_default=True,
    help="SPARQL engine: Oxigraph (fast, default) or rdflib's own.",
)  # fmt: skip


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--data", "data", multiple=True, type=click.Path(path_type=Path),
    help="Study data (file or folder; repeatable) to use instead of the bundled data/.",
)  # fmt: skip
@click.option("--store", type=click.Path(file_okay=False, path_type=Path), default=None, help=STORE_HELP)
@click.version_option(package_name="kapgraph", prog_name="kapgraph")
@click.pass_context
def cli(ctx: click.Context, data: tuple[Path, ...], store: Path | None) -> None:
    """Query, validate and export the knowledge graph of ketamine-assisted psychotherapy studies
    (Drozdz et al. 2022)."""
    ctx.obj = {"data": data, "store": store}


@cli.command("list")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "md"]), default=None)
@_errors_to_exit_codes
def list_command(fmt: str | None) -> None:
    """List the stored queries with their summaries and parameters."""
    from kapgraph.api import list_queries

    queries = list_queries()
    fmt = fmt or ("table" if sys.stdout.isatty() else "md")
    if fmt == "json":
        items = [
            {
                "name": q.name,
                "summary": q.summary,
                "tags": list(q.tags),
                "params": [
                    {"name": p.name, "type": p.type, "schemes": list(p.schemes), "values": list(p.values),
                     "default": p.default, "required": p.required, "example": p.example}
                    for p in q.params
                ],
            }
            for q in queries
        ]  # fmt: skip
        import json

        click.echo(json.dumps(items, indent=2))
        return

    def describe(q: Any) -> str:
        return ", ".join(
            f"{p.name}{'' if p.required else '?'} ({p.type}{': ' + '|'.join(p.schemes) if p.schemes else ''})"
            for p in q.params
        )

    if fmt == "md":
        click.echo("| query | parameters | summary |\n|---|---|---|")
        for q in queries:
            click.echo(f"| {q.name} | {describe(q)} | {q.summary} |")
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(header_style="bold")
    for column in ("query", "parameters", "summary"):
        table.add_column(column, overflow="fold")
    for q in queries:
        table.add_row(q.name, describe(q), q.summary)
    Console().print(table)
    click.echo("Parameters marked ? are optional. Run: kapgraph query NAME --param KEY=VALUE")


@cli.command("query")
@click.argument("name")
@click.option("--param", "-p", "params", multiple=True, metavar="KEY=VALUE", help="A query parameter.")
@format_option
@engine_option
@curies_option
@endpoint_options
@store_option
@click.pass_context
@_errors_to_exit_codes
def query_command(
    ctx: click.Context, name: str, params: tuple[str, ...], fmt: str | None, engine: str, use_curies: bool
) -> None:
    """Run the stored query NAME (see 'kapgraph list')."""
    from kapgraph.api import run_query
    from kapgraph.results import render, with_curies

    result = run_query(name, _parse_params(params), engine=_engine(ctx, engine))
    click.echo(render(with_curies(result) if use_curies else result, fmt or _default_format()), nl=False)


@cli.command("sparql")
@click.argument("query", required=False)
@click.option(
    "--file", "file", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="Read the query from F.rq."
)
@format_option
@engine_option
@curies_option
@endpoint_options
@store_option
@click.pass_context
@_errors_to_exit_codes
def sparql_command(
    ctx: click.Context, query: str | None, file: Path | None, fmt: str | None, engine: str, use_curies: bool
) -> None:
    """Run an ad-hoc SPARQL QUERY (or --file F.rq); the project's prefixes (kap:, study:, dx:, ...)
    are predeclared."""
    from kapgraph.api import run_sparql
    from kapgraph.results import render

    if (query is None) == (file is None):
        raise click.UsageError("give either a QUERY argument or --file F.rq (not both)")
    text = query if query is not None else file.read_text(encoding="utf-8")  # type: ignore[union-attr]
    result = run_sparql(text, engine=_engine(ctx, engine))
    if use_curies:
        from kapgraph.results import with_curies

        result = with_curies(result)
    click.echo(render(result, fmt or _default_format()), nl=False)


@cli.command("validate")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.pass_context
@_errors_to_exit_codes
def validate_command(ctx: click.Context, paths: tuple[Path, ...]) -> None:
    """Validate the bundled data (or the given files/folders) against the SHACL shapes.

    Exits 1 when there is a violation; warnings (missing optional facts) are reported but pass."""
    from kapgraph.validation import validate

    report = validate(list(paths) or _data(ctx))
    click.echo(report.text(), nl=False)
    if not report.conforms:
        sys.exit(EXIT_VIOLATIONS)


@cli.command("export")
@click.option(
    "--format", "fmt", type=click.Choice(["turtle", "nt", "jsonld", "trig"]), default="turtle", show_default=True
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to a file (atomically) instead of stdout.",
)
@store_option
@click.pass_context
@_errors_to_exit_codes
def export_command(ctx: click.Context, fmt: str, output: Path | None) -> None:
    """Export the whole graph (ontology + data; TriG: one named graph per source file)."""
    from kapgraph.export import export

    data = export(fmt, _data(ctx), store=_store(ctx))
    if output is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return
    from kapgraph.files import write_atomically

    write_atomically(output, lambda tmp: Path(tmp).write_bytes(data))
    click.echo(f"wrote {output}", err=True)


@cli.command("info")
@engine_option
@endpoint_options
@store_option
@click.pass_context
@_errors_to_exit_codes
def info_command(ctx: click.Context, engine: str) -> None:
    """Triple and study counts, and the version."""
    from kapgraph.api import info

    facts = info(engine=_engine(ctx, engine))
    for key, value in facts._asdict().items():
        click.echo(f"{key}: {value}")


@cli.command("reproduce")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "md"]), default=None)
@engine_option
@endpoint_options
@store_option
@click.pass_context
@_errors_to_exit_codes
def reproduce_command(ctx: click.Context, fmt: str | None, engine: str) -> None:
    """Recompute every figure the review states from the per-study facts and compare.

    Status 'match', 'discrepancy' (explained by a recorded kap:Discrepancy) or 'MISMATCH'
    (unexplained). Exits 1 when there is a MISMATCH."""
    from kapgraph.reproduce import MISMATCH, reproduce

    checks = reproduce(_engine(ctx, engine))
    fmt = fmt or ("table" if sys.stdout.isatty() else "md")
    if fmt == "json":
        import json

        click.echo(json.dumps([c.as_dict() for c in checks], indent=2, ensure_ascii=False))
    else:
        from kapgraph.results import literal_table, render

        columns = ["id", "label", "paper", "graph", "status", "note"]
        table = literal_table(columns, [tuple(getattr(c, k) for k in columns) for c in checks])
        click.echo(render(table, fmt), nl=False)
    counts = {s: sum(c.status == s for c in checks) for s in ("match", "discrepancy", MISMATCH)}
    click.echo(
        f"{len(checks)} claims: {counts['match']} match, {counts['discrepancy']} discrepancy, "
        f"{counts[MISMATCH]} MISMATCH",
        err=True,
    )
    if counts[MISMATCH]:
        sys.exit(EXIT_VIOLATIONS)


@cli.command("load")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--store",
    "folder",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="The store folder to build (or to check and reuse).",
)
@click.option("--rebuild", is_flag=True, help="Build again even if the store is up to date.")
@click.pass_context
@_errors_to_exit_codes
def load_command(ctx: click.Context, paths: tuple[Path, ...], folder: Path, rebuild: bool) -> None:
    """Bulk-load the ontology and PATHS (default: the bundled data, or --data) into an on-disk store.

    Later commands given the same data and --store DIR (or KAPGRAPH_STORE=DIR) reuse it while the
    files are unchanged. Prints the triples loaded and the rate."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    from kapgraph.loading import Source, sources
    from kapgraph.store import StoreDir

    files = sources(list(paths) or _data(ctx))
    total = sum(s.path.stat().st_size for s in files)
    columns = (TextColumn("loading"), BarColumn(), TextColumn("{task.fields[triples]:,} triples"),
               TimeRemainingColumn())  # fmt: skip
    with Progress(*columns, console=_stderr_console(), transient=True) as bar:
        task = bar.add_task("load", total=total, triples=0)
        loaded = 0

        def advance(source: Source, count: int) -> None:
            nonlocal loaded
            loaded += count
            bar.update(task, advance=source.path.stat().st_size, triples=loaded)

        opened = StoreDir(folder).open(files, rebuild=rebuild, progress=advance)
    manifest = opened.manifest
    if opened.built:
        rate = manifest.triples / manifest.seconds if manifest.seconds else 0.0
        click.echo(
            f"loaded {manifest.triples:,} triples from {len(files)} files into {opened.path} "
            f"in {manifest.seconds:.2f} s ({rate:,.0f} triples/s)"
        )
    else:
        click.echo(f"{opened.path} is up to date: {manifest.triples:,} triples from {len(files)} files (use --rebuild)")


@cli.command("synth")
@click.option("--studies", "n", required=True, type=click.IntRange(min=1), help="How many studies to make.")
@click.option("--seed", type=int, default=0, show_default=True, help="The same seed gives byte-identical files.")
@click.option(
    "--out", required=True, type=click.Path(file_okay=False, path_type=Path),
    help="Folder to write OUT/studies/synth-NNNNNN.ttl into (new, empty, or made by synth).",
)  # fmt: skip
@_errors_to_exit_codes
def synth_command(n: int, seed: int, out: Path) -> None:
    """Write N synthetic studies in the model of the real ones, for scale tests and benchmarks.

    Values are drawn from the 17 real studies' distributions; IRIs live under
    https://w3id.org/kap/id/synth/ and every study says it is synthetic. Use with --data OUT."""
    from rich.progress import Progress

    from kapgraph.synth import synthesize

    with Progress(console=_stderr_console(), transient=True) as bar:
        task = bar.add_task("synthesising", total=n)
        summary = synthesize(n, out, seed=seed, progress=lambda k: bar.update(task, completed=k))
    click.echo(f"wrote {summary.studies:,} synthetic studies ({summary.triples:,} triples) to {out}")


@cli.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (warns if not loopback).")
@click.option("--port", type=click.IntRange(0, 65535), default=7878, show_default=True, help="Port to listen on.")
@click.option(
    "--timeout", type=click.FloatRange(min=0, min_open=True), default=60.0, show_default=True, metavar="SECONDS",
    help="Time limit of each query, in seconds.",
)  # fmt: skip
@store_option
@click.pass_context
@_errors_to_exit_codes
def serve_command(ctx: click.Context, host: str, port: int, timeout: float) -> None:
    """Serve the graph read-only over SPARQL, with a query page (Oxigraph's server), until Ctrl-C.

    Refuses SPARQL Update and queries that use SERVICE; binds loopback unless told otherwise."""
    from kapgraph.serve import serve

    serve(
        _data(ctx), store=_store(ctx), host=host, port=port, timeout=timeout,
        echo=lambda line: click.echo(line), warn=lambda line: click.echo(f"kapgraph: {line}", err=True),
    )  # fmt: skip


@cli.command("push")
@click.option("--endpoint", required=True, metavar="URL",
              help="Graph Store HTTP Protocol endpoint (Oxigraph: http://HOST:PORT/store).")  # fmt: skip
@click.option("--graph", required=True, metavar="IRI", help="The named graph to replace with the local graph.")
@click.option("--update-endpoint", metavar="URL", help="SPARQL Update endpoint for the MOVE (default: .../update).")
@click.option("--query-endpoint", metavar="URL", help="SPARQL query endpoint to verify (default: .../query).")
@click.option("--user", metavar="NAME", help="HTTP basic-auth user; password from $KAPGRAPH_PASSWORD or a prompt.")
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), default=60.0, show_default=True,
              metavar="SECONDS", help="Time limit of each request.")  # fmt: skip
@click.option("--chunk", type=click.IntRange(min=1), default=50_000, show_default=True, help="Triples per request.")
@store_option
@click.pass_context
@_errors_to_exit_codes
def push_command(
    ctx: click.Context, endpoint: str, graph: str, update_endpoint: str | None, query_endpoint: str | None,
    user: str | None, timeout: float, chunk: int,
) -> None:  # fmt: skip
    """Publish the whole graph (ontology + data) into GRAPH of a triple store, replacing it.

    Uploads into a staging graph, moves it into place with SPARQL Update (MOVE), then checks the
    triple count there; on failure says what the target graph holds and exits non-zero."""
    from rich.progress import BarColumn, Progress, TextColumn

    from kapgraph.push import push

    with Progress(TextColumn("pushing"), BarColumn(), TextColumn("{task.completed:,} triples"),
                  console=_stderr_console(), transient=True) as bar:  # fmt: skip
        task = bar.add_task("push", total=None)
        done = push(
            _data(ctx), endpoint=endpoint, graph=graph, update_endpoint=update_endpoint,
            query_endpoint=query_endpoint, user=user, password=_password(user), timeout=timeout, chunk=chunk,
            store=_store(ctx), progress=lambda sent, total: bar.update(task, completed=sent, total=total),
        )  # fmt: skip
    click.echo(f"pushed {done.triples:,} triples in {done.chunks} chunk(s) to <{done.graph}>; verified by COUNT")


def _stderr_console() -> Any:
    from rich.console import Console

    return Console(stderr=True)


@cli.command("figure")
@click.argument("name", type=click.Choice(["fig2", "fig3", "table1", "table2"]))
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="FILE.png or FILE.svg (tables also FILE.md).",
)
@engine_option
@store_option
@click.pass_context
@_errors_to_exit_codes
def figure_command(ctx: click.Context, name: str, out: Path, engine: str) -> None:
    """Regenerate the review's Figure 2 or 3, or Table 1 or 2, from the graph."""
    from kapgraph.figures import render_figure

    written = render_figure(name, out, _engine(ctx, engine))
    click.echo(f"wrote {written}", err=True)


@cli.command("mappings")
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), help="Write to FILE (atomically).")
@store_option
@click.pass_context
@_errors_to_exit_codes
def mappings_command(ctx: click.Context, out: Path | None) -> None:
    """Write the SSSOM mapping set (SSSOM/TSV) of the KAP vocabularies, generated from the graph."""
    from kapgraph.mappings import sssom_tsv

    text = sssom_tsv(_engine(ctx, "oxigraph"))
    if out is None:
        click.echo(text, nl=False)
        return
    from kapgraph.files import write_atomically

    write_atomically(out, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))
    click.echo(f"wrote {out}", err=True)


def main() -> None:
    cli(prog_name="kapgraph")
