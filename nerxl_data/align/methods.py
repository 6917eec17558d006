"""Alignment methods as pure functions over numpy matrices (no model needed to test them).

Each method takes a similarity matrix ``sim`` of shape ``(n_src, n_tgt)`` and returns a boolean
link matrix of the same shape:

* :func:`awesome_extract`: awesome-align's extraction (Dou & Neubig 2021): softmax over target
  positions and over source positions of the dot products, keep pairs above ``threshold`` in both.
* :func:`mutual_argmax`: SimAlign "argmax" (``inter``): pairs that are each other's best match.
* :func:`itermax`: SimAlign "itermax": argmax repeated on still-unaligned words.
* :func:`max_weight_match`: SimAlign "match" (``mwmf``): maximum-weight bipartite matching
  (scipy's ``linear_sum_assignment``; equals SimAlign's networkx max-cardinality matching on a
  complete bipartite graph with positive weights).

:func:`to_word_links` turns a subword-level link matrix into word :class:`~nerxl_data.schema.Link`
objects (a word pair is linked when any of its subword pairs is; its score is the best one).
"""

from __future__ import annotations

import numpy as np

from ..schema import Link


def cosine_similarity(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Cosine similarity of every row of ``x`` with every row of ``y``."""
    xn = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    yn = y / np.maximum(np.linalg.norm(y, axis=1, keepdims=True), 1e-12)
    return xn @ yn.T


def simalign_similarity(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """SimAlign's similarity: cosine rescaled to ``[0, 1]``.

    >>> simalign_similarity(np.array([[1.0, 0.0]]), np.array([[1.0, 0.0], [-1.0, 0.0]]))
    array([[1., 0.]])
    """
    return (cosine_similarity(x, y) + 1.0) / 2.0


def _softmax(a: np.ndarray, axis: int) -> np.ndarray:
    e = np.exp(a - a.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def awesome_extract(sim: np.ndarray, threshold: float = 1e-3) -> np.ndarray:
    """awesome-align's softmax extraction over a dot-product matrix.

    >>> awesome_extract(np.array([[5.0, 0.0], [0.0, 5.0]]), threshold=0.1).astype(int)
    array([[1, 0],
           [0, 1]])
    """
    if sim.size == 0:
        return np.zeros(sim.shape, dtype=bool)
    return (_softmax(sim, 1) > threshold) & (_softmax(sim, 0) > threshold)


def awesome_scores(sim: np.ndarray) -> np.ndarray:
    """awesome-align's link probability heuristic (its ``--output_prob_file``): the harmonic mean
    of the two softmaxes, each over dot products scaled by the square root of the other length."""
    if sim.size == 0:
        return np.zeros(sim.shape)
    n_src, n_tgt = sim.shape
    p_src = _softmax(sim / np.sqrt(n_tgt), 1)
    p_tgt = _softmax(sim / np.sqrt(n_src), 0)
    return 2 * p_src * p_tgt / (p_src + p_tgt + 1e-9)


def _argmax_matrices(sim: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    m, n = sim.shape
    forward = np.zeros((m, n), dtype=bool)
    forward[np.arange(m), sim.argmax(axis=1)] = True
    backward = np.zeros((m, n), dtype=bool)
    backward[sim.argmax(axis=0), np.arange(n)] = True
    return forward, backward


def mutual_argmax(sim: np.ndarray) -> np.ndarray:
    """Pairs that are the argmax of both their row and their column.

    >>> mutual_argmax(np.array([[0.9, 0.8], [0.7, 0.1]])).astype(int)
    array([[1, 0],
           [0, 0]])
    """
    if sim.size == 0:
        return np.zeros(sim.shape, dtype=bool)
    forward, backward = _argmax_matrices(sim)
    return forward & backward


def itermax(sim: np.ndarray, max_count: int = 2, alpha_ratio: float = 0.9) -> np.ndarray:
    """SimAlign's IterMax: after the mutual argmax, rerun argmax with aligned rows/columns damped
    by ``alpha_ratio``, adding new mutual pairs that touch an unaligned word, ``max_count - 1``
    more times (SimAlign's defaults: 2 and 0.9)."""
    if sim.size == 0:
        return np.zeros(sim.shape, dtype=bool)
    m, n = sim.shape
    inter = mutual_argmax(sim).astype(float)
    if min(m, n) <= 2:
        return inter > 0
    count = 1
    while count < max_count:
        mask_x = 1.0 - np.tile(inter.sum(1)[:, None], (1, n)).clip(0.0, 1.0)
        mask_y = 1.0 - np.tile(inter.sum(0)[None, :], (m, 1)).clip(0.0, 1.0)
        mask = (alpha_ratio * mask_x + alpha_ratio * mask_y).clip(0.0, 1.0)
        mask_zeros = 1.0 - (1.0 - mask_x) * (1.0 - mask_y)
        if mask_x.sum() < 1.0 or mask_y.sum() < 1.0:
            mask *= 0.0
            mask_zeros *= 0.0
        forward, backward = _argmax_matrices(sim * mask)
        new_inter = forward * backward * mask_zeros
        if not new_inter.any():
            break
        inter = inter + new_inter
        count += 1
    return inter > 0


def max_weight_match(sim: np.ndarray) -> np.ndarray:
    """Maximum-weight bipartite matching (``min(n_src, n_tgt)`` one-to-one links).

    >>> max_weight_match(np.array([[0.9, 0.8], [0.85, 0.1]])).astype(int)
    array([[0, 1],
           [1, 0]])
    """
    from scipy.optimize import linear_sum_assignment

    out = np.zeros(sim.shape, dtype=bool)
    if sim.size:
        rows, cols = linear_sum_assignment(sim, maximize=True)
        out[rows, cols] = True
    return out


def mean_by_word(vectors: np.ndarray, word_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Average subword vectors per word; returns (word vectors, the word index of each row).

    Words with no subwords get no row (the returned index says which words the rows are).
    """
    words, inverse = np.unique(word_ids, return_inverse=True)
    sums = np.zeros((len(words), vectors.shape[1]), dtype=np.float64)
    np.add.at(sums, inverse, vectors)
    counts = np.bincount(inverse, minlength=len(words))[:, None]
    return (sums / np.maximum(counts, 1)).astype(vectors.dtype), words


def to_word_links(
    links: np.ndarray, scores: np.ndarray, src_word_ids: np.ndarray, tgt_word_ids: np.ndarray
) -> list[Link]:
    """Word links from a (sub)word link matrix; a word pair's score is its best linked pair's.

    >>> to_word_links(np.array([[True, False], [True, False]]), np.array([[0.5, 0.0], [0.9, 0.0]]),
    ...               np.array([0, 0]), np.array([0, 1]))
    [Link(src=0, tgt=0, score=0.9)]
    """
    best: dict[tuple[int, int], float] = {}
    for i, j in zip(*np.nonzero(links), strict=True):
        key = (int(src_word_ids[i]), int(tgt_word_ids[j]))
        score = float(scores[i, j])
        if key not in best or score > best[key]:
            best[key] = score
    return [Link(s, t, sc) for (s, t), sc in sorted(best.items())]
