"""``kapgraph docs --out DIR``: a static documentation site of the graph, for any web server.

The site mirrors the IRIs the graph mints under ``https://w3id.org/kap/`` (so that the w3id.org
``kap`` entry only has to redirect ``/kap/*`` to the site and let the shipped ``.htaccess`` negotiate):

==========================================  ==============================================
IRI                                         file(s)
==========================================  ==============================================
``ontology#Term``                           ``ontology.html#Term``, ``ontology/Term.html``, ``ontology.ttl``
``vocab/<scheme>``                          ``vocab/<scheme>.html``
``vocab/<scheme>/<concept>``                ``vocab/<scheme>/<concept>.html``
``id/study/<slug>`` (and ``/<slug>/<x>``)   ``id/study/<slug>.html`` (``#<x>``), ``.ttl``, ``.jsonld``
``id/review`` (and ``/review/<x>``)         ``id/review.html`` (``#<x>``)
``query/<name>``                            ``query/<name>.html``
``id/dataset``                              ``void.ttl`` (VoID + DCAT), ``index.html``
==========================================  ==============================================

The pages are written by this module rather than by pyLODE. pyLODE 3.4.1 (the current release on
PyPI) fails on import when installed from its wheel (``pylode/version.py`` opens a
``pyproject.toml`` the wheel does not ship); 3.3.4, the release before, imports but stops on
``ontology/kap.ttl`` with ``TypeError: unhashable type: 'list'`` in ``_setclass_html``, on the nested
class expressions of the defined classes (RDFLib/pyLODE#231, open; both checked 2026-12-03 with
rdflib 7.6.0). So neither can be a dependency. The ontology pages carry pyLODE's content: label, IRI, definition, super-classes and -properties, domain and range, inverse,
the classes a property is used with, and the external concepts a term maps to.
"""

from __future__ import annotations

import html
import shutil
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

import pyoxigraph as ox

from kapgraph import resources
from kapgraph.errors import KapgraphError
from kapgraph.namespaces import KAP_IRI, PREFIXES, REVIEW_IRI, STUDY_IRI, VOCAB
from kapgraph.results import compact, value

if TYPE_CHECKING:
    from kapgraph.backends import Engine
    from kapgraph.catalog import StoredQuery

BASE = "https://w3id.org/kap/"
SKOS = PREFIXES["skos"]
RDFS = PREFIXES["rdfs"]
OWL = PREFIXES["owl"]
RDF_TYPE = PREFIXES["rdf"] + "type"
MATCHES = ("exactMatch", "closeMatch", "broadMatch", "narrowMatch", "relatedMatch")

#: the review's extracted variables (Methods: "(a) study design; ... (k) duration of outcomes"; the
#: review's list has no (e)), and the properties that carry each
VARIABLES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("a", "study design", ("design", "designFeature", "comparator", "hasArm")),
    ("b", "sample size", ("enrolledSize", "randomizedSize", "completedSize", "armSize")),
    ("c", "participant demographics", ("participantDescription", "primaryDiagnosis", "comorbidDiagnosis", "setting")),
    ("d", "ketamine dosage and dose frequency", ("hasKetamineRegimen", "hasDrugRegimen", "frequencyCategory")),
    ("f", "ketamine delivery method", ("route",)),
    ("g", "psychotherapy type", ("hasPsychotherapy",)),
    ("h", "psychotherapy frequency", ("sessionCount", "sessionDuration")),
    ("i", "temporal relationship between ketamine and psychotherapy", ("timingCategory", "phase")),
    ("j", "primary outcomes", ("hasOutcome",)),
    ("k", "duration of outcomes", ("followUpDuration", "effectDuration")),
)
_VARIABLE_OF = {KAP_IRI + p: letter for letter, _label, props in VARIABLES for p in props}

CSS = """
body{font-family:system-ui,sans-serif;max-width:64rem;margin:1rem auto;padding:0 1rem;line-height:1.45;color:#222}
nav{border-bottom:1px solid #ccc;padding-bottom:.4rem;margin-bottom:1rem}nav a{margin-right:1rem}
code,pre{background:#f4f4f4}pre{padding:.6rem;overflow-x:auto}table{border-collapse:collapse}
td,th{border:1px solid #ddd;padding:.2rem .5rem;vertical-align:top;text-align:left}
blockquote{margin:.2rem 0 .2rem 1rem;color:#444;border-left:3px solid #9ab;padding-left:.5rem}
.inferred{color:#a50;font-size:.85em}.term{border-top:1px solid #eee;margin-top:1rem}dt{font-weight:600}
"""


class Page(NamedTuple):
    path: str  # relative to the site root, with '/'
    title: str
    body: str


def esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def rel(src: str, dst: str) -> str:
    """A relative link from page *src* to *dst* (both site paths, *dst* may carry #fragment)."""
    target, _, fragment = dst.partition("#")
    depth = src.count("/")
    link = "../" * depth + target if target else Path(src).name
    return link + (f"#{fragment}" if fragment else "")


def page_of(iri: str) -> str | None:
    """The site file (with #fragment) that documents a minted IRI, or None if the IRI is not ours."""
    if iri == KAP_IRI.rstrip("#"):
        return "ontology.html"
    if iri.startswith(KAP_IRI):
        return f"ontology.html#{iri[len(KAP_IRI) :]}"
    if iri.startswith(VOCAB):
        rest = iri[len(VOCAB) :]
        return f"vocab/{rest}.html"
    if iri.startswith(STUDY_IRI):
        slug, _, local = iri[len(STUDY_IRI) :].partition("/")
        return f"id/study/{slug}.html" + (f"#{local}" if local else "")
    if iri == REVIEW_IRI or iri.startswith(REVIEW_IRI + "/"):
        local = iri[len(REVIEW_IRI) + 1 :]
        return "id/review.html" + (f"#{local}" if local else "")
    if iri.startswith(BASE + "query/"):
        return f"query/{iri[len(BASE) + 6 :]}.html"
    if iri == BASE + "id/kapgraph-developers":  # the ontology's creator: the project, whose home this is
        return "index.html"
    return None


