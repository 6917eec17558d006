"""Builders: method names, a real Europarl-NER build with e5-small (scored against gold), the
translate-train path with a (tiny) machine translator, and CLI errors."""

from __future__ import annotations

import itertools
import re
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner
from datasets import load_dataset

from nerxl_data.builders.base import DEFAULT_METHOD, BuildOptions, parse_method
from nerxl_data.cli import main
from nerxl_data.corpora.registry import load_corpus
from nerxl_data.errors import ConfigError
from nerxl_data.schema import LABEL_SETS, label_names, tags_to_spans
from nerxl_data.testing.encoders import build_tiny_bert

ROOT = Path(__file__).resolve().parents[1]


def test_method_names():
    p, a = parse_method("heuristic-e5small")
    assert (p.method, a.aligner, a.model) == ("heuristic", "simalign-argmax", "e5-small")
    p, a = parse_method("candidates-ngram-e5small-itermax", aligner_model="/m/e5")
    assert (p.method, a.aligner, a.model) == ("candidates-ngram", "simalign-itermax", "/m/e5")
    with pytest.raises(ConfigError, match="Known: "):
        parse_method("heuristic-e5smal")
    with pytest.raises(ConfigError, match="PROJECTION-MODEL"):
        parse_method("projectall-e5small")


def test_europarl_build_with_e5_small_scores_against_gold(data_dir, e5_small_path, tmp_path, monkeypatch):
    monkeypatch.setenv("NERXL_DATA_DIR", str(data_dir))
    n = 60
    out = tmp_path / "build"
    result = CliRunner().invoke(main, ["build", "europarl-ner", "--lang", "de", "--max-silver-sentences", str(n),
                                       "--aligner-model", str(e5_small_path), "--out", str(out)])
    assert result.exit_code == 0, result.output
    name = f"de.{DEFAULT_METHOD}"
    f1 = float(re.search(rf"{re.escape(name)} train F1: ([\d.]+)", result.output).group(1))
    assert f1 > 75, result.output  # e5-small argmax links project most gold entities exactly
    assert f'datasets.load_dataset("{out}", "{name}")' in result.output

    dd = load_dataset(str(out), name)
    # no gold target data apart from the projected sentences: a silver validation is held out
    assert set(dd) == {"train", "validation"} and 0 < len(dd["validation"]) < len(dd["train"])
    assert not set(dd["train"]["id"]) & set(dd["validation"]["id"])
    ds = sorted([*dd["train"], *dd["validation"]], key=lambda r: int(r["id"]))
    assert dd["train"].features["ner_tags"].feature.names == label_names(LABEL_SETS["conll"])
    en = list(load_corpus("europarl-ner:en", "test", policy="repair"))[:n]
    de = list(load_corpus("europarl-ner:de", "test", policy="repair"))[:n]
    assert [r["tokens"] for r in ds] == [r["tokens"] for r in de]
    assert [r["source_tokens"] for r in ds] == [r["tokens"] for r in en]

    from nerxl_data.hub.metadata import ConfigInfo

    info = ConfigInfo.read(out / name / "nerxl_build.json")
    assert {s.kind for s in info.splits.values()} == {"silver"}
    gold_source_entities = sum(len(tags_to_spans(r["ner_tags"])) for r in en)
    assert sum(s.source_entities for s in info.splits.values()) == gold_source_entities
    assert sum(s.projected_entities + sum(s.dropped.values()) for s in info.splits.values()) == gold_source_entities
    assert sum(s.sentences for s in info.splits.values()) == n
    card = (out / "README.md").read_text()
    assert "| validation | silver |" in card and "default: true" in card


