"""SPARQL query text: read from the command line and from files (UTF-8, no byte-order mark), and read
lexically (which characters are code, and which are comments, strings or IRIs).

The lexical part is the one scanner used wherever kapgraph reads query text without parsing it:
where a ``VALUES`` block is bound (:mod:`kapgraph.binding`), where ``SERVICE`` clauses are cut out
(:mod:`kapgraph.federation`), how deep brackets nest (:mod:`kapgraph.limits`) and whether
``kapgraph serve`` lets a query through (:mod:`kapgraph.serve`). It follows the terminals of the
SPARQL 1.1 grammar as Oxigraph's parser (spargebra: pyoxigraph and the ``oxigraph`` server 0.5)
implements them:

- a comment runs from ``#`` to the first ``\\r`` or ``\\n``;
- the four string forms, with ``ECHAR`` and ``UCHAR`` escapes; a short string ends at its quote and
  may not hold a raw line break; a long string ends at the first unescaped triple quote; as in a
  PEG, ``'''`` that does not close is read as the empty string ``''``;
- ``IRIREF`` is ``'<' ([^<>"{}|^`\\]-[#x00-#x20] | UCHAR)* '>'`` (Oxigraph accepts ``\\u`` escapes in
  IRIs; its IRI check refuses every character this excludes);
- a variable is ``?`` or ``$`` and the longest ``VARNAME``;
- a backslash in code is a local-name escape (``ex:a\\#b``): it and the character after it are code;
- ``\\u`` escapes are not decoded outside strings and IRIs (Oxigraph 0.5 does not).

The one thing a scanner cannot know is whether ``<`` starts an IRI or is the less-than operator
(``FILTER(?a<?b && ?c>?d)``). Both can only be told apart by a parser; an operator needs an
expression, and every expression is inside ``(``: so ``<`` may be an operator only where the
innermost open bracket is ``(`` and the previous token can end an operand. :func:`code_spans` (for
binding and federation, on kapgraph's own queries) then picks one reading: an IRI, unless it has no
``:``. :func:`readings` takes such a ``<`` both ways and follows every reading at once, so that a
check over it holds for whichever the parser picks: :func:`may_use_service` refuses if any reading
shows ``SERVICE``, and :func:`kapgraph.limits.query_nesting` is the deepest nesting of any reading.
"""

from __future__ import annotations

import codecs
import functools
import heapq
import os
import re
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

from kapgraph.errors import KapgraphError

_BOMS = (
    (codecs.BOM_UTF8, "UTF-8"),
    (codecs.BOM_UTF32_LE, "UTF-32"),
    (codecs.BOM_UTF32_BE, "UTF-32"),
    (codecs.BOM_UTF16_LE, "UTF-16"),
    (codecs.BOM_UTF16_BE, "UTF-16"),
)


class QueryTextError(KapgraphError):
    """A query file or argument is not UTF-8 text (exit 2)."""


def read_query_file(path: Path) -> str:
    """The text of a query file; QueryTextError if it is unreadable, has a BOM or is not UTF-8."""
    raw = read_capped(path)
    for bom, name in _BOMS:
        if raw.startswith(bom):
            raise QueryTextError(
                f"{path}: starts with a {name} byte-order mark; save the query as UTF-8 without a byte-order mark"
            )
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise QueryTextError(
            f"{path}:{line}: not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start}); "
            "save the query as UTF-8"
        ) from None


def read_capped(path: Path) -> bytes:
    """The bytes of a regular file of at most MAX_QUERY_BYTES; QueryTextError otherwise.

    The file is checked before it is opened (opening a FIFO without a writer blocks; a device such
    as /dev/zero never ends), and read with a cap, so nothing is ever read without bound.
    """
    from kapgraph.limits import MAX_QUERY_BYTES

    cap = f"{MAX_QUERY_BYTES // (1024 * 1024)} MiB"
    try:
        mode = os.stat(path).st_mode
        if not stat.S_ISREG(mode):
            kind = "a folder" if stat.S_ISDIR(mode) else "not a regular file (a device, FIFO or socket)"
            raise QueryTextError(f"{path}: cannot read the query: {kind}; give a regular file")
        # O_NONBLOCK: should the path have become a FIFO since the check, opening it does not hang
        with os.fdopen(os.open(path, os.O_RDONLY | os.O_NONBLOCK), "rb") as handle:
            if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):  # replaced since the check
                raise QueryTextError(f"{path}: cannot read the query: not a regular file; give a regular file")
            raw = handle.read(MAX_QUERY_BYTES + 1)
    except OSError as exc:
        raise QueryTextError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if len(raw) > MAX_QUERY_BYTES:
        raise QueryTextError(f"{path}: the query is longer than the limit of {cap}")
    return raw


