"""Alignment-based projection: ``hull`` and ``heuristic``.

Both read, for each source entity, the target words its words are linked to. ``hull`` takes the
span from the first to the last of them; ``heuristic`` (Garcia-Ferrero et al. 2022, as
reimplemented by Politov et al. 2025) takes maximal runs of linked target words, merges runs
separated by at most ``max_gap`` unlinked words, and keeps a run only if it is long enough
relative to the entity. A projected span scores ``2 * links / (|entity| + |span|)``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from ..errors import ConfigError
from ..schema import Link, Span
from .base import Dropped, Projection, resolve_overlaps, trim_edges


@dataclass(frozen=True)
class HullConfig:
    """Options of ``hull``.

    Args:
        min_link_score: links scoring below this are ignored.
        trim: trim punctuation and short lowercase function words off the span's edges
            (see :func:`.base.trim_edges`).
    """

    min_link_score: float = 0.0
    trim: bool = True


@dataclass(frozen=True)
class HeuristicConfig:
    """Options of ``heuristic``.

    Args:
        max_gap: runs separated by at most this many unlinked target words are merged.
        min_ratio: a run is kept only if ``len(run) / len(entity) > min_ratio``
            (``None`` or a negative value keeps every run).
        largest_run_only: keep only the largest run of each entity (ties: the one with more links,
            then the first).
        min_link_score: links scoring below this are ignored.
        trim: trim punctuation and short lowercase function words off each run's edges.
    """

    max_gap: int = 1
    min_ratio: float | None = 0.8
    largest_run_only: bool = False
    min_link_score: float = 0.0
    trim: bool = True

    def __post_init__(self) -> None:
        if self.max_gap < 0:
            raise ConfigError(f"heuristic max_gap must be >= 0, got {self.max_gap}")
        for key in ("min_ratio", "min_link_score"):
            value = getattr(self, key)
            if isinstance(value, float) and not math.isfinite(value):  # nan would turn the filter off
                raise ConfigError(f"heuristic {key} must be a finite number, got {value!r}")


def entity_link_counts(
    spans: Sequence[Span], links: Sequence[Link], min_link_score: float = 0.0
) -> list[dict[int, int]]:
    """For each entity, ``{target word: number of links from the entity's words}``.

    >>> entity_link_counts([Span(0, 2, "PER")], [Link(0, 1), Link(1, 1), Link(1, 2), Link(2, 0)])
    [{1: 2, 2: 1}]
    """
    counts: list[dict[int, int]] = [{} for _ in spans]
    if not spans:
        return counts
    owners: dict[int, list[int]] = {}  # source word -> the entities holding it (one look-up per link)
    for k, span in enumerate(spans):
        for i in range(span.start, span.end):
            owners.setdefault(i, []).append(k)
    for link in links:
        mine = owners.get(link.src)
        if mine is None or link.score < min_link_score:
            continue
        j = link.tgt
        for k in mine:
            c = counts[k]
            c[j] = c.get(j, 0) + 1
    return counts


def outside_link_counts(
    spans: Sequence[Span], links: Sequence[Link], min_link_score: float = 0.0
) -> list[dict[int, int]]:
    """For each entity, ``{target word: number of links from source words outside the entity}``.

    >>> outside_link_counts([Span(0, 1, "PER")], [Link(0, 1), Link(1, 1), Link(2, 0)])
    [{1: 1, 0: 1}]
    """
    counts: list[dict[int, int]] = [{} for _ in spans]
    for link in links:
        if link.score < min_link_score:
            continue
        for k, span in enumerate(spans):
            if not span.start <= link.src < span.end:
                c = counts[k]
                c[link.tgt] = c.get(link.tgt, 0) + 1
    return counts


def project_hull(
    src_spans: Sequence[Span],
    tgt_tokens: Sequence[str],
    links: Sequence[Link],
    config: HullConfig,
    src_tokens: Sequence[str] | None = None,
) -> Projection:
    """Project each entity onto the span from its first to its last linked target word.

    Overlapping hulls are resolved best score first (see :func:`.base.resolve_overlaps`).

    >>> p = project_hull([Span(0, 2, "PER")], ["a", "B", "C"], [Link(0, 1), Link(1, 2)], HullConfig())
    >>> p.spans[0].span, p.spans[0].score
    (Span(start=1, end=3, label='PER'), 1.0)
    """
    proposals = []
    dropped = []
    for k, counts in enumerate(entity_link_counts(src_spans, links, config.min_link_score)):
        if not counts:
            dropped.append(Dropped(k, "no-links"))
            continue
        start, end = min(counts), max(counts) + 1
        n = len(src_spans[k])
        if config.trim and src_tokens is not None:
            span = src_spans[k]
            # a span of nothing but punctuation / function words is kept as is
            start, end = trim_edges(
                start, end, tgt_tokens, src_tokens[span.start], src_tokens[span.end - 1]
            ) or (start, end)
            counts = {t: c for t, c in counts.items() if start <= t < end}
        proposals.append((2 * sum(counts.values()) / (n + end - start), k, start, end))
    spans, lost = resolve_overlaps(proposals, [s.label for s in src_spans])
    return Projection(spans, sorted(dropped + lost, key=lambda d: d.source))


def linked_runs(targets: Sequence[int], max_gap: int) -> list[tuple[int, int]]:
    """Maximal runs ``(start, end)`` of sorted target indices, merging gaps of <= ``max_gap``.

    >>> linked_runs([1, 2, 4, 7], 1)
    [(1, 5), (7, 8)]
    """
    runs: list[tuple[int, int]] = []
    start = prev = targets[0]
    for t in targets[1:]:
        if t - prev - 1 > max_gap:
            runs.append((start, prev + 1))
            start = t
        prev = t
    runs.append((start, prev + 1))
    return runs


def project_heuristic(
    src_spans: Sequence[Span],
    tgt_tokens: Sequence[str],
    links: Sequence[Link],
    config: HeuristicConfig,
    src_tokens: Sequence[str] | None = None,
) -> Projection:
    """The run-based heuristic of Garcia-Ferrero et al. 2022 (see the module docstring).

    Without ``largest_run_only`` an entity may project onto several runs (one
    :class:`ScoredSpan` each). Overlaps between entities are resolved best score first.

    >>> cfg = HeuristicConfig()
    >>> links = [Link(0, 1), Link(1, 3), Link(1, 6)]  # runs 1-3 (gap at 2 merged) and 6
    >>> p = project_heuristic([Span(0, 2, "ORG")], list("abcdefgh"), links, cfg)  # 6 alone: 1/2 <= 0.8
    >>> [s.span for s in p.spans]
    [Span(start=1, end=4, label='ORG')]
    """
    proposals = []
    dropped = []
    min_ratio = config.min_ratio
    for k, counts in enumerate(entity_link_counts(src_spans, links, config.min_link_score)):
        if not counts:
            dropped.append(Dropped(k, "no-links"))
            continue
        n = len(src_spans[k])
        runs = linked_runs(sorted(counts), config.max_gap)
        if config.trim and src_tokens is not None:
            span = src_spans[k]
            first, last = src_tokens[span.start], src_tokens[span.end - 1]
            runs = list(dict.fromkeys(
                trim_edges(a, b, tgt_tokens, first, last) or (a, b) for a, b in runs
            ))
        if min_ratio is not None and min_ratio >= 0:
            runs = [r for r in runs if (r[1] - r[0]) / n > min_ratio]
        if not runs:
            dropped.append(Dropped(k, "below-threshold"))
            continue
        scored = []
        for start, end in runs:
            n_links = sum(c for t, c in counts.items() if start <= t < end)
            scored.append((2 * n_links / (n + end - start), n_links, start, end))
        if config.largest_run_only and len(scored) > 1:
            scored = [max(scored, key=lambda r: (r[3] - r[2], r[1], -r[2]))]
        proposals.extend((score, k, start, end) for score, _, start, end in scored)
    spans, lost = resolve_overlaps(proposals, [s.label for s in src_spans], one_per_source=False)
    return Projection(spans, sorted(dropped + lost, key=lambda d: d.source))