def test_masakhaner_translate_train_maps_labels(data_dir, tmp_path):
    from nerxl_data.builders.masakhaner2 import MasakhaNer2
    from nerxl_data.testing.translation import build_tiny_nllb

    en = list(itertools.islice(load_corpus("conll2003:en", "train", data_dir=data_dir), 8))
    texts = [" ".join(r["tokens"]) for r in en]
    nllb = build_tiny_nllb(tmp_path / "nllb", texts)
    bert = build_tiny_bert(tmp_path / "bert", texts)
    opts = BuildOptions("yor", DEFAULT_METHOD, translator="hf", translator_model=str(nllb),
                        aligner_model=str(bert), aligner_options={"layer": 2}, limit=8,
                        translator_options={"num_beams": 1, "max_new_tokens": 16},
                        data_dir=str(data_dir), cache_dir=str(tmp_path / "cache"))
    dd, info = MasakhaNer2().build(opts, tmp_path / "out")
    names = dd["train"].features["ner_tags"].feature.names
    assert names == label_names(LABEL_SETS["masakhaner"])
    src = [[names[t] for t in tags] for tags in dd["train"]["source_ner_tags"]]
    expected = [[t if not t.endswith("MISC") else "O" for t in r["ner_tags"]] for r in en]
    assert src == expected  # CoNLL MISC has no MasakhaNER type: dropped, the rest kept
    assert all(len(t) == len(w) for t, w in zip(dd["train"]["ner_tags"], dd["train"]["tokens"], strict=True))
    assert info.parameters["translator"] == f"hf:{nllb}"
    assert [s.name for s in info.sources] == ["conll2003", "masakhaner2"]
    # gold evaluation splits: MasakhaNER's dev and test, whole (the limit caps silver only)
    assert dd["test"]["tokens"] == [r["tokens"] for r in load_corpus("masakhaner2:yor", "test", data_dir=data_dir, policy="repair")]
    assert info.splits["validation"].kind == info.splits["test"].kind == "gold"

    # translate-test: yor sentences -> en, tagged by an English (CoNLL-label) model, projected back
    tagger = build_tiny_bert(tmp_path / "tagger", texts, labels=label_names(LABEL_SETS["conll"]), max_position_embeddings=512)
    train_name = info.name
    opts = replace(opts, mode="translate-test", tagger_model=str(tagger), method="heuristic-e5small")
    dd, info = MasakhaNer2().build(opts, tmp_path / "out")
    yor = list(itertools.islice(load_corpus("masakhaner2:yor", "train", data_dir=data_dir), 8))
    assert dd["train"]["tokens"] == [r["tokens"] for r in yor]
    stats = info.splits["train"]
    assert "train F1" in info.score  # scored against MasakhaNER's gold
    assert "MISC" not in stats.entities and "MISC" not in "".join(info.label_names)
    # the names say what {lang}.{method} leaves out (translator, mode, tagger) by a short hash
    assert re.fullmatch(rf"yor\.{DEFAULT_METHOD}\.[0-9a-f]{{6}}", train_name)
    assert re.fullmatch(r"yor\.heuristic-e5small\.[0-9a-f]{6}", info.name)
    assert set(read_configs_names(tmp_path / "out")) == {train_name, info.name}


def read_configs_names(folder):
    from nerxl_data.hub.publish import read_configs

    return list(read_configs(folder))


def test_cli_errors_are_one_line():
    r = CliRunner().invoke(main, ["build", "europarl-nr", "--lang", "de"])
    assert r.exit_code == 2 and "did you mean 'europarl-ner'" in r.output
    r = CliRunner().invoke(main, ["build", "conll-generic", "--lang", "de"])
    assert r.exit_code == 2 and "--source-file" in r.output
    r = CliRunner().invoke(main, ["build", "europarl-ner", "--lang", "fr"])
    assert r.exit_code == 2 and "Known: de, es, it" in r.output


