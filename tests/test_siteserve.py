"""The site below ``/kap/`` of ``kapgraph serve``: path + Accept -> file, redirect or error, traversal refused."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kapgraph.site import HTACCESS
from kapgraph.siteserve import SiteError, accepts, answer, media_type, rules, site_path

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"
FILES = (
    "index.html", "style.css", ".htaccess", "ontology.html", "ontology.ttl", "kap.ttl", "void.ttl",
    "catalog.ttl", "id/study/index.html", "id/study/s1.html", "id/study/s1.ttl", "id/study/s1.jsonld",
    "id/study/s2.html", "id/review.html", "vocab/diagnosis.html", "vocab/diagnosis/PTSD.html", "query/q1.html",
)  # fmt: skip


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small site (each file holds its own name) inside a folder that also holds a secret."""
    outer = tmp_path_factory.mktemp("outer")
    (outer / "secret.txt").write_text("secret")
    site = outer / "site"
    for name in FILES:
        (site / name).parent.mkdir(parents=True, exist_ok=True)
        (site / name).write_text(name)
    (site / "in-link.html").symlink_to("index.html")  # stays inside: served
    (site / "out-link.html").symlink_to(outer / "secret.txt")  # points out: refused
    (site / "out-dir").symlink_to(outer)
    (site / "id" / "study" / "s3.ttl").symlink_to(outer / "secret.txt")  # a redirect target that points out
    os.mkfifo(site / "fifo.html")  # not a regular file: refused, never waited on
    return site.resolve()


#: (path, Accept, status, the file served (200) or the Location (3xx), or None)
CASES = [
    # a study and its parts: Turtle, JSON-LD, or the HTML page (with the part's anchor)
    ("/kap/id/study/s1", "text/turtle", 303, "/kap/id/study/s1.ttl"),
    ("/kap/id/study/s1", "application/ld+json", 303, "/kap/id/study/s1.jsonld"),
    ("/kap/id/study/s1", BROWSER, 303, "/kap/id/study/s1.html"),
    ("/kap/id/study/s1", None, 303, "/kap/id/study/s1.html"),
    ("/kap/id/study/s1", "text/turtle;q=0.5, text/html", 303, "/kap/id/study/s1.ttl"),  # as the .htaccess does
    ("/kap/id/study/s1", "text/turtle;q=0, text/html", 303, "/kap/id/study/s1.html"),  # q=0 is a refusal
    ("/kap/id/study/s1", "application/*", 303, "/kap/id/study/s1.jsonld"),  # the HTML is not acceptable
    ("/kap/id/study/s1", "application/rdf+xml", 406, None),  # no RDF/XML, and nothing else will do
    ("/kap/id/study/s1/arm1", BROWSER, 303, "/kap/id/study/s1.html#arm1"),
    ("/kap/id/study/s1/arm1", "text/turtle", 303, "/kap/id/study/s1.ttl"),
    ("/kap/id/study/s2", "text/turtle", 406, None),  # s2 has no Turtle: not a 404, there is a page
    ("/kap/id/study/s2", "text/turtle, */*;q=0.1", 303, "/kap/id/study/s2.html"),
    ("/kap/id/study/nosuch", "text/turtle", 404, None),
    ("/kap/id/study/nosuch", BROWSER, 404, None),
    # the ontology (a hash IRI reaches the server without its fragment) and the concept schemes
    ("/kap/ontology", "text/turtle", 303, "/kap/ontology.ttl"),
    ("/kap/ontology", BROWSER, 303, "/kap/ontology.html"),
    ("/kap/ontology", "application/ld+json", 406, None),
    ("/kap/vocab/diagnosis/PTSD", "text/turtle", 303, "/kap/ontology.ttl"),
    ("/kap/vocab/diagnosis/PTSD", BROWSER, 303, "/kap/vocab/diagnosis/PTSD.html"),
    ("/kap/vocab/diagnosis", None, 303, "/kap/vocab/diagnosis.html"),
    ("/kap/vocab/nosuch", BROWSER, 404, None),
    ("/kap/vocab/nosuch", "text/turtle", 404, None),  # no page: no such concept (Apache would send ontology.ttl)
    # the review, the dataset, the stored queries, the endpoint the published site does not have
    ("/kap/id/review/claim1", BROWSER, 303, "/kap/id/review.html#claim1"),
    ("/kap/id/review/claim1", "text/turtle", 303, "/kap/kap.ttl"),
    ("/kap/id/dataset", BROWSER, 303, "/kap/void.ttl"),
    ("/kap/query/q1", BROWSER, 303, "/kap/query/q1.html"),
    ("/kap/query/q1", "text/turtle", 303, "/kap/catalog.ttl"),
    ("/kap/sparql", None, 503, None),
    # files
    ("/kap/", BROWSER, 200, "index.html"),
    ("/kap", None, 301, "/kap/"),
    ("/kap/id/study", None, 301, "/kap/id/study/"),
    ("/kap/id/study/", None, 200, "id/study/index.html"),
    ("/kap/id/study/s1.ttl", "text/turtle", 200, "id/study/s1.ttl"),
    ("/kap/id/study/s1.ttl", "*/*", 200, "id/study/s1.ttl"),
    ("/kap/id/study/s1.ttl", "text/html", 406, None),
    ("/kap/id/study/s1%2Ettl", None, 200, "id/study/s1.ttl"),  # percent-decoded once
    ("/kap/style.css", BROWSER, 200, "style.css"),
    ("/kap/.htaccess", None, 200, ".htaccess"),
    ("/kap/in-link.html", None, 200, "index.html"),
    ("/kap/nosuch.html", None, 404, None),
    # traversal and other paths that must not reach a file
    ("/kap/../secret.txt", None, 404, None),
    ("/kap/id/../../secret.txt", None, 404, None),
    ("/kap/%2e%2e/secret.txt", None, 404, None),
    ("/kap/%2E%2E%2Fsecret.txt", None, 404, None),
    ("/kap/id/study/..%2f..%2f..%2fsecret.txt", "text/turtle", 404, None),
    ("/kap/%252e%252e/secret.txt", None, 404, None),  # decoded once: a name '%2e%2e' that is not there
    ("/kap//secret.txt", None, 404, None),
    ("/kap/id//study/s1.html", None, 404, None),
    ("/kap/..\\secret.txt", None, 404, None),
    ("/kap/%5c..%5csecret.txt", None, 404, None),
    ("/kap/index.html%00.ttl", None, 404, None),
    ("/kap/index.html%0d%0aX-Injected:%201", None, 404, None),
    ("/kap/./index.html", None, 404, None),
    ("/kap/%2e/index.html", None, 404, None),
    ("/kap/%ff", None, 404, None),  # not UTF-8
    ("/kap/out-link.html", None, 404, None),
    ("/kap/out-dir/secret.txt", None, 404, None),
    ("/kap/out-dir/site/index.html", None, 200, "index.html"),  # out and back in: the real path decides
    ("/kap/id/study/s3", "text/turtle", 404, None),  # the .htaccess's target is a link out of the site
    ("/kap/fifo.html", None, 404, None),
]


