"""The cached-feature recipe: the cache plus the trained top computes what the whole model
computes on the same weights; the cache is keyed by content and resumable; a probe learns."""

from __future__ import annotations

import numpy as np
import pytest

from nerxl_data.errors import ConfigError
from nerxl_data.train.cached import CachedRecipe, FeatureCache, fit_cached, one_hot

pytestmark = pytest.mark.usefixtures("one_torch_thread")

SENTS = [["Ada", "Lovelace", "lived", "in", "London", "."], ["Paris", "is", "big"], ["the", "cat"],
         ["Bola", "Tinubu", "visited", "Lagos", "and", "Abuja", "yesterday", "."], ["x"] * 40]
TAGS = [["B-PER", "I-PER", "O", "O", "B-LOC", "O"], ["B-LOC", "O", "O"], ["O", "O"],
        ["B-PER", "I-PER", "O", "B-LOC", "O", "B-LOC", "O", "O"], ["O"] * 40]
LABELS = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory, tiny_bert_from_words):
    return tiny_bert_from_words(tmp_path_factory.mktemp("tiny"), SENTS * 3, num_layers=3)


@pytest.mark.parametrize("feature_layer,train_layers", [(1, 0), (1, 2), (2, 1), (0, 1)])
def test_cache_plus_top_equals_the_whole_model(tiny, tmp_path, feature_layer, train_layers):
    """The exported checkpoint (frozen layers + trained top) gives the same word logits as the
    cached states run through the trained top."""
    import torch
    from transformers import AutoModelForTokenClassification, AutoTokenizer

    from nerxl_data.train.trainer import word_logits

    recipe = CachedRecipe(feature_layer=feature_layer, train_layers=train_layers, epochs=2, batch_size=2,
                          learning_rate=1e-2, max_length=16)  # max_length cuts the 40-word sentence
    cache = FeatureCache(tiny, feature_layer, tmp_path / "feats", max_length=16)
    model = fit_cached(cache, SENTS, one_hot(TAGS, LABELS), LABELS, recipe, seed=0)
    ours = model.word_logits(SENTS)
    out = model.export(tmp_path / "export")
    full = AutoModelForTokenClassification.from_pretrained(out).eval()
    assert full.config.num_hidden_layers == max(feature_layer + train_layers, 1)
    ref, truncated = word_logits(full, AutoTokenizer.from_pretrained(out), SENTS, max_length=16)
    assert truncated > 0
    for a, b in zip(ours, ref, strict=True):
        assert a.shape == b.shape
        # float16 cache: equal up to half precision rounding
        np.testing.assert_allclose(a, b, atol=2e-2, rtol=2e-2)
        assert (a.argmax(-1) == b.argmax(-1)).all()
    assert torch.is_tensor(next(iter(model.state_dict().values())))


def test_cache_is_keyed_by_content_and_reused(tiny, tmp_path):
    cache = FeatureCache(tiny, 1, tmp_path / "feats", max_length=32)
    f1 = cache.get(SENTS[:3])
    assert cache.computed == 3
    again = FeatureCache(tiny, 1, tmp_path / "feats", max_length=32)
    f2 = again.get([SENTS[2], SENTS[0], SENTS[3]])
    assert again.computed == 1  # only the new sentence is encoded
    np.testing.assert_array_equal(f1.vectors(0), f2.vectors(1))
    # one chunk's word positions are views of one array read once (not one read per sentence)
    bases = {id(again._index[k][3].base) for k in list(again._index)[:3]}
    assert len(bases) == 1
    np.testing.assert_array_equal(f1.vectors(2), f2.vectors(0))
    # another layer is another cache
    other = FeatureCache(tiny, 2, tmp_path / "feats", max_length=32)
    other.get(SENTS[:1])
    assert other.computed == 1 and other.dir != cache.dir


def test_a_changed_model_is_a_new_cache(tiny, tmp_path, tiny_bert_from_words):
    import shutil

    copy = tmp_path / "model"
    shutil.copytree(tiny, copy)
    a = FeatureCache(copy, 1, tmp_path / "feats")
    other = tiny_bert_from_words(tmp_path / "other", SENTS * 3, num_layers=3, seed=1)
    shutil.copy(other / "model.safetensors", copy / "model.safetensors")
    b = FeatureCache(copy, 1, tmp_path / "feats")
    assert a.dir != b.dir


def test_a_probe_learns_the_training_set(tiny, tmp_path):
    recipe = CachedRecipe(feature_layer=3, train_layers=0, epochs=200, batch_size=4, learning_rate=3e-2, dropout=0.0)
    model = fit_cached(FeatureCache(tiny, 3, tmp_path / "f"), SENTS[:4], one_hot(TAGS[:4], LABELS), LABELS, recipe, 0)
    pred = model.predict_tags(SENTS[:4])
    assert sum(p == g for ps, gs in zip(pred, TAGS[:4], strict=True) for p, g in zip(ps, gs, strict=True)) >= 17


def test_seeded_training_is_reproducible(tiny, tmp_path):
    recipe = CachedRecipe(feature_layer=1, train_layers=1, epochs=3, batch_size=2)
    cache = FeatureCache(tiny, 1, tmp_path / "f")
    a = fit_cached(cache, SENTS, one_hot(TAGS, LABELS), LABELS, recipe, 3).word_logits(SENTS)
    b = fit_cached(cache, SENTS, one_hot(TAGS, LABELS), LABELS, recipe, 3).word_logits(SENTS)
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)


@pytest.mark.parametrize("bad", [dict(feature_layer=-1), dict(learning_rate=float("nan")), dict(batch_size=0),
                                 dict(epochs=float("inf"))])
def test_recipe_checks_its_numbers(bad):
    with pytest.raises(ConfigError):
        CachedRecipe(**bad)


def test_layers_above_the_model_are_refused(tiny, tmp_path):
    with pytest.raises(ConfigError, match="above the model"):
        fit_cached(FeatureCache(tiny, 3, tmp_path / "f"), SENTS, one_hot(TAGS, LABELS), LABELS,
                   CachedRecipe(feature_layer=3, train_layers=1), 0)


def test_a_windowed_head_scores_a_sentence_alone_as_in_its_batch(tiny, tmp_path):
    """Padding never leaks into a window: a sentence scored alone gets the logits it gets in a
    batch of longer sentences (zero padding in both cases)."""
    recipe = CachedRecipe(feature_layer=1, train_layers=1, head_hidden=8, head_window=3, epochs=2, batch_size=2)
    cache = FeatureCache(tiny, 1, tmp_path / "f")
    model = fit_cached(cache, SENTS, one_hot(TAGS, LABELS), LABELS, recipe, 0)
    batch = model.word_logits(SENTS)
    for i, s in enumerate(SENTS):
        np.testing.assert_allclose(model.word_logits([s])[0], batch[i], atol=1e-5)
    with pytest.raises(ConfigError, match="linear head"):
        model.export(tmp_path / "x")
