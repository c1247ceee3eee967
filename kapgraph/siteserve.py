"""The documentation site over HTTP, as the w3id.org ``kap`` entry and the site's ``.htaccess`` serve it.

:func:`answer` maps a request (its path below the mount, ``/kap/`` by default, and its ``Accept``
header) to what to send back: a file of the site folder, a ``303 See Other`` to one, or an error. The
redirects are not a second copy of the rules: :func:`rules` reads :data:`kapgraph.site.HTACCESS`, the
text that ``kapgraph docs`` writes as the site's ``.htaccess``, and :func:`answer` applies it as Apache's
``mod_rewrite`` would (each ``RewriteCond %{HTTP_ACCEPT}`` a regular-expression search in the Accept
header, the first matching ``RewriteRule`` wins). So ``/kap/id/study/dakwar2019`` with ``Accept:
text/turtle`` is a 303 to ``/kap/id/study/dakwar2019.ttl``, and from a browser one to ``.html``, as
``https://w3id.org/kap/id/study/dakwar2019`` is once the entry is live. Where Apache would redirect to
a file that is not there, or send a type the client refuses, this server does better, and only then:

- an IRI is a 404 when what a request without ``Accept`` gets does not exist (for most IRIs its page:
  ``/kap/vocab/nosuch`` is a 404, not a redirect to the ontology's Turtle);
- a media range with ``q=0`` is left out of the header the conditions read (``text/turtle;q=0`` is a
  refusal, not a request for Turtle);
- when the .htaccess's pick is missing or not acceptable (no range of the header matches its type with
  ``q > 0``), the IRI's other representations (what the rules give for each known media type) are
  tried, the one the client weighs highest wins, and only if none is acceptable the answer is a 406
  that names them (``Accept: application/ld+json`` on the ontology, which has no JSON-LD).

A file's own path (``/kap/id/study/dakwar2019.ttl``) is that file, with a 406 if the header excludes its
type.

Paths are checked before any file is touched: a percent-decoded path with a ``.`` or ``..`` segment,
an empty segment (``//``), a backslash, a control character or invalid UTF-8 is a 404, and so is a
file whose real path (symbolic links resolved) is outside the site folder, or that is not a regular
file. Only GET and HEAD are answered.
"""

from __future__ import annotations

import mimetypes
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, unquote_to_bytes

from kapgraph.errors import KapgraphError

MOUNT = "/kap/"
#: the types of the site's own files (``AddType`` lines of the .htaccess are added to these)
TYPES = {".html": "text/html", ".css": "text/css", ".ttl": "text/turtle", ".jsonld": "application/ld+json",
         ".htaccess": "text/plain", ".rq": "application/sparql-query"}  # fmt: skip
NOT_FOUND = "not found: no such page on this site"


class SiteError(KapgraphError):
    """The site folder cannot be served, or the .htaccess has a line this server does not understand."""


@dataclass(frozen=True)
class Rule:
    """One ``RewriteRule`` with the ``RewriteCond`` lines before it (each a group of ``[OR]``-ed patterns)."""

    pattern: re.Pattern[str]
    target: str  # with $N back-references, or "-" for no substitution
    status: int
    conditions: tuple[tuple[re.Pattern[str], ...], ...] = ()


@dataclass(frozen=True)
class Answer:
    """What to send: *status*, and the *file* to send (200), the *location* (3xx) or a short *text*."""

    status: int
    file: Path | None = None
    location: str | None = None
    text: str = ""
    headers: dict[str, str] = field(default_factory=dict)


