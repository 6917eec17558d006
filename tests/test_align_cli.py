"""`nerxl align` and align_corpus on real Europarl-NER lines with a tiny random BERT."""

from __future__ import annotations

from itertools import islice

import pytest
from click.testing import CliRunner

from nerxl_data.align.pharaoh import read_links
from nerxl_data.cli import main
from nerxl_data.corpora.conll import read_conll
from nerxl_data.pipeline import align_corpus
from nerxl_data.testing.encoders import build_tiny_bert

N = 12




@pytest.fixture(scope="module")
def files(data_dir, tmp_path_factory):
    d = tmp_path_factory.mktemp("align-cli")
    en, es = (
        [r["tokens"] for r in islice(read_conll(data_dir / "europarl-ner" / f"{lang}.conll", policy="repair"), N)]
        for lang in ("en", "es")
    )
    en[3] = []  # an empty source line: no links, no crash
    (d / "en.txt").write_text("".join(" ".join(s) + "\n" for s in en), encoding="utf-8")
    (d / "es.txt").write_text("".join(" ".join(s) + "\n" for s in es), encoding="utf-8")
    (d / "short.txt").write_text("".join(" ".join(s) + "\n" for s in es[:5]), encoding="utf-8")
    model = build_tiny_bert(d / "bert", [" ".join(s) for s in en + es], max_position_embeddings=32)
    return d, en, es, model


@pytest.mark.parametrize("aligner", ["awesome", "simalign-match"])
def test_align_command_writes_pharaoh(files, aligner):
    d, en, es, model = files
    out = d / f"{aligner}.links"
    result = CliRunner().invoke(main, [
        "align", "--src", str(d / "en.txt"), "--tgt", str(d / "es.txt"), "--aligner", aligner,
        "--model", str(model), "--layer", "2", "--batch-size", "4", "--device", "cpu", "--no-progress",
        "--out", str(out),
    ])
    assert result.exit_code == 0, result.output
    assert f"{N} sentence pairs aligned" in result.output
    links = list(read_links(str(out)))
    assert len(links) == N and links[3] == []
    for pair, s, t in zip(links, en, es, strict=True):
        assert all(li.src < len(s) and li.tgt < len(t) for li in pair)
    assert sum(map(len, links)) > N  # model max 32 tokens: longer lines were windowed, not cut
    assert max(li.src for pair in links for li in pair) > 30


def test_align_command_errors(files):
    d, *_ = files
    runner = CliRunner()
    result = runner.invoke(main, ["align", "--src", str(d / "en.txt"), "--tgt", str(d / "short.txt"), "--out", str(d / "x")])
    assert result.exit_code == 2
    assert f"has {N} lines" in result.output and "has 5" in result.output
    result = runner.invoke(main, ["align", "--src", str(d / "en.txt"), "--tgt", str(d / "es.txt"), "--aligner", "fastalign", "--out", str(d / "x")])
    assert result.exit_code == 2 and "Known: awesome, eflomal, simalign-argmax" in result.output
    result = runner.invoke(main, ["align", "--src", str(d / "en.txt"), "--tgt", str(d / "es.txt"), "--option", "threshold", "--out", str(d / "x")])
    assert result.exit_code == 2 and "KEY=VALUE" in result.output


def test_align_corpus_caches(files, tmp_path):
    """align_corpus keeps its links in the pipeline's step cache (content-keyed arrow files)."""
    _, en, es, model = files
    first = align_corpus(en, es, "simalign-argmax", model=str(model), layer=2, cache_dir=tmp_path, device="cpu")
    cached = list((tmp_path / "align").glob("*.arrow"))
    assert len(cached) == 1
    mtime = cached[0].stat().st_mtime_ns
    again = align_corpus(en, es, "simalign-argmax", model=str(model), layer=2, cache_dir=tmp_path, device="cpu")
    assert [[(x.src, x.tgt) for x in p] for p in again] == [[(x.src, x.tgt) for x in p] for p in first]
    assert [round(x.score, 4) for p in again for x in p] == [round(x.score, 4) for p in first for x in p]
    assert cached[0].stat().st_mtime_ns == mtime  # read back, not recomputed
    # a different layer, or other sentences, is a different cache entry
    align_corpus(en, es, "simalign-argmax", model=str(model), layer=1, cache_dir=tmp_path, device="cpu")
    align_corpus(en[:-1], es[:-1], "simalign-argmax", model=str(model), layer=2, cache_dir=tmp_path, device="cpu")
    assert len(list((tmp_path / "align").glob("*.arrow"))) == 3