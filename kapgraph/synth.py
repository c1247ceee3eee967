"""Synthetic studies in the model of the real ones, for scale tests and benchmarks.

Each synthetic study copies one of the 17 real studies, its template (dealt in shuffled rounds, so
designs, arms, outcomes and evidence counts keep their real frequencies), moves its IRIs into the
synthetic namespace and re-draws its values from those the real studies use: diagnoses (primary and
comorbid apart), routes (among studies of the same Table 1 frequency), modalities, instruments and
settings (distinct within a study), sample sizes (among studies of the same design; arm sizes, counts
and percentages are rescaled with them), doses (same unit and role), session counts and years.
Design, comparators, timing and phases stay the template's, so each study stays consistent (a case
report keeps its one participant and has no comparator arm). Free text becomes synthetic text, the
evidence quotes the synthetic source, never the review, and DOIs are dropped. Study *k* depends only
on the seed and *k*, so a smaller set is a prefix of a larger one.
"""

from __future__ import annotations

import json
import random
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from kapgraph import resources
from kapgraph.errors import KapgraphError, LoadError
from kapgraph.namespaces import KAP_IRI, PREFIXES, REVIEW_IRI, STUDY_IRI, VOCAB

SYNTH_IRI = "https://w3id.org/kap/id/synth/"
SYNTH_STUDY_IRI = SYNTH_IRI + "study/"
#: what synthetic studies are kap:includedIn and dcterms:source of, and what their evidence quotes
SYNTH_SOURCE = SYNTH_IRI + "source"
MANIFEST = "synth.json"
GENERATOR = "kapgraph.synth"

Term = ox.NamedNode | ox.BlankNode | ox.Literal
_XSD, _RDF_TYPE = PREFIXES["xsd"], PREFIXES["rdf"] + "type"
_NOTE = (
    "Synthetic study made by kapgraph.synth from the value distributions of the 17 studies of "
    "Drozdz et al. 2022; it describes no real study."
)
#: concepts re-drawn from the values of the same property (routes: of studies with the same frequency)
_CONCEPTS = {"primaryDiagnosis", "comorbidDiagnosis", "route", "modality", "instrument", "setting"}
#: counts rescaled with the sample size, and the least each may be
_SCALED = {"enrolledSize": 1, "armSize": 1, "randomizedSize": 1, "completedSize": 0, "numerator": 0, "denominator": 1}
_KEEP_TEXT = {KAP_IRI + "resultUnit"}
_DROP = {PREFIXES["bibo"] + "doi", KAP_IRI + "printedDoi"}
_CASE_DESIGNS = {VOCAB + "design/case-report", VOCAB + "design/case-series"}
_LOCAL = re.compile(r"[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_-])?")
#: literals Turtle writes bare, by datatype
_BARE = {_XSD + "integer": r"[+-]?[0-9]+", _XSD + "decimal": r"[+-]?[0-9]*\.[0-9]+", _XSD + "boolean": "true|false"}
_PREFIXES = {k: v for k, v in PREFIXES.items() if k not in ("study", "kapsh", "sh")} | {"synth": SYNTH_IRI}
_PREFIX_LINES = "".join(f"@prefix {p}: <{ns}> .\n" for p, ns in _PREFIXES.items())
_BY_LENGTH = sorted(_PREFIXES.items(), key=lambda item: -len(item[1]))


@dataclass(frozen=True)
class SynthSummary:
    """What :func:`synthesize` wrote: studies, Turtle files, triples and bytes (of the study files)."""

    studies: int
    files: int
    triples: int
    bytes: int
    out: Path


@dataclass
class _Template:
    """A real study, as rows (triples) to copy; the *row* dicts map a row's index to what replaces it."""

    study: ox.NamedNode
    triples: list[tuple[Term, ox.NamedNode, Term]]
    blocks: list[tuple[Term, list[int]]] = field(default_factory=list)  # top-level subjects and their rows
    children: dict[ox.BlankNode, list[int]] = field(default_factory=dict)  # blank nodes, written inline
    strings: dict[int, str] = field(default_factory=dict)  # row -> synthetic text, with {sid}
    concepts: dict[ox.NamedNode, tuple[str, ...]] = field(default_factory=dict)  # concept -> its pool
    values: dict[tuple[Term, str], int] = field(default_factory=dict)  # (node, kap: property) -> row
    ketamine: set[Term] = field(default_factory=set)  # the ketamine regimens
    diagnoses: list[tuple[str, ox.NamedNode]] = field(default_factory=list)  # ("" or "comorbid ", concept)
    label: int = -1

    def value(self, node: Term, name: str) -> str:
        row = self.values.get((node, name))
        return "" if row is None else self.triples[row][2].value

    def dose_key(self, node: Term, kind: str) -> tuple[str, ...]:
        return ("dose", self.value(node, "doseUnit"), self.value(node, "doseRole"), kind)


