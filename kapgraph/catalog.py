"""The stored-query catalog: ``queries/**/*.rq`` files with a strict ``#+`` YAML header.

A header, in the grlc style, sits at the top of the file so that the file stays valid SPARQL::

    #+ summary: PTSD studies that gave psychotherapy both before and after ketamine
    #+ description: ...
    #+ params:
    #+   - diagnosis: {type: concept, scheme: diagnosis, required: false}
    #+ tags: [timing]

The catalog knows nothing of engines: it reads files and checks headers. A malformed header is an
error naming the file, never a silent default.

What PyYAML reads in a header is kept in the cache folder (:mod:`kapgraph.cache`, ``headers/``), as
JSON named by a hash of the header's text and of PyYAML's own ``__init__.py`` (its version), so that
a query run again does not import PyYAML (a fifth of a cold query's start-up). Each entry holds the
text it was read from and is used only for that very text; every check below runs on it each time.
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path
from typing import Any, NamedTuple

from kapgraph import resources
from kapgraph.errors import CatalogError, UnknownQueryError

HEADER_KEYS = {"summary", "description", "params", "tags", "federation"}
PARAM_KEYS = {"type", "scheme", "values", "default", "required", "description", "example"}
PARAM_TYPES = {"concept", "study", "string", "integer", "enum", "endpoint"}
#: concept schemes a ``concept`` parameter may name (``https://w3id.org/kap/vocab/<name>``)
SCHEMES = {
    "design", "design-feature", "diagnosis", "substance", "drug", "route", "frequency", "unit",
    "dose-role", "psychotherapy", "phase", "timing", "comparator", "instrument", "setting",
    "outcome-domain", "arm-role", "direction", "change", "significance",
}  # fmt: skip
#: local values per request of a bind join when the header names no ``batch`` (kapgraph.federation)
DEFAULT_BATCH = 50
#: the most a header may ask for: a request holds its values in the query text
MAX_BATCH = 1000
NAME_RE = re.compile(r"^[a-z0-9][a-z0-9-]*(/[a-z0-9][a-z0-9-]*)*$")


class Param(NamedTuple):
    name: str
    type: str
    schemes: tuple[str, ...] = ()
    values: tuple[str, ...] = ()
    default: str | None = None
    required: bool = True
    description: str = ""
    #: a value to show in documentation and to run the query with in tests and benchmarks
    example: str | None = None


class Federation(NamedTuple):
    """A header's ``federation`` declaration: the bind join of :mod:`kapgraph.federation`."""

    #: the variable (without ``?``) that the local part binds and every ``SERVICE`` pattern uses
    join: str
    #: the most local values sent to an endpoint in one request
    batch: int = DEFAULT_BATCH


class StoredQuery(NamedTuple):
    name: str
    path: Path
    summary: str
    description: str
    params: tuple[Param, ...]
    tags: tuple[str, ...]
    text: str
    #: the bind-join declaration of a federated query (``#+ federation: {join: VAR, batch: N}``), else None
    federation: Federation | None = None

    def param(self, name: str) -> Param | None:
        return next((p for p in self.params if p.name == name), None)

    def example_params(self) -> dict[str, str]:
        """Values for the required parameters, from their header examples (to run the query as is)."""
        return {p.name: p.example for p in self.params if p.required and p.default is None and p.example is not None}


def _fail(path: Path, line: int, message: str) -> CatalogError:
    return CatalogError(f"{path}:{line}: malformed query header: {message}")


def parse_header(path: Path, text: str) -> dict[str, Any]:
    lines = text.splitlines()
    header: list[str] = []
    for line in lines:
        if line.startswith("#+"):
            header.append(line[2:].removeprefix(" "))
        else:
            break
    if not header:
        raise _fail(path, 1, "the file must start with '#+ summary: ...' header lines")
    data = _read_yaml(path, "\n".join(header))
    if not isinstance(data, dict):
        raise _fail(path, 1, "the header must be a YAML mapping (key: value lines)")
    unknown = set(data) - HEADER_KEYS
    if unknown:
        raise _fail(path, 1, f"unknown key(s) {sorted(unknown)}; allowed: {sorted(HEADER_KEYS)}")
    if not isinstance(data.get("summary"), str) or not data["summary"].strip():
        raise _fail(path, 1, "'summary' is required and must be text")
    return data


