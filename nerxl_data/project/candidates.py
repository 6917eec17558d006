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

import difflib  # noqa: F401 - the reference of similarity() (doctest)
import math
from bisect import bisect_left
from collections.abc import Callable, Container, Sequence
from dataclasses import dataclass, field
from itertools import accumulate
from typing import Literal

from ..corpora._io import nfc
from ..errors import ConfigError, InputError, unknown_name
from ..registry import Registry
from ..schema import Link, Span
from .alignment import entity_link_counts, outside_link_counts
from .base import Dropped, Projection, ScoredSpan, is_edge_junk

EXTRACTORS: tuple[str, ...] = ("ngram", "ner")

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
        MATCHERS.get(self.matching)
        for name in self.scorers:
            SCORERS.get(name)
        for w in self.weights or ():
            if isinstance(w, bool) or not isinstance(w, int | float) or not math.isfinite(w):
                raise ConfigError(f"weights must be finite numbers, got {w!r}")
        if self.weights is not None and len(self.weights) != len(self.scorers):
            raise ConfigError(f"{len(self.weights)} weights given for {len(self.scorers)} scorers")
        if self.max_ngram is not None and self.max_ngram < 1:
            raise ConfigError(f"max_ngram must be >= 1, got {self.max_ngram}")


# --- scorers ----------------------------------------------------------------------------------


@dataclass(slots=True)
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
    # per-sentence caches of the surface scorer (casefolded texts, computed on first use)
    _norm_tgt: list[str] | None = field(default=None, init=False, repr=False)
    _norm_ends: list[int] | None = field(default=None, init=False, repr=False)
    _entity_texts: dict[int, str] = field(default_factory=dict, init=False, repr=False)
    _joined: str | None = field(default=None, init=False, repr=False)
    _initials: dict[str, list[tuple[int, str]]] = field(default_factory=dict, init=False, repr=False)
    _similar: dict[tuple[str, str, float], float] = field(default_factory=dict, init=False, repr=False)
    _chars: dict[str, dict[str, int]] = field(default_factory=dict, init=False, repr=False)
    _junk: list[bool | None] | None = field(default=None, init=False, repr=False)

    def norm_target(self) -> tuple[list[str], list[int]]:
        """The casefolded target words and the prefix sums of their lengths (one casefold of
        the joined sentence, see :func:`_norm`, unless a word holds the separator)."""
        if self._norm_tgt is None:
            joined = _norm("\0".join(self.tgt_tokens))
            norm = joined.split("\0")
            if len(norm) == len(self.tgt_tokens):
                self._joined = "\0" + joined
            else:
                norm = [_norm(t) for t in self.tgt_tokens]
            self._norm_tgt = norm
            self._norm_ends = list(accumulate(map(len, norm), initial=0))
        return self._norm_tgt, self._norm_ends

    def edge_junk(self, j: int) -> bool:
        """:func:`.base.is_edge_junk` of target word ``j``, once per sentence and only for the
        words a candidate's edge reaches."""
        junk = self._junk
        if junk is None:
            junk = self._junk = [None] * len(self.tgt_tokens)
        x = junk[j]
        if x is None:
            x = junk[j] = is_edge_junk(self.tgt_tokens[j])
        return x

    def trimmed_start(self, a: int) -> int:
        """The first target word at or after ``a`` that is no edge junk (the length if none)."""
        m = len(self.tgt_tokens)
        while a < m and self.edge_junk(a):
            a += 1
        return a

    def trimmed_end(self, b: int) -> int:
        """One past the last target word at or before ``b`` that is no edge junk (0 if none)."""
        while b >= 0 and self.edge_junk(b):
            b -= 1
        return b + 1

    def target_initials(self, c: str) -> list[tuple[int, str]]:
        """Casefolded target words of 3+ characters that begin with ``c``, as ``(index, word)``
        (found with C-level searches of the joined sentence, once per sentence and character)."""
        found = self._initials.get(c)
        if found is None:
            norm, _ = self.norm_target()
            if self._joined is None:
                self._joined = "\0" + "\0".join(norm)
            joined, raw = self._joined, self.tgt_tokens
            found = self._initials[c] = []
            if c == "\0" or joined.count("\0") != len(norm):  # a word holding the separator
                found.extend((j, t) for j, t in enumerate(norm) if t[:1] == c and len(raw[j]) >= 3)
                return found
            key, j, last = "\0" + c, 0, 0
            p = joined.find(key)
            while p >= 0:
                j += joined.count("\0", last, p)  # the separator at p is the j-th: word j follows
                last = p
                if len(raw[j]) >= 3:
                    found.append((j, norm[j]))
                p = joined.find(key, p + 1)
        return found

    def char_counts(self, a: str) -> dict[str, int]:
        """How often each character occurs in ``a``, once per sentence and text."""
        need = self._chars.get(a)
        if need is None:
            need = self._chars[a] = {ch: a.count(ch) for ch in set(a)}
        return need

    def similar(self, a: str, b: str, floor: float) -> float:
        """:func:`similarity` ``(a, b, floor)``, once per sentence (entities repeat: 'Parliament'),
        0.0 without comparing when difflib's quick_ratio bound (the multiset intersection of
        the characters) is below ``floor``."""
        if a == b:
            return 1.0
        key = (a, b, floor)
        s = self._similar.get(key)
        if s is None:
            m = 0
            for ch, n in self.char_counts(a).items():
                h = b.count(ch)
                m += n if n < h else h
            length = len(a) + len(b)
            if length and 2.0 * m / length < floor:
                s = 0.0
            else:
                s = similarity(a, b, floor)
            self._similar[key] = s
        return s

    def entity_text(self, k: int) -> str:
        """The casefolded text of source entity ``k`` (its words joined by spaces)."""
        text = self._entity_texts.get(k)
        if text is None:
            span = self.src_spans[k]
            text = self._entity_texts[k] = _norm(" ".join(self.src_tokens[span.start : span.end]))
        return text


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
    """``text`` in NFC, casefolded: the same name typed on two systems (``ü`` as one code point
    or as ``u`` + a combining mark) scores as the same. str.casefold maps each character on its
    own and NFC composes only a word's letters with the marks after them (no composite starts
    with a space or NUL), so the norm of words joined by spaces is their norms joined by spaces:
    the scorers rely on it."""
    return nfc(text).casefold()


