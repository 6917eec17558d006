"""The persistent translation cache: reruns, namespaces, and a run killed with SIGKILL."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from nerxl_data.errors import InputError
from nerxl_data.translate import TranslationCache, get_translator


def europarl_sentences(data_dir: Path, lang: str = "en") -> list[str]:
    sents, cur = [], []
    for line in (
        (data_dir / "europarl-ner" / f"{lang}.conll").read_text(encoding="utf-8").splitlines()
    ):
        if line.strip():
            cur.append(line.split("\t")[0])
        elif cur:
            sents.append(" ".join(cur))
            cur = []
    return sents + ([" ".join(cur)] if cur else [])


@pytest.fixture(scope="module")
def sentences(data_dir) -> list[str]:
    return europarl_sentences(data_dir)


@pytest.fixture(scope="module")
def tiny_nllb(tmp_path_factory, sentences) -> Path:
    import torch

    from nerxl_data.testing.translation import build_tiny_nllb

    torch.set_num_threads(1)
    return build_tiny_nllb(tmp_path_factory.mktemp("tiny-nllb"), sentences)


def test_cache_unit(tmp_path):
    path = tmp_path / "c.sqlite"
    with TranslationCache(path, {"model": "m", "params": {"beams": 4}}) as cache:
        cache.store({"Hello .": "Hallo .", "Bye .": "Tschüss ."})
        cache.store({"Hello .": "something else"})  # stored once: the first stays
        assert cache.lookup(["Hello .", "New ."]) == {"Hello .": "Hallo ."}
        assert (cache.hits, cache.misses, len(cache)) == (1, 1, 2)
    with TranslationCache(path, {"model": "m", "params": {"beams": 5}}) as other:
        assert other.lookup(["Hello ."]) == {} and len(other) == 0  # other parameters miss
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    bad = tmp_path / "bad.sqlite"
    bad.write_text("not a database\n" * 100)
    with pytest.raises(InputError, match="bad.sqlite"):
        TranslationCache(bad, {"model": "m"})


def test_rerun_translates_only_what_is_missing(tiny_nllb, sentences, tmp_path):
    sentences = list(dict.fromkeys(sentences))  # Europarl repeats a few sentences
    cache = tmp_path / "cache.sqlite"
    opts = dict(num_beams=1, max_new_tokens=10, batch_size=16, cache=cache)
    with get_translator("hf", str(tiny_nllb), **opts) as t:
        first = t.translate_batch(sentences[:60], "en", "de")
        assert (t.stats.cache_hits, t.stats.cache_misses, t.stats.translated) == (0, 60, 60)
    with get_translator("hf", str(tiny_nllb), **opts) as t:
        second = t.translate_batch(sentences[:90], "en", "de")
        assert (t.stats.cache_hits, t.stats.cache_misses, t.stats.translated) == (60, 30, 30)
        assert second[:60] == first
        # the same pair spelled another way hits; another pair or other parameters miss
        assert t.translate_batch(sentences[:3], "eng", "deu_Latn") == second[:3]
        assert t.stats.cache_hits == 63
        t.translate_batch(sentences[:5], "en", "fr")
        assert t.stats.cache_misses == 35  # 5 more for en->fr
    with get_translator("hf", str(tiny_nllb), **{**opts, "max_new_tokens": 11}) as t:
        t.translate_batch(sentences[:5], "en", "de")
        assert t.stats.cache_hits == 0
    # what the cache gave back is what the model says without a cache
    with get_translator("hf", str(tiny_nllb), num_beams=1, max_new_tokens=10) as t:
        assert t.translate_batch(sentences[:90], "en", "de") == second


def _rows(cache: Path) -> int:
    try:
        db = sqlite3.connect(f"file:{cache}?mode=ro", uri=True, timeout=1)
        try:
            return db.execute("SELECT COUNT(*) FROM translations").fetchone()[0]
        finally:
            db.close()
    except sqlite3.OperationalError:
        return 0


def test_sigkill_mid_run_then_restart_loses_nothing(tiny_nllb, sentences, tmp_path):
    texts = sentences[:200]
    distinct = len(set(texts))
    src = tmp_path / "in.txt"
    src.write_text("\n".join(texts) + "\n", encoding="utf-8")
    out, cache = tmp_path / "out.txt", tmp_path / "cache.sqlite"
    # fixed output length: every batch costs the same, so the kill lands mid-run
    cmd = [
        sys.executable, "-m", "nerxl_data", "translate", "--in", str(src), "--out", str(out),
        "--src-lang", "en", "--tgt-lang", "de", "--model", str(tiny_nllb), "--cache", str(cache),
        "--batch-size", "4", "--num-beams", "1", "--max-new-tokens", "16",
        "-o", "min_new_tokens=16",
    ]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while _rows(cache) < 8 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    before = _rows(cache)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.read().decode()[-2000:]
    assert 0 < before < distinct, "the kill must land mid-run"
    assert not out.exists()  # the output is only written whole

    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    last = done.stdout.strip().splitlines()[-1]
    assert f"cache hits {before}, misses {distinct - before}" in last
    assert f"translated {distinct - before}," in last
    assert _rows(cache) == distinct  # every sentence stored exactly once

    translated = out.read_text(encoding="utf-8").splitlines()
    with get_translator(
        "hf", str(tiny_nllb), num_beams=1, max_new_tokens=16, min_new_tokens=16, batch_size=64
    ) as t:
        assert translated == t.translate_batch(texts, "en", "de")  # nothing lost or garbled
