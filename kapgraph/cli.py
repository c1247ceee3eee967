"""The ``kapgraph`` command line: a thin layer over :mod:`kapgraph.api`.

Exit codes: 0 success; 1 validation found violations; 2 bad input (usage, unreadable or
unparsable RDF, unknown query, bad parameter, malformed query header, SPARQL syntax error, a store
folder that cannot be used, an endpoint URL that is malformed, unknown or refuses connections, a
missing ``oxigraph`` binary); 3 the query engine failed while evaluating a valid query (including
a time limit, or an endpoint's HTTP error or non-SPARQL answer); 130 interrupted (Ctrl-C).
"""

from __future__ import annotations

import errno
import functools
import io
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from kapgraph.errors import EngineError, KapgraphError
from kapgraph.interrupt import Terminated

EXIT_OK, EXIT_VIOLATIONS, EXIT_BAD_INPUT, EXIT_ENGINE, EXIT_INTERRUPTED = 0, 1, 2, 3, 130
EXIT_TERMINATED = 143
_WRITE_ERRNOS = (errno.ENOSPC, errno.EIO, errno.EFBIG, errno.EDQUOT, errno.EPIPE)
QUERY_FORMATS = ["table", "csv", "tsv", "json", "xml", "md", "turtle", "nt", "jsonld"]

F = TypeVar("F", bound=Callable[..., Any])


class _Seconds(click.FloatRange):
    """A time limit: a finite number of seconds above 0 (click's FloatRange lets nan and inf through)."""

    def __init__(self) -> None:
        super().__init__(min=0, min_open=True)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        import math

        result = super().convert(value, param, ctx)
        if not math.isfinite(result):
            self.fail(f"{value!r} is not a finite number of seconds above 0.", param, ctx)
        return result


SECONDS = _Seconds()


class _Days(click.FloatRange):
    """An age: a number of days, 0 or more (inf: nothing is that old; nan is refused, as FloatRange does not)."""

    def __init__(self) -> None:
        super().__init__(min=0)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        import math

        result = super().convert(value, param, ctx)
        if math.isnan(result):
            self.fail(f"{value!r} is not a number of days.", param, ctx)
        return result


def _errors_to_exit_codes(func: F) -> F:
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from kapgraph.output import ReaderGone

        try:
            result = func(*args, **kwargs)
            _flush_stdout()
            return result
        except (ReaderGone, BrokenPipeError):  # 'kapgraph list | head -1': the reader has what it wanted
            _stdout_gone()
            sys.exit(EXIT_OK)
        except OSError as exc:
            if exc.filename is not None:
                # the last line of defence: a file or folder that cannot be used is bad input (2), never
                # a traceback with exit 1 (the code of violations); modules give more specific messages
                click.echo(f"kapgraph: error: {exc.filename}: cannot use it: {exc.strerror or exc}", err=True)
                sys.exit(EXIT_BAD_INPUT)
            if exc.errno not in _WRITE_ERRNOS:
                raise
            click.echo(f"kapgraph: error: standard output: cannot write: {exc.strerror}", err=True)
            _stdout_gone()
            sys.exit(EXIT_BAD_INPUT)
        except EngineError as exc:
            click.echo(f"kapgraph: error: {exc}", err=True)
            sys.exit(EXIT_ENGINE)
        except KapgraphError as exc:
            click.echo(f"kapgraph: error: {exc}", err=True)
            sys.exit(EXIT_BAD_INPUT)
        except (KeyboardInterrupt, Terminated) as exc:
            _interrupted(exc)

    return wrapper  # type: ignore[return-value]


def _flush_stdout() -> None:
    from kapgraph.output import OutputError, ReaderGone

    try:
        sys.stdout.flush()
    except BrokenPipeError:
        raise ReaderGone() from None
    except OSError as exc:
        raise OutputError(f"standard output: cannot write: {exc.strerror or exc}") from None


def _stdout_gone() -> None:
    # later flushes (at exit) must not fail again on the closed pipe
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, io.UnsupportedOperation):
        pass