def _read_yaml(path: Path, source: str) -> Any:
    """``yaml.safe_load(source)``: from the header cache if this very text was read before."""
    entry = _cache_entry(source)
    if entry is not None:
        try:
            cached = json.loads(entry.path.read_bytes())
            if cached["header"] == source and cached["yaml"] == entry.pyyaml:
                return cached["data"]
        except (OSError, ValueError, KeyError, TypeError):
            pass  # missing or damaged: read the YAML again
    import yaml

    try:
        data = yaml.safe_load(source)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        lineno = mark.line + 1 if mark is not None else 1
        raise _fail(path, lineno, f"not valid YAML ({getattr(exc, 'problem', exc)})") from None
    if entry is not None:
        try:
            text = json.dumps({"header": source, "yaml": entry.pyyaml, "data": data})
        except (TypeError, ValueError):  # a date, a set, a recursive alias: not JSON, not kept
            return data
        if json.loads(text)["data"] == data:  # nor what JSON would change (keys that are not text)
            from kapgraph.cache import keep

            keep(entry.path, text.encode("ascii"))
    return data


class _Entry(NamedTuple):
    #: the cache file
    path: Path
    #: the SHA-256 of PyYAML's ``__init__.py``, which names its version
    pyyaml: str


def _cache_entry(source: str) -> _Entry | None:
    """Where the header cache keeps what PyYAML reads in *source* (None: PyYAML or the cache is not there)."""
    import hashlib

    from kapgraph.cache import cache_root

    pyyaml = _pyyaml_hash()
    if pyyaml is None:
        return None
    try:
        folder = cache_root() / "headers"
    except RuntimeError:  # no home folder
        return None
    name = hashlib.sha256(f"{pyyaml}\n{source}".encode("utf-8", "surrogatepass")).hexdigest()[:32]
    return _Entry(folder / f"{name}.json", pyyaml)


@functools.cache
def _pyyaml_hash() -> str | None:
    """The SHA-256 of PyYAML's ``__init__.py``, found without importing it; None if it cannot be read."""
    import hashlib
    from importlib.machinery import PathFinder  # imported already (importlib.util is not)

    try:
        spec = PathFinder.find_spec("yaml")
        if spec is None or spec.origin is None:
            return None
        return hashlib.sha256(Path(spec.origin).read_bytes()).hexdigest()
    except (OSError, ImportError, ValueError):
        return None


def _parse_param(path: Path, item: Any) -> Param:
    if not (isinstance(item, dict) and len(item) == 1):
        raise _fail(path, 1, f"each entry of 'params' must be '- name: {{type: ...}}', got {item!r}")
    ((name, spec),) = item.items()
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise _fail(path, 1, f"parameter name {name!r} is not a SPARQL variable name")
    if not isinstance(spec, dict):
        raise _fail(path, 1, f"parameter {name!r}: expected a mapping like {{type: concept, scheme: design}}")
    unknown = set(spec) - PARAM_KEYS
    if unknown:
        raise _fail(path, 1, f"parameter {name!r}: unknown key(s) {sorted(unknown)}; allowed: {sorted(PARAM_KEYS)}")
    kind = spec.get("type")
    if kind not in PARAM_TYPES:
        raise _fail(path, 1, f"parameter {name!r}: type must be one of {sorted(PARAM_TYPES)}, got {kind!r}")
    schemes_raw = spec.get("scheme", [])
    schemes = tuple([schemes_raw] if isinstance(schemes_raw, str) else schemes_raw)
    if kind == "concept":
        if not schemes or any(s not in SCHEMES for s in schemes):
            raise _fail(path, 1, f"parameter {name!r}: 'scheme' must name one or more of {sorted(SCHEMES)}")
    elif schemes:
        raise _fail(path, 1, f"parameter {name!r}: 'scheme' applies to concept parameters only")
    values = tuple(str(v) for v in spec.get("values", []))
    if kind == "enum" and not values:
        raise _fail(path, 1, f"parameter {name!r}: an enum needs 'values'")
    required = spec.get("required", "default" not in spec)
    if not isinstance(required, bool):
        raise _fail(path, 1, f"parameter {name!r}: 'required' must be true or false")
    default = spec.get("default")
    return Param(
        name=name,
        type=kind,
        schemes=schemes,
        values=values,
        default=None if default is None else str(default),
        required=required,
        description=str(spec.get("description", "")),
        example=None if spec.get("example") is None else str(spec["example"]),
    )