def similarity(a: str, b: str, floor: float = 0.0) -> float:
    """``difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()``, the same float, faster;
    0.0 as soon as an upper bound shows it is below ``floor``.

    The same Ratcliff-Obershelp recursion (the longest common block, then the same on each side
    of it), with difflib's choice among equally long blocks (the one starting earliest in ``a``,
    then earliest in ``b``), so the matched total and the ratio are difflib's. The longest block
    is found with C-level substring searches instead of difflib's per-character dictionary
    dynamic programme: a block of ``size + 1`` characters is looked for at each start in ``a``,
    growing ``size`` whenever one is found, so the first start reaching the final size wins.
    The bound: the characters matched so far plus, per region still to search, the shorter
    side's length.

    >>> similarity("kommission", "commission") == difflib.SequenceMatcher(
    ...     None, "kommission", "commission", autojunk=False).ratio()
    True
    """
    la, lb = len(a), len(b)
    if a == b:
        return 1.0  # 2 * la / (la + lb), and difflib's 1.0 for two empty strings
    length = la + lb
    matches = 0
    rest = min(la, lb)  # most characters the regions in the queue can still match
    queue = [(0, la, 0, lb)]
    while queue:
        alo, ahi, blo, bhi = queue.pop()
        rest -= min(ahi - alo, bhi - blo)
        sub = b[blo:bhi]
        i, size, best = alo, 0, alo
        while i + size < ahi:
            if a[i : i + size + 1] in sub:
                size += 1
                best = i
            else:
                i += 1
        if size:
            j = sub.find(a[best : best + size]) + blo
            matches += size
            if alo < best and blo < j:
                queue.append((alo, best, blo, j))
                rest += min(best - alo, j - blo)
            if best + size < ahi and j + size < bhi:
                queue.append((best + size, ahi, j + size, bhi))
                rest += min(ahi - best - size, bhi - j - size)
        if floor and 2.0 * (matches + rest) / length < floor:
            return 0.0
    return 2.0 * matches / length