def _interrupted(exc: BaseException) -> None:
    """Exit at once (130 for Ctrl-C, 143 for SIGTERM); an abandoned engine thread must not delay it."""
    import os

    code = EXIT_TERMINATED if isinstance(exc, Terminated) else EXIT_INTERRUPTED
    try:
        click.echo("kapgraph: interrupted" if code == EXIT_INTERRUPTED else "kapgraph: terminated", err=True)
        sys.stderr.flush()
    except OSError:
        pass
    if threading.active_count() > 1 and threading.current_thread() is threading.main_thread():
        os._exit(code)
    sys.exit(code)


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
    return open_engine(name, _data(ctx), store=_store(ctx), asserted_only=_asserted_only(ctx))


def _asserted_only(ctx: click.Context) -> bool:
    return bool(ctx.obj.get("asserted_only")) if ctx.obj else False


def _remember_asserted_only(ctx: click.Context, _param: click.Parameter, value: bool) -> bool:
    if value:
        ctx.ensure_object(dict)["asserted_only"] = True
    return value


asserted_option = click.option(
    "--asserted-only", is_flag=True, expose_value=False, callback=_remember_asserted_only,
    help="Leave out the inferred graph (the ontology's entailments, see 'kapgraph reason').",
)  # fmt: skip


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