def test_builders_run_as_scripts():
    r = subprocess.run([sys.executable, "-m", "nerxl_data.builders.europarl_ner", "--help"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and "--lang" in r.stdout and "{de,es,it}" in r.stdout


def test_one_label_list_per_output_folder(tmp_path):
    from datasets import Dataset

    from nerxl_data.builders.conll_generic import ConllGeneric
    from nerxl_data.hub.metadata import ConfigInfo, SourceInfo, SplitStats
    from nerxl_data.hub.publish import write_config
    from nerxl_data.resources import demo_path

    # the demo's English file has PER/ORG/LOC/MISC in its own order; the CoNLL label set wins
    assert ConllGeneric(str(demo_path("en"))).label_names == label_names(LABEL_SETS["conll"])

    masakha = label_names(LABEL_SETS["masakhaner"])
    info = ConfigInfo("yor.x", "yor", "en", "translate-train", "x", {}, masakha, [SourceInfo("s")],
                      {"train": SplitStats(1)})
    rows = {"id": ["0"], "tokens": [["Ade"]], "ner_tags": [[1]], "source_lang": ["en"],
            "source_tokens": [["Ade"]], "source_ner_tags": [[1]], "alignment": ["0-0"],
            "projection_score": [1.0]}
    write_config(tmp_path, info, {"train": Dataset.from_dict(rows)})
    r = CliRunner().invoke(main, ["build", "conll-generic", "--lang", "de", "--out", str(tmp_path),
                                  "--source-file", str(demo_path("en")), "--target-file", str(demo_path("de"))])
    assert r.exit_code == 2 and "uses labels" in r.output, r.output
    assert not (tmp_path / f"de.{DEFAULT_METHOD}").exists()


def test_a_second_build_under_the_same_name_with_other_parameters_is_refused(tmp_path):
    """``{lang}.{method}`` names neither the translator nor the tagger nor a local aligner model:
    a build whose parameters differ from the config of that name on disk is refused before any
    work (it would replace the first), naming what differs and the way out."""
    from datasets import Dataset

    from nerxl_data.hub.metadata import ConfigInfo, SourceInfo, SplitStats
    from nerxl_data.hub.publish import write_config
    from nerxl_data.resources import demo_path

    conll = label_names(LABEL_SETS["conll"])
    params = {"mode": "translate-train", "translator": "none (parallel text)",
              "aligner": "simalign-itermax:/models/another-e5", "projection": "candidates-ngram"}
    info = ConfigInfo(f"de.{DEFAULT_METHOD}", "de", "en", "translate-train", DEFAULT_METHOD, params, conll,
                      [SourceInfo("s")], {"train": SplitStats(1)})
    rows = {"id": ["0"], "tokens": [["Ade"]], "ner_tags": [[1]], "source_lang": ["en"],
            "source_tokens": [["Ade"]], "source_ner_tags": [[1]], "alignment": ["0-0"],
            "projection_score": [1.0]}
    write_config(tmp_path, info, {"train": Dataset.from_dict(rows)})
    before = sorted(p.name for p in (tmp_path / f"de.{DEFAULT_METHOD}").rglob("*"))
    r = CliRunner().invoke(main, ["build", "conll-generic", "--lang", "de", "--out", str(tmp_path),
                                  "--source-file", str(demo_path("en")), "--target-file", str(demo_path("de"))])
    assert r.exit_code == 2, r.output
    assert "aligner=simalign-itermax:/models/another-e5" in r.output and "aligner=simalign-itermax:e5-small" in r.output
    assert "--config-name" in r.output and "Traceback" not in r.output
    assert sorted(p.name for p in (tmp_path / f"de.{DEFAULT_METHOD}").rglob("*")) == before


def test_builders_and_cards_ship_in_the_wheel(tmp_path):
    """The wheel holds the builders and the card template as real files (no symlinks)."""
    import zipfile

    r = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                        "-w", str(tmp_path), str(ROOT)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    (wheel,) = tmp_path.glob("nerxl_data-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {"nerxl_data/builders/masakhaner2.py", "nerxl_data/builders/base.py",
            "nerxl_data/cards/dataset_card.md"} <= names
    # every folder with Python files is a listed package (packages.find cannot see the mapped
    # builders/ and cards/, so pyproject.toml lists them all): the wheel holds each one's modules
    import tomllib

    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    mapped = {v: k for k, v in setuptools["package-dir"].items()}
    folders = {p.parent for p in ROOT.glob("nerxl_data/**/*.py")} | {ROOT / "builders", ROOT / "cards"}
    expected = {mapped.get(str(f.relative_to(ROOT)), str(f.relative_to(ROOT)).replace("/", ".")) for f in folders}
    assert expected == set(setuptools["packages"])
    for pkg in expected:
        assert any(n.startswith(pkg.replace(".", "/") + "/") and n.endswith(".py") for n in names), pkg


def test_the_top_level_is_the_designs():
    """builders/ and cards/ sit beside nerxl_data/ in the repository and import as its subpackages."""
    import nerxl_data.builders
    import nerxl_data.cards
    from nerxl_data.hub.card import template_path

    assert (ROOT / "builders" / "masakhaner2.py").is_file() and (ROOT / "cards" / "dataset_card.md").is_file()
    assert not (ROOT / "nerxl_data" / "builders").exists() and not (ROOT / "nerxl_data" / "cards").exists()
    assert Path(nerxl_data.builders.__file__).parent == ROOT / "builders"
    assert template_path().parent == Path(nerxl_data.cards.__file__).parent == ROOT / "cards"


class _CopyTranslator:
    """A translator that returns its input: it keeps every marker, as a perfect EasyProject
    checkpoint would, so mark -> translate -> project must recover every source entity."""

    def translate_batch(self, texts, src, tgt, progress=None):
        return list(texts)

    def close(self):
        pass


def test_easyproject_end_to_end_through_the_builder(data_dir, tmp_path, monkeypatch):
    from nerxl_data.builders.europarl_ner import EuroparlNer
    from nerxl_data.testing.translation import build_tiny_nllb

    en = list(load_corpus("europarl-ner:en", "test", data_dir=data_dir, policy="repair"))[:12]
    # the tiny random NLLB (its output is nonsense): the whole chain runs, every entity is counted
    nllb = build_tiny_nllb(tmp_path / "nllb", [" ".join(r["tokens"]) for r in en])
    opts = BuildOptions("de", "easyproject", translator="hf", translator_model=str(nllb), limit=12,
                        translator_options={"num_beams": 1, "max_new_tokens": 24}, data_dir=str(data_dir),
                        cache_dir=str(tmp_path / "cache"), validation_fraction=0)
    dd, info = EuroparlNer().build(opts, tmp_path / "out")
    stats = info.splits["train"]
    n_src = sum(len(tags_to_spans(r["ner_tags"])) for r in en)
    assert stats.source_entities == n_src and stats.projected_entities + sum(stats.dropped.values()) == n_src
    assert set(stats.dropped) <= {"unmatched-marker", "unbalanced-markers", "nested-markers"}
    assert info.parameters["aligner"] == "none (markers)"
    card = (tmp_path / "out" / "README.md").read_text()
    assert "ychenNLP/nllb-200-*-easyproject" in card
    assert all("[" not in w and "]" not in w for s in dd["train"]["tokens"] for w in s)  # markers stripped

    # a translator that keeps the markers: every entity comes back, on the right words
    import nerxl_data.translate as translate

    monkeypatch.setattr(translate, "get_translator", lambda *a, **k: _CopyTranslator())
    opts = replace(opts, cache_dir=str(tmp_path / "cache2"))
    dd, info = EuroparlNer().build(opts, tmp_path / "out2")
    from nerxl_data.translate.base import word_tokenize

    names = dd["train"].features["ner_tags"].feature.names
    assert dd["train"]["tokens"] == [word_tokenize(" ".join(r["tokens"])) for r in en]

    def entities(words, tags):
        return [(" ".join(words[s.start:s.end]), s.label) for s in tags_to_spans(tags)]

    got = [entities(w, [names[t] for t in s]) for w, s in zip(dd["train"]["tokens"], dd["train"]["ner_tags"], strict=True)]
    assert got == [entities(r["tokens"], r["ner_tags"]) for r in en]
    assert info.splits["train"].projection_rate == 1.0


def test_easyproject_without_a_translator_fails_before_any_work(data_dir, tmp_path):
    r = CliRunner().invoke(main, ["build", "europarl-ner", "--lang", "de", "--method", "easyproject",
                                  "--out", str(tmp_path / "o")], env={"NERXL_DATA_DIR": str(data_dir)})
    assert r.exit_code == 2 and "easyproject" in r.output and "translator" in r.output, r.output
    assert not (tmp_path / "o").exists()
    r = CliRunner().invoke(main, ["build", "europarl-ner", "--lang", "de", "--method", "easyproject-e5small"])
    assert r.exit_code == 2 and "call the method 'easyproject'" in r.output, r.output


def test_xtreme_panx_without_parallel_text_names_the_options(tmp_path):
    r = CliRunner().invoke(main, ["build", "xtreme-panx", "--lang", "sw", "--out", str(tmp_path / "o")])
    assert r.exit_code == 2 and len(r.output.strip().splitlines()) == 1, r.output
    assert "no parallel text" in r.output and "--translator hf" in r.output
    assert not (tmp_path / "o").exists()
