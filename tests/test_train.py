"""Training data, label mapping, the Trainer flow (python -m / CLI) and evaluate-model, on real
MasakhaNER/CoNLL sentences with a tiny random BERT whose tokenizer is trained in the test."""

from __future__ import annotations

import json
from collections import Counter

import datasets
import pytest
from click.testing import CliRunner

from nerxl_data.cli import main as cli
from nerxl_data.errors import ConfigError, InputError
from nerxl_data.schema import tags_to_spans
from nerxl_data.train.data import (
    cap,
    load_source,
    map_labels,
    tokenize_and_align_labels,
)

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def sources(data_dir):
    return {s: load_source(s, data_dir=data_dir) for s in ("masakhaner2:hau", "conll2003:en")}


@pytest.fixture(scope="module")
def tiny(tmp_path_factory, sources, tiny_bert_from_words):
    text = sources["masakhaner2:hau"]["train"]["tokens"][:400] + sources["conll2003:en"]["train"]["tokens"][:200]
    return tiny_bert_from_words(tmp_path_factory.mktemp("tiny"), text)


def test_load_source_splits_and_errors(sources, data_dir, tmp_path):
    hau = sources["masakhaner2:hau"]
    assert set(hau) == {"train", "validation", "test"}
    assert hau["test"].num_rows > 1000
    row = hau["train"][0]
    assert len(row["tokens"]) == len(row["ner_tags"]) and all(isinstance(t, str) for t in row["ner_tags"])
    assert "-DOCSTART-" not in sources["conll2003:en"]["train"][0]["tokens"]
    with pytest.raises(ConfigError, match="did you mean 'yor'"):
        load_source("masakhaner2:yorr", data_dir=data_dir)
    bad = tmp_path / "train.conll"
    bad.write_text("Ayo B-PER\nlo\n")
    with pytest.raises(InputError, match="line 2"):
        load_source(str(bad))


def test_local_parquet_file_roundtrip(tmp_path, sources):
    ds = cap(sources["masakhaner2:hau"]["test"], 20)
    path = tmp_path / "x.parquet"
    ds.to_parquet(str(path))
    back = load_source(str(path))["train"]
    assert back["ner_tags"] == ds["ner_tags"]


def test_label_mapping_policies(sources):
    small = {s: datasets.DatasetDict({"train": cap(d["train"], 300)}) for s, d in sources.items()}
    mapped, names, report = map_labels(small, ["PER", "ORG", "LOC", "DATE"], "drop")
    assert names == ["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC", "B-DATE", "I-DATE"]
    assert report.lacking == {"conll2003:en": ["DATE"]} and report.unmapped == {"conll2003:en": ["MISC"]}
    n_misc = sum(1 for tags in small["conll2003:en"]["train"]["ner_tags"] for s in tags_to_spans(tags, "IOB2", "repair") if s.label == "MISC")
    assert n_misc > 0 and report.dropped["conll2003:en"]["MISC"] == n_misc
    en = mapped["conll2003:en"]["train"]
    assert en.features["ner_tags"].feature.names == names
    assert all(n in names for tags in en["ner_tags"] for n in [names[i] for i in tags])
    assert any("lacks DATE" in line for line in report.lines())
    _, keep_names, _ = map_labels(small, ["PER", "ORG", "LOC", "DATE"], "keep")
    assert "B-MISC" in keep_names
    with pytest.raises(ConfigError, match="MISC"):
        map_labels(small, ["PER", "ORG", "LOC", "DATE"], "error")


def test_first_subword_labels(tiny, sources):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny)
    batch = {"tokens": [["Muhammadu", "Buhari", "ya", "ce"]], "ner_tags": [[1, 2, 0, 0]]}
    enc = tokenize_and_align_labels(batch, tok)
    words = enc.word_ids(0)
    labels = enc["labels"][0]
    assert labels[0] == -100 and labels[-1] == -100
    firsts = [lab for i, lab in enumerate(labels) if words[i] is not None and (i == 0 or words[i - 1] != words[i])]
    assert firsts == [1, 2, 0, 0]
    assert len(words) > 6  # some word was split, and its continuation got -100
    assert sum(lab != -100 for lab in labels) == 4


def test_label_all_tokens_relabels_b_as_i_on_later_subwords(tiny):
    """run_ner.py's --label_all_tokens: a word's later subwords get I-X for B-X (the old code
    repeated B-X, which reads as one entity per subword)."""
    from transformers import AutoTokenizer

    names = ["O", "B-PER", "I-PER"]
    tok = AutoTokenizer.from_pretrained(tiny)
    batch = {"tokens": [["Muhammadu", "Buhari", "ya", "ce"]], "ner_tags": [[1, 2, 0, 0]]}
    enc = tokenize_and_align_labels(batch, tok, label_all_tokens=True, label_names=names)
    words, labels = enc.word_ids(0), enc["labels"][0]
    by_word: dict[int, list[int]] = {}
    for w, lab in zip(words, labels, strict=True):
        if w is not None:
            by_word.setdefault(w, []).append(lab)
    assert any(len(v) > 1 for v in by_word.values())  # some word was split
    for w, labs in by_word.items():
        first = [1, 2, 0, 0][w]
        assert labs[0] == first and all(lab == (2 if first == 1 else first) for lab in labs[1:])
    with pytest.raises(ConfigError, match="label names"):
        tokenize_and_align_labels(batch, tok, label_all_tokens=True)