def _endpoint_options(func: F, with_timeout: bool = True) -> F:
    """--endpoint, --timeout, --user, --graph: run the command on a SPARQL endpoint (the remote engine).

    query and sparql have a --timeout of their own for every engine (timeout_option), which also
    limits each request to an endpoint."""
    options = [
        click.option(
            "--endpoint", metavar="URL", envvar="KAPGRAPH_ENDPOINT", expose_value=False, callback=_remember_remote,
            help="Query this SPARQL 1.1 endpoint instead of the local graph (Oxigraph: http://HOST:PORT/query, "
            "Virtuoso: http://HOST:PORT/sparql). Default: $KAPGRAPH_ENDPOINT.",
        ),
        click.option(
            "--timeout", type=SECONDS, metavar="SECONDS", expose_value=False,
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
    if not with_timeout:
        del options[1]
    for option in reversed(options):
        func = option(func)
    return func


def endpoint_options(func: F) -> F:
    return _endpoint_options(func)


def endpoint_options_without_timeout(func: F) -> F:
    return _endpoint_options(func, with_timeout=False)


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
    from kapgraph.limits import check_param

    params: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"{pair!r} is not KEY=VALUE", param_hint="--param")
        check_param(key.strip(), key + value)
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
timeout_option = click.option(
    "--timeout", "timeout", type=SECONDS, default=None, metavar="SECONDS",
    callback=_remember_remote,
    help="Stop the query after SECONDS (exit 3). A SERVICE call has a limit of its own "
    "($KAPGRAPH_SERVICE_TIMEOUT, default 60 s).",
)  # fmt: skip
engine_option = click.option(
    "--engine", type=click.Choice(["oxigraph", "rdflib"]), default="oxigraph", show_default=True,
    help="SPARQL engine: Oxigraph (fast, default) or rdflib's own.",
)  # fmt: skip


@click.group(
    context_settings={"help_option_names": ["-h", "--help"]},
    epilog="Example: kapgraph query studies-by-design --param design=RCT. Shell completion (bash): "
    'eval "$(_KAPGRAPH_COMPLETE=bash_source kapgraph)"; zsh: zsh_source, fish: fish_source.',
)
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


@cli.command("list", epilog="Example: kapgraph list --tag diagnosis")
@click.option(
    "--format", "fmt", type=click.Choice(["table", "json", "md", "turtle"]), default=None,
    help="turtle: the catalog as SIB-style sparql-examples RDF (sh:SPARQLExecutable).",
)  # fmt: skip
@click.option("--tag", "tags", multiple=True, help="Only queries with this tag (repeatable: any of them).")
@_errors_to_exit_codes
def list_command(fmt: str | None, tags: tuple[str, ...]) -> None:
    """List the stored queries with their summaries and parameters."""
    from kapgraph.api import list_queries

    if fmt == "turtle":
        from kapgraph.examples import turtle

        click.echo(turtle(), nl=False)
        return
    queries = list_queries()
    if tags:
        known = sorted({t for q in queries for t in q.tags})
        unknown = [t for t in tags if t not in known]
        if unknown:
            raise click.BadParameter(f"unknown tag {unknown[0]!r}; tags: {', '.join(known)}", param_hint="--tag")
        queries = [q for q in queries if set(q.tags) & set(tags)]
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


@cli.command("query", epilog="Example: kapgraph query studies-by-diagnosis --param diagnosis=PTSD")
@click.argument("name")
@click.option("--param", "-p", "params", multiple=True, metavar="KEY=VALUE", help="A query parameter.")
@format_option
@engine_option
@curies_option
@timeout_option
@endpoint_options_without_timeout
@store_option
@asserted_option
@click.pass_context
@_errors_to_exit_codes
def query_command(
    ctx: click.Context,
    name: str,
    params: tuple[str, ...],
    fmt: str | None,
    engine: str,
    use_curies: bool,
    timeout: float | None,
) -> None:
    """Run the stored query NAME (see 'kapgraph list')."""
    from kapgraph.api import run_query
    from kapgraph.interrupt import time_limit
    from kapgraph.output import write_stdout
    from kapgraph.results import render, result_format, with_curies

    with time_limit(timeout):
        result = run_query(name, _parse_params(params), engine=_engine(ctx, engine))
    write_stdout(render(with_curies(result) if use_curies else result, result_format(result, fmt, _default_format())))


@cli.command(
    "sparql",
    epilog="Example: kapgraph sparql 'SELECT ?s ?n WHERE { ?s a kap:Study ; kap:enrolledSize ?n } LIMIT 3'",
)
@click.argument("query", required=False)
@click.option(
    "--file", "file", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="Read the query from F.rq."
)
@format_option
@engine_option
@curies_option
@timeout_option
@endpoint_options_without_timeout
@store_option
@asserted_option
@click.pass_context
@_errors_to_exit_codes
def sparql_command(
    ctx: click.Context,
    query: str | None,
    file: Path | None,
    fmt: str | None,
    engine: str,
    use_curies: bool,
    timeout: float | None,
) -> None:
    """Run an ad-hoc SPARQL QUERY (or --file F.rq); the project's prefixes (kap:, study:, dx:, ...)
    are predeclared."""
    from kapgraph.api import run_sparql
    from kapgraph.interrupt import time_limit
    from kapgraph.output import write_stdout
    from kapgraph.querytext import query_argument, read_query_file
    from kapgraph.results import render, result_format

    if (query is None) == (file is None):
        raise click.UsageError("give either a QUERY argument or --file F.rq (not both)")
    text = query_argument(query) if query is not None else read_query_file(file)  # type: ignore[arg-type]
    with time_limit(timeout):
        result = run_sparql(text, engine=_engine(ctx, engine))
    if use_curies:
        from kapgraph.results import with_curies

        result = with_curies(result)
    write_stdout(render(result, result_format(result, fmt, _default_format())))


@cli.command("validate", epilog="Example: kapgraph validate data/studies/dakwar2019.ttl")
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


@cli.command("export", epilog="Example: kapgraph export --format jsonld -o kap.jsonld")
@click.option(
    "--format", "fmt", type=click.Choice(["turtle", "nt", "jsonld", "trig"]), default="turtle", show_default=True
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to FILE instead of stdout ('-': stdout). A regular file is replaced atomically; "
    "a device or FIFO is written to directly.",
)
@store_option
@asserted_option
@click.pass_context
@_errors_to_exit_codes
def export_command(ctx: click.Context, fmt: str, output: Path | None) -> None:
    """Export the whole graph (ontology + data + inferred; TriG: one named graph per source file, and
    the inferred graph)."""
    from kapgraph.export import export
    from kapgraph.output import is_stdout, write_output

    data = export(fmt, _data(ctx), store=_store(ctx), asserted_only=_asserted_only(ctx))
    write_output(output, data)
    if not is_stdout(output):
        click.echo(f"wrote {output}", err=True)


@cli.command("info", epilog="Example: kapgraph info")
@engine_option
@endpoint_options
@store_option
@asserted_option
@click.pass_context
@_errors_to_exit_codes
def info_command(ctx: click.Context, engine: str) -> None:
    """Triple and study counts, and the version."""
    from kapgraph.api import info

    facts = info(engine=_engine(ctx, engine))
    for key, value in facts._asdict().items():
        click.echo(f"{key}: {value}")


@cli.command("reproduce", epilog="Example: kapgraph reproduce --format md")
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


@cli.command("load", epilog="Example: kapgraph load --store /tmp/kapstore")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--store",
    "folder",
    type=click.Path(file_okay=False, path_type=Path),
    help="The store folder to build (or to check and reuse); else the group's --store, else $KAPGRAPH_STORE.",
)
@click.option("--rebuild", is_flag=True, help="Build again even if the store is up to date.")
@click.pass_context
@_errors_to_exit_codes
def load_command(ctx: click.Context, paths: tuple[Path, ...], folder: Path | None, rebuild: bool) -> None:
    """Bulk-load the ontology and PATHS (default: the bundled data, or --data) into an on-disk store.

    Later commands given the same data and --store DIR (or KAPGRAPH_STORE=DIR) reuse it while the
    files are unchanged. Prints the asserted triples and their loading rate, the inferred triples and
    the inference time on a line of their own, and the whole build time."""
    import os

    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    from kapgraph.loading import Source, sources
    from kapgraph.store import StoreDir

    folder = folder or _store(ctx) or (Path(os.environ["KAPGRAPH_STORE"]) if os.environ.get("KAPGRAPH_STORE") else None)
    if folder is None:
        raise click.UsageError("name the store folder: --store DIR (before or after 'load'), or KAPGRAPH_STORE=DIR")
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
        asserted = manifest.load_seconds or manifest.seconds
        rate = manifest.triples / asserted if asserted else 0.0
        click.echo(
            f"loaded {manifest.triples:,} asserted triples from {len(files)} files into {opened.path} "
            f"in {asserted:.2f} s ({rate:,.0f} triples/s)"
        )
        click.echo(f"inferred {manifest.inferred:,} triples in {manifest.inference_seconds:.2f} s")
        click.echo(f"built in {manifest.seconds:.2f} s in all (loading, inference, compaction)")
    else:
        click.echo(f"{opened.path} is up to date: {manifest.triples:,} triples from {len(files)} files (use --rebuild)")