class Site:
    def __init__(self, engine: Engine, out: Path):
        self.engine = engine
        self.out = out
        self.pages: list[Page] = []
        self.anchors: dict[str, set[str]] = defaultdict(set)
        self._labels: dict[str, str] = {}
        for s, label in self.rows(
            f"SELECT ?s ?l WHERE {{ ?s <{RDFS}label>|<{SKOS}prefLabel> ?l FILTER(LANG(?l) IN ('en', '')) }}"
        ):
            self._labels.setdefault(value(s), value(label))

    def rows(self, sparql: str) -> list[tuple[ox.NamedNode | ox.Literal | ox.BlankNode, ...]]:
        return self.engine.query(sparql).rows  # type: ignore[return-value]

    def label(self, iri: str) -> str:
        return self._labels.get(iri, compact(ox.NamedNode(iri)))

    def link(self, src: str, term: object) -> str:
        """HTML for a term: a link inside the site for our IRIs, outside for others, text for literals."""
        if isinstance(term, ox.NamedNode):
            target = page_of(term.value)
            text = esc(compact(term))
            if target is not None:
                return f'<a href="{esc(rel(src, target))}">{text}</a>'
            return f'<a href="{esc(term.value)}">{text}</a>'
        if isinstance(term, ox.BlankNode):
            return "[]"
        return esc(value(term))  # type: ignore[arg-type]

    def add(self, path: str, title: str, body: str) -> None:
        self.pages.append(Page(path, title, body))

    # --- writing -------------------------------------------------------------------------------

    def nav(self, src: str) -> str:
        items = [
            ("index.html", "kapgraph"),
            ("ontology.html", "ontology"),
            ("vocab/index.html", "concept schemes"),
            ("id/study/index.html", "studies"),
            ("query/index.html", "queries"),
            ("guide.html", "modelling guide"),
            ("layout.html", "IRIs and files"),
        ]
        return "<nav>" + "".join(f'<a href="{esc(rel(src, p))}">{t}</a>' for p, t in items) + "</nav>"

    def write(self) -> None:
        for page in self.pages:
            target = self.out / page.path
            target.parent.mkdir(parents=True, exist_ok=True)
            css = rel(page.path, "style.css")
            target.write_text(
                f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{esc(page.title)}</title>'
                f'<meta name="viewport" content="width=device-width, initial-scale=1">'
                f'<link rel="stylesheet" href="{css}"></head><body>{self.nav(page.path)}'
                f"<main>{page.body}</main></body></html>\n",
                encoding="utf-8",
            )
        (self.out / "style.css").write_text(CSS.strip() + "\n", encoding="utf-8")


# --- ontology -------------------------------------------------------------------------------------

RDF_NS = PREFIXES["rdf"]
#: a restriction's property -> its Manchester-syntax keyword
_RESTRICTIONS = {
    OWL + "someValuesFrom": "some",
    OWL + "allValuesFrom": "only",
    OWL + "hasValue": "value",
    OWL + "minCardinality": "min",
    OWL + "maxCardinality": "max",
    OWL + "cardinality": "exactly",
    OWL + "minQualifiedCardinality": "min",
    OWL + "maxQualifiedCardinality": "max",
    OWL + "qualifiedCardinality": "exactly",
}


def _blank_nodes(site: Site) -> dict[str, dict[str, list[ox.NamedNode | ox.Literal | ox.BlankNode]]]:
    """The triples of the blank nodes of the kap terms' class axioms (restrictions, lists, unions)."""
    steps = "|".join(
        f"<{OWL}{p}>"
        for p in ("intersectionOf", "unionOf", "complementOf", "oneOf", "someValuesFrom", "allValuesFrom", "onClass")
    )
    nodes: dict[str, dict[str, list[ox.NamedNode | ox.Literal | ox.BlankNode]]] = defaultdict(lambda: defaultdict(list))
    for b, p, o in site.rows(
        f"""SELECT DISTINCT ?b ?p ?o WHERE {{
          ?t <{OWL}equivalentClass>|<{RDFS}subClassOf> ?top . FILTER(STRSTARTS(STR(?t), "{KAP_IRI}") && isBlank(?top))
          ?top ({steps}|<{RDF_NS}first>|<{RDF_NS}rest>)* ?b . FILTER(isBlank(?b))
          ?b ?p ?o }}"""
    ):
        nodes[b.value][value(p)].append(o)
    return nodes


def class_expression(
    site: Site, src: str, term: object, nodes: dict[str, dict[str, list[ox.NamedNode | ox.Literal | ox.BlankNode]]]
) -> str:
    """An OWL class expression in Manchester syntax, as HTML with the named terms linked."""

    def items(head: object) -> list[object]:
        out: list[object] = []
        seen: set[str] = set()
        while isinstance(head, ox.BlankNode) and head.value not in seen:
            seen.add(head.value)
            out += nodes[head.value].get(RDF_NS + "first", [])[:1]
            rest = nodes[head.value].get(RDF_NS + "rest")
            head = rest[0] if rest else None
        return out

    def render(node: object, nested: bool, depth: int = 0) -> str:
        if not isinstance(node, ox.BlankNode):
            return site.link(src, node) if isinstance(node, ox.NamedNode) else esc(str(getattr(node, "value", node)))
        f = nodes.get(node.value, {})
        if depth > 20:  # a cycle in malformed data
            return "…"
        for key, word in ((OWL + "intersectionOf", " and "), (OWL + "unionOf", " or ")):
            if f.get(key):
                text = f" <b>{word.strip()}</b> ".join(render(i, True, depth + 1) for i in items(f[key][0]))
                return f"({text})" if nested else text
        if f.get(OWL + "complementOf"):
            return "<b>not</b> " + render(f[OWL + "complementOf"][0], True, depth + 1)
        if f.get(OWL + "oneOf"):
            return "{" + ", ".join(render(i, True, depth + 1) for i in items(f[OWL + "oneOf"][0])) + "}"
        if f.get(OWL + "onProperty"):
            prop = render(f[OWL + "onProperty"][0], True, depth + 1)
            for key, word in _RESTRICTIONS.items():
                if f.get(key):
                    filler = render(f[key][0], True, depth + 1)
                    if key.endswith("QualifiedCardinality") and f.get(OWL + "onClass"):
                        filler += " " + render(f[OWL + "onClass"][0], True, depth + 1)
                    text = f"{prop} <b>{word}</b> {filler}"
                    return f"({text})" if nested else text
        return "<i>an anonymous class</i>"

    return render(term, False)


