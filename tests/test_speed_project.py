"""The fast surface scorer (candidates.py) gives exactly what the straightforward difflib
computation gives: the same ratios, the same candidates, the same projections (scores included).

The reference below is the scorer as first written: a ``difflib.SequenceMatcher`` per
candidate, every target word compared for surface anchors, every scorer called per candidate.
"""

from __future__ import annotations

import difflib
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nerxl_data.project import CandidatesConfig, project
from nerxl_data.project import candidates as cand
from nerxl_data.project.base import is_edge_junk
from nerxl_data.schema import Link, Span, tags_to_spans


def _ratio(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()


def _ref_surface(inp, k, start, end, c=-1):
    span = inp.src_spans[k]
    a = " ".join(inp.src_tokens[span.start : span.end]).casefold()
    b = " ".join(inp.tgt_tokens[start:end]).casefold()
    if 2 * min(len(a), len(b)) < inp.min_surface * (len(a) + len(b)):
        return 0.0
    m = difflib.SequenceMatcher(None, a, b, autojunk=False)
    if m.quick_ratio() < inp.min_surface:
        return 0.0
    return m.ratio()


def _ref_anchors(inp, k, min_ratio):
    span = inp.src_spans[k]
    words = [w.casefold() for w in inp.src_tokens[span.start : span.end] if len(w) >= 3]
    found = set()
    for j, tok in enumerate(inp.tgt_tokens):
        if len(tok) < 3:
            continue
        t = tok.casefold()
        for w in words:
            if t[0] != w[0] or 2 * min(len(t), len(w)) < min_ratio * (len(t) + len(w)):
                continue
            m = difflib.SequenceMatcher(None, w, t, autojunk=False)
            if t == w or (m.real_quick_ratio() >= min_ratio and m.quick_ratio() >= min_ratio and m.ratio() >= min_ratio):
                found.add(j)
                break
    return found


def _ref_score_pairs(inp, config):
    scorers = {"links": cand.links_score, "surface": _ref_surface, "ner": cand.ner_score}
    weights = config.weights or (1.0,) * len(config.scorers)
    junk = [is_edge_junk(t) for t in inp.tgt_tokens] if config.trim and config.extract == "ngram" else None
    pairs = []
    for k, counts in enumerate(inp.link_counts):
        if config.extract == "ner":
            cands = [(c.start, c.end, i) for i, c in enumerate(inp.candidates or ())]
        else:
            anchors = set(counts)
            if "surface" in config.scorers:
                anchors |= _ref_anchors(inp, k, config.min_surface)
            targets = sorted(anchors)
            longest = config.max_ngram or len(inp.tgt_tokens)
            cands = [(a, b + 1, -1) for i, a in enumerate(targets) for b in targets[i:] if b - a < longest]
            if junk is not None:
                span = inp.src_spans[k]
                keep_first = is_edge_junk(inp.src_tokens[span.start])
                keep_last = is_edge_junk(inp.src_tokens[span.end - 1])
                trimmed = []
                for a, b, _ in cands:
                    while not keep_first and a < b and junk[a]:
                        a += 1
                    while not keep_last and b > a and junk[b - 1]:
                        b -= 1
                    if a < b:
                        trimmed.append((a, b, -1))
                cands = list(dict.fromkeys(trimmed))
        for start, end, c in cands:
            score = 0.0
            for name, w in zip(config.scorers, weights, strict=True):
                s = scorers[name](inp, k, start, end, c)
                if name == "surface" and s < config.min_surface:
                    s = 0.0
                score += w * s
            if score > config.min_score:
                pairs.append((score, k, start, end))
    return pairs


def reference_projection(src, spans, tgt, links, config):
    """``project(..., "candidates-ngram", config)`` computed with the reference scorer."""
    with mock.patch.object(cand, "score_pairs", _ref_score_pairs):
        return project(src, spans, tgt, links, "candidates-ngram", config)


TEXT = st.text(alphabet="abcaáß ΣσKk-", max_size=24)


@settings(max_examples=3000, deadline=None)
@given(TEXT, TEXT, st.sampled_from([0.0, 0.5, 0.8, 0.9]))
def test_similarity_is_difflibs_ratio(a, b, floor):
    ref = _ratio(a, b)
    got = cand.similarity(a, b, floor)
    assert got == (ref if ref >= floor else 0.0) or (got == 0.0 and ref < floor)
    assert cand.similarity(a, b) == ref


WORDS = st.lists(st.sampled_from(["Prodi", "prodi", "Prodis", "Kommission", "Commission", "der", ",", "EU",
                                  "EU-Kommission", "Kosovo", "Kosovos", "Straße", "STRASSE", "la", "Unión"]),
                 min_size=1, max_size=10)


@settings(max_examples=400, deadline=None)
@given(WORDS, WORDS, st.data(), st.sampled_from([
    CandidatesConfig(scorers=("links", "surface"), weights=(1.0, 0.5)),
    CandidatesConfig(matching="ilp", scorers=("surface", "links")),
    CandidatesConfig(scorers=("surface",), min_surface=0.6, trim=False),
    CandidatesConfig(scorers=("links", "surface"), outside=0.5, max_ngram=3),
]))
def test_fast_surface_projection_equals_reference_on_generated_pairs(src, tgt, data, config):
    start = data.draw(st.integers(0, len(src) - 1))
    end = data.draw(st.integers(start + 1, len(src)))
    spans = [Span(start, end, "ORG")]
    links = data.draw(st.lists(st.builds(Link, st.integers(0, len(src) - 1), st.integers(0, len(tgt) - 1)),
                               max_size=6))
    assert project(src, spans, tgt, links, "candidates-ngram", config) == reference_projection(
        src, spans, tgt, links, config)


@pytest.mark.parametrize("lang", ["de", "es", "it"])
def test_fast_surface_projection_equals_reference_on_europarl(data_dir, europarl_en_de, lang):
    """Every Europarl-NER pair, gold English entities, links from every other source word to
    the diagonal (no aligner needed): the recommended configuration and an ILP variant."""
    from nerxl_data.corpora.registry import load_corpus

    en = europarl_en_de[0]
    tgt_rows = europarl_en_de[1] if lang == "de" else list(
        load_corpus(f"europarl-ner:{lang}", "test", data_dir=data_dir, policy="repair"))
    configs = [CandidatesConfig(scorers=("links", "surface"), weights=(1.0, 0.5)),
               CandidatesConfig(matching="ilp", scorers=("links", "surface"), weights=(1.0, 0.5))]
    n_surface = 0
    for x, y in zip(en, tgt_rows, strict=True):
        src, tgt = x["tokens"], y["tokens"]
        spans = tags_to_spans(x["ner_tags"])
        links = [Link(i, min(len(tgt) - 1, round(i * len(tgt) / len(src)))) for i in range(0, len(src), 2)]
        for config in configs:
            got = project(src, spans, tgt, links, "candidates-ngram", config)
            assert got == reference_projection(src, spans, tgt, links, config)
            n_surface += sum(s.score > 1.0 for s in got.spans)  # the surface score added something
    assert n_surface > 20  # the surface scorer really took part (46 on de)
