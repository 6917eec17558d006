"""The ctranslate2 backend: convert the tiny random NLLB model; greedy outputs equal hf's."""

from __future__ import annotations

from pathlib import Path

import pytest

from nerxl_data.translate import get_translator

pytest.importorskip("ctranslate2")


@pytest.fixture(scope="module")
def sentences(data_dir) -> list[str]:
    text = (data_dir / "lafand" / "en-hau" / "dev.en").read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if line.strip()][:150]


@pytest.fixture(scope="module")
def tiny_nllb(tmp_path_factory, sentences) -> Path:
    import torch

    from nerxl_data.testing.translation import build_tiny_nllb

    torch.set_num_threads(1)
    return build_tiny_nllb(tmp_path_factory.mktemp("tiny-nllb"), sentences)


def test_ct2_greedy_equals_hf_and_conversion_is_cached(tiny_nllb, sentences, tmp_path):
    texts = sentences[:100] + [""]
    opts = dict(num_beams=1, max_new_tokens=12, max_input_tokens=48, batch_size=16)
    with get_translator("hf", str(tiny_nllb), **opts) as t:
        hf = t.translate_batch(texts, "en", "ha")
        hf_fixed = t.translate_batch(texts[:20], "en", "yo", tokenize=True)
        hf_truncated = t.stats.truncated
    conv = tmp_path / "ct2"
    with get_translator(
        "ctranslate2", str(tiny_nllb), converted_dir=str(conv), threads=1, **opts
    ) as t:
        assert t.translate_batch(texts, "en", "ha") == hf
        assert t.translate_batch(texts[:20], "en", "yo", tokenize=True) == hf_fixed
        assert t.stats.truncated == hf_truncated > 0  # same truncation as hf
        model_bin = t.path / "model.bin"
    assert len(set(hf)) > 50  # outputs depend on the input: the comparison can fail
    mtime = model_bin.stat().st_mtime_ns
    with get_translator(
        "ctranslate2",
        str(tiny_nllb),
        converted_dir=str(conv),
        compute_type="int8",
        threads=1,
        **opts,
    ) as t:
        assert t.path / "model.bin" == model_bin and model_bin.stat().st_mtime_ns == mtime
        int8 = t.translate_batch(texts, "en", "ha")
        assert t.cache_spec()["params"]["compute_type"].startswith("int8")
    assert len(int8) == len(texts) and int8[-1] == ""