def _ontology(site: Site) -> None:
    terms = site.rows(
        f"""SELECT ?t ?kind WHERE {{ ?t a ?kind . FILTER(STRSTARTS(STR(?t), "{KAP_IRI}"))
        VALUES ?kind {{ <{OWL}Class> <{OWL}ObjectProperty> <{OWL}DatatypeProperty> <{OWL}AnnotationProperty> }} }}
        ORDER BY ?kind ?t"""
    )
    facts: dict[str, dict[str, list[ox.NamedNode | ox.Literal | ox.BlankNode]]] = defaultdict(lambda: defaultdict(list))
    for t, p, o in site.rows(
        f'SELECT ?t ?p ?o WHERE {{ ?t ?p ?o FILTER(STRSTARTS(STR(?t), "{KAP_IRI}")) }} ORDER BY ?t ?p ?o'
    ):
        facts[value(t)][value(p)].append(o)
    axioms = _blank_nodes(site)
    used_with: dict[str, set[str]] = defaultdict(set)
    for p, cls in site.rows(
        f'SELECT DISTINCT ?p ?c WHERE {{ ?s ?p ?o . ?s a ?c FILTER(STRSTARTS(STR(?p), "{KAP_IRI}") '
        f'&& STRSTARTS(STR(?c), "{KAP_IRI}")) }}'
    ):
        used_with[value(p)].add(value(cls))
    kinds = {
        "Class": "Classes",
        "ObjectProperty": "Object properties",
        "DatatypeProperty": "Datatype properties",
        "AnnotationProperty": "Annotation properties",
    }
    sections: dict[str, list[str]] = defaultdict(list)
    toc: dict[str, list[str]] = defaultdict(list)

    def section(src: str, iri: str, kind: str) -> str:
        local = iri[len(KAP_IRI) :]
        f = facts[iri]
        rows = [("IRI", f"<code>{esc(iri)}</code>"), ("kind", esc(kind))]

        def terms_of(prop: str) -> str:
            if prop in (OWL + "equivalentClass", RDFS + "subClassOf"):  # named classes and class expressions
                return ", ".join(class_expression(site, src, o, axioms) for o in f.get(prop, []))
            return ", ".join(site.link(src, o) for o in f.get(prop, []) if not isinstance(o, ox.BlankNode))

        for title, prop in (
            ("definition", SKOS + "definition"),
            ("comment", RDFS + "comment"),
            ("super-classes", RDFS + "subClassOf"),
            ("super-properties", RDFS + "subPropertyOf"),
            ("domain", RDFS + "domain"),
            ("range", RDFS + "range"),
            ("inverse of", OWL + "inverseOf"),
            ("equivalent to", OWL + "equivalentClass"),
        ):
            if f.get(prop):
                rows.append((title, terms_of(prop)))
        subs = [
            s
            for s, fs in facts.items()
            if any(isinstance(o, ox.NamedNode) and o.value == iri for o in fs.get(RDFS + "subClassOf", []))
        ]
        if subs:
            rows.append(("sub-classes", ", ".join(site.link(src, ox.NamedNode(s)) for s in sorted(subs))))
        if used_with.get(iri):
            rows.append(("used on", ", ".join(site.link(src, ox.NamedNode(c)) for c in sorted(used_with[iri]))))
        for match in MATCHES:
            if f.get(SKOS + match):
                rows.append((f"skos:{match}", terms_of(SKOS + match)))
        table = "".join(f"<tr><th>{t}</th><td>{v}</td></tr>" for t, v in rows)
        return (
            f'<section class="term" id="{esc(local)}"><h3>{esc(site.label(iri))} <small>kap:{esc(local)}</small></h3>'
            f"<table>{table}</table></section>"
        )

    for t, kind in terms:
        iri, kname = value(t), value(kind).rsplit("#", 1)[1]
        local = iri[len(KAP_IRI) :]
        site.anchors["ontology.html"].add(local)
        sections[kname].append(section("ontology.html", iri, kname))
        toc[kname].append(f'<a href="#{esc(local)}">{esc(local)}</a>')
        site.add(
            f"ontology/{local}.html",
            f"kap:{local}",
            section(f"ontology/{local}.html", iri, kname)
            + f'<p>In the <a href="../ontology.html#{esc(local)}">ontology overview</a>.</p>',
        )
    body = [
        "<h1>The KAP ontology</h1>",
        f"<p>Namespace <code>{KAP_IRI}</code>; Turtle: "
        '<a href="ontology.ttl">ontology.ttl</a>, mappings: <a href="mappings.ttl">mappings.ttl</a>.</p>',
    ]
    for kname, heading in kinds.items():
        if toc[kname]:
            body.append(f"<h2>{heading}</h2><p>{' · '.join(toc[kname])}</p>")
    for kname in kinds:
        body += sections[kname]
    site.add("ontology.html", "The KAP ontology", "".join(body))


# --- concept schemes ------------------------------------------------------------------------------


