"""Symmetrising two directional alignments: intersection, union, grow-diag-final(-and).

Pure functions over sets of ``(src, tgt)`` pairs. Hand-written because the usual implementation
(``atools`` of fast_align, Moses' ``symal``) is a C/C++ binary, not a Python library; this follows
Koehn et al. (2003) / Moses' ``grow-diag-final`` exactly as described in the Moses manual.
"""

from __future__ import annotations

from collections.abc import Iterable

Pairs = set[tuple[int, int]]
SYMMETRIZATIONS = ("forward", "reverse", "intersection", "union", "grow-diag-final", "grow-diag-final-and")

_NEIGHBOURS = ((-1, 0), (0, -1), (1, 0), (0, 1), (-1, -1), (-1, 1), (1, -1), (1, 1))


def grow_diag_final(forward: Iterable[tuple[int, int]], reverse: Iterable[tuple[int, int]], final_and: bool = False) -> Pairs:
    """Moses' grow-diag-final (``final_and``: grow-diag-final-and).

    Start from the intersection; repeatedly add union points that neighbour (incl. diagonally) an
    alignment point and cover a so-far unaligned source or target word; finally add union points
    of each direction whose source or target word (``final_and``: both) is still unaligned.

    >>> sorted(grow_diag_final({(0, 0), (1, 1), (2, 1)}, {(0, 0), (1, 1), (1, 2)}))
    [(0, 0), (1, 1), (1, 2), (2, 1)]
    """
    fwd, rev = set(forward), set(reverse)
    union = fwd | rev
    links = fwd & rev
    src_aligned = {i for i, _ in links}
    tgt_aligned = {j for _, j in links}
    added = True
    while added:
        added = False
        for i, j in sorted(links):
            for di, dj in _NEIGHBOURS:
                p = (i + di, j + dj)
                if p in union and p not in links and (p[0] not in src_aligned or p[1] not in tgt_aligned):
                    links.add(p)
                    src_aligned.add(p[0])
                    tgt_aligned.add(p[1])
                    added = True
    for direction in (fwd, rev):
        for i, j in sorted(direction):
            if (i, j) in links:
                continue
            free = (i not in src_aligned and j not in tgt_aligned) if final_and else (
                i not in src_aligned or j not in tgt_aligned
            )
            if free:
                links.add((i, j))
                src_aligned.add(i)
                tgt_aligned.add(j)
    return links


def symmetrize(forward: Iterable[tuple[int, int]], reverse: Iterable[tuple[int, int]], method: str) -> Pairs:
    """Combine forward (src->tgt) and reverse links (both given as ``(src, tgt)`` pairs).

    Raises:
        ConfigError: unknown ``method`` (listing :data:`SYMMETRIZATIONS`).
    """
    fwd, rev = set(forward), set(reverse)
    if method == "forward":
        return fwd
    if method == "reverse":
        return rev
    if method == "intersection":
        return fwd & rev
    if method == "union":
        return fwd | rev
    if method in ("grow-diag-final", "grow-diag-final-and"):
        return grow_diag_final(fwd, rev, final_and=method.endswith("-and"))
    from ..errors import unknown_name

    raise unknown_name("symmetrization", method, SYMMETRIZATIONS)