def query_argument(text: str) -> str:
    """A query given on the command line; invalid UTF-8 from the shell arrives as surrogates."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise QueryTextError("the QUERY argument is not valid UTF-8 text") from None
    if text.startswith("\ufeff"):
        raise QueryTextError("the QUERY argument starts with a byte-order mark (U+FEFF); remove it")
    return text


# --- the lexical layer ----------------------------------------------------------------------------

_HEX4, _HEX8 = "[0-9A-Fa-f]{4}", "[0-9A-Fa-f]{8}"
_UCHAR = rf"\\u{_HEX4}|\\U{_HEX8}"
_ECHAR = r"""\\[tbnrf"'\\]"""
# possessive repeats (*+), as in the PEG: a repeat never gives back what it matched
_STRINGS = {
    "'": (
        re.compile(rf"'''(?:(?:''|')?+(?:[^'\\]|{_ECHAR}|{_UCHAR}))*+'''"),
        re.compile(rf"'(?:[^'\\\n\r]|{_ECHAR}|{_UCHAR})*+'"),
    ),
    '"': (
        re.compile(rf'"""(?:(?:""|")?+(?:[^"\\]|{_ECHAR}|{_UCHAR}))*+"""'),
        re.compile(rf'"(?:[^"\\\n\r]|{_ECHAR}|{_UCHAR})*+"'),
    ),
}
IRIREF = re.compile(rf'<(?:[^<>"{{}}|^`\\\x00-\x20]|{_UCHAR})*+>')
_BASE = (
    "A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u02ff\u0370-\u037d\u037f-\u1fff\u200c-\u200d"
    "\u2070-\u218f\u2c00-\u2fef\u3001-\ud7ff\uf900-\ufdcf\ufdf0-\ufffd"
)
_VARNAME_PATTERN = rf"[0-9_{_BASE}][0-9_\u00b7\u0300-\u036f\u203f-\u2040{_BASE}]*+"
#: the ASCII characters of VARNAME, first or later alike: compiling the whole of it takes milliseconds
#: (its ranges span most of the BMP), so it is compiled only for a name that holds other characters
_ASCII_VARNAME = re.compile(r"[0-9_A-Za-z]++")
_LOCAL_ESCAPED = frozenset("_~.-!$&'()*+,;=/?#@%")
_LINE_END = re.compile(r"[\r\n]")
_SPECIAL = re.compile(r"[#\"'<?$\\(){}\[\]]")
#: a token ending in one of these cannot be the left operand of '<'
_NOT_OPERAND = frozenset("{([.;,=<!|&/^+*")
_SPACE = " \t\r\n"
_SERVICE = re.compile("service", re.I)
#: how many readings may meet at one place before the scanner gives up (a pathological query)
MAX_READINGS = 256


class Scan(NamedTuple):
    """What :func:`readings` found over all the readings of a text."""

    #: the deepest nesting of ``(``, ``{`` and ``[`` in any reading
    deepest: int
    #: whether the word ``SERVICE`` (any case) stands in the code of any reading
    service: bool
    #: more than :data:`MAX_READINGS` readings met at one place: the scan stopped, nothing is known
    overflow: bool


class _Stacks:
    """Bracket stacks shared between readings: an id per stack, pushed and popped by id."""

    def __init__(self) -> None:
        self.parent = [0]
        self.kind = [""]
        self.depth = [0]
        self._ids: dict[tuple[int, str], int] = {}

    def push(self, stack: int, kind: str) -> int:
        key = (stack, kind)
        found = self._ids.get(key)
        if found is None:
            found = self._ids[key] = len(self.parent)
            self.parent.append(stack)
            self.kind.append(kind)
            self.depth.append(self.depth[stack] + 1)
        return found


@functools.cache
def _varname() -> re.Pattern[str]:
    return re.compile(_VARNAME_PATTERN)


def _varname_end(text: str, start: int) -> int:
    """The end of the longest ``VARNAME`` at *start* (*start* itself when there is none)."""
    ascii_name = _ASCII_VARNAME.match(text, start)
    end = ascii_name.end() if ascii_name else start
    if end < len(text) and not text[end].isascii():  # the name may go on (or begin) beyond ASCII
        name = _varname().match(text, start)
        return name.end() if name else start
    return end


def _operand(run: str, previous: bool) -> bool:
    """Whether the code *run* ends with a token that can be the left operand of ``<``."""
    stripped = run.rstrip(_SPACE)
    return previous if not stripped else stripped[-1] not in _NOT_OPERAND


def _walk(text: str, start: int, both: bool, spans: list[tuple[int, int]] | None) -> Scan:
    n = len(text)
    stacks = _Stacks()
    # a reading's state: (bracket stack id, whether the last token can be an operand)
    frontier: dict[int, set[tuple[int, bool]]] = {start: {(0, False)}}
    queue = [start]
    deepest, service = 0, False

    def go(position: int, state: tuple[int, bool]) -> None:
        if position >= n:
            return
        waiting = frontier.get(position)
        if waiting is None:
            frontier[position] = {state}
            heapq.heappush(queue, position)
        else:
            waiting.add(state)

    def code(begin: int, end: int) -> None:
        if spans is not None:
            spans.append((begin, end))

    while queue:
        i = heapq.heappop(queue)
        states = frontier.pop(i)
        if len(states) > MAX_READINGS:
            return Scan(deepest, service, True)
        for stack, operand in states:
            found = _SPECIAL.search(text, i)
            j = found.start() if found else n
            if j > i:  # plain code up to the next character that may start a token of its own
                code(i, j)
                run = text[i:j]
                operand = _operand(run, operand)
                service = service or bool(_SERVICE.search(run))
            if j >= n:
                continue
            c = text[j]
            if c == "#":
                line_end = _LINE_END.search(text, j)
                go(line_end.start() if line_end else n, (stack, operand))
            elif c in "\"'":
                long, short = _STRINGS[c]
                match = (long.match(text, j) if text.startswith(c * 3, j) else None) or short.match(text, j)
                if match:
                    go(match.end(), (stack, True))
                else:  # no string closes here: the parser fails; the quote is read as code
                    code(j, j + 1)
                    go(j + 1, (stack, True))
            elif c == "<":
                iri = IRIREF.match(text, j)
                operator = operand and stacks.kind[stack] == "("
                if both:
                    if iri:
                        go(iri.end(), (stack, True))
                    if operator or not iri:
                        code(j, j + 1)
                        go(j + 1, (stack, False))
                elif iri and not (operator and ":" not in iri.group()):
                    go(iri.end(), (stack, True))
                else:
                    code(j, j + 1)
                    go(j + 1, (stack, False))
            elif c in "?$":
                end = _varname_end(text, j + 1)
                code(j, end)
                go(end, (stack, True))
            elif c == "\\":
                end = j + 2 if j + 1 < n and text[j + 1] in _LOCAL_ESCAPED else j + 1
                code(j, end)
                go(end, (stack, True))
            elif c in "({[":
                code(j, j + 1)
                inner = stacks.push(stack, c)
                deepest = max(deepest, stacks.depth[inner])
                go(j + 1, (inner, False))
            else:  # ) } ]
                code(j, j + 1)
                go(j + 1, (stacks.parent[stack], True))
    return Scan(deepest, service, False)


def code_spans(text: str, start: int = 0) -> list[tuple[int, int]]:
    """The ``(start, end)`` runs of *text* that are code (not comments, strings or IRIs), from *start*, in order.

    One reading: a ``<`` that may be an operator is an IRI if what it encloses has a ``:``.
    """
    spans: list[tuple[int, int]] = []
    _walk(text, start, False, spans)
    return spans


def code_indexes(text: str, start: int = 0) -> Iterator[int]:
    """The indexes of *text* that are code, from *start*, in order (the reading of :func:`code_spans`)."""
    for begin, end in code_spans(text, start):
        yield from range(begin, end)


def code_only(text: str) -> str:
    """*text* with every character that is not code (comments, strings, IRIs) replaced by a space.

    The result has the same length, so an index into it is an index into *text*.
    """
    out = [" "] * len(text)
    for begin, end in code_spans(text):
        out[begin:end] = text[begin:end]
    return "".join(out)


def first_code(text: str, char: str) -> int:
    """The index of the first *char* in code, or -1."""
    for begin, end in code_spans(text):
        found = text.find(char, begin, end)
        if found >= 0:
            return found
    return -1


def readings(text: str) -> Scan:
    """Every reading of *text* at once: a ``<`` that may be an operator is taken both as an operator and as an IRI."""
    return _walk(text, 0, True, None)


_ESCAPE = re.compile(rf"\\u({_HEX4})|\\U({_HEX8})")


def _decoded(text: str) -> str:
    def char(match: re.Match[str]) -> str:
        code = int(match.group(1) or match.group(2), 16)
        return chr(code) if code <= 0x10FFFF else match.group()

    return _ESCAPE.sub(char, text)


def may_use_service(text: str) -> bool:
    """Whether a SPARQL parser may read ``SERVICE`` in *text*: errs on the side of yes.

    Yes when any reading (:func:`readings`) has the word ``SERVICE`` in its code, in any case, whatever
    stands around it (Oxigraph's parser reads ``1SERVICE``, ``.SERVICE``, ``SERVICESILENT`` and
    ``SERVICE:name`` as the keyword) and in a prefixed name too (``ex:SERVICE`` is read as ``ex:``
    then the keyword when the IRI it makes is not valid); only variables, comments, strings and IRIs
    may hold it. The same with ``\\u`` escapes decoded first, as SPARQL 1.1 says a parser may do.
    Yes as well when the text has too many readings to follow.
    """
    for variant in (text, _decoded(text)):
        scan = readings(variant)
        if scan.service or scan.overflow:
            return True
    return False