_MANY = 4  # candidates (or linked words) of one entity from which prefix sums pay off


def _drop_by_char_counts(inp: ScoringInput, a: str, near: list, floor: float) -> list:
    """Drop the ``(start, end, len)`` spans whose difflib quick_ratio bound with ``a`` (the
    multiset intersection of the characters) is below ``floor``. A span's text is its words
    joined by spaces, so its count of each of a's characters is a difference of prefix sums over
    the words (plus the joining spaces), built once: long entities have hundreds of candidates
    over the same few words, and counting in each candidate's text costs a pass per character."""
    norm, _ = inp.norm_target()
    need = inp.char_counts(a)
    lo = min(x[0] for x in near)
    hi = max(x[1] for x in near)
    row: dict[str, int] = {}
    rows = [row]
    for t in norm[lo:hi]:
        row = row.copy()
        for ch in set(t):
            if ch in need:
                row[ch] = row.get(ch, 0) + t.count(ch)
        rows.append(row)
    la = len(a)
    kept = []
    for x in near:
        start, end, lb = x
        r0, r1 = rows[start - lo], rows[end - lo]
        m = 0
        for ch, n in need.items():
            h = r1.get(ch, 0) - r0.get(ch, 0)
            if ch == " " and end > start:
                h += end - start - 1
            m += n if n < h else h
        if not (la + lb and 2.0 * m / (la + lb) < floor):
            kept.append(x)
    return kept


def _surface_scores(inp: ScoringInput, k: int, spans: Sequence[tuple[int, int, int]], floor: float) -> dict:
    """:func:`surface_score` of entity ``k`` and each ``(start, end, _)`` span, scores below ``floor`` as 0;
    only the spans scoring above 0 are in the result. The length bound (real_quick_ratio) is
    taken from prefix sums, before the span's text is built; then :meth:`ScoringInput.similar`."""
    a = inp.entity_text(k)
    norm, ends = inp.norm_target()
    la = len(a)
    floor = max(floor, inp.min_surface)
    near = []
    for start, end, _ in spans:
        lb = ends[end] - ends[start] + end - start - 1 if end > start else 0
        if not 2 * min(la, lb) < inp.min_surface * (la + lb):
            near.append((start, end, lb))
    if not near:
        return {}
    # many candidates: the character bound from prefix sums, then the ratio (no per-sentence memo:
    # each candidate's text is new)
    many = len(near) > _MANY
    if many:
        near = _drop_by_char_counts(inp, a, near, floor)
    scores = {}
    for start, end, _ in near:
        b = " ".join(norm[start:end])
        s = similarity(a, b, floor) if many else inp.similar(a, b, floor)
        if s >= floor:
            scores[(start, end)] = s
    return scores


def surface_score(inp: ScoringInput, k: int, start: int, end: int, c: int = -1) -> float:
    """difflib similarity ratio of the casefolded entity and candidate texts (copied names);
    0 when it is below ``inp.min_surface``, checked first on an upper bound from the two
    lengths (difflib's real_quick_ratio): most candidates are nowhere near the entity's surface."""
    a = inp.entity_text(k)
    norm, ends = inp.norm_target()
    la = len(a)
    lb = ends[end] - ends[start] + end - start - 1 if end > start else 0  # len(b) before building it
    if 2 * min(la, lb) < inp.min_surface * (la + lb):
        return 0.0
    s = similarity(a, " ".join(norm[start:end]))
    return s if s >= inp.min_surface else 0.0


def ner_score(inp: ScoringInput, k: int, start: int, end: int, c: int = -1) -> float:
    """The NER model's probability of candidate ``c`` (0 when its type is not the entity's)."""
    if c < 0 or inp.candidates is None:
        return 0.0
    if inp.candidates[c].label != inp.src_spans[k].label:
        return 0.0
    return 1.0 if inp.candidate_scores is None else float(inp.candidate_scores[c])


