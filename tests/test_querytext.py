"""The lexical layer of kapgraph.querytext: one row per text, with the reading it must get.

A reading is the text with every character that is not code (in a comment, a string or an IRI)
shown as ``·``. Each row was checked against Oxigraph's parser where it says what that parser does.
"""

from __future__ import annotations

import itertools
import re

import pyoxigraph as ox
import pytest

from kapgraph.limits import LimitExceeded, check_query, query_nesting
from kapgraph.querytext import (
    _VARNAME_PATTERN,
    IRIREF,
    _varname_end,
    code_indexes,
    code_only,
    code_spans,
    first_code,
    may_use_service,
    readings,
)


def reading(text: str) -> str:
    code = set(code_indexes(text))
    return "".join(c if i in code else "·" for i, c in enumerate(text))


READINGS = [
    # comments end at \n or \r (SPARQL 1.1, and Oxigraph), not at other line breaks
    ("comment-to-lf", "?a # x\n?b", "?a ···\n?b"),
    ("comment-to-cr", "?a # x\r?b", "?a ···\r?b"),
    ("comment-over-vt", "?a # x\x0b?b\n?c", "?a ······\n?c"),
    ("comment-at-end", "?a #", "?a ·"),
    # the four string forms, their escapes, and what does not close
    ("string-double", '"a#b" ?c', "····· ?c"),
    ("string-single-escaped-quote", "'it\\'s' ?c", "······· ?c"),
    ("string-uchar-is-not-a-quote", '"\\u0022" ?c', "········ ?c"),
    ("string-long-with-quotes", "'''a''b'c''' ?d", "············ ?d"),
    ("string-long-double-with-line-break", '"""a\n"b""" ?d', "·········· ?d"),
    ("string-long-ends-at-first-triple", "'''a'''' ?d", "·······' ?d"),
    ("string-long-unclosed-is-empty-string", "'''a", "··'a"),
    ("string-short-stops-at-line-break", '"a\nb" ?c', '"a\nb" ?c'),
    ("string-bad-escape-does-not-close", '"a\\qb" ?c', '"a\\qb" ?c'),
    ("string-hash-and-iri-inside", "'<x> #' ?c", "······· ?c"),
    # IRIREF: '<' ([^<>"{}|^`\]-[#x00-#x20] | UCHAR)* '>'
    ("iri", "<http://x/#a> ?b", "············· ?b"),
    ("iri-with-nbsp", "<http://a/\u00a0#> ?b", "············· ?b"),
    ("iri-with-uchar", "<http://x/\\u0041> ?b", "················· ?b"),
    ("iri-with-quote-mark", "<http://x/'> ?b", "············ ?b"),
    ("not-iri-space", "<a b> ?c", "<a b> ?c"),
    ("not-iri-brace", "<a{b> ?c", "<a{b> ?c"),
    ("not-iri-backslash", "<a\\b> ?c", "<a\\b> ?c"),
    ("not-iri-line-break", "<a\nb> ?c", "<a\nb> ?c"),
    # '<' as less-than: only inside ( and after an operand; one reading picks the IRI if it has a ':'
    ("less-than-in-filter", "FILTER(?a<?b&&?c>?d)", "FILTER(?a<?b&&?c>?d)"),
    ("less-than-iri-in-filter", "FILTER(?a = <urn:x>)", "FILTER(?a = ·······)"),
    ("iri-after-triple-in-group", "{ ?s <urn:p> <urn:o> }", "{ ?s ······· ······· }"),
    ("iri-in-collection", "(<urn:a> <urn:b>)", "(······· ·······)"),
    ("less-than-no-colon-in-group-is-iri", "{ ?s <p> ?o }", "{ ?s ··· ?o }"),
    # variables, prefixed names and their escapes are code
    ("variable-with-hash-after", "?x#y\n?z", "?x··\n?z"),
    ("variable-beyond-ascii-with-hash-after", "?été#y\n?a\u203fb#c", "?été··\n?a\u203fb··"),
    ("local-name-escaped-hash", "ex:a\\#b ?c", "ex:a\\#b ?c"),
    ("local-name-escaped-quote", "ex:a\\'b 'c'", "ex:a\\'b ···"),
    ("unicode-escape-outside-strings-is-not-decoded", "\\u0023 ?x", "\\u0023 ?x"),
]


@pytest.mark.parametrize(("text", "expected"), [pytest.param(t, e, id=i) for i, t, e in READINGS])
def test_each_text_gets_its_reading(text: str, expected: str) -> None:
    assert reading(text) == expected
    assert code_only(text) == expected.replace("·", " ")


def test_spans_are_ordered_and_cover_the_code_once() -> None:
    text = 'SELECT ?x { ?x <urn:p> "a" # c\n FILTER(?x<3) }'
    spans = code_spans(text)
    assert spans == sorted(spans) and all(b < e for b, e in spans)
    assert all(e1 <= b2 for (_, e1), (b2, _) in itertools.pairwise(spans))
    assert first_code(text, "{") == text.index("{") and first_code('"{"', "{") == -1