#: the values the real studies use, by what they are the value of: ("route", frequency), ("enrolledSize",
#: design), ("dose", unit, role, "value" or "range"), ("sessionCount", "ketamine" or "other"), (property,)
_Pools = dict[tuple[str, ...], list[ox.NamedNode | ox.Literal]]


def _template(path: Path, pools: _Pools) -> _Template:
    """Real study *path* as a template; adds the values it uses to *pools*."""
    try:
        quads = list(ox.parse(path=path, format=ox.RdfFormat.TURTLE))
    except (SyntaxError, OSError) as exc:
        raise LoadError(f"{path}: cannot read this real study to model synthetic ones on: {exc}") from exc
    study = next((q.subject for q in quads if q.object.value == KAP_IRI + "Study"), None)
    if not isinstance(study, ox.NamedNode) or not study.value.startswith(STUDY_IRI):
        raise LoadError(f"{path}: no kap:Study under {STUDY_IRI}; cannot model synthetic studies on it")
    for term in {x for q in quads for x in (q.subject, q.object) if isinstance(x, ox.NamedNode)}:
        if term.value.startswith(STUDY_IRI) and not (term == study or _local(term.value, study.value + "/")):
            raise LoadError(f"{path}: {term.value} is not a node of {study.value} with a plain local name")
    # DOIs are dropped (a synthetic study has none), and with them the discrepancies about them
    doi = {q.subject for q in quads if q.predicate.value == KAP_IRI + "discrepancyProperty" and q.object.value in _DROP}
    kept: list[tuple[Term, ox.NamedNode, Term]] = [
        (q.subject, q.predicate, q.object) for q in quads if q.predicate.value not in _DROP and q.subject not in doi
    ]
    t = _Template(study, kept)
    rows: dict[Term, list[int]] = {}
    parent: dict[Term, Term] = {}
    for i, (s, p, o) in enumerate(kept):
        rows.setdefault(s, []).append(i)
        if p.value.startswith(KAP_IRI):
            t.values[s, p.value.removeprefix(KAP_IRI)] = i  # looked up for single-valued properties only
        if isinstance(o, ox.BlankNode):
            parent[o] = s
        if p.value == _RDF_TYPE and o.value == KAP_IRI + "KetamineRegimen":
            t.ketamine.add(s)
    refs = [o for _, _, o in kept if isinstance(o, ox.BlankNode)]
    if len(refs) != len(set(refs)) or any(isinstance(s, ox.BlankNode) and s not in parent for s in rows):
        raise LoadError(f"{path}: a blank node is used more than once or never; cannot copy it as a template")
    seen: Counter[tuple[Term, ox.NamedNode]] = Counter()
    for i, (s, p, o) in enumerate(kept):
        if not isinstance(o, ox.Literal) or o.datatype.value != _XSD + "string" or p.value in _KEEP_TEXT:
            continue
        seen[s, p] += 1  # a second value of the same property gets a number, so that it stays distinct
        count, owner = (f" {seen[s, p]}" if seen[s, p] > 1 else ""), s
        while owner in parent:
            owner = parent[owner]
        where = "{sid}" + ("" if owner == study else "/" + owner.value.rsplit("/", 1)[-1])
        if p.value == PREFIXES["oa"] + "exact":
            t.strings[i] = f"Synthetic quote{count} for {where}: made by kapgraph.synth, it quotes no publication."
        else:
            t.strings[i] = f"Synthetic {re.split('[#/]', p.value)[-1]}{count} of {where}"
        t.label = i if s == study and p.value == PREFIXES["rdfs"] + "label" else t.label
    t.children = {s: r for s, r in rows.items() if isinstance(s, ox.BlankNode)}
    t.blocks = [(s, r) for s, r in rows.items() if not isinstance(s, ox.BlankNode)]
    rows[study].extend((len(kept), len(kept) + 1))  # the two triples that mark the study synthetic
    kept.append((study, ox.NamedNode(PREFIXES["dcterms"] + "source"), ox.NamedNode(SYNTH_SOURCE)))
    kept.append((study, ox.NamedNode(PREFIXES["skos"] + "note"), ox.Literal(_NOTE)))
    design, freq = t.value(study, "design"), t.value(study, "frequencyCategory")
    for s, p, o in kept:  # the values this study adds to the distributions
        name = p.value.removeprefix(KAP_IRI)
        key: tuple[str, ...] | None = None
        if name in _CONCEPTS and isinstance(o, ox.NamedNode):
            key = (name, freq) if name == "route" else (name,)
            t.concepts.setdefault(o, key)
            if s == study and name.endswith("Diagnosis"):
                t.diagnoses.append(("comorbid " if name == "comorbidDiagnosis" else "", o))
        elif name in ("doseValue", "doseMin", "doseMax"):
            key = t.dose_key(s, "value" if name == "doseValue" else "range")
        elif name == "sessionCount" and int(o.value) > 1:
            key = (name, "ketamine" if s in t.ketamine else "other")
        elif name in ("enrolledSize", "publicationYear"):
            key = (name, design) if name == "enrolledSize" else (name,)
        if key is not None and isinstance(o, ox.NamedNode | ox.Literal):
            pools.setdefault(key, []).append(o)
    return t