@cli.command(
    "synth", epilog="Example: kapgraph synth --studies 100 --out /tmp/synth && kapgraph --data /tmp/synth info"
)
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


@cli.command(
    "serve",
    epilog="Example: kapgraph serve --port 7878 (then open http://127.0.0.1:7878/ and "
    "http://127.0.0.1:7878/kap/id/study/dakwar2019)",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (warns if not loopback).")
@click.option("--port", type=click.IntRange(0, 65535), default=7878, show_default=True, help="Port to listen on.")
@click.option(
    "--timeout", type=SECONDS, default=60.0, show_default=True, metavar="SECONDS",
    help="Time limit of each query, in seconds.",
)  # fmt: skip
@click.option(
    "--site", type=click.Path(file_okay=False, path_type=Path), metavar="DIR",
    help="Serve this site (built by kapgraph docs --out DIR) below /kap/ instead of building one at start "
    "(the default, a few seconds, into a temporary folder removed at stop, so the site shows the graph "
    "being served).",
)  # fmt: skip
@store_option
@click.pass_context
@_errors_to_exit_codes
def serve_command(ctx: click.Context, host: str, port: int, timeout: float, site: Path | None) -> None:
    """Serve the graph read-only over SPARQL, with a query page (Oxigraph's server), and the
    documentation site below /kap/, until Ctrl-C.

    Refuses SPARQL Update and queries that use SERVICE; binds loopback unless told otherwise. The site
    is at the IRIs' own paths (https://w3id.org/kap/id/study/X is /kap/id/study/X), negotiated as the
    site's .htaccess does: Accept: text/turtle (or application/ld+json) is redirected to the RDF, a
    browser to the HTML page."""
    from kapgraph.serve import serve

    serve(
        _data(ctx), store=_store(ctx), host=host, port=port, timeout=timeout, site=site,
        echo=lambda line: click.echo(line), warn=lambda line: click.echo(f"kapgraph: {line}", err=True),
    )  # fmt: skip


@cli.command(
    "push",
    epilog="Example: kapgraph push --endpoint http://127.0.0.1:7878/store --graph https://w3id.org/kap/graph/published",
)
@click.option("--endpoint", required=True, metavar="URL",
              help="Graph Store HTTP Protocol endpoint (Oxigraph: http://HOST:PORT/store, Virtuoso: "
              "http://HOST:PORT/sparql-graph-crud-auth).")  # fmt: skip
@click.option("--graph", required=True, metavar="IRI", help="The named graph to replace with the local graph.")
@click.option("--update-endpoint", metavar="URL",
              help="SPARQL Update endpoint for the MOVE (default: .../update; Virtuoso: .../sparql-auth).")  # fmt: skip
@click.option("--query-endpoint", metavar="URL",
              help="SPARQL query endpoint to verify (default: .../query; Virtuoso: .../sparql).")  # fmt: skip
@click.option("--user", metavar="NAME",
              help="User for HTTP basic or digest auth (as the server asks); password from $KAPGRAPH_PASSWORD "
              "or a prompt.")  # fmt: skip
@click.option("--timeout", type=SECONDS, default=60.0, show_default=True,
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


@cli.command("figure", epilog="Example: kapgraph figure fig2 --out fig2.svg")
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


@cli.command("mappings", epilog="Example: kapgraph mappings --out kap.sssom.tsv")
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), help="Write to FILE (atomically).")
@store_option
@click.pass_context
@_errors_to_exit_codes
def mappings_command(ctx: click.Context, out: Path | None) -> None:
    """Write the SSSOM mapping set (SSSOM/TSV) of the KAP vocabularies, generated from the graph."""
    from kapgraph.mappings import sssom_tsv
    from kapgraph.output import is_stdout, write_output

    text = sssom_tsv(_engine(ctx, "oxigraph"))
    write_output(out, text)
    if not is_stdout(out):
        click.echo(f"wrote {out}", err=True)