def _vocabularies(site: Site) -> None:
    schemes = [value(s) for (s,) in site.rows(f"SELECT ?s WHERE {{ ?s a <{SKOS}ConceptScheme> }} ORDER BY ?s")]
    concept_facts: dict[str, dict[str, list[ox.NamedNode | ox.Literal | ox.BlankNode]]] = defaultdict(
        lambda: defaultdict(list)
    )
    scheme_of: dict[str, str] = {}
    for c_term, p_term, o, s_term in site.rows(
        f"SELECT ?c ?p ?o ?s WHERE {{ ?c <{SKOS}inScheme> ?s ; ?p ?o }} ORDER BY ?c ?p ?o"
    ):
        concept_facts[value(c_term)][value(p_term)].append(o)
        scheme_of[value(c_term)] = value(s_term)
    index = ["<h1>Concept schemes</h1><ul>"]
    for scheme in schemes:
        name = scheme[len(VOCAB) :]
        src = f"vocab/{name}.html"
        members = sorted(c for c, s in scheme_of.items() if s == scheme)
        children: dict[str | None, list[str]] = defaultdict(list)
        for c in members:
            broader: list[str | None] = [
                o.value for o in concept_facts[c].get(SKOS + "broader", []) if isinstance(o, ox.NamedNode)
            ]
            broader = [b for b in broader if b in members]
            for b in broader or [None]:
                children[b].append(c)

        def tree(
            parent: str | None, seen: frozenset[str], src: str = src, children: dict[str | None, list[str]] = children
        ) -> str:
            items = []
            for c in children.get(parent, []):
                if c in seen:
                    continue
                notation = ", ".join(value(n) for n in concept_facts[c].get(SKOS + "notation", []))
                items.append(
                    f"<li>{site.link(src, ox.NamedNode(c))} {esc(site.label(c))}"
                    f"{f' <code>{esc(notation)}</code>' if notation else ''}{tree(c, seen | {c}, src, children)}</li>"
                )
            return f"<ul>{''.join(items)}</ul>" if items else ""

        definition = " ".join(
            value(d) for (d,) in site.rows(f"SELECT ?d WHERE {{ <{scheme}> <{SKOS}definition>|<{RDFS}comment> ?d }}")
        )
        site.add(
            src,
            f"{name} scheme",
            f"<h1>{esc(site.label(scheme))}</h1><p><code>{esc(scheme)}</code></p>"
            f"<p>{esc(definition)}</p><h2>Hierarchy</h2>{tree(None, frozenset())}",
        )
        index.append(f'<li><a href="{esc(name)}.html">{esc(site.label(scheme))}</a> ({len(members)} concepts)</li>')
        for c in members:
            local = c[len(VOCAB) :]
            csrc = f"vocab/{local}.html"
            f = concept_facts[c]
            rows = [("IRI", f"<code>{esc(c)}</code>"), ("scheme", site.link(csrc, ox.NamedNode(scheme)))]
            for title, prop in (
                ("notation", SKOS + "notation"),
                ("definition", SKOS + "definition"),
                ("alternative labels", SKOS + "altLabel"),
                ("broader", SKOS + "broader"),
                ("narrower", SKOS + "narrower"),
                ("note", SKOS + "scopeNote"),
                *((f"skos:{m}", SKOS + m) for m in MATCHES),
            ):
                if f.get(prop):
                    rows.append((title, ", ".join(site.link(csrc, o) for o in f[prop])))
            narrower = [n for n in children.get(c, [])]
            if narrower and not f.get(SKOS + "narrower"):
                rows.append(("narrower", ", ".join(site.link(csrc, ox.NamedNode(n)) for n in narrower)))
            table = "".join(f"<tr><th>{t}</th><td>{v}</td></tr>" for t, v in rows)
            site.add(csrc, site.label(c), f"<h1>{esc(site.label(c))}</h1><table>{table}</table>")
    site.add("vocab/index.html", "Concept schemes", "".join(index) + "</ul>")


# --- studies --------------------------------------------------------------------------------------


def _fact_rows(site: Site, src: str, res: object) -> list[tuple[str, str]]:
    out = []
    for fact in res.facts:  # type: ignore[attr-defined]
        quotes = "".join(
            f"<blockquote>{esc(q.exact)}"
            + (f' <span class="inferred">inferred: {esc(q.note)}</span>' if q.inferred else "")
            + "</blockquote>"
            for q in fact.quotes
            if q.exact
        )
        out.append(
            (
                fact.predicate,
                f"<tr><td>{site.link(src, ox.NamedNode(fact.predicate))}</td>"
                f"<td>{site.link(src, fact.object)}{quotes}</td></tr>",
            )
        )
    return out


def _studies(site: Site) -> None:
    from kapgraph.describe import resource

    index = ["<h1>Studies</h1><table><tr><th>study</th><th>label</th></tr>"]
    for path in sorted((resources.data_dir() / "studies").glob("*.ttl")):
        slug = path.stem
        iri = STUDY_IRI + slug
        src = f"id/study/{slug}.html"
        study = resource(site.engine, iri)
        grouped: dict[str, list[str]] = defaultdict(list)
        for predicate, row in _fact_rows(site, src, study):
            grouped[_VARIABLE_OF.get(predicate, "other")].append(row)
        locals_ = [
            value(s)
            for (s,) in site.rows(
                f'SELECT DISTINCT ?s WHERE {{ ?s ?p ?o FILTER(STRSTARTS(STR(?s), "{iri}/")) '
                f"FILTER NOT EXISTS {{ ?s a <{KAP_IRI}Evidence> }} }} ORDER BY ?s"
            )
        ]
        parts = []
        for sub in locals_:
            local = sub[len(iri) + 1 :]
            site.anchors[src].add(local)
            sub_res = resource(site.engine, sub)
            rows = _fact_rows(site, src, sub_res)
            letters = sorted({_VARIABLE_OF[p] for p, _r in rows if p in _VARIABLE_OF})
            parts.append(
                f'<section id="{esc(local)}"><h3>{esc(site.label(sub))} <small>{esc(local)}</small>'
                f"{' — (' + ', '.join(letters) + ')' if letters else ''}</h3>"
                f"<table>{''.join(r for _p, r in rows)}</table></section>"
            )
        body = [
            f"<h1>{esc(site.label(iri))}</h1><p><code>{esc(iri)}</code> · "
            f'<a href="{slug}.ttl">Turtle</a> · <a href="{slug}.jsonld">JSON-LD</a></p>'
        ]
        for letter, label, _props in VARIABLES:
            if grouped.get(letter):
                body.append(f"<h2>({letter}) {esc(label)}</h2><table>{''.join(grouped[letter])}</table>")
        if grouped.get("other"):
            body.append(f"<h2>publication and provenance</h2><table>{''.join(grouped['other'])}</table>")
        for doi, title in site.rows(
            f"PREFIX kap: <{KAP_IRI}> PREFIX bibo: <http://purl.org/ontology/bibo/> "
            f"SELECT ?doi ?t WHERE {{ <{iri}> kap:reportedIn ?pub . OPTIONAL {{ ?pub bibo:doi ?doi }} "
            f"OPTIONAL {{ ?pub <http://purl.org/dc/terms/title> ?t }} }}"
        ):
            doi_html = f'<a href="https://doi.org/{esc(value(doi))}">doi:{esc(value(doi))}</a>' if doi else "no DOI"
            body.insert(1, f"<p>Publication: {esc(value(title))} ({doi_html})</p>")
        if study.discrepancies:
            body.append("<h2>discrepancies</h2>")
            for d in study.discrepancies:
                body.append(
                    f"<section><h3>{site.link(src, ox.NamedNode(d.iri))} {esc(d.label)}</h3><p>printed: "
                    f"{esc(d.printed)}; adopted: {esc(d.adopted)}</p><p>{esc(d.resolution)}</p></section>"
                )
        body.append("<h2>resources of this study</h2>" + "".join(parts))
        evidence = site.rows(
            f"PREFIX oa: <http://www.w3.org/ns/oa#> SELECT ?ev (SAMPLE(?q) AS ?quote) WHERE {{ ?ev a <{KAP_IRI}Evidence> "
            f'FILTER(STRSTARTS(STR(?ev), "{iri}/")) OPTIONAL {{ ?ev oa:hasTarget/oa:hasSelector/oa:exact ?q }} }} '
            "GROUP BY ?ev ORDER BY ?ev"
        )
        body.append("<h2>evidence records</h2>")
        for ev, quote in evidence:
            local = value(ev)[len(iri) + 1 :]
            site.anchors[src].add(local)
            body.append(f'<p id="{esc(local)}"><code>{esc(local)}</code> “{esc(value(quote))}”</p>')
        site.add(src, site.label(iri), "".join(body))
        target = site.out / "id" / "study"
        target.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target / f"{slug}.ttl")
        quads = ox.parse(path=str(path), format=ox.RdfFormat.TURTLE)
        (target / f"{slug}.jsonld").write_bytes(
            ox.serialize([q.triple for q in quads], format=ox.RdfFormat.JSON_LD) or b""
        )
        index.append(f'<tr><td><a href="{slug}.html">{slug}</a></td><td>{esc(site.label(iri))}</td></tr>')
    site.add("id/study/index.html", "Studies", "".join(index) + "</table>")


