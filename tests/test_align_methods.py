"""Alignment methods as pure functions over similarity matrices (no model)."""

from __future__ import annotations

import numpy as np
import pytest

from nerxl_data.align import ALIGNERS, get_aligner
from nerxl_data.align import methods as m
from nerxl_data.align.encoders import EncodedSentence
from nerxl_data.align.neural import EmbeddingAlignerConfig, align_encoded
from nerxl_data.errors import ConfigError
from nerxl_data.schema import Link


def _pairs(mat: np.ndarray) -> set[tuple[int, int]]:
    return {(int(i), int(j)) for i, j in zip(*np.nonzero(mat), strict=True)}


def test_mutual_argmax_keeps_only_mutual_best():
    sim = np.array([[0.9, 0.1, 0.0], [0.8, 0.2, 0.1], [0.0, 0.1, 0.7]])
    # row 1's best is column 0, but column 0's best is row 0: not mutual
    assert _pairs(m.mutual_argmax(sim)) == {(0, 0), (2, 2)}


def test_itermax_adds_links_for_unaligned_words_only():
    sim = np.array([[0.9, 0.1, 0.0], [0.8, 0.5, 0.1], [0.0, 0.1, 0.7]])
    assert _pairs(m.mutual_argmax(sim)) == {(0, 0), (2, 2)}
    # row 1 is unaligned; aligned rows/columns are damped by alpha (both unaligned: 2 * alpha,
    # capped at 1): with 0.9, (1, 0) = 0.72 beats (1, 1) = 0.5 and is added
    assert _pairs(m.itermax(sim)) == {(0, 0), (1, 0), (2, 2)}
    # with 0.5, (1, 0) = 0.4 loses to (1, 1) = 0.5
    assert _pairs(m.itermax(sim, alpha_ratio=0.5)) == {(0, 0), (1, 1), (2, 2)}
    # one round only with max_count=1
    assert _pairs(m.itermax(sim, max_count=1)) == {(0, 0), (2, 2)}


def test_itermax_on_tiny_matrices_is_argmax():
    sim = np.array([[0.2, 0.9], [0.8, 0.7]])
    assert np.array_equal(m.itermax(sim), m.mutual_argmax(sim))


def test_max_weight_match_is_one_to_one_and_maximal():
    rng = np.random.default_rng(0)
    sim = rng.random((5, 7))
    match = m.max_weight_match(sim)
    assert match.sum() == 5 and match.sum(0).max() == 1 and match.sum(1).max() == 1
    # no single swap of two links improves the total weight
    rows, cols = np.nonzero(match)
    total = sim[rows, cols].sum()
    for a in range(5):
        for b in range(a + 1, 5):
            swapped = cols.copy()
            swapped[[a, b]] = swapped[[b, a]]
            assert sim[rows, swapped].sum() <= total + 1e-12


def test_awesome_extract_threshold_and_intersection():
    sim = np.array([[10.0, 0.0, 9.0], [0.0, 10.0, 0.0]])
    # row softmax of row 0 keeps columns 0 and 2; column softmax of column 2 keeps row 0 only
    assert _pairs(m.awesome_extract(sim, 1e-3)) == {(0, 0), (0, 2), (1, 1)}
    # a high threshold keeps only the dominant pairs
    assert _pairs(m.awesome_extract(sim, 0.5)) == {(0, 0), (1, 1)}
    scores = m.awesome_scores(sim)
    assert scores.shape == sim.shape and 0 < scores.min() and scores.max() <= 1


def test_empty_matrices_give_no_links():
    for f in (m.awesome_extract, m.mutual_argmax, m.itermax, m.max_weight_match):
        assert not f(np.zeros((0, 3))).any()


def test_subwords_to_words_and_unmapped_words():
    # source word 1 has no subwords (e.g. a control character): it can get no link
    src = EncodedSentence(np.array([[1.0, 0.0], [1.0, 0.1], [0.0, 1.0]]), np.array([0, 0, 2]), 3)
    tgt = EncodedSentence(np.array([[0.0, 1.0], [1.0, 0.05]]), np.array([0, 1]), 2)
    for method in ("awesome", "argmax", "itermax", "match"):
        for token_type in ("bpe", "word"):
            links = align_encoded(src, tgt, EmbeddingAlignerConfig(method, token_type=token_type))
            pairs = {(link.src, link.tgt) for link in links}
            assert (0, 1) in pairs and (2, 0) in pairs, (method, token_type, links)
            assert all(link.src != 1 for link in links)
    empty = EncodedSentence(np.zeros((0, 2)), np.zeros(0, dtype=int), 0)
    assert align_encoded(empty, tgt, EmbeddingAlignerConfig("awesome")) == []


def test_to_word_links_keeps_best_score():
    links = m.to_word_links(
        np.ones((2, 1), dtype=bool), np.array([[0.2], [0.7]]), np.array([0, 0]), np.array([3])
    )
    assert links == [Link(0, 3, 0.7)]


def test_unknown_names_list_the_choices():
    with pytest.raises(ConfigError, match="did you mean 'simalign-itermax'") as exc:
        get_aligner("simalign-itrmax")
    for name in ALIGNERS:
        assert name in str(exc.value)
    with pytest.raises(ConfigError, match="token type"):
        get_aligner("simalign-argmax", token_type="char")


def test_q4_0_dequantisation_and_bad_e5_file(tmp_path):
    from nerxl_data.align.e5_convert import dequantize_q4_0, read_e5_file
    from nerxl_data.errors import InputError

    # one block: scale 0.5, byte k holds weight k (low nibble) and weight k + 16 (high nibble)
    qs = bytes((k % 16) | ((15 - k) << 4) for k in range(16))
    block = np.float16(0.5).tobytes() + qs
    w = dequantize_q4_0(memoryview(block), 32)
    assert list(w[:16]) == [(k - 8) * 0.5 for k in range(16)]
    assert list(w[16:]) == [(15 - k - 8) * 0.5 for k in range(16)]
    (tmp_path / "bad.bin").write_bytes(b"GGUF" + bytes(100))
    with pytest.raises(InputError, match="not an E5S1"):
        read_e5_file(tmp_path / "bad.bin")
    (tmp_path / "short.bin").write_bytes(b"E5S1" + bytes(20))
    with pytest.raises(InputError, match="truncated"):
        read_e5_file(tmp_path / "short.bin")


def test_unknown_options_list_the_known_ones():
    with pytest.raises(ConfigError, match="has no option 'treshold'; options: .*threshold"):
        get_aligner("awesome", treshold=0.1)
    with pytest.raises(ConfigError, match="has no option 'threshold'; options: .*symmetrize"):
        get_aligner("eflomal", threshold=0.1)
