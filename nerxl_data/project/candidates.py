"""Candidate projection (Politov et al. 2025): extract target candidates, score, match.

1. **Extract** target candidate spans: every n-gram up to ``max_ngram`` words (``ngram``), or the
   spans an NER model predicted on the target (``ner``, passed in as ``candidates``).
2. **Score** each (source entity, candidate) pair with a weighted sum of scorers:
   ``links`` = ``2 * #links between them / (|entity| + |candidate|)``; ``surface`` = string
   similarity of the two texts (names copied across languages); ``ner`` = the NER model's
   probability of the candidate (``ner`` extraction only; 0 when its type differs from the
   entity's).
3. **Match** entities to candidates: ``greedy`` (best pair first, drop overlapping candidates,
   repeat), ``bipartite`` (``scipy.optimize.linear_sum_assignment``, then overlaps dropped worst
   first) or ``ilp`` (``scipy.optimize.milp`` with HiGHS: maximise the total score, each entity
   at most once, no two chosen candidates overlapping).

With ``ngram`` extraction only n-grams that start and end on a target word linked to the entity
(or, with the ``surface`` scorer, a word that looks like one of its words) are scored: under the
``links`` scorer any other n-gram has a sub-span with a strictly higher score and fewer overlaps,
so no matching would choose it (exact); with extra scorers it is a heuristic restriction. With
``trim`` (default) candidate edges then lose punctuation and short lowercase function words.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from ..errors import ConfigError, InputError, unknown_name
from ..schema import Link, Span
from .alignment import entity_link_counts, outside_link_counts
from .base import Dropped, Projection, ScoredSpan, is_edge_junk

EXTRACTORS: tuple[str, ...] = ("ngram", "ner")
MATCHINGS: tuple[str, ...] = ("greedy", "bipartite", "ilp")

Pair = tuple[float, int, int, int]  # (score, source entity, start, end)


@dataclass(frozen=True)
class CandidatesConfig:
    """Options of the ``candidates-*`` methods.

    Args:
        extract: ``ngram`` or ``ner`` (candidates passed to :func:`project_candidates`).
        max_ngram: the longest n-gram candidate (``ngram`` extraction); ``None``: no limit
            (Europarl has 30-word entities; candidates are anchored, so this stays cheap).
        matching: ``greedy``, ``bipartite`` or ``ilp``.
        scorers: names from :data:`SCORERS`; their weighted sum scores a pair.
        weights: one weight per scorer (default 1 each).
        min_score: a pair is considered only when its score is above this.
        min_link_score: links scoring below this are ignored.
        min_surface: ``surface`` similarities below this count as 0 (and add no n-gram anchor).
        outside: weight of links from *other* source words into the candidate in the ``links``
            score's denominator: ``2 * in / (|entity| + |candidate| + outside * out)``. It keeps
            words that translate the context ("accuse", "the") out of the span.
        trim: trim punctuation and short lowercase function words off candidate edges
            (see :func:`.base.trim_edges`) before scoring.
    """

    extract: Literal["ngram", "ner"] = "ngram"
    max_ngram: int | None = None
    matching: Literal["greedy", "bipartite", "ilp"] = "greedy"
    scorers: tuple[str, ...] = ("links",)
    weights: tuple[float, ...] | None = None
    min_score: float = 0.0
    min_link_score: float = 0.0
    min_surface: float = 0.8
    outside: float = 0.0
    trim: bool = True

    def __post_init__(self) -> None:
        if self.extract not in EXTRACTORS:
            raise unknown_name("candidate extractor", self.extract, EXTRACTORS)
        if self.matching not in MATCHINGS:
            raise unknown_name("matching", self.matching, MATCHINGS)
        for name in self.scorers:
            if name not in SCORERS:
                raise unknown_name("candidate scorer", name, SCORERS)
        if self.weights is not None and len(self.weights) != len(self.scorers):
            raise ConfigError(f"{len(self.weights)} weights given for {len(self.scorers)} scorers")
        if self.max_ngram is not None and self.max_ngram < 1:
            raise ConfigError(f"max_ngram must be >= 1, got {self.max_ngram}")


# --- scorers ----------------------------------------------------------------------------------


@dataclass
class ScoringInput:
    """What a scorer may read about one sentence pair."""

    src_tokens: Sequence[str]
    src_spans: Sequence[Span]
    tgt_tokens: Sequence[str]
    link_counts: list[dict[int, int]]  # per entity: {target word: links from the entity}
    candidates: Sequence[Span] | None = None  # ``ner`` extraction: the model's spans
    outside_counts: list[dict[int, int]] | None = None  # per entity: links from other words
    outside: float = 0.0
    min_surface: float = 0.0  # surface scores below this may be returned as 0
    candidate_scores: Sequence[float] | None = None  # and their probabilities


Scorer = Callable[[ScoringInput, int, int, int, int], float]
"""``scorer(inp, entity, start, end, candidate_index_or_-1) -> score``."""


def links_score(inp: ScoringInput, k: int, start: int, end: int, c: int = -1) -> float:
    """``2 * #links between entity k and [start, end) / (|entity| + |candidate|)``."""
    counts = inp.link_counts[k]
    n = sum(v for t, v in counts.items() if start <= t < end)
    out = 0
    if inp.outside and inp.outside_counts is not None:
        out = sum(v for t, v in inp.outside_counts[k].items() if start <= t < end)
    return 2 * n / (len(inp.src_spans[k]) + end - start + inp.outside * out)