@cli.command("reason", epilog="Example: kapgraph reason --out inferred.ttl")
@click.option(
    "--reasoner",
    type=click.Choice(["hermit", "owlrl"]),
    default="hermit",
    show_default=True,
    help="HermiT (OWL 2 DL, needs Java) or owlrl's OWL 2 RL rules (the fallback without Java).",
)
@click.option(
    "--out", type=click.Path(dir_okay=False, path_type=Path), help="Write the inferred memberships as Turtle."
)
@click.pass_context
@_errors_to_exit_codes
def reason_command(ctx: click.Context, reasoner: str, out: Path | None) -> None:
    """Check the ontology and data with an OWL reasoner: consistency, unsatisfiable classes, and the
    defined-class memberships of each study. Exits 1 when the graph is inconsistent."""
    from kapgraph.reasoning import reason

    result = reason(_data(ctx), reasoner=reasoner)
    click.echo(result.text(), nl=False)
    if out is not None and result.consistent:
        from kapgraph.output import is_stdout, write_output

        write_output(out, result.inferred_turtle())
        if not is_stdout(out):
            click.echo(f"wrote {out}", err=True)
    if not result.consistent:
        sys.exit(EXIT_VIOLATIONS)


@cli.command("describe", epilog="Examples: kapgraph describe studies-by-diagnosis; kapgraph describe study:dakwar2019")
@click.argument("name")
@engine_option
@store_option
@click.pass_context
@_errors_to_exit_codes
def describe_command(ctx: click.Context, name: str, engine: str) -> None:
    """Explain NAME: a stored query (header, parameters with allowed values, SPARQL), or any IRI or
    CURIE (that resource's facts, each with the review's quote supporting it, and its discrepancies)."""
    from kapgraph.describe import describe

    click.echo(describe(name, lambda: _engine(ctx, engine)), nl=False)


