"""``kapgraph docs``: the static site's pages, links, per-study RDF, layout and (in Chromium) rendering."""

from __future__ import annotations

import json
import shutil
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from click.testing import CliRunner
from rdflib import Graph, URIRef

from kapgraph.catalog import Catalog
from kapgraph.cli import cli
from kapgraph.site import page_of
from tests.conftest import SLUGS

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for key, val in attrs:
            if key in ("href", "src") and val:
                self.links.append(val)
            if key == "id" and val:
                self.ids.add(val)


def _parse(path: Path) -> _Links:
    parser = _Links()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site") / "site"
    result = CliRunner().invoke(cli, ["docs", "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out


def broken_links(site: Path) -> list[str]:
    ids = {p: _parse(p).ids for p in site.rglob("*.html")}
    broken = []
    for page in ids:
        for link in _parse(page).links:
            if urlsplit(link).scheme:
                continue
            target, _, fragment = link.partition("#")
            path = (page.parent / unquote(target)).resolve() if target else page
            if not path.is_file():
                broken.append(f"{page.relative_to(site)} -> {link} (no file)")
            elif fragment and path.suffix == ".html" and unquote(fragment) not in ids[path]:
                broken.append(f"{page.relative_to(site)} -> {link} (no anchor)")
    return broken


def test_every_internal_link_resolves(site: Path) -> None:
    assert broken_links(site) == []


def test_link_checker_finds_a_broken_link(site: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(site, copy)
    page = copy / "guide.html"
    page.write_text(page.read_text(encoding="utf-8").replace("</main>", '<a href="nowhere.html#x">x</a></main>'))
    assert broken_links(copy) == ["guide.html -> nowhere.html#x (no file)"]


def test_a_page_per_study_with_its_rdf_and_one_per_query(site: Path) -> None:
    for slug in SLUGS:
        page = (site / "id" / "study" / f"{slug}.html").read_text(encoding="utf-8")
        assert "<h2>(a) study design</h2>" in page and "<blockquote>" in page
        turtle = Graph().parse(site / "id" / "study" / f"{slug}.ttl")
        jsonld = Graph().parse(data=(site / "id" / "study" / f"{slug}.jsonld").read_text(), format="json-ld")
        assert len(turtle) == len(jsonld) > 0
    for query in Catalog().all():
        assert (site / "query" / f"{query.name}.html").is_file(), query.name


def test_inferred_values_and_discrepancies_are_shown(site: Path) -> None:
    page = (site / "id" / "study" / "dakwar2019.html").read_text(encoding="utf-8")
    assert "inferred: Sessions attended by returning after discharge are read as outpatient." in page
    assert "doi:10.1176/appi.ajp.2019.18101123" in page
    rodriguez = (site / "id" / "study" / "rodriguez2016.html").read_text(encoding="utf-8")
    assert "<h2>discrepancies</h2>" in rodriguez


def test_every_minted_iri_maps_to_a_page_that_exists(site: Path, oxigraph) -> None:
    rows = oxigraph.query(
        'SELECT DISTINCT ?s WHERE { ?s ?p ?o FILTER(isIRI(?s) && STRSTARTS(STR(?s), "https://w3id.org/kap/")) }'
    ).rows
    ids: dict[Path, set[str]] = {}
    missing = []
    for (s,) in rows:
        target = page_of(s.value)
        if target is None:
            if not s.value.startswith(("https://w3id.org/kap/shapes#", "https://w3id.org/kap/id/dataset")):
                missing.append(s.value)
            continue
        file, _, fragment = target.partition("#")
        path = site / file
        if not path.is_file():
            missing.append(f"{s.value} -> {target}")
            continue
        if fragment and fragment not in ids.setdefault(path, _parse(path).ids):
            missing.append(f"{s.value} -> {target}")
    assert missing == []


def test_every_minted_iri_resolves_through_the_htaccess(site: Path, oxigraph) -> None:
    """As kapgraph serve (and w3id.org with the .htaccess) answers it: for a browser the page (and anchor)
    that page_of names, for Accept: text/turtle a Turtle file in which the IRI is a subject."""
    from kapgraph.siteserve import answer

    root = site.resolve()
    rows = oxigraph.query(
        'SELECT DISTINCT ?s WHERE { ?s ?p ?o FILTER(isIRI(?s) && STRSTARTS(STR(?s), "https://w3id.org/kap/")) }'
    ).rows
    graphs: dict[str, Graph] = {}
    problems = []
    for (s,) in rows:
        path = "/kap/" + s.value.removeprefix("https://w3id.org/kap/").split("#", 1)[0]
        for accept in ("text/html,*/*;q=0.8", "text/turtle"):
            got = answer(root, path, accept)
            file = (got.location or "").removeprefix("/kap/").split("#", 1)[0]
            page = page_of(s.value) if accept.startswith("text/html") else None
            if page is not None and "#" in s.value:  # a hash IRI reaches the server without its fragment
                page = page.split("#", 1)[0]
            if got.status != 303 or not (root / file).is_file() or (page and got.location != "/kap/" + page):
                problems.append(f"{s.value} ({accept}): {got.status} {got.location or got.text}, page {page}")
            elif accept == "text/turtle":
                graph = graphs.get(file) or graphs.setdefault(file, Graph().parse(root / file, format="turtle"))
                if not any(True for _ in graph.triples((URIRef(s.value), None, None))):
                    problems.append(f"{s.value}: not a subject in {file}")
    assert problems == []


def test_metadata_files_parse(site: Path) -> None:
    for name in ("void.ttl", "catalog.ttl", "sparql-service.ttl", "ontology.ttl", "kap.ttl"):
        assert len(Graph().parse(site / name)) > 0, name
    assert json.loads((site / "kap.jsonld").read_text(encoding="utf-8"))
    htaccess = (site / ".htaccess").read_text(encoding="utf-8")
    assert "RewriteCond %{HTTP_ACCEPT} text/turtle" in htaccess


def test_docs_refuses_a_foreign_non_empty_folder(tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("mine")
    result = CliRunner().invoke(cli, ["docs", "--out", str(tmp_path)])
    assert result.exit_code == 2 and "not a kapgraph site" in result.stderr
    assert (tmp_path / "keep.txt").read_text() == "mine"


@pytest.fixture(scope="module")
def browser():
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is in the test extra")
    if not (Path(CHROMIUM).is_file() and Path(CHROMEDRIVER).is_file()):
        pytest.skip("Debian's chromium and chromium-driver are not installed")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.mark.server
@pytest.mark.parametrize(
    ("page", "selector", "text"),
    [
        ("ontology.html", "#Study h3", "study"),
        ("vocab/diagnosis/PTSD.html", "h1", "post-traumatic stress disorder"),
        ("id/study/dakwar2019.html", "h2", "(a) study design"),
        ("query/studies-by-diagnosis.html", "h2", "Parameters"),
    ],
)
def test_pages_render_in_chromium_and_links_resolve(browser, site: Path, page: str, selector: str, text: str) -> None:
    from selenium.webdriver.common.by import By

    browser.get((site / page).as_uri())
    element = browser.find_element(By.CSS_SELECTOR, selector)
    assert text in element.text
    assert element.size["height"] > 0  # laid out, not hidden
    hrefs = [a.get_attribute("href") for a in browser.find_elements(By.CSS_SELECTOR, "a[href]")]
    local = [h for h in hrefs if h and h.startswith("file://")]
    assert local
    for href in local:
        parts = urlsplit(href)
        assert Path(unquote(parts.path)).is_file(), href
        if parts.fragment and parts.path.endswith(".html"):
            assert unquote(parts.fragment) in _parse(Path(unquote(parts.path))).ids, href


def test_guide_queries_run_and_the_frequency_rule_holds(oxigraph, rdf_graph: Graph) -> None:
    from rdflib import Namespace
    from rdflib.namespace import RDF

    from kapgraph.api import run_sparql
    from kapgraph.site import GUIDE

    for title, _text, sparql in GUIDE:
        assert run_sparql(sparql, engine=oxigraph).rows, title
    kap = Namespace("https://w3id.org/kap/ontology#")
    freq = "https://w3id.org/kap/vocab/frequency/"
    expected = set()
    for study in rdf_graph.subjects(RDF.type, kap.Study):
        category = str(rdf_graph.value(study, kap.frequencyCategory))
        counts = {
            int(n)
            for r in rdf_graph.objects(study, kap.hasKetamineRegimen)
            for n in rdf_graph.objects(r, kap.sessionCount)
        }
        if category == freq + "single-or-multiple-sessions":
            continue
        if (
            category == freq + "continuous-infusion"
            or (category == freq + "single-session" and counts != {1})
            or (category != freq + "single-session" and (not counts or 1 in counts))
        ):
            expected.add(str(study).rsplit("/", 1)[-1])
    (_t, _x, sparql) = next(g for g in GUIDE if g[0].startswith("Regimen"))
    got = {row[0].value.rsplit("/", 1)[-1] for row in run_sparql(sparql, engine=oxigraph).rows}
    assert got == expected


def _axiom_terms(graph: Graph, node: object, seen: set[object]) -> set[str]:
    """The named terms (IRIs) of a class expression, the owl: and rdf: vocabulary left out."""
    from rdflib import BNode

    if isinstance(node, URIRef):
        return {str(node)}
    if not isinstance(node, BNode) or node in seen:
        return set()
    seen.add(node)
    found: set[str] = set()
    for p, o in graph.predicate_objects(node):
        if not str(p).startswith(("http://www.w3.org/2002/07/owl#", "http://www.w3.org/1999/02/22-rdf-syntax-ns#")):
            continue
        if str(o).startswith(("http://www.w3.org/2002/07/owl#", "http://www.w3.org/1999/02/22-rdf-syntax-ns#")):
            continue
        found |= _axiom_terms(graph, o, seen)
    return found


def test_defined_classes_show_their_axioms_in_manchester_syntax(site: Path) -> None:
    from kapgraph import resources

    ontology = Graph().parse(resources.ontology_file())
    owl = "http://www.w3.org/2002/07/owl#"
    defined = sorted(
        (c, e) for c, e in ontology.subject_objects(URIRef(owl + "equivalentClass")) if not isinstance(e, URIRef)
    )
    assert len(defined) >= 10  # the defined classes of issue 9
    page = (site / "ontology.html").read_text(encoding="utf-8")
    for cls, expression in defined:
        local = str(cls).rsplit("#", 1)[1]
        section = page[page.index(f'id="{local}"') :]
        section = section[: section.index("</table>")]
        assert "equivalent to" in section, local
        row = section[section.index("equivalent to") :]
        row = row[: row.index("</tr>")]
        assert "anonymous class" not in row, local
        assert " <b>" in row, local  # a keyword: and, or, some, value, ...
        for term in _axiom_terms(ontology, expression, set()):
            compact = term.replace("https://w3id.org/kap/ontology#", "kap:")
            assert compact.split("/")[-1] in row or compact in row, (local, term, row[:300])