def _load() -> tuple[list[_Template], _Pools]:
    """The real studies as templates, and the pooled values they use (read once per run)."""
    files = sorted((resources.data_dir() / "studies").glob("*.ttl"))
    if not files:
        raise LoadError(f"{resources.data_dir() / 'studies'}: no real study files to model synthetic studies on")
    pools: _Pools = {}
    return [_template(path, pools) for path in files], pools


_TEXT: dict[Term, str] = {}


def _term(term: Term) -> str:
    """The Turtle text of a term (a node of a template study as ':name'), cached."""
    text = _TEXT.get(term)
    if text is None:
        value = term.value
        if isinstance(term, ox.Literal):
            escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
            if term.language:
                text = f'"{escaped}"@{term.language}'
            elif term.datatype.value == _XSD + "string":
                text = f'"{escaped}"'
            elif re.fullmatch(_BARE.get(term.datatype.value, "(?!)"), value):
                text = value
            else:
                text = f'"{escaped}"^^{_term(term.datatype)}'
        elif value == _RDF_TYPE:
            text = "a"
        elif value == REVIEW_IRI:
            text = "synth:source"
        elif value.startswith(STUDY_IRI):  # a node of a template study (checked on loading)
            text = ":" + value.removeprefix(STUDY_IRI).partition("/")[2]
        else:
            text = next((f"{p}:{local}" for p, ns in _BY_LENGTH if (local := _local(value, ns))), f"<{value}>")
        _TEXT[term] = text
    return text


def _local(iri: str, namespace: str) -> str | None:
    """The local name of *iri* in *namespace*, if it can be written prefix:name."""
    local = iri[len(namespace) :]
    return local if iri.startswith(namespace) and _LOCAL.fullmatch(local) else None


def _render(t: _Template, concepts: dict[Term, str], over: dict[int, str], header: str) -> str:
    """Template *t* as Turtle, with *concepts* and the rows in *over* written as given; blank nodes inline."""

    def obj(i: int) -> str:
        if i in over:
            return over[i]
        o = t.triples[i][2]
        if isinstance(o, ox.BlankNode):
            return "[ " + " ; ".join(rows(t.children[o])) + " ]"
        return concepts.get(o) or _term(o)

    def rows(indices: list[int]) -> list[str]:
        out: list[str] = []
        previous = None
        for i in indices:
            p, text = t.triples[i][1], obj(i)
            if p == previous:
                out[-1] += ", " + text
            else:
                out.append(f"{_term(p)} {text}")
            previous = p
        return out

    body = (f"{concepts.get(s) or _term(s)} " + " ;\n    ".join(rows(r)) + " .\n" for s, r in t.blocks)
    return header + "\n".join(body)