def rules(htaccess: str | None = None) -> tuple[list[Rule], dict[str, str]]:
    """The rewrite rules and the ``AddType`` media types of *htaccess* (default: the one the site ships).

    Strict: a directive, a condition variable or a flag it does not know is a :class:`SiteError`, so
    the server never applies part of the .htaccess silently."""
    if htaccess is None:
        from kapgraph import site

        htaccess = site.HTACCESS
    found: list[Rule] = []
    types: dict[str, str] = {}
    pending: list[list[re.Pattern[str]]] = []
    or_next = False
    for number, raw in enumerate(htaccess.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        words = line.split()
        directive = words[0].lower()
        if directive in ("options", "rewriteengine"):
            continue
        if directive == "addtype" and len(words) >= 3:
            types.update({ext.lower(): words[1] for ext in words[2:]})
        elif directive == "rewritecond" and len(words) in (3, 4) and words[1] == "%{HTTP_ACCEPT}":
            flag = words[3] if len(words) == 4 else ""
            if flag not in ("", "[OR]"):
                raise SiteError(f".htaccess line {number}: unknown flag {flag}")
            pattern = re.compile(words[2])
            if or_next and pending:
                pending[-1].append(pattern)
            else:
                pending.append([pattern])
            or_next = flag == "[OR]"
        elif directive == "rewriterule" and len(words) == 4:
            flags = words[3].strip("[]").split(",")
            statuses = [int(f[2:]) for f in flags if re.fullmatch(r"R=\d{3}", f)]
            if len(statuses) != 1 or "L" not in flags or set(flags) - {f"R={statuses[0]}", "L", "NE"}:
                raise SiteError(f".htaccess line {number}: this server follows only [R=NNN,L] (and NE) rules")
            found.append(Rule(re.compile(words[1]), words[2], statuses[0], tuple(tuple(c) for c in pending)))
            pending, or_next = [], False
        else:
            raise SiteError(f".htaccess line {number}: not understood by kapgraph serve: {line}")
    if pending:
        raise SiteError(".htaccess: a RewriteCond with no RewriteRule after it")
    return found, types


def _ranges(accept: str | None) -> list[tuple[str, float]]:
    """The media ranges of an Accept header with their weights (``q``, 0 to 1; not a number counts as 1).

    No header, or one without a media range, accepts anything: ``[("*/*", 1.0)]``."""
    ranges = []
    for item in (accept or "").split(","):
        media, *params = (part.strip() for part in item.split(";"))
        if "/" not in media:
            continue
        weight = 1.0
        for param in params:
            key, _, val = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    weight = max(0.0, min(1.0, float(val)))
                except ValueError:
                    weight = 1.0
        ranges.append((media.lower(), weight))
    return ranges or [("*/*", 1.0)]


def weight(accept: str | None, media_type: str) -> float:
    """How much *accept* wants *media_type*: the ``q`` of the most specific range that matches it, else 0."""
    kind = media_type.split(";")[0].strip().lower()
    ranges = _ranges(accept)
    for candidate in (kind, kind.split("/")[0] + "/*", "*/*"):
        weights = [q for m, q in ranges if m == candidate]
        if weights:
            return max(weights)
    return 0.0


def accepts(accept: str | None, media_type: str) -> bool:
    """Whether *media_type* is acceptable to *accept* (the most specific range that matches has ``q > 0``)."""
    return weight(accept, media_type) > 0


def media_type(path: Path, types: dict[str, str] | None = None) -> str:
    """The Content-Type of a site file: text types with ``charset=utf-8`` (the site writes UTF-8).

    ``application/ld+json`` has no charset parameter (its registration defines none: JSON is UTF-8)."""
    name = path.name.lower()
    suffix = ".htaccess" if name == ".htaccess" else path.suffix.lower()
    kind = (types or {}).get(suffix) or TYPES.get(suffix) or mimetypes.guess_type(name)[0]
    kind = kind or "application/octet-stream"
    return f"{kind}; charset=utf-8" if kind.startswith("text/") else kind


def site_path(target: str, mount: str = MOUNT) -> str | None:
    """The path of a request target if it is one of the site's (``/kap`` or below ``/kap/``), else None.

    Only origin-form targets (``/kap/...``) are the site's: anything else goes to the SPARQL server."""
    path = target.split("?", 1)[0].split("#", 1)[0]
    if path == mount.rstrip("/") or path.startswith(mount):
        return path
    return None


def _segments(path: str, mount: str) -> list[str] | None:
    """The decoded segments of *path* below *mount*, or None if the path is not safe to map to a file."""
    try:
        decoded = unquote_to_bytes(path[len(mount) :]).decode("utf-8")
    except UnicodeDecodeError:
        return None
    if "\\" in decoded or any(ord(c) < 0x20 or ord(c) == 0x7F for c in decoded):
        return None
    parts = decoded.split("/")
    body = parts[:-1] if parts[-1] == "" else parts  # a trailing slash: a folder
    if any(p in ("", ".", "..") for p in body):
        return None
    return parts


def _file(root: Path, parts: list[str]) -> Path | None:
    """The regular file *parts* names inside *root* (a folder's index.html), or None.

    The real path, symbolic links resolved, must be inside the real *root*."""
    try:
        candidate = root.joinpath(*[p for p in parts if p]).resolve(strict=True)
        if not candidate.is_relative_to(root):
            return None
        if candidate.is_dir():
            if parts[-1] != "":
                return None  # the caller redirects to the folder with a slash
            candidate = (candidate / "index.html").resolve(strict=True)
            if not candidate.is_relative_to(root):
                return None
        return candidate if stat.S_ISREG(candidate.stat().st_mode) else None
    except (OSError, RuntimeError, ValueError):  # missing, a symlink loop, a name the OS refuses
        return None


def answer(
    root: Path,
    path: str,
    accept: str | None = None,
    *,
    mount: str = MOUNT,
    site_rules: tuple[list[Rule], dict[str, str]] | None = None,
) -> Answer:
    """What to answer a GET of *path* (``/kap/...``) with *accept* from the site folder *root*.

    *root* must be the folder's real path (``Path.resolve()``)."""
    vary = {"Vary": "Accept"}
    if path == mount.rstrip("/"):
        return Answer(301, location=mount, headers=vary)
    parts = _segments(path, mount)
    if parts is None:
        return Answer(404, text=NOT_FOUND, headers=vary)
    found, types = site_rules or rules()
    relative = "/".join(parts)
    # what the RewriteCond lines read: the header's ranges without those of q=0 (none if there is no header)
    header = ", ".join(m for m, q in _ranges(accept) if q > 0) if (accept or "").strip() else ""
    picked = _rewrite(found, relative, header)
    if picked is None:  # no rule: the path names a file of the site
        target = _file(root, parts)
        if target is None:
            if parts[-1] != "" and _file(root, [*parts, ""]) is not None:
                return Answer(301, location=quote(path + "/", safe="/%"), headers=vary)
            return Answer(404, text=NOT_FOUND, headers=vary)
        kind = media_type(target, types)
        if not accepts(accept, kind):
            return _not_acceptable(path, [(kind, path)], vary)
        return Answer(200, file=target, headers={**vary, "Content-Type": kind})
    status, location = picked
    if location is None:
        return Answer(status, text=_status_text(status), headers=vary)
    # the IRI is the site's if what a request without Accept gets exists (its page, for most)
    plain = _rewrite(found, relative, "")
    default = _variant(root, mount, plain[1], types) if plain and plain[1] else None
    if default is None:
        return Answer(404, text=NOT_FOUND, headers=vary)
    variant = _variant(root, mount, location, types)
    if variant is not None and accepts(accept, variant[0]):
        return Answer(status, location=variant[1], headers=vary)
    # the .htaccess's pick is missing or not acceptable: another representation of the IRI may do
    variants = [variant] if variant else []
    for probe in [*dict.fromkeys([*TYPES.values(), *types.values(), "application/rdf+xml"]), ""]:
        other = _rewrite(found, relative, probe)
        found_variant = _variant(root, mount, other[1], types) if other and other[1] else None
        if found_variant is not None and found_variant not in variants:
            variants.append(found_variant)
    best = max(variants, key=lambda v: weight(accept, v[0]))
    if weight(accept, best[0]) > 0:
        return Answer(status, location=best[1], headers=vary)
    return _not_acceptable(path, variants, vary)


def _rewrite(found: list[Rule], relative: str, header: str) -> tuple[int, str | None] | None:
    """The status and target (None for ``-``) of the first rule that applies, or None if none does."""
    for rule in found:
        match = rule.pattern.search(relative)
        if match is None or not all(any(p.search(header) for p in group) for group in rule.conditions):
            continue
        if not 300 <= rule.status < 400 or rule.target == "-":
            return rule.status, None
        return rule.status, _substitute(rule.target, match)
    return None


def _variant(root: Path, mount: str, location: str, types: dict[str, str]) -> tuple[str, str] | None:
    """The media type and the absolute location of a rule's target (``id/study/x.html#arm``), if the file exists."""
    file_part = location.split("#", 1)[0]
    parts = _segments(mount + file_part, mount)
    target = None if parts is None else _file(root, parts)
    return None if target is None else (media_type(target, types), mount + location)


def _substitute(template: str, match: re.Match[str]) -> str:
    """The rule's target with ``$N`` replaced by the percent-encoded group N (empty if it did not match)."""

    def group(ref: re.Match[str]) -> str:
        index = int(ref.group(1))
        text = match.group(index) if index <= (match.re.groups or 0) else None
        return quote(text or "", safe="/")

    return re.sub(r"\$(\d)", group, template)


def _not_acceptable(path: str, variants: list[tuple[str, str]], vary: dict[str, str]) -> Answer:
    offer = ", ".join(f"{kind.split(';')[0]} ({where.split('#')[0]})" for kind, where in variants)
    return Answer(406, text=f"not acceptable: {path} is available as {offer}", headers=vary)


def _status_text(status: int) -> str:
    if status == 503:
        return "no SPARQL endpoint at this address on the published site; kapgraph serve's endpoint is /query"
    return f"HTTP {status}"


def check_site(folder: Path) -> Path:
    """The real path of a site folder built by ``kapgraph docs`` (it has the .htaccess), or a SiteError."""
    root = Path(folder).resolve()
    if not root.is_dir():
        raise SiteError(f"{folder}: not a folder; --site needs a folder built by kapgraph docs --out")
    if not (root / ".htaccess").is_file() or not (root / "index.html").is_file():
        raise SiteError(f"{folder}: not a kapgraph site (no .htaccess, no index.html); build one with kapgraph docs")
    return root


def open_file(path: Path) -> tuple[int, int]:
    """An open file descriptor of the regular file *path* and its size; OSError if it is not one now.

    ``O_NOFOLLOW`` and ``O_NONBLOCK``: a file swapped for a link or a FIFO after :func:`answer` looked is
    refused, never followed or waited on."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        raise OSError("not a regular file")
    return fd, info.st_size