SCORERS: Registry[Scorer] = Registry("candidate scorer", {"links": links_score, "surface": surface_score, "ner": ner_score})
"""Pair scorers by name."""


# --- extraction + scoring ---------------------------------------------------------------------


def _surface_anchors(inp: ScoringInput, k: int, min_ratio: float, linked: Container[int] = ()) -> set[int]:
    """Target words that look like a word of entity k (copied names: 'Prodi', 'Kosovo'):
    difflib similarity ratio >= ``min_ratio`` of the casefolded words (the length bound,
    difflib's real_quick_ratio, first). Words in ``linked`` (anchors already) are not compared.

    Only words of 3+ characters with the same first letter are compared (copied names keep it),
    which keeps this cheap enough for every sentence.
    """
    span = inp.src_spans[k]
    found: set[int] = set()
    for w in inp.src_tokens[span.start : span.end]:
        if len(w) < 3:
            continue
        w = _norm(w)
        lw = len(w)
        for j, t in inp.target_initials(w[0]):
            if j in found or j in linked:
                continue
            lt = len(t)
            if 2 * min(lt, lw) < min_ratio * (lt + lw) or 2.0 * min(lt, lw) / (lt + lw) < min_ratio:
                continue
            if t == w or inp.similar(w, t, min_ratio) >= min_ratio:
                found.add(j)
    return found


def _ngram_candidates(
    inp: ScoringInput, k: int, counts: dict[int, int], config: CandidatesConfig
) -> list[tuple[int, int, int]]:
    """Entity k's ``(start, end, -1)`` n-gram candidates: from an anchor to an anchor (linked
    words, and with the ``surface`` scorer look-alike words), edges trimmed, duplicates dropped
    (first kept).

    Trimming ``[a, b]`` gives ``[first non-junk word >= a, last non-junk word <= b]`` (empty:
    dropped; an edge the entity itself has junk on is kept), so each anchor's trimmed edges are
    found once, not once per candidate.
    """
    anchors = set(counts)
    if "surface" in config.scorers:
        anchors |= _surface_anchors(inp, k, config.min_surface, counts)
    targets = sorted(anchors)
    longest = config.max_ngram or len(inp.tgt_tokens)
    if not config.trim:
        return [(a, b + 1, -1) for i, a in enumerate(targets) for b in targets[i:] if b - a < longest]
    # the entity's own first / last word is looked at only when an edge would be trimmed
    first, last = inp.src_tokens[inp.src_spans[k].start], inp.src_tokens[inp.src_spans[k].end - 1]
    n = len(targets)
    if n == 1:  # most entities: one linked word, one candidate
        a = targets[0]
        start, end = inp.trimmed_start(a), inp.trimmed_end(a)
        if start != a and is_edge_junk(first):
            start = a
        if end != a + 1 and is_edge_junk(last):
            end = a + 1
        return [(start, end, -1)] if start < end else []
    starts = list(map(inp.trimmed_start, targets))
    if starts != targets and is_edge_junk(first):
        starts = targets
    ends = list(map(inp.trimmed_end, targets))
    plain = [b + 1 for b in targets]
    if ends != plain and is_edge_junk(last):
        ends = plain
    kept = dict.fromkeys(
        (starts[i], ends[j])
        for i in range(n)
        for j in range(i, n)
        if targets[j] - targets[i] < longest and starts[i] < ends[j]
    )
    return [(a, b, -1) for a, b in kept]


def _counts_in(counts: dict[int, int], cands: Sequence[tuple[int, int, int]]) -> list[int]:
    """For each ``(start, end, _)`` candidate, the sum of ``counts[t]`` over ``start <= t < end``:
    a pass over ``counts`` per candidate when they are few, else prefix sums over the sorted
    positions and two binary searches (long entities link to dozens of words and have hundreds
    of candidates)."""
    if len(counts) < _MANY:
        items = counts.items()
        out = []
        for start, end, _ in cands:
            n = 0
            for t, v in items:
                if start <= t < end:
                    n += v
            out.append(n)
        return out
    positions = sorted(counts)
    cum = list(accumulate((counts[t] for t in positions), initial=0))
    return [cum[bisect_left(positions, end)] - cum[bisect_left(positions, start)] for start, end, _ in cands]