def _review(site: Site) -> None:
    from kapgraph.describe import resource

    src = "id/review.html"
    res = resource(site.engine, REVIEW_IRI)
    body = [
        f"<h1>{esc(site.label(REVIEW_IRI))}</h1><table>"
        + "".join(r for _p, r in _fact_rows(site, src, res))
        + "</table>"
    ]
    subs = site.rows(
        f'SELECT DISTINCT ?s ?l WHERE {{ ?s ?p ?o FILTER(STRSTARTS(STR(?s), "{REVIEW_IRI}/")) '
        f"OPTIONAL {{ ?s <{RDFS}label> ?l }} }} ORDER BY ?s"
    )
    body.append("<h2>claims, discrepancies and evidence</h2>")
    for s, label in subs:
        local = value(s)[len(REVIEW_IRI) + 1 :]
        site.anchors[src].add(local)
        body.append(f'<p id="{esc(local)}"><code>{esc(local)}</code> {esc(value(label))}</p>')
    site.add(src, "The review", "".join(body))


# --- queries --------------------------------------------------------------------------------------


def _result_html(site: Site, src: str, query: StoredQuery) -> str:
    from kapgraph.api import run_query

    if any(p.type == "endpoint" for p in query.params) or "SERVICE" in query.text.upper():
        return "<p>Not run here: the query calls a remote SPARQL endpoint (SERVICE).</p>"
    params = query.example_params()
    missing = [p.name for p in query.params if p.required and p.default is None and p.name not in params]
    if missing:
        return f"<p>Not run here: no example value for {esc(', '.join(missing))}.</p>"
    table = run_query(query.name, params, engine=site.engine)
    if table.kind == "boolean":
        return f"<p>Answer: <code>{'true' if table.boolean else 'false'}</code></p>"
    if table.kind == "graph":
        return f"<p>{len(table.triples or [])} triples.</p>"
    head = "".join(f"<th>{esc(v)}</th>" for v in table.vars)
    body = "".join(
        "<tr>" + "".join(f"<td>{site.link(src, t) if t is not None else ''}</td>" for t in row) + "</tr>"
        for row in table.rows
    )
    n = len(table.rows)
    return f"<p>{n} row{'s' if n != 1 else ''}.</p><table><tr>{head}</tr>{body}</table>"


def _queries(site: Site) -> None:
    from kapgraph.catalog import Catalog
    from kapgraph.describe import allowed_values
    from kapgraph.examples import query_iri, sparql_body

    index = [
        "<h1>Stored queries</h1><p>The catalog as RDF (SIB sparql-examples style): "
        '<a href="../catalog.ttl">catalog.ttl</a>.</p><table><tr><th>query</th><th>summary</th><th>tags</th></tr>'
    ]
    for query in Catalog().all():
        src = f"query/{query.name}.html"
        allowed = allowed_values(query, site.engine)
        params = "".join(
            f"<tr><td><code>{esc(p.name)}</code></td><td>{esc(p.type)}"
            + "".join(f" {site.link(src, ox.NamedNode(VOCAB + s))}" for s in p.schemes)
            + f"</td><td>{'required' if p.required else 'optional'}</td><td>{esc(p.description)}</td>"
            f"<td>{esc(', '.join(allowed.get(p.name, [])))}</td><td>{esc(p.example or p.default or '')}</td></tr>"
            for p in query.params
        )
        example = " ".join(f"--param {k}={v}" for k, v in query.example_params().items())
        command = f"kapgraph query {query.name}{' ' + example if example else ''}"
        body = (
            f"<h1>{esc(query.name)}</h1><p><code>{esc(query_iri(query.name))}</code></p><p>{esc(query.summary)}</p>"
            f"<p>{esc(query.description)}</p><p>tags: {esc(', '.join(query.tags))}</p>"
            + (
                f"<h2>Parameters</h2><table><tr><th>name</th><th>type</th><th></th><th>description</th>"
                f"<th>allowed values</th><th>example</th></tr>{params}</table>"
                if query.params
                else ""
            )
            + f"<h2>Command</h2><pre>{esc(command)}</pre><h2>SPARQL</h2><pre>{esc(sparql_body(query))}</pre>"
            + f"<h2>Result on the bundled graph</h2>{_result_html(site, src, query)}"
        )
        site.add(src, query.name, body)
        link = rel("query/index.html", src)
        index.append(
            f'<tr><td><a href="{esc(link)}">{esc(query.name)}</a></td><td>{esc(query.summary)}</td>'
            f"<td>{esc(', '.join(query.tags))}</td></tr>"
        )
    site.add("query/index.html", "Stored queries", "".join(index) + "</table>")