@pytest.mark.parametrize(("path", "accept", "status", "expected"), CASES, ids=[f"{c[0]} {c[1]}" for c in CASES])
def test_path_and_accept_map_to_a_file_a_redirect_or_an_error(root, path, accept, status, expected):
    got = answer(root, path, accept)
    assert got.status == status, got
    assert got.headers["Vary"] == "Accept"
    if status == 200:
        assert got.file == (root / expected).resolve()
        assert got.file.read_text() == expected  # the file itself, not one of the same name elsewhere
    elif 300 <= status < 400:
        assert got.location == expected and got.file is None
    else:
        assert got.file is None and got.location is None and got.text
        assert "secret" not in got.text or "secret.txt" in path  # the body never shows a file


def test_a_406_names_what_there_is(root):
    got = answer(root, "/kap/ontology", "application/ld+json")
    assert got.text == (
        "not acceptable: /kap/ontology is available as text/html (/kap/ontology.html), text/turtle (/kap/ontology.ttl)"
    )


def test_content_types_carry_a_charset_where_one_applies():
    assert media_type(Path("a/b.html")) == "text/html; charset=utf-8"
    assert media_type(Path("b.ttl")) == "text/turtle; charset=utf-8"
    assert media_type(Path(".htaccess")) == "text/plain; charset=utf-8"
    assert media_type(Path("b.jsonld")) == "application/ld+json"  # JSON has no charset parameter
    assert media_type(Path("b.unknown-suffix")) == "application/octet-stream"


@pytest.mark.parametrize(
    ("accept", "kind", "ok"),
    [
        (None, "text/turtle", True),
        ("", "text/turtle", True),
        ("text/*", "text/turtle", True),
        ("text/*;q=0, text/turtle", "text/turtle", True),  # the most specific range decides
        ("text/turtle;q=0, */*", "text/turtle", False),
        ("application/ld+json", "text/turtle", False),
        ("TEXT/Turtle", "text/turtle; charset=utf-8", True),
        ("text/turtle;q=abc", "text/turtle", True),
    ],
)
def test_accepts(accept, kind, ok):
    assert accepts(accept, kind) is ok


def test_every_line_of_the_shipped_htaccess_is_understood():
    found, types = rules()
    assert len(found) == HTACCESS.count("\nRewriteRule ")
    assert types == {".ttl": "text/turtle", ".jsonld": "application/ld+json"}
    conditioned = [r for r in found if r.conditions]
    assert len(conditioned) == HTACCESS.count("\nRewriteCond ") - HTACCESS.count("[OR]")


@pytest.mark.parametrize(
    "line",
    [
        "RewriteRule ^a$ b [R=303]",  # no L: Apache would go on rewriting
        "RewriteRule ^a$ b [L]",  # an internal rewrite
        "RewriteRule ^a$ b [R=303,L,QSA]",
        "RewriteCond %{HTTP_HOST} example\nRewriteRule ^a$ b [R=303,L]",
        "RewriteCond %{HTTP_ACCEPT} text/turtle [NC]\nRewriteRule ^a$ b [R=303,L]",
        "RewriteCond %{HTTP_ACCEPT} text/turtle",  # a condition with no rule
        "Redirect 301 /a /b",
    ],
)
def test_a_line_the_server_would_misread_is_an_error(line):
    with pytest.raises(SiteError):
        rules(line)


@pytest.mark.parametrize(
    ("target", "path"),
    [
        ("/kap/id/study/x?q=1", "/kap/id/study/x"),
        ("/kap", "/kap"),
        ("/kap/", "/kap/"),
        ("/query?query=ASK{}", None),
        ("/", None),
        ("/kapx", None),
        ("/store", None),
        ("//kap/x", None),
        ("http://127.0.0.1/kap/x", None),
    ],
)
def test_which_targets_are_the_sites(target, path):
    assert site_path(target) == path