def _norm(text: str) -> str:
    return text.casefold()


def surface_score(inp: ScoringInput, k: int, start: int, end: int, c: int = -1) -> float:
    """difflib similarity ratio of the casefolded entity and candidate texts (copied names)."""
    span = inp.src_spans[k]
    a = _norm(" ".join(inp.src_tokens[span.start : span.end]))
    b = _norm(" ".join(inp.tgt_tokens[start:end]))
    # cheap upper bounds first (difflib's real_quick_ratio, then quick_ratio): most candidates
    # are nowhere near the entity's surface
    if 2 * min(len(a), len(b)) < inp.min_surface * (len(a) + len(b)):
        return 0.0
    m = difflib.SequenceMatcher(None, a, b, autojunk=False)
    if m.quick_ratio() < inp.min_surface:
        return 0.0
    return m.ratio()


def ner_score(inp: ScoringInput, k: int, start: int, end: int, c: int = -1) -> float:
    """The NER model's probability of candidate ``c`` (0 when its type is not the entity's)."""
    if c < 0 or inp.candidates is None:
        return 0.0
    if inp.candidates[c].label != inp.src_spans[k].label:
        return 0.0
    return 1.0 if inp.candidate_scores is None else float(inp.candidate_scores[c])


SCORERS: dict[str, Scorer] = {"links": links_score, "surface": surface_score, "ner": ner_score}
"""Pair scorers by name."""


# --- extraction + scoring ---------------------------------------------------------------------


def _surface_anchors(inp: ScoringInput, k: int, min_ratio: float) -> set[int]:
    """Target words that look like a word of entity k (copied names: 'Prodi', 'Kosovo').

    Only words with the same first letter are compared (copied names keep it), which keeps
    this cheap enough for every sentence.
    """
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
            if t == w:
                found.add(j)
                break
            m = difflib.SequenceMatcher(None, w, t, autojunk=False)
            if m.real_quick_ratio() >= min_ratio and m.quick_ratio() >= min_ratio and m.ratio() >= min_ratio:
                found.add(j)
                break
    return found


def score_pairs(inp: ScoringInput, config: CandidatesConfig) -> list[Pair]:
    """All (score, entity, start, end) pairs scoring above ``config.min_score``."""
    scorers = [SCORERS[name] for name in config.scorers]
    weights = config.weights or (1.0,) * len(scorers)
    links_only = config.scorers == ("links",) and weights == (1.0,) and not config.outside
    use_surface = "surface" in config.scorers
    pairs: list[Pair] = []
    junk = None
    if config.trim and config.extract == "ngram" and inp.link_counts:
        junk = [is_edge_junk(t) for t in inp.tgt_tokens]  # once per sentence, not per candidate
    for k, counts in enumerate(inp.link_counts):
        n = len(inp.src_spans[k])
        if config.extract == "ner":
            cands = [(c.start, c.end, i) for i, c in enumerate(inp.candidates or ())]
        else:
            anchors = set(counts)
            if use_surface:
                anchors |= _surface_anchors(inp, k, config.min_surface)
            targets = sorted(anchors)
            longest = config.max_ngram or len(inp.tgt_tokens)
            cands = [
                (a, b + 1, -1)
                for i, a in enumerate(targets)
                for b in targets[i:]
                if b - a < longest
            ]
            if junk is not None:
                span = inp.src_spans[k]
                keep_first = is_edge_junk(inp.src_tokens[span.start])
                keep_last = is_edge_junk(inp.src_tokens[span.end - 1])
                trimmed = []
                for a, b, _ in cands:
                    if not keep_first:
                        while a < b and junk[a]:
                            a += 1
                    if not keep_last:
                        while b > a and junk[b - 1]:
                            b -= 1
                    if a < b:
                        trimmed.append((a, b, -1))
                cands = list(dict.fromkeys(trimmed))
        for start, end, c in cands:
            if links_only:  # the common case, inlined for speed
                n_links = 0
                for t, v in counts.items():
                    if start <= t < end:
                        n_links += v
                score = 2 * n_links / (n + end - start)
            else:
                score = 0.0
                for scorer, w, name in zip(scorers, weights, config.scorers, strict=False):
                    s = scorer(inp, k, start, end, c)
                    if name == "surface" and s < config.min_surface:
                        s = 0.0
                    score += w * s
            if score > config.min_score:
                pairs.append((score, k, start, end))
    return pairs