def _study(t: _Template, pools: _Pools, rng: random.Random, k: int, sid: str, seed: int) -> str:
    """The Turtle text of synthetic study *k*, modelled on template *t*."""
    concepts: dict[Term, str] = {t.study: f"<{SYNTH_STUDY_IRI}{sid}>"}
    chosen: dict[ox.NamedNode, ox.NamedNode] = {}
    for concept, key in t.concepts.items():  # distinct concepts stay distinct
        choices = [c for c in pools[key] if isinstance(c, ox.NamedNode) and c not in chosen.values()] or [concept]
        chosen[concept] = rng.choice(choices)
        concepts[concept] = _term(chosen[concept])
    over = {i: '"' + text.replace("{sid}", sid) + '"' for i, text in t.strings.items()}
    dx = ", ".join(role + chosen[concept].value.rsplit("/", 1)[-1] for role, concept in t.diagnoses)
    design = t.value(t.study, "design")
    over[t.label] = f'"Synthetic study {sid}: {design.rsplit("/", 1)[-1]}, {dx}"'
    old = int(t.value(t.study, "enrolledSize") or 1)
    new = old if design in _CASE_DESIGNS else int(rng.choice(pools["enrolledSize", design]).value)
    for (node, name), i in t.values.items():
        value = t.triples[i][2].value
        if name in _SCALED:  # n * new / old, rounded: monotone, so numerator <= denominator, arm <= enrolled
            over[i] = str(max(_SCALED[name], (2 * int(value) * new + old) // (2 * old)))
        elif name == "doseValue":
            over[i] = _term(rng.choice(pools[t.dose_key(node, "value")]))
        elif name == "doseMin" and (node, "doseMax") in t.values:
            pool = pools[t.dose_key(node, "range")]
            low, high = sorted((rng.choice(pool), rng.choice(pool)), key=lambda term: float(term.value))
            over[i], over[t.values[node, "doseMax"]] = _term(low), _term(high)
        elif name == "sessionCount" and int(value) > 1:
            over[i] = _term(rng.choice(pools[name, "ketamine" if node in t.ketamine else "other"]))
        elif name == "publicationYear":
            over[i] = _term(rng.choice(pools[(name,)]))
        elif name == "referenceNumber":
            over[i] = str(k)
    for (node, name), i in t.values.items():  # percentages follow their rescaled numerator and denominator
        parts = t.values.get((node, "numerator")), t.values.get((node, "denominator"))
        if name == "percentage" and new != old and parts[0] is not None and parts[1] is not None:
            over[i] = f"{100 * int(over[parts[0]]) / int(over[parts[1]]):.1f}"
    header = (
        f"# Synthetic study {sid}, made by kapgraph.synth (seed {seed}): NOT a real study. Its values are drawn\n"
        "# from those of the 17 studies of Drozdz et al. 2022; its evidence quotes no publication.\n\n"
        f"@prefix : <{SYNTH_STUDY_IRI}{sid}/> .\n{_PREFIX_LINES}\n"
    )
    return _render(t, concepts, over, header)


def _prepare(out: Path, n: int, seed: int) -> Path:
    """Check *out*, empty an earlier run's studies from it, record this run; the folder for the studies."""
    if out.exists() and not out.is_dir():
        raise KapgraphError(f"{out}: exists and is not a folder; give a new or empty folder for the synthetic studies")
    manifest = out / MANIFEST
    if out.is_dir() and any(out.iterdir()):
        try:
            ours = json.loads(manifest.read_text(encoding="utf-8")).get("generator") == GENERATOR
        except (OSError, ValueError, AttributeError):
            ours = False
        if not ours:
            raise KapgraphError(
                f"{out}: folder is not empty and was not made by {GENERATOR} (no {MANIFEST}); "
                "give a new or empty folder, or one an earlier run made (its studies are then replaced)"
            )
    studies = out / "studies"
    studies.mkdir(parents=True, exist_ok=True)
    for old in studies.glob("synth-*.ttl"):  # an earlier run's studies: replaced, not mixed
        old.unlink()
    _record(out, n, seed, complete=False)  # marks the folder as synth's before any study is written
    return studies


def _record(out: Path, n: int, seed: int, *, complete: bool) -> None:
    record = {"generator": GENERATOR, "studies": n, "seed": seed, "namespace": SYNTH_STUDY_IRI, "complete": complete}
    (out / MANIFEST).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")


def synthesize(
    n: int, out: Path | str, *, seed: int = 0, progress: Callable[[int], None] | None = None
) -> SynthSummary:
    """Write *n* synthetic studies to ``out/studies/synth-<k>.ttl``, one Turtle file each (and ``out/synth.json``).

    The same *n* and *seed* give byte-identical files; memory does not grow with *n*. *progress*
    is called with the number of studies written so far after each one.
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise KapgraphError(f"the number of synthetic studies must be a whole number of at least 1, not {n!r}")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise KapgraphError(f"the seed must be a whole number, not {seed!r}")
    out = Path(out)
    templates, pools = _load()
    try:
        return _synthesize(n, out, seed, templates, pools, progress)
    except OSError as exc:  # a read-only folder, a parent that is a file, a full disk
        raise KapgraphError(f"{out}: cannot write: {exc.strerror or exc}") from None


def _synthesize(
    n: int, out: Path, seed: int, templates: Any, pools: Any, progress: Callable[[int], None] | None
) -> SynthSummary:
    studies = _prepare(out, n, seed)
    width = max(6, len(str(n)))
    order: list[_Template] = []
    triples = size = 0
    for k in range(1, n + 1):
        if (k - 1) % len(templates) == 0:  # a new round: every template once, in a shuffled order
            order = list(templates)
            random.Random(f"{seed}:round:{(k - 1) // len(templates)}").shuffle(order)
        t = order[(k - 1) % len(templates)]
        sid = f"s{k:0{width}d}"
        data = _study(t, pools, random.Random(f"{seed}:study:{k}"), k, sid, seed).encode("utf-8")
        (studies / f"synth-{k:0{width}d}.ttl").write_bytes(data)
        triples += len(t.triples)
        size += len(data)
        if progress is not None:
            progress(k)
    _record(out, n, seed, complete=True)
    return SynthSummary(studies=n, files=n, triples=triples, bytes=size, out=out)
