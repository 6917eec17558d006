"""The candidates method's surface scorer as first written, kept as the reference the fast one
(:mod:`nerxl_data.project.candidates`) is checked against (tests/test_speed_project.py) and
measured against (benchmarks/bench_project_speed.py): a ``difflib.SequenceMatcher`` per
candidate, every target word compared for surface anchors, every scorer called per candidate.
"""

from __future__ import annotations

import difflib
import unicodedata
from unittest import mock

from ..project import candidates as cand
from ..project import project
from ..project.base import is_edge_junk


def _norm(text: str) -> str:
    return unicodedata.normalize("NFC", text).casefold()


def ratio(a: str, b: str) -> float:
    """difflib's ratio, no autojunk: what the fast similarity must equal."""
    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()


def _ref_surface(inp, k, start, end, c=-1):
    span = inp.src_spans[k]
    a = _norm(" ".join(inp.src_tokens[span.start : span.end]))
    b = _norm(" ".join(inp.tgt_tokens[start:end]))
    if 2 * min(len(a), len(b)) < inp.min_surface * (len(a) + len(b)):
        return 0.0
    m = difflib.SequenceMatcher(None, a, b, autojunk=False)
    if m.quick_ratio() < inp.min_surface:
        return 0.0
    return m.ratio()


def _ref_anchors(inp, k, min_ratio):
    span = inp.src_spans[k]
    words = [_norm(w) for w in inp.src_tokens[span.start : span.end] if len(w) >= 3]
    found = set()
    for j, tok in enumerate(inp.tgt_tokens):
        if len(tok) < 3:
            continue
        t = _norm(tok)
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