@cli.command("docs", epilog="Example: kapgraph docs --out /tmp/kap-site (then open /tmp/kap-site/index.html)")
@click.option(
    "--out", required=True, type=click.Path(file_okay=False, path_type=Path),
    help="Folder to write the static site into (new, empty, or a site built before).",
)  # fmt: skip
@store_option
@click.pass_context
@_errors_to_exit_codes
def docs_command(ctx: click.Context, out: Path) -> None:
    """Build the documentation site: ontology, concept schemes, a page per study, the query catalog,
    the modelling guide, dataset metadata (VoID, DCAT, service description) and an .htaccess."""
    from rich.progress import Progress, SpinnerColumn, TextColumn

    from kapgraph.site import build_into

    with Progress(SpinnerColumn(), TextColumn("{task.description}"), console=_stderr_console(), transient=True) as bar:
        task = bar.add_task("loading the graph")
        engine = _engine(ctx, "oxigraph")
        stats = build_into(out, engine, data=_data(ctx), progress=lambda step: bar.update(task, description=step))
    click.echo(f"wrote {stats['pages']:.0f} pages to {out} in {stats['seconds']:.1f} s", err=True)


@cli.group("cache", epilog="Example: kapgraph cache clear stores --older-than 30")
def cache_group() -> None:
    """Show or clear kapgraph's cache folder ($XDG_CACHE_HOME/kapgraph): the automatic on-disk stores,
    the inferred graphs of small inputs, the no-duplicates markers and the parsed query headers."""


@cache_group.command("info", epilog="Example: kapgraph cache info")
@_errors_to_exit_codes
def cache_info_command() -> None:
    """Each part of the cache: its entries and their size."""
    from kapgraph.cache import cache_root
    from kapgraph.cache_maintenance import human, usage

    click.echo(f"cache: {cache_root()}")
    for part in usage():
        click.echo(f"{part.name:9s} {part.entries:6d} entries  {human(part.bytes):>10s}")


@cache_group.command("clear", epilog="Example: kapgraph cache clear stores --older-than 30")
@click.argument("parts", nargs=-1, type=click.Choice(["stores", "inferred", "loaded", "headers"]))
@click.option(
    "--older-than", "days", type=_Days(), default=None, metavar="DAYS",
    help="Only entries written more than DAYS days ago (a store: last built or opened).",
)  # fmt: skip
@_errors_to_exit_codes
def cache_clear_command(parts: tuple[str, ...], days: float | None) -> None:
    """Remove the cache's entries (of PARTS only, if given). A store that a running kapgraph has open
    or is building is kept; everything else is only recomputed when next needed."""
    from kapgraph.cache_maintenance import PARTS, clear, human

    done = clear(parts or PARTS, days)
    removed = ", ".join(f"{n} {part}" for part, n in done.removed.items())
    click.echo(f"removed {removed}: {human(done.freed)} freed")
    for folder in done.in_use:
        click.echo(f"kept {folder}: in use by a running kapgraph", err=True)
    for entry, why in done.failed:
        click.echo(f"kapgraph: error: {entry}: cannot remove it from the cache: {why}", err=True)
    if done.failed:
        sys.exit(EXIT_BAD_INPUT)


def main() -> None:
    """The console script: click's own errors keep their codes (2); Ctrl-C is 130, never click's 'Aborted!' 1."""
    from kapgraph.interrupt import install_sigterm
    from kapgraph.logs import quiet_libraries

    install_sigterm()
    quiet_libraries()
    try:
        cli.main(prog_name="kapgraph", standalone_mode=False)
    except click.exceptions.Abort as exc:  # click turns KeyboardInterrupt into Abort
        _interrupted(exc.__context__ if isinstance(exc.__context__, Terminated) else KeyboardInterrupt())
    except (KeyboardInterrupt, Terminated) as exc:
        _interrupted(exc)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except BrokenPipeError:
        _stdout_gone()
        sys.exit(EXIT_OK)