# --- matching ---------------------------------------------------------------------------------


def _order(p: Pair) -> tuple:
    # best score first; ties: longer candidate, earlier entity, earlier position
    return (-p[0], p[2] - p[3], p[1], p[2])


def match_greedy(pairs: Sequence[Pair]) -> list[Pair]:
    """Take the best pair, drop pairs of its entity and candidates overlapping it, repeat.

    >>> match_greedy([(1.0, 0, 0, 2), (0.8, 1, 1, 3), (0.6, 1, 3, 4)])
    [(1.0, 0, 0, 2), (0.6, 1, 3, 4)]
    """
    chosen: list[Pair] = []
    done: set[int] = set()
    for p in sorted(pairs, key=_order):
        if p[1] in done:
            continue
        start, end = p[2], p[3]
        if any(start < q[3] and q[2] < end for q in chosen):
            continue
        chosen.append(p)
        done.add(p[1])
    return chosen


def match_bipartite(pairs: Sequence[Pair]) -> list[Pair]:
    """Maximum-score assignment of entities to distinct candidates (linear_sum_assignment);
    chosen candidates that still overlap are dropped worst first."""
    if not pairs:
        return []
    import numpy as np
    from scipy.optimize import linear_sum_assignment

    ents = sorted({p[1] for p in pairs})
    spans = sorted({(p[2], p[3]) for p in pairs})
    row = {e: i for i, e in enumerate(ents)}
    col = {s: j for j, s in enumerate(spans)}
    m = np.zeros((len(ents), len(spans)))
    for score, k, start, end in pairs:
        m[row[k], col[(start, end)]] = score
    rows, cols = linear_sum_assignment(m, maximize=True)
    assigned = [
        (float(m[r, c]), ents[r], *spans[c]) for r, c in zip(rows, cols, strict=False) if m[r, c] > 0
    ]
    return match_greedy(assigned)


def _best_is_conflict_free(pairs: Sequence[Pair]) -> list[Pair] | None:
    """Each entity's best pair, when those are pairwise disjoint (then they are optimal)."""
    best: dict[int, Pair] = {}
    for p in pairs:
        q = best.get(p[1])
        if q is None or _order(p) < _order(q):
            best[p[1]] = p
    chosen = sorted(best.values(), key=lambda p: p[2])
    for a, b in zip(chosen, chosen[1:], strict=False):
        if b[2] < a[3]:
            return None
    return sorted(chosen, key=_order)


def _prune_dominated(pairs: Sequence[Pair]) -> list[Pair]:
    """Drop a pair when a pair of the same entity inside its span scores more
    (that one is feasible whenever this one is, so some optimum never uses this one)."""
    by_entity: dict[int, list[Pair]] = {}
    for p in pairs:
        by_entity.setdefault(p[1], []).append(p)
    kept: list[Pair] = []
    for group in by_entity.values():
        group.sort(key=lambda p: (p[3] - p[2], -p[0]))  # shortest, then best, first
        mine: list[Pair] = []
        for p in group:
            if not any(q[2] >= p[2] and q[3] <= p[3] and q[0] > p[0] for q in mine):
                mine.append(p)
        kept.extend(mine)
    return kept


def match_ilp(pairs: Sequence[Pair]) -> list[Pair]:
    """Exact maximum total score with scipy.optimize.milp (HiGHS).

    Variables: one binary per pair. Constraints: each entity at most once; each target word
    covered by at most one chosen candidate. Exact reductions first: dominated pairs are
    dropped, an entity none of whose candidates overlaps another entity's takes its best, and
    when every remaining entity's best pair is disjoint from the others' that choice is optimal,
    so the solver runs only on entities that really compete.
    """
    if not pairs:
        return []
    quick = _best_is_conflict_free(pairs)
    if quick is not None:
        return quick
    pairs = _prune_dominated(pairs)
    fixed: list[Pair] = []
    rest: list[Pair] = []
    by_entity: dict[int, list[Pair]] = {}
    for p in pairs:
        by_entity.setdefault(p[1], []).append(p)
    for k, mine in by_entity.items():
        others = [q for q in pairs if q[1] != k]
        if any(p[2] < q[3] and q[2] < p[3] for p in mine for q in others):
            rest.extend(mine)
        else:
            fixed.append(min(mine, key=_order))
    rest = _drop_below_free_best(rest)
    quick = _best_is_conflict_free(rest) if rest else []
    if quick is not None:
        return sorted(fixed + quick, key=_order)
    return sorted(fixed + _solve_milp(rest), key=_order)


