"""Combining link sets: back-translation refinement and aligner ensembles.

Back-translation refinement (an option of every alignment-based method): the forward links
align source -> target; the backward links come from aligning the target with its translation
back into the source language and that back-translation with the source
(target -> source' -> source), composed with :func:`compose_links` and flipped with
:func:`invert_links` so both lists read source -> target. :func:`combine_links` then keeps their
intersection, union, or the links whose weighted score passes a threshold. The same function
combines two aligners' links (e.g. e5 itermax and eflomal).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from ..errors import unknown_name
from ..schema import Link

Combine = Literal["intersection", "union", "weighted"]
COMBINE_MODES: tuple[str, ...] = ("intersection", "union", "weighted")


def invert_links(links: Iterable[Link]) -> list[Link]:
    """Swap source and target of every link.

    >>> invert_links([Link(0, 2, 0.5)])
    [Link(src=2, tgt=0, score=0.5)]
    """
    return sorted(Link(link.tgt, link.src, link.score) for link in links)


def compose_links(first: Iterable[Link], second: Iterable[Link]) -> list[Link]:
    """Compose X->Y links with Y->Z links into X->Z links (score: best product over paths).

    >>> compose_links([Link(0, 1), Link(1, 1, 0.5)], [Link(1, 3, 0.8)])
    [Link(src=0, tgt=3, score=0.8), Link(src=1, tgt=3, score=0.4)]
    """
    by_mid: dict[int, list[Link]] = {}
    for link in second:
        by_mid.setdefault(link.src, []).append(link)
    best: dict[tuple[int, int], float] = {}
    for a in first:
        for b in by_mid.get(a.tgt, ()):
            key = (a.src, b.tgt)
            score = a.score * b.score
            if score > best.get(key, -1.0):
                best[key] = score
    return [Link(i, j, s) for (i, j), s in sorted(best.items())]


def combine_links(
    forward: Iterable[Link],
    backward: Iterable[Link],
    how: Combine = "intersection",
    weight: float = 0.5,
    threshold: float = 0.5,
) -> list[Link]:
    """Combine two link lists over the same sentence pair (both source -> target).

    - ``intersection``: links in both (score: the mean of the two scores);
    - ``union``: links in either (score: the larger one);
    - ``weighted``: ``weight * forward + (1 - weight) * backward`` (a missing link scores 0),
      kept when it reaches ``threshold``.

    >>> f, b = [Link(0, 0), Link(1, 2)], [Link(0, 0), Link(2, 2)]
    >>> combine_links(f, b)
    [Link(src=0, tgt=0, score=1.0)]
    >>> [(l.src, l.tgt) for l in combine_links(f, b, "union")]
    [(0, 0), (1, 2), (2, 2)]

    Raises:
        ConfigError: an unknown ``how``.
    """
    fwd = {(x.src, x.tgt): x.score for x in forward}
    bwd = {(x.src, x.tgt): x.score for x in backward}
    if how == "intersection":
        out = {k: (s + bwd[k]) / 2 for k, s in fwd.items() if k in bwd}
    elif how == "union":
        out = dict(bwd)
        for k, s in fwd.items():
            out[k] = max(s, out.get(k, s))
    elif how == "weighted":
        out = {}
        for k in fwd.keys() | bwd.keys():
            s = weight * fwd.get(k, 0.0) + (1 - weight) * bwd.get(k, 0.0)
            if s >= threshold:
                out[k] = s
    else:
        raise unknown_name("link combination", how, COMBINE_MODES)
    return [Link(i, j, s) for (i, j), s in sorted(out.items())]