# --- guide, layout, index -------------------------------------------------------------------------

GUIDE: tuple[tuple[str, str, str], ...] = (
    (
        "Design and comparator",
        "Use <code>kap:design</code> (scheme <em>design</em>: RCT, case report, ...) for the review's design type and "
        "<code>kap:designFeature</code> for tags (pilot, proof-of-concept, placebo-controlled, active-placebo-controlled). What the control arm "
        "received is <code>kap:comparator</code> (on the study and on the arm), not a design tag: this query lists "
        "both side by side.",
        "SELECT ?study ?design (GROUP_CONCAT(DISTINCT STR(?f); separator=' ') AS ?features) "
        "(GROUP_CONCAT(DISTINCT STR(?c); separator=' ') AS ?comparators) WHERE { ?study a kap:Study ; kap:design ?design . "
        "OPTIONAL { ?study kap:designFeature ?f } OPTIONAL { ?study kap:comparator ?c } } GROUP BY ?study ?design ORDER BY ?study",
    ),
    (
        "Diagnosis",
        "<code>kap:primaryDiagnosis</code> and <code>kap:comorbidDiagnosis</code> point at concepts of the "
        "<em>diagnosis</em> scheme; follow <code>skos:broader*</code> so that SUD finds the heroin, cocaine, "
        "cannabis, alcohol and OIH studies.",
        "SELECT ?study ?dx WHERE { ?study kap:primaryDiagnosis|kap:comorbidDiagnosis ?dx . "
        "?dx skos:broader* dx:SUD } ORDER BY ?study ?dx",
    ),
    (
        "Regimen and frequency: review category versus raw count",
        "<code>kap:frequencyCategory</code> is the review's Table 1 column (single session, multiple sessions, "
        "continuous infusion, ...); <code>kap:sessionCount</code> on a <code>kap:KetamineRegimen</code> is the raw "
        "number of sessions. To reproduce the review's counts use the category; a count of 1 does not mean "
        "'single session' (a continuous infusion is one long session). This query lists the studies whose "
        "category the raw count alone would not give: a continuous infusion, a category other than single "
        "session without a count or with a count of 1, or a single session with a count other than 1 "
        "(categories that combine single and multiple sessions are left out).",
        "SELECT ?study ?category (GROUP_CONCAT(DISTINCT STR(?n); separator=',') AS ?sessionCounts) WHERE { "
        "?study a kap:Study ; kap:frequencyCategory ?category . OPTIONAL { ?study kap:hasKetamineRegimen/kap:sessionCount ?n } "
        "FILTER((?category = freq:single-session && (!BOUND(?n) || ?n != 1)) || (?category != freq:single-session && ?category != freq:single-or-multiple-sessions && (!BOUND(?n) || ?n = 1 || ?category = freq:continuous-infusion))) "
        "} GROUP BY ?study ?category ORDER BY ?study",
    ),
    (
        "Timing: Table 2 category versus phases",
        "<code>kap:timingCategory</code> is the review's Table 2 category (B+A, C, C+A, A, B+C+A), an inference "
        "recorded with <code>kap:inferred true</code> because the review gives counts only. "
        "<code>kap:phase</code> on each <code>kap:Psychotherapy</code> is what the study descriptions say. Use the "
        "category to reproduce Table 2, the phases to ask what was done.",
        "SELECT ?study ?category (GROUP_CONCAT(DISTINCT ?phase; separator=', ') AS ?phases) WHERE { "
        "?study kap:timingCategory/skos:notation ?category . OPTIONAL { ?study kap:hasPsychotherapy/kap:phase/skos:prefLabel ?phase } "
        "} GROUP BY ?study ?category ORDER BY ?study",
    ),
    (
        "Outcomes",
        "<code>kap:hasOutcome</code> links a study to its <code>kap:Outcome</code>s (<code>kap:measures</code>, "
        "<code>kap:instrument</code>, <code>kap:timePoint</code>), whose <code>kap:hasResult</code> holds the numbers.",
        "SELECT ?study ?measures ?instrument WHERE { ?study kap:hasOutcome ?o . ?o kap:measures ?measures . "
        "OPTIONAL { ?o kap:instrument ?instrument } } ORDER BY ?study LIMIT 15",
    ),
    (
        "Provenance",
        "Every fact is supported by a <code>kap:Evidence</code> (a Web Annotation): <code>kap:evidenceFor</code> the "
        "resource, <code>kap:evidenceProperty</code> the property, optionally <code>kap:evidenceValue</code> the value, "
        "and <code>oa:hasTarget/oa:hasSelector/oa:exact</code> the quote from the review. Curators' readings carry "
        "<code>kap:inferred true</code> and a <code>skos:note</code>.",
        "SELECT ?study ?property ?quote WHERE { ?ev kap:evidenceFor ?study ; kap:evidenceProperty ?property ; "
        "kap:inferred true ; oa:hasTarget/oa:hasSelector/oa:exact ?quote . ?study a kap:Study } ORDER BY ?study ?property LIMIT 15",
    ),
    (
        "Discrepancies",
        "Where the review contradicts itself, a <code>kap:Discrepancy</code> records <code>kap:printedValue</code>, "
        "<code>kap:adoptedValue</code> and <code>kap:resolution</code>, and points at both passages with "
        "<code>kap:conflictingEvidence</code>.",
        "SELECT ?d ?label ?printed ?adopted WHERE { ?d a kap:Discrepancy ; rdfs:label ?label ; kap:printedValue ?printed ; "
        "kap:adoptedValue ?adopted } ORDER BY ?d",
    ),
)