def _drop_below_free_best(pairs: list[Pair]) -> list[Pair]:
    """An entity can always take its best candidate that overlaps no other entity's: its
    candidates scoring below that one are never needed."""
    out: list[Pair] = []
    by_entity: dict[int, list[Pair]] = {}
    for p in pairs:
        by_entity.setdefault(p[1], []).append(p)
    for k, mine in by_entity.items():
        others = [q for q in pairs if q[1] != k]
        free = [p for p in mine if not any(p[2] < q[3] and q[2] < p[3] for q in others)]
        if not free:
            out.extend(mine)
            continue
        best = min(free, key=_order)
        out.append(best)
        out.extend(p for p in mine if p is not best and _order(p) < _order(best))
    return out


def _solve_milp(pairs: Sequence[Pair]) -> list[Pair]:
    import numpy as np
    from scipy.optimize import Bounds, LinearConstraint, milp
    from scipy.sparse import coo_matrix

    ents = sorted({p[1] for p in pairs})
    positions = sorted({t for p in pairs for t in range(p[2], p[3])})
    row_e = {e: i for i, e in enumerate(ents)}
    row_t = {t: len(ents) + i for i, t in enumerate(positions)}
    rows, cols = [], []
    for j, (_, k, start, end) in enumerate(pairs):
        rows.append(row_e[k])
        cols.append(j)
        for t in range(start, end):
            rows.append(row_t[t])
            cols.append(j)
    a = coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(ents) + len(positions), len(pairs)))
    # a tiny length bonus breaks ties towards longer candidates, as greedy does
    c = -np.array([p[0] + 1e-6 * (p[3] - p[2]) for p in pairs])
    res = milp(
        c,
        constraints=LinearConstraint(a.tocsr(), -np.inf, 1),
        integrality=np.ones(len(pairs)),
        bounds=Bounds(0, 1),
    )
    if res.x is None:  # pragma: no cover - HiGHS always finds x=0 feasible
        raise RuntimeError(f"milp failed: {res.message}")
    return [p for p, x in zip(pairs, res.x, strict=True) if x > 0.5]


MATCHERS: dict[str, Callable[[Sequence[Pair]], list[Pair]]] = {
    "greedy": match_greedy,
    "bipartite": match_bipartite,
    "ilp": match_ilp,
}


def project_candidates(
    src_tokens: Sequence[str],
    src_spans: Sequence[Span],
    tgt_tokens: Sequence[str],
    links: Sequence[Link],
    config: CandidatesConfig,
    candidates: Sequence[Span] | None = None,
    candidate_scores: Sequence[float] | None = None,
) -> Projection:
    """Extract, score and match candidates (see the module docstring).

    >>> p = project_candidates(["the", "EU", "Commission"], [Span(1, 3, "ORG")],
    ...     ["die", "EU-Kommission", "."], [Link(1, 1), Link(2, 1)], CandidatesConfig())
    >>> p.spans
    [ScoredSpan(span=Span(start=1, end=2, label='ORG'), score=1.3333333333333333, source=0)]

    Raises:
        InputError: ``ner`` extraction without candidates, or a candidate outside the target.
    """
    if config.extract == "ner":
        if candidates is None:
            raise InputError("candidates-ner needs the target's NER candidates (candidates=...)")
        for c in candidates:
            if not (0 <= c.start < c.end <= len(tgt_tokens)):
                raise InputError(f"candidate {c} does not fit a target of {len(tgt_tokens)} words")
    counts = entity_link_counts(src_spans, links, config.min_link_score)
    outside = None
    if config.outside:
        outside = outside_link_counts(src_spans, links, config.min_link_score)
    inp = ScoringInput(
        src_tokens, src_spans, tgt_tokens, counts, candidates=candidates,
        candidate_scores=candidate_scores, outside_counts=outside, outside=config.outside,
        min_surface=config.min_surface,
    )
    pairs = score_pairs(inp, config)
    chosen = MATCHERS[config.matching](pairs)
    spans = [ScoredSpan(Span(s, e, src_spans[k].label), score, k) for score, k, s, e in chosen]
    has_pair = {p[1] for p in pairs}
    done = {p[1] for p in chosen}
    dropped = []
    for k in range(len(src_spans)):
        if k in done:
            continue
        if k in has_pair:
            reason = "overlap"
        elif not counts[k]:
            reason = "no-links"
        else:
            reason = "below-threshold"
        dropped.append(Dropped(k, reason))
    return Projection(spans, dropped)
