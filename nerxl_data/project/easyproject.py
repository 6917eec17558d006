"""EasyProject (Chen et al. 2023): project through ``[ ... ]`` markers in a marked translation.

The source sentence is translated with its entities wrapped in ``[ ]``; each entity is also
translated on its own. Each marked span of the translation is matched to the source entity
whose separate translation is most similar (difflib ratio, casefolded), above a threshold; the
markers are stripped and the matched spans become the target entities. Unlike the reference code
(which never updates its best score, so it takes the *last* candidate above the threshold), the
*best* match is taken, and matching is one-to-one, best pair first.

Bad markers never crash: unbalanced or nested markers drop that sentence's entities with the
reason ``unbalanced-markers`` / ``nested-markers``.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass

from ..errors import ConfigError
from ..schema import Span
from .base import Dropped, Projection, ScoredSpan

OPEN, CLOSE = "[", "]"


@dataclass(frozen=True)
class EasyProjectConfig:
    """Options of ``easyproject``.

    Args:
        threshold: the minimum difflib ratio between an entity's translation and a marked span.
    """

    threshold: float = 0.5

    def __post_init__(self) -> None:
        if not 0 <= self.threshold <= 1:
            raise ConfigError(f"easyproject threshold must be in [0, 1], got {self.threshold}")


def split_markers(tokens: Sequence[str]) -> list[str]:
    """Split ``[`` / ``]`` glued to words into their own tokens.

    >>> split_markers(["[Angela", "Merkel]", "spoke"])
    ['[', 'Angela', 'Merkel', ']', 'spoke']
    """
    out: list[str] = []
    for tok in tokens:
        head: list[str] = []
        while len(tok) > 1 and tok[0] == OPEN:
            head.append(OPEN)
            tok = tok[1:]
        tail: list[str] = []
        while len(tok) > 1 and tok[-1] == CLOSE:
            tail.append(CLOSE)
            tok = tok[:-1]
        out.extend(head)
        out.append(tok)
        out.extend(tail)
    return out


def parse_markers(tokens: Sequence[str]) -> tuple[list[str], list[tuple[int, int]], str | None]:
    """Strip markers: ``(plain tokens, marked spans over them, error reason or None)``.

    >>> parse_markers(["I", "saw", "[", "Rome", "]"])
    (['I', 'saw', 'Rome'], [(2, 3)], None)
    >>> parse_markers(["[", "a", "[", "b", "]", "]"])[2]
    'nested-markers'
    """
    plain: list[str] = []
    spans: list[tuple[int, int]] = []
    open_at: int | None = None
    error: str | None = None
    for tok in split_markers(tokens):
        if tok == OPEN:
            if open_at is not None:
                error = error or "nested-markers"
            open_at = len(plain)
        elif tok == CLOSE:
            if open_at is None:
                error = error or "unbalanced-markers"
                continue
            if len(plain) > open_at:
                spans.append((open_at, len(plain)))
            open_at = None
        else:
            plain.append(tok)
    if open_at is not None:
        error = error or "unbalanced-markers"
    return plain, spans, error


def project_easyproject(
    src_tokens: Sequence[str],
    src_spans: Sequence[Span],
    marked_tokens: Sequence[str],
    config: EasyProjectConfig,
    entity_translations: Sequence[str] | None = None,
) -> Projection:
    """Match the marked spans of ``marked_tokens`` to the source entities.

    ``entity_translations[k]`` is entity k translated on its own; without it the source text of
    the entity is used (fine for names copied across languages). The result carries the
    stripped target tokens in ``Projection.tokens``.

    >>> p = project_easyproject(["I", "met", "John"], [Span(2, 3, "PER")],
    ...     ["Ich", "traf", "[", "John", "]"], EasyProjectConfig())
    >>> p.tokens, p.spans[0].span
    (['Ich', 'traf', 'John'], Span(start=2, end=3, label='PER'))
    """
    plain, marked, error = parse_markers(marked_tokens)
    if error is not None:
        return Projection([], [Dropped(k, error) for k in range(len(src_spans))], plain)
    if entity_translations is None:
        entity_translations = [" ".join(src_tokens[s.start : s.end]) for s in src_spans]
    elif len(entity_translations) != len(src_spans):
        raise ConfigError(
            f"{len(entity_translations)} entity translations given for {len(src_spans)} entities"
        )
    pairs = []
    for k, text in enumerate(entity_translations):
        a = text.casefold()
        for m, (start, end) in enumerate(marked):
            b = " ".join(plain[start:end]).casefold()
            ratio = difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()
            if ratio >= config.threshold:
                pairs.append((ratio, k, m))
    spans, used_k, used_m = [], set(), set()
    for ratio, k, m in sorted(pairs, key=lambda p: (-p[0], p[1], p[2])):
        if k in used_k or m in used_m:
            continue
        used_k.add(k)
        used_m.add(m)
        start, end = marked[m]
        spans.append(ScoredSpan(Span(start, end, src_spans[k].label), ratio, k))
    dropped = [Dropped(k, "unmatched-marker") for k in range(len(src_spans)) if k not in used_k]
    return Projection(spans, dropped, plain)