def _guide(site: Site) -> None:
    from kapgraph.api import run_sparql

    body = [
        "<h1>Modelling guide</h1><p>Which class or property answers which kind of question. Each query runs "
        "as shown with <code>kapgraph sparql '...'</code> (the project's prefixes are predeclared); its result "
        "below is computed on the bundled graph when the site is built.</p>"
    ]
    for i, (title, text, sparql) in enumerate(GUIDE):
        table = run_sparql(sparql, engine=site.engine)
        head = "".join(f"<th>{esc(v)}</th>" for v in table.vars)
        rows = "".join(
            "<tr>" + "".join(f"<td>{site.link('guide.html', t) if t is not None else ''}</td>" for t in row) + "</tr>"
            for row in table.rows
        )
        site.anchors["guide.html"].add(f"q{i}")
        body.append(
            f'<section id="q{i}"><h2>{esc(title)}</h2><p>{text}</p><pre>kapgraph sparql {esc(repr(sparql))}'
            f"</pre><p>{len(table.rows)} rows.</p><table><tr>{head}</tr>{rows}</table></section>"
        )
    site.add("guide.html", "Modelling guide", "".join(body))


LAYOUT = (
    ("https://w3id.org/kap/ontology", "ontology.html", "ontology.ttl"),
    ("https://w3id.org/kap/ontology#Term", "ontology.html#Term (and ontology/Term.html)", "ontology.ttl"),
    ("https://w3id.org/kap/vocab/SCHEME", "vocab/SCHEME.html", "ontology.ttl"),
    ("https://w3id.org/kap/vocab/SCHEME/CONCEPT", "vocab/SCHEME/CONCEPT.html", "ontology.ttl"),
    ("https://w3id.org/kap/id/study/SLUG", "id/study/SLUG.html", "id/study/SLUG.ttl, id/study/SLUG.jsonld"),
    ("https://w3id.org/kap/id/study/SLUG/LOCAL", "id/study/SLUG.html#LOCAL", "id/study/SLUG.ttl"),
    ("https://w3id.org/kap/id/review", "id/review.html", "kap.ttl"),
    ("https://w3id.org/kap/id/review/LOCAL", "id/review.html#LOCAL", "kap.ttl"),
    ("https://w3id.org/kap/query/NAME", "query/NAME.html", "catalog.ttl"),
    ("https://w3id.org/kap/id/dataset", "index.html", "void.ttl"),
    ("https://w3id.org/kap/id/kapgraph-developers", "index.html", "ontology.ttl"),
    ("https://w3id.org/kap/shapes#Shape", "(none)", "shapes.ttl"),
    ("https://w3id.org/kap/graph/PATH", "(named graph of one source file)", "kap.ttl"),
)

HTACCESS = r"""# Content negotiation for the w3id.org "kap" entry: https://w3id.org/kap/* redirects here.
# A browser gets the HTML page; Accept: text/turtle gets Turtle; application/ld+json gets JSON-LD.
Options -MultiViews
AddType text/turtle .ttl
AddType application/ld+json .jsonld
RewriteEngine on

# studies: the study and its parts (arms, regimens, ...) live in one file per study
RewriteCond %{HTTP_ACCEPT} application/ld\+json
RewriteRule ^id/study/([^/.]+)(/.*)?$ id/study/$1.jsonld [R=303,L]
RewriteCond %{HTTP_ACCEPT} text/turtle
RewriteRule ^id/study/([^/.]+)(/.*)?$ id/study/$1.ttl [R=303,L]
RewriteRule ^id/study/([^/.]+)/([^/]+)$ id/study/$1.html#$2 [R=303,NE,L]
RewriteRule ^id/study/([^/.]+)$ id/study/$1.html [R=303,L]

# the review, its claims and discrepancies
RewriteCond %{HTTP_ACCEPT} text/turtle
RewriteRule ^id/review(/.*)?$ kap.ttl [R=303,L]
RewriteRule ^id/review/(.+)$ id/review.html#$1 [R=303,NE,L]
RewriteRule ^id/review$ id/review.html [R=303,L]
RewriteRule ^id/dataset$ void.ttl [R=303,L]

# the ontology's creator: the project, described in the ontology, whose home is the index page
RewriteCond %{HTTP_ACCEPT} text/turtle
RewriteRule ^id/kapgraph-developers$ ontology.ttl [R=303,L]
RewriteRule ^id/kapgraph-developers$ index.html [R=303,L]

# the ontology (hash IRIs reach this rule without their #fragment) and the concept schemes
RewriteCond %{HTTP_ACCEPT} text/turtle [OR]
RewriteCond %{HTTP_ACCEPT} application/rdf\+xml
RewriteRule ^(ontology|vocab/.*)$ ontology.ttl [R=303,L]
RewriteRule ^ontology$ ontology.html [R=303,L]
RewriteRule ^vocab/([^.]+)$ vocab/$1.html [R=303,L]

# shapes and stored queries
RewriteRule ^shapes$ shapes.ttl [R=303,L]
RewriteCond %{HTTP_ACCEPT} text/turtle
RewriteRule ^query/(.+)$ catalog.ttl [R=303,L]
RewriteRule ^query/([^.]+)$ query/$1.html [R=303,L]
RewriteRule ^sparql$ - [R=503,L]
"""


def _layout(site: Site) -> None:
    rows = "".join(f"<tr><td><code>{esc(i)}</code></td><td>{esc(h)}</td><td>{esc(t)}</td></tr>" for i, h, t in LAYOUT)
    minted = site.rows(
        f'SELECT DISTINCT ?s WHERE {{ ?s ?p ?o FILTER(isIRI(?s) && STRSTARTS(STR(?s), "{BASE}")) }} ORDER BY ?s'
    )
    listing = "".join(
        f"<tr><td><code>{esc(value(s))}</code></td><td>{site.link('layout.html', s)}</td></tr>" for (s,) in minted
    )
    site.add(
        "layout.html",
        "IRIs and files",
        "<h1>IRIs and files</h1><p>Every IRI the graph mints under "
        f"<code>{BASE}</code> and the file that documents it. Content negotiation: "
        '<a href=".htaccess">.htaccess</a>.</p>'
        f"<table><tr><th>IRI pattern</th><th>HTML</th><th>RDF</th></tr>{rows}</table>"
        f"<h2>All {len(minted)} minted IRIs</h2><table>{listing}</table>",
    )