def read_query(path: Path, name: str) -> StoredQuery:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CatalogError(f"{path}: cannot read stored query: {exc}") from None
    data = parse_header(path, text)
    raw_params = data.get("params") or []
    if not isinstance(raw_params, list):
        raise _fail(path, 1, "'params' must be a list")
    params = tuple(_parse_param(path, item) for item in raw_params)
    body = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    for param in params:
        if not re.search(rf"[?$]{param.name}\b", body):
            raise _fail(path, 1, f"parameter {param.name!r} is not used as ?{param.name} in the query")
    tags = data.get("tags") or []
    if not (isinstance(tags, list) and all(isinstance(t, str) for t in tags)):
        raise _fail(path, 1, "'tags' must be a list of words")
    federation = _parse_federation(path, data.get("federation"), text)
    return StoredQuery(
        name=name,
        path=path,
        summary=data["summary"].strip(),
        description=str(data.get("description") or "").strip(),
        params=params,
        tags=tuple(tags),
        text=text,
        federation=federation,
    )


def _parse_federation(path: Path, spec: Any, text: str) -> Federation | None:
    """The ``federation`` declaration: ``{join: VAR, batch: N}`` (see :mod:`kapgraph.federation`)."""
    if spec is None:
        return None
    if not isinstance(spec, dict) or set(spec) - {"join", "batch"}:
        raise _fail(path, 1, "'federation' must be a mapping like {join: descriptor, batch: 50}")
    join = spec.get("join")
    if not isinstance(join, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", join):
        raise _fail(path, 1, f"'federation': 'join' must name the join variable (without '?'), got {join!r}")
    batch = spec.get("batch", DEFAULT_BATCH)
    if not isinstance(batch, int) or isinstance(batch, bool) or not 1 <= batch <= MAX_BATCH:
        raise _fail(path, 1, f"'federation': 'batch' must be a whole number from 1 to {MAX_BATCH}, got {batch!r}")
    from kapgraph.errors import QuerySyntaxError
    from kapgraph.federation import check

    declared = Federation(join, batch)
    try:
        problem = check(text, declared)
    except QuerySyntaxError as exc:
        problem = str(exc)
    if problem:
        raise _fail(path, 1, f"'federation': {problem}")
    return declared


class Catalog:
    """The stored queries under one folder (the bundled ``queries/`` by default)."""

    def __init__(self, root: Path | None = None):
        self.root = root or resources.queries_dir()

    def names(self) -> list[str]:
        return sorted(p.relative_to(self.root).with_suffix("").as_posix() for p in self.root.rglob("*.rq"))

    def get(self, name: str) -> StoredQuery:
        names = self.names()
        if name not in names or not NAME_RE.match(name):
            import difflib

            raise UnknownQueryError(name, difflib.get_close_matches(name, names, n=3, cutoff=0.5))
        return read_query(self.root / f"{name}.rq", name)

    def all(self) -> list[StoredQuery]:
        return [self.get(name) for name in self.names()]