ORACLE = [
    # the strings that Oxigraph's parser, not only the grammar, reads as above
    ("SELECT * {} #c\rLIMIT 0", 0),
    ("PREFIX ex: <http://e/> SELECT (ex:a\\#b AS ?x) {}", 1),
    ("SELECT (<http://x/\u00a0#> AS ?x) {}", 1),
    ("SELECT ('''a'''' AS ?x) {}", None),
    ("ASK { FILTER(1<2&&3>2) }", True),
]


@pytest.mark.parametrize(("text", "answer"), ORACLE)
def test_oxigraph_reads_these_as_the_scanner_does(text: str, answer: object) -> None:
    try:
        result = ox.Store().query(text)
    except SyntaxError:
        assert answer is None
        return
    got = bool(result) if isinstance(result, ox.QueryBoolean) else len(list(result))
    assert got == answer


def test_variable_names_end_where_the_grammar_says_for_every_character_of_the_bmp() -> None:
    # VARNAME is matched by an ASCII pattern first (the whole one is slow to compile): the same ends
    full = re.compile(_VARNAME_PATTERN)

    def expected(text: str) -> int:
        found = full.match(text)
        return found.end() if found else 0

    for code in range(0x10000):
        char = chr(code)
        for text in (char + "b", "a" + char + "b", "a1_" + char, char):
            assert _varname_end(text, 0) == expected(text), (hex(code), text)
    assert code_spans("?été ?b") == [(0, 4), (4, 5), (5, 7)]


@pytest.mark.parametrize("char", '<>"{}|^`\\ \t\n\x00\x1f')
def test_oxigraph_refuses_in_an_iri_every_character_the_scanner_does(char: str) -> None:
    # a '<' the scanner does not take as an IRI must be one the parser cannot take as one either
    assert IRIREF.fullmatch(f"<http://x/a{char}b>") is None
    with pytest.raises(ValueError):
        ox.NamedNode(f"http://x/a{char}b")


# --- every reading: '<' both as less-than and as an IRI start -------------------------------------


def test_a_less_than_counts_the_brackets_up_to_a_later_greater_than() -> None:
    text = "ASK { FILTER(1<" + "(" * 300 + "1" + ")" * 300 + "&&3>2) }"
    assert query_nesting(text) == 302  # the group, FILTER's bracket and the 300
    assert readings(text).deepest == 302 and not readings(text).overflow


def test_sixty_thousand_brackets_after_a_less_than_are_refused_before_the_parser() -> None:
    # with the IRI reading only, pyoxigraph's parser got these and segfaulted (exit 139)
    text = "ASK { FILTER(1<" + "(" * 60_000 + "1" + ")" * 60_000 + "&&3>2) }"
    with pytest.raises(LimitExceeded, match="nests brackets 60002 deep"):
        check_query(text)


def test_brackets_inside_iris_strings_and_comments_do_not_count() -> None:
    assert query_nesting('SELECT * { ?s <urn:(((> "(((" # (((\n }') == 1
    assert query_nesting("SELECT * WHERE { { ?s ?p ?o } OPTIONAL { ?s ?q [ ?r ?t ] } }") == 3


def test_unclosed_brackets_do_not_go_below_zero() -> None:
    assert query_nesting(")))} { ?s ?p ?o }") == 1


SERVICE = [
    # (text, whether a parser may read SERVICE in it)
    ("SELECT * { SERVICE <http://x/> { ?s ?p ?o } }", True),
    ("select * { Service\n<http://x/> {} }", True),
    ("ASK { FILTER(1<2)SERVICE#>\n<http://x/> {} }", True),
    ("ASK { # a comment\rSERVICE <http://x/> {} }", True),
    ("ASK { ?s ?p <http://a/\u00a0#> . SERVICE <http://x/> {} }", True),
    ("PREFIX ex: <http://e/> ASK { ?s ?p ex:a\\#b . SERVICE <http://x/> {} }", True),
    ("ASK { ?s ?p ?o .SERVICE <http://x/> {} }", True),
    ("ASK { ?s ?p 1SERVICE <http://x/> {} }", True),
    ("PREFIX : <http://x/> ASK { SERVICE:a {} }", True),
    ("ASK { SERVICESILENT<http://x/> {} }", True),
    ("PREFIX ex: <http://[::1]> ASK { ?s ?p ex:SERVICE <http://x/> {} }", True),
    ("ASK { \\u0053ERVICE <http://x/> {} }", True),
    ('SELECT ?service { ?service <urn:p> "SERVICE" . # SERVICE\n ?x <urn:SERVICE> $service }', False),
    ("SELECT ?a\u00b7service ?éservice { BIND(1 AS ?a\u00b7service) BIND(2 AS ?éservice) }", False),
    ("SELECT * { ?s a <https://schema.org/Service> FILTER(?a<?b && ?c>?d) }", False),
    ("SELECT * { ?s ?p '''it''s a service''' }", False),
]


@pytest.mark.parametrize(("text", "expected"), SERVICE)
def test_service_is_seen_in_any_reading(text: str, expected: bool) -> None:
    assert may_use_service(text) is expected


def test_too_many_readings_count_as_service_and_as_too_deep() -> None:
    # each '(1<([x>' has two readings that leave different brackets open: 2**k readings
    text = "ASK { FILTER(" + "(1<([a>" * 12 + " }"
    assert readings(text).overflow
    assert may_use_service(text)
    with pytest.raises(LimitExceeded, match="more than 256 ways"):
        check_query(text)