def _index(site: Site, counts: dict[str, int]) -> None:
    numbers = "".join(f"<li>{esc(k)}: {v:,}</li>" for k, v in counts.items())
    site.add(
        "index.html",
        "kapgraph",
        "<h1>kapgraph</h1><p>A knowledge graph of the 17 studies of the systematic "
        "review Drozdz et al. 2022 on ketamine-assisted psychotherapy, each fact with the review's quote.</p>"
        f'<ul>{numbers}</ul><ul><li><a href="ontology.html">ontology</a></li>'
        '<li><a href="vocab/index.html">concept schemes</a></li><li><a href="id/study/index.html">studies</a></li>'
        '<li><a href="id/review.html">the review</a></li>'
        '<li><a href="query/index.html">stored queries</a> (<a href="catalog.ttl">as RDF</a>)</li>'
        '<li><a href="guide.html">modelling guide</a></li><li><a href="layout.html">IRIs and files</a></li>'
        '<li>dataset metadata: <a href="void.ttl">VoID + DCAT</a>; service description: '
        '<a href="sparql-service.ttl">sparql-service.ttl</a></li>'
        '<li>the whole graph: <a href="kap.ttl">Turtle</a>, <a href="kap.jsonld">JSON-LD</a></li></ul>',
    )


class SiteError(KapgraphError):
    """The site cannot be built from this graph (exit 2)."""


def _check_bundled_studies(engine: Engine) -> None:
    """The site documents the bundled graph: a page per bundled study file. SiteError if the graph lacks them."""
    slugs = sorted(p.stem for p in (resources.data_dir() / "studies").glob("*.ttl"))
    values = " ".join(f"<{STUDY_IRI}{slug}>" for slug in slugs)
    present = {
        value(row[0])
        for row in engine.query(f"SELECT ?s WHERE {{ VALUES ?s {{ {values} }} ?s a <{KAP_IRI}Study> }}").rows
    }
    missing = [slug for slug in slugs if STUDY_IRI + slug not in present]
    if missing:
        raise SiteError(
            f"kapgraph docs documents the bundled graph (a page per study of data/studies/), and this graph lacks "
            f"{len(missing)} of its {len(slugs)} studies ({', '.join(missing[:3])}{', ...' if len(missing) > 3 else ''}); "
            "build the site without --data"
        )


def build(
    out: Path, engine: Engine, *, data: list[Path] | None = None, progress: Callable[[str], None] | None = None
) -> dict[str, float]:
    """Write the site into *out* (which must be new or empty, or a site built before); returns stats."""
    import kapgraph
    from kapgraph import examples, metadata
    from kapgraph.export import export

    start = time.perf_counter()
    _check_bundled_studies(engine)
    site = Site(engine, out)
    steps: list[tuple[str, Callable[[Site], None]]] = [
        ("ontology", _ontology),
        ("concept schemes", _vocabularies),
        ("studies", _studies),
        ("review", _review),
        ("queries", _queries),
        ("guide", _guide),
        ("layout", _layout),
    ]
    out.mkdir(parents=True, exist_ok=True)
    for name, step in steps:
        if progress:
            progress(name)
        step(site)
    from kapgraph.api import info as info_of

    info = info_of(engine=engine)
    _index(
        site,
        {
            "triples": info.triples,
            "studies": info.studies,
            "evidence records": info.evidence,
            "inferred values": info.inferred,
            "participants": info.participants,
        },
    )
    site.write()
    (out / "catalog.ttl").write_text(examples.turtle(), encoding="utf-8")
    from kapgraph.backends import open_engine

    asserted = open_engine("oxigraph", data, asserted_only=True)
    (out / "void.ttl").write_text(
        metadata.turtle(metadata.void_triples(asserted, kapgraph.__version__)), encoding="utf-8"
    )
    graphs = sorted({s.graph for s in engine.sources})
    sd = metadata.service_description(examples.ENDPOINT, graphs)
    (out / "sparql-service.ttl").write_text(metadata.turtle(sd), encoding="utf-8")
    (out / "kap.ttl").write_bytes(export("turtle", data))
    (out / "kap.jsonld").write_bytes(export("jsonld", data))
    shutil.copyfile(resources.ontology_file(), out / "ontology.ttl")
    mappings = resources.bundled_root("ontology") / "mappings.ttl"
    if mappings.is_file():
        shutil.copyfile(mappings, out / "mappings.ttl")
    shapes = sorted(resources.shapes_dir().glob("*.ttl"))
    (out / "shapes.ttl").write_text("".join(p.read_text(encoding="utf-8") for p in shapes), encoding="utf-8")
    (out / ".htaccess").write_text(HTACCESS, encoding="utf-8")
    return {"pages": len(site.pages), "seconds": time.perf_counter() - start}


def build_into(
    out: Path, engine: Engine, *, data: list[Path] | None = None, progress: Callable[[str], None] | None = None
) -> dict[str, float]:
    """Build in a temporary sibling folder, then swap it in: a failed build leaves *out* as it was."""
    import tempfile

    from kapgraph.errors import KapgraphError

    try:
        if out.exists() and not out.is_dir():
            raise KapgraphError(f"{out}: exists and is not a folder; give a new or empty folder for the site")
        if out.exists() and any(out.iterdir()) and not (out / ".htaccess").is_file():
            raise KapgraphError(f"{out}: not empty and not a kapgraph site; give a new or empty folder")
        if out.parent.exists() and not out.parent.is_dir():
            raise KapgraphError(f"{out}: cannot write: Not a directory ({out.parent} is a file)")
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".kapgraph-site-", dir=out.parent))
    except OSError as exc:  # a read-only folder, a parent that is a file
        raise KapgraphError(f"{out}: cannot write: {exc.strerror or exc}") from None
    try:
        stats = build(tmp, engine, data=data, progress=progress)
        if out.exists():
            shutil.rmtree(out)
        tmp.rename(out)
    except OSError as exc:
        raise KapgraphError(f"{out}: cannot write: {exc.strerror or exc}") from None
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return stats