def score_pairs(inp: ScoringInput, config: CandidatesConfig) -> list[Pair]:
    """All (score, entity, start, end) pairs scoring above ``config.min_score``.

    The ``links`` and ``surface`` scorers are computed inline (no call per candidate; the
    surface length bound from prefix sums before any string is built): the same floats as
    :func:`links_score` and :func:`surface_score`, summed in the same order.
    """
    scorers = [SCORERS[name] for name in config.scorers]
    weights = config.weights or (1.0,) * len(scorers)
    links_only = config.scorers == ("links",) and weights == (1.0,) and not config.outside
    inline = not links_only and all(name in ("links", "surface") for name in config.scorers)
    plan = [(w, name == "links") for w, name in zip(weights, config.scorers, strict=True)]
    use_surface = "surface" in config.scorers
    floor = config.min_surface
    outside = inp.outside if inp.outside and inp.outside_counts is not None else 0
    pairs: list[Pair] = []
    for k, counts in enumerate(inp.link_counts):
        n = len(inp.src_spans[k])
        if config.extract == "ner":
            cands = [(c.start, c.end, i) for i, c in enumerate(inp.candidates or ())]
        else:
            cands = _ngram_candidates(inp, k, counts, config)
        if links_only:  # the common case, inlined for speed
            for (start, end, _), n_links in zip(cands, _counts_in(counts, cands), strict=True):
                score = 2 * n_links / (n + end - start)
                if score > config.min_score:
                    pairs.append((score, k, start, end))
            continue
        if not inline:
            for start, end, c in cands:
                score = 0.0
                for scorer, w, name in zip(scorers, weights, config.scorers, strict=False):
                    s = scorer(inp, k, start, end, c)
                    if name == "surface" and s < floor:
                        s = 0.0
                    score += w * s
                if score > config.min_score:
                    pairs.append((score, k, start, end))
            continue
        surfaces = _surface_scores(inp, k, cands, floor) if use_surface else {}
        outs = _counts_in(inp.outside_counts[k], cands) if outside else [0] * len(cands)
        for (start, end, _), n_links, out in zip(cands, _counts_in(counts, cands), outs, strict=True):
            surface = surfaces.get((start, end), 0.0) if surfaces else 0.0
            links = 2 * n_links / (n + end - start + inp.outside * out)  # links_score, inline
            score = 0.0
            for w, is_links in plan:
                score += w * (links if is_links else surface)
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
    if len(pairs) < 2:
        return list(pairs)
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
        if len(group) > _VECTOR_MIN:
            kept.extend(_undominated(group))
            continue
        mine: list[Pair] = []
        for p in group:
            if not any(q[2] >= p[2] and q[3] <= p[3] and q[0] > p[0] for q in mine):
                mine.append(p)
        kept.extend(mine)
    return kept


_VECTOR_MIN = 24  # below this many pairs of one entity the Python loop is faster than numpy's set-up


def _undominated(group: Sequence[Pair]) -> list[Pair]:
    """``group`` (one entity's pairs) less those with a better pair inside their span, in order.

    All pairs at once: "some pair inside scores more" equals "some kept pair inside scores more"
    (a dominating pair that is itself dominated has a better one inside it), so no loop is needed.
    """
    import numpy as np

    score, start, end = (np.fromiter((p[i] for p in group), float, len(group)) for i in (0, 2, 3))
    inside = (start[None, :] >= start[:, None]) & (end[None, :] <= end[:, None])  # [p, q]: q inside p
    dominated = (inside & (score[None, :] > score[:, None])).any(axis=1)
    return [p for p, d in zip(group, dominated.tolist(), strict=True) if not d]


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


MATCHERS: Registry[Callable[[Sequence[Pair]], list[Pair]]] = Registry("matching", {
    "greedy": match_greedy,
    "bipartite": match_bipartite,
    "ilp": match_ilp,
})


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
    if not src_spans:
        return Projection([], [])
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
