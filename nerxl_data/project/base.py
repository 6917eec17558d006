"""Records every projection method returns: scored target spans and dropped source entities.

A projection never hides a failure: each source entity is either projected (a :class:`ScoredSpan`
that names its source entity) or dropped (a :class:`Dropped` with a reason from
:data:`DROP_REASONS`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from ..errors import InputError
from ..schema import Link, Span, spans_to_tags

DROP_REASONS: tuple[str, ...] = (
    "no-links",  # no target word is aligned to the entity
    "below-threshold",  # candidates exist, but none scores above the method's threshold
    "overlap",  # its best target span overlaps a span already given to another entity
    "unmatched-marker",  # easyproject: no marked span in the translation matches the entity
    "unbalanced-markers",  # easyproject: the translation's [ ] markers do not pair up
    "nested-markers",  # easyproject: a [ inside another [ ... ]
)
"""The fixed set of reasons a source entity is not projected."""


@dataclass(frozen=True, slots=True)
class ScoredSpan:
    """A projected entity: the target ``span`` (typed), its ``score`` and its ``source`` entity index."""

    span: Span
    score: float
    source: int


@dataclass(frozen=True, slots=True)
class Dropped:
    """A source entity (index ``source``) that was not projected, and why (one of DROP_REASONS)."""

    source: int
    reason: str


@dataclass(slots=True)
class Projection:
    """The result of projecting one sentence's entities.

    ``tokens`` is set only when a method changes the target tokens (``easyproject`` strips its
    markers); spans then index into these tokens.
    """

    spans: list[ScoredSpan] = field(default_factory=list)
    dropped: list[Dropped] = field(default_factory=list)
    tokens: list[str] | None = None

    def target_spans(self) -> list[Span]:
        return sorted(s.span for s in self.spans)

    def tags(self, length: int | None = None) -> list[str]:
        """IOB2 tags over the target (``length`` defaults to ``len(tokens)`` when set).

        >>> Projection([ScoredSpan(Span(1, 3, "PER"), 1.0, 0)]).tags(4)
        ['O', 'B-PER', 'I-PER', 'O']
        """
        if length is None:
            if self.tokens is None:
                raise ValueError("length is needed when the projection does not carry tokens")
            length = len(self.tokens)
        return spans_to_tags(self.target_spans(), length)


def check_links(
    links: Iterable[Link], n_src: int, n_tgt: int, *, source: str | None = None, row: int | None = None
) -> list[Link]:
    """Return ``links`` as a list after checking every index falls inside both sentences.

    Raises:
        InputError: a link points outside the source or target sentence (naming the row).
    """
    links = list(links)
    for link in links:
        if not (0 <= link.src < n_src and 0 <= link.tgt < n_tgt):
            raise InputError(
                f"link {link.src}-{link.tgt} points outside the sentences "
                f"({n_src} source, {n_tgt} target words)",
                source=source,
                row=row,
            )
    return links


def check_spans(spans: Sequence[Span], n_src: int, *, source: str | None = None, row: int | None = None) -> None:
    """Raise :class:`InputError` when a source entity falls outside the source sentence."""
    for span in spans:
        if not (0 <= span.start < span.end <= n_src):
            raise InputError(
                f"source entity {span} does not fit a sentence of {n_src} words", source=source, row=row
            )


def _is_punct(tok: str) -> bool:
    return not any(ch.isalnum() for ch in tok)


def _is_function_word(tok: str) -> bool:
    # short lowercase words at an entity's edge are articles and prepositions in European
    # languages ("de la", "der", "las", "il"); a hand-written rule, as no library gives it for
    # arbitrary languages
    return len(tok) <= 3 and tok.islower()


_NO_ALNUM = re.compile(r"[\W_]+")


def is_edge_junk(tok: str) -> bool:
    """Punctuation or a short lowercase function word: trimmed off span edges.

    >>> [is_edge_junk(t) for t in [",", "der", "EU", "Kommission", "«"]]
    [True, True, False, False, True]
    """
    return (len(tok) <= 3 and tok.islower()) or _NO_ALNUM.fullmatch(tok) is not None


def trim_edges(
    start: int, end: int, tgt_tokens: Sequence[str], src_first: str, src_last: str
) -> tuple[int, int] | None:
    """Shrink a target span so that it does not begin or end with punctuation, or with a short
    lowercase function word, unless the source entity begins / ends with one too.

    Returns None when nothing but such words is left.

    >>> trim_edges(0, 4, ["de", "la", "Comisión", ","], "Commission", "Commission")
    (2, 3)
    >>> trim_edges(0, 2, ["(", "COM"], "(", "COM")
    (0, 2)
    >>> trim_edges(0, 1, ["der"], "Commission", "Commission") is None
    True
    """
    junk = is_edge_junk
    if not junk(src_first):
        while start < end and junk(tgt_tokens[start]):
            start += 1
    if not junk(src_last):
        while end > start and junk(tgt_tokens[end - 1]):
            end -= 1
    return (start, end) if start < end else None


def resolve_overlaps(
    proposals: list[tuple[float, int, int, int]], labels: Sequence[str], one_per_source: bool = True
) -> tuple[list[ScoredSpan], list[Dropped]]:
    """Keep non-overlapping proposals, best first; return (spans, dropped-for-overlap).

    ``proposals`` are ``(score, source_index, start, end)``; ties on score go to the longer
    target span, then to the earlier source entity and position, so the result is deterministic.
    With ``one_per_source`` each source entity keeps at most its best proposal. A source entity
    none of whose proposals survives is dropped with reason ``overlap``.

    >>> resolve_overlaps([(0.5, 0, 0, 2), (0.9, 1, 1, 3)], ["PER", "LOC"])
    ([ScoredSpan(span=Span(start=1, end=3, label='LOC'), score=0.9, source=1)], [Dropped(source=0, reason='overlap')])
    """
    taken: list[tuple[int, int]] = []
    done: set[int] = set()
    spans: list[ScoredSpan] = []
    lost: set[int] = set()
    # Hand-written (not scipy) because sentences hold a handful of proposals: a sort wins.
    for score, src, start, end in sorted(proposals, key=lambda p: (-p[0], p[2] - p[3], p[1], p[2])):
        if one_per_source and src in done:
            continue
        if any(start < e and s < end for s, e in taken):
            lost.add(src)
            continue
        taken.append((start, end))
        done.add(src)
        spans.append(ScoredSpan(Span(start, end, labels[src]), score, src))
    dropped = [Dropped(i, "overlap") for i in sorted(lost - done)]
    return spans, dropped