def test_python_m_train_multi_source_learns(tiny, tmp_path, data_dir):
    from nerxl_data.train.__main__ import main

    out = tmp_path / "run"
    rc = main(["--model_name_or_path", str(tiny), "--dataset_name", "masakhaner2:hau,conll2003:en",
               "--data_dir", str(data_dir), "--max_train_samples", "48", "--max_eval_samples", "48",
               "--max_predict_samples", "40", "--output_dir", str(out), "--do_train", "--do_eval", "--do_predict",
               "--num_train_epochs", "4", "--learning_rate", "3e-3", "--per_device_train_batch_size", "8",
               "--report_to", "none", "--save_strategy", "no", "--seed", "1"])
    assert rc == 0
    res = json.loads((out / "nerxl_results.json").read_text())
    assert res["train"]["train_samples"] == 96
    assert res["label_report"]["dropped"]["conll2003:en"]["MISC"] > 0
    assert set(res["test"]) >= {"overall_f1", "overall_precision", "overall_recall", "overall_accuracy"}
    assert res["test"]["n_sentences"] == 80  # 40 per source
    # The model learnt something: token accuracy beats tagging everything O.
    test = datasets.concatenate_datasets([cap(load_source(s, data_dir=data_dir)["test"], 40, 1) for s in ("masakhaner2:hau", "conll2003:en")])
    o_rate = Counter(t == "O" for tags in test["ner_tags"] for t in tags)[True] / sum(len(t) for t in test["ner_tags"])
    assert res["test"]["overall_accuracy"] >= o_rate - 0.02
    assert res["train"]["train_loss"] < 2.0  # ln(9) = 2.2 is chance level
    assert (out / "config.json").exists() and (out / "label_report.json").exists()


def test_cli_train_and_evaluate_model(tiny, tmp_path, data_dir, monkeypatch):
    monkeypatch.setenv("NERXL_DATA_DIR", str(data_dir))
    out = tmp_path / "cli"
    r = CliRunner().invoke(cli, ["train", str(tiny), "--dataset", "masakhaner2:hau", "--eval-dataset", "masakhaner2:yor",
                                 "--max-train-samples", "32", "--max-eval-samples", "24", "--output-dir", str(out), "--epochs", "1"])
    assert r.exit_code == 0, r.output
    assert "test: F1" in r.output and "label set: PER, ORG, LOC, DATE" in r.output
    r = CliRunner().invoke(cli, ["evaluate-model", str(out), "--dataset", "masakhaner2:yor", "--max-sentences", "24", "--json"])
    assert r.exit_code == 0, r.output
    scores = json.loads(r.output[r.output.index("{"):])
    assert scores["n_sentences"] == 24 and "overall_f1" in scores
    r = CliRunner().invoke(cli, ["evaluate-model", str(out), "--dataset", "masakhaner2:yor", "--split", "dev"])
    assert r.exit_code == 2 and "no split 'dev'" in r.output


def test_oom_lowers_batch_size_with_warning(tiny, sources, tmp_path, monkeypatch):
    import transformers
    from transformers import TrainingArguments

    from nerxl_data.train.trainer import fit

    real_train = transformers.Trainer.train
    calls = []

    def flaky(self, *a, **k):
        calls.append(self.args.per_device_train_batch_size)
        if len(calls) == 1:
            raise RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return real_train(self, *a, **k)

    monkeypatch.setattr(transformers.Trainer, "train", flaky)
    mapped, names, _ = map_labels({"h": datasets.DatasetDict({"train": cap(sources["masakhaner2:hau"]["train"], 16)})}, ["PER", "ORG", "LOC", "DATE"])
    args = TrainingArguments(str(tmp_path), per_device_train_batch_size=8, num_train_epochs=1, report_to="none", save_strategy="no")
    with pytest.warns(UserWarning, match="out of memory at batch size 8; retrying with batch size 4"):
        trainer = fit(str(tiny), mapped["h"]["train"], names, args)
    assert calls == [8, 4] and trainer.args.gradient_accumulation_steps == 2


def test_train_files_go_through_the_one_reader(tmp_path):
    """JSON lines with integer tags and no label names: one error naming file and line (was a
    TypeError traceback: train read JSON its own way); string tags in JSON lines train as CoNLL does."""
    from click.testing import CliRunner

    from nerxl_data.cli import main
    from nerxl_data.train.data import _read_file

    bad = tmp_path / "int.jsonl"
    bad.write_text('{"tokens": ["Ade", "went"], "ner_tags": [1, 0]}\n', encoding="utf-8")
    r = CliRunner().invoke(main, ["train", str(tmp_path / "no-model"), "--train-file", str(bad),
                                  "--output-dir", str(tmp_path / "out")])
    assert r.exit_code == 2 and "int.jsonl, line 1" in r.output and "label names" in r.output, r.output
    good = tmp_path / "ok.jsonl"
    good.write_text('{"tokens": ["Ade", "went"], "ner_tags": ["B-PER", "O"]}\n', encoding="utf-8")
    assert _read_file(good)[0]["ner_tags"] == ["B-PER", "O"]
