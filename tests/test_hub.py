"""Publishing and loading by name: the real huggingface_hub client and datasets.load_dataset
against the local Hub server (``hub_server`` fixture), and local folders in the same layout."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections import Counter

import pytest
import yaml
from click.testing import CliRunner
from datasets import load_dataset

from nerxl_data.builders.base import BuildOptions
from nerxl_data.builders.europarl_ner import EuroparlNer
from nerxl_data.cli import main
from nerxl_data.errors import ConfigError
from nerxl_data.hub.card import render_card
from nerxl_data.hub.metadata import ConfigInfo, SourceInfo, SplitStats
from nerxl_data.hub.publish import (
    list_configs,
    publish_hub,
    publish_local,
    read_configs,
    write_config,
)
from nerxl_data.schema import tags_to_spans
from nerxl_data.testing.encoders import build_tiny_bert

TOKEN = "hf_test_token"
METHOD = "heuristic-e5small"


@pytest.fixture(scope="module")
def build_dir(tmp_path_factory, data_dir):
    """Europarl-NER en -> de and en -> es (25 sentences each) built into one Hub-layout folder;
    a tiny random BERT aligns (these tests are about publishing, not alignment quality)."""
    from nerxl_data.corpora.registry import load_corpus

    texts = [" ".join(r["tokens"]) for lang in ("en", "de", "es")
             for r in list(load_corpus(f"europarl-ner:{lang}", "test", data_dir=data_dir))[:25]]
    bert = build_tiny_bert(tmp_path_factory.mktemp("bert"), texts)
    out = tmp_path_factory.mktemp("build")
    for lang in ("de", "es"):
        opts = BuildOptions(lang, METHOD, aligner_model=str(bert), limit=25, data_dir=str(data_dir),
                            aligner_options={"layer": 2}, cache_dir=str(out / ".cache"),
                            config_name=f"{lang}.{METHOD}")  # (layer 2 would add a hash to the derived name)
        EuroparlNer().build(opts, out)
    return out


def _run(code: str, env: dict) -> dict:
    r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-3000:]
    return json.loads(r.stdout.strip().splitlines()[-1])


def test_card_metadata_and_statistics(build_dir):
    text = (build_dir / "README.md").read_text()
    meta = yaml.safe_load(text.split("---")[1])
    assert meta["task_categories"] == ["token-classification"]
    assert meta["task_ids"] == ["named-entity-recognition"]
    assert meta["license"] == "other"  # Europarl's terms are not a standard licence
    assert meta["language"] == ["de", "en", "es"]
    assert meta["source_datasets"] == ["extended|ShkalikovOleh/europarl-ner"]
    assert {c["config_name"]: c["data_files"] for c in meta["configs"]} == {
        f"{lang}.{METHOD}": [{"split": s, "path": f"{lang}.{METHOD}/{s}-*"} for s in ("train", "validation")]
        for lang in ("de", "es")
    }
    # licence "other" names the licence and links to it (the Hub's card spec); one default config
    assert "Europarl" in meta["license_name"] and meta["license_link"].startswith("https://")
    assert [c["config_name"] for c in meta["configs"] if c.get("default")] == [f"de.{METHOD}"]
    assert len(load_dataset(str(build_dir))["validation"]) > 0  # no config name: the default
    from huggingface_hub import DatasetCard

    card = DatasetCard(text)
    assert card.data.pretty_name and "silver-standard" in card.data.tags
    # the statistics table agrees with the data itself
    ds = load_dataset(str(build_dir), f"de.{METHOD}")["train"]
    names = ds.features["ner_tags"].feature.names
    counts = Counter(s.label for tags in ds["ner_tags"] for s in tags_to_spans([names[t] for t in tags]))
    row = next(line for line in text.splitlines() if line.startswith(f"| `de.{METHOD}`"))
    assert f"| {len(ds)} |" in row
    assert ", ".join(f"{t} {n}" for t, n in sorted(counts.items())) in row
    assert "## Limitations" in text and "## How to load" in text and "Agerri" in text


def test_license_is_derived_from_the_sources():
    def info(name, *licenses):
        return ConfigInfo(name, "yo", "en", "translate-train", "m", {}, ["O"],
                          [SourceInfo(f"s-{x}", None, x) for x in licenses], {"train": SplitStats(1)})

    assert render_card([info("a", "cc-by-nc-4.0")], "o/r").data.license == "cc-by-nc-4.0"
    assert render_card([info("a", "cc-by-nc-4.0"), info("b", "other")], "o/r").data.license == [
        "cc-by-nc-4.0", "other"]


def test_publish_to_hub_load_by_name_and_incremental(build_dir, hub_server, hub_env):
    from huggingface_hub import HfApi

    repo = "nerxl/europarl-silver"
    api = HfApi(endpoint=hub_server.url, token=TOKEN)
    first = publish_hub(build_dir, repo, [f"de.{METHOD}"], token=TOKEN, endpoint=hub_server.url)
    assert first.changed
    de_files = [f"de.{METHOD}/train-00000-of-00001.parquet", f"de.{METHOD}/nerxl_build.json"]
    before = {p.path: p.blob_id for p in api.get_paths_info(repo, de_files, repo_type="dataset")}

    second = publish_hub(build_dir, repo, [f"es.{METHOD}"], token=TOKEN, endpoint=hub_server.url)
    assert second.changed and second.commit != first.commit
    after = {p.path: p.blob_id for p in api.get_paths_info(repo, de_files, repo_type="dataset")}
    assert after == before, "publishing es left the de config untouched"
    commits = api.list_repo_commits(repo, repo_type="dataset")

    again = publish_hub(build_dir, repo, token=TOKEN, endpoint=hub_server.url)  # same build: no-op
    assert not again.changed and again.commit == second.commit
    assert len(api.list_repo_commits(repo, repo_type="dataset")) == len(commits)
    assert set(list_configs(repo, endpoint=hub_server.url)) == {f"de.{METHOD}", f"es.{METHOD}"}

    # Load by name with plain datasets, in a fresh process pointed at the server via HF_ENDPOINT.
    got = _run(
        "import json, datasets\n"
        f"d = datasets.load_dataset({repo!r}, 'es.{METHOD}')['train']\n"
        "from huggingface_hub import DatasetCard\n"
        f"card = DatasetCard.load({repo!r}, repo_type='dataset')\n"
        "print(json.dumps({'columns': d.column_names, 'labels': d.features['ner_tags'].feature.names,"
        " 'source_labels': d.features['source_ner_tags'].feature.names, 'rows': d.to_dict(),"
        " 'configs': [c['config_name'] for c in card.data.configs]}))",
        hub_env,
    )
    local = load_dataset(str(build_dir), f"es.{METHOD}")["train"]
    assert got["columns"] == ["id", "tokens", "ner_tags", "source_lang", "source_tokens",
                              "source_ner_tags", "alignment", "projection_score"]
    assert got["labels"] == got["source_labels"] == local.features["ner_tags"].feature.names
    assert got["rows"] == local.to_dict()
    assert got["configs"] == [f"de.{METHOD}", f"es.{METHOD}"]

    listed = subprocess.run([sys.executable, "-m", "nerxl_data", "list", repo], env=hub_env,
                            capture_output=True, text=True, timeout=120)
    assert listed.returncode == 0, listed.stderr
    assert list(dict.fromkeys(ln.split()[0] for ln in listed.stdout.splitlines())) == [f"de.{METHOD}", f"es.{METHOD}"]
    assert "train (silver)" in listed.stdout and "validation (silver)" in listed.stdout
    assert TOKEN not in listed.stdout + listed.stderr


def test_labels_that_differ_from_the_repo_fail_before_upload(build_dir, hub_server, tmp_path):
    from datasets import Dataset
    from huggingface_hub import HfApi

    repo = "nerxl/labels-check"
    publish_hub(build_dir, repo, [f"de.{METHOD}"], token=TOKEN, endpoint=hub_server.url)
    api = HfApi(endpoint=hub_server.url, token=TOKEN)
    commits = len(api.list_repo_commits(repo, repo_type="dataset"))
    other = ConfigInfo(f"yor.{METHOD}", "yor", "en", "translate-train", METHOD, {},
                       ["O", "B-PER", "I-PER", "B-DATE", "I-DATE"], [SourceInfo("x")],
                       {"train": SplitStats(1)})
    rows = {"id": ["0"], "tokens": [["Ade"]], "ner_tags": [[1]], "source_lang": ["en"],
            "source_tokens": [["Ade"]], "source_ner_tags": [[1]], "alignment": ["0-0"],
            "projection_score": [1.0]}
    write_config(tmp_path, other, {"train": Dataset.from_dict(rows)})
    with pytest.raises(ConfigError, match="uses labels"):
        publish_hub(tmp_path, repo, token=TOKEN, endpoint=hub_server.url)
    assert len(api.list_repo_commits(repo, repo_type="dataset")) == commits
    with pytest.raises(ConfigError, match="uses labels"):
        publish_local(tmp_path, build_dir)
    assert f"yor.{METHOD}" not in read_configs(build_dir)


def test_publish_without_token_is_a_clear_error_and_uploads_nothing(build_dir, hub_server, hub_env, tmp_path):
    env = {k: v for k, v in hub_env.items() if k != "HF_TOKEN"}
    r = subprocess.run([sys.executable, "-m", "nerxl_data", "publish", str(build_dir), "--repo", "nerxl/no-token"],
                       env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 2
    assert "no Hugging Face token" in r.stderr and "Traceback" not in r.stderr
    assert ("dataset", "nerxl/no-token") not in hub_server.repos


def test_publish_needs_exactly_one_destination(build_dir, tmp_path):
    r = CliRunner().invoke(main, ["publish", str(build_dir), "--to", str(tmp_path), "--repo", "o/n"])
    assert r.exit_code == 2 and "exactly one of --repo" in r.output
    r = CliRunner().invoke(main, ["publish", str(build_dir), "--to", str(tmp_path / "x"), "--config", "de.nope"])
    assert r.exit_code == 2 and "Unknown config 'de.nope'" in r.output and not (tmp_path / "x").exists()


def test_publish_local_is_incremental_and_listed(build_dir, tmp_path):
    repo = tmp_path / "repo"
    r = CliRunner().invoke(main, ["publish", str(build_dir), "--to", str(repo), "--config", f"de.{METHOD}"])
    assert r.exit_code == 0 and f"published de.{METHOD}" in r.output, r.output
    assert list(read_configs(repo)) == [f"de.{METHOD}"]
    de = {p.name: p.read_bytes() for p in (repo / f"de.{METHOD}").iterdir()}
    publish_local(build_dir, repo, [f"es.{METHOD}"])
    assert {p.name: p.read_bytes() for p in (repo / f"de.{METHOD}").iterdir()} == de
    dd = load_dataset(str(repo), f"de.{METHOD}")
    assert len(dd["train"]) + len(dd["validation"]) == 25
    result = CliRunner().invoke(main, ["list", str(repo)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert [ln.split()[0] for ln in lines] == [f"de.{METHOD}"] * 2 + [f"es.{METHOD}"] * 2
    n = [int(re.search(r"(\d+) sentences", ln).group(1)) for ln in lines]
    assert n[0] + n[1] == n[2] + n[3] == 25 and all("projection rate" in ln for ln in lines)


def test_publish_keeps_configs_nerxl_did_not_build(build_dir, tmp_path):
    """A repo may hold other configs (e.g. a gold split): publishing adds ours and keeps theirs."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    import yaml

    repo = tmp_path / "mixed"
    (repo / "gold").mkdir(parents=True)
    pq.write_table(pa.table({"tokens": [["Berlin", "ist", "groß"]], "tag": [["B-LOC", "O", "O"]]}),
                   repo / "gold" / "test.parquet")
    (repo / "README.md").write_text(
        "---\nconfigs:\n- config_name: gold\n  data_files:\n  - split: test\n    path: gold/test.parquet\n---\n# mixed\n"
    )
    publish_local(build_dir, repo, [f"de.{METHOD}"])
    meta = yaml.safe_load((repo / "README.md").read_text().split("---")[1])
    assert [c["config_name"] for c in meta["configs"]] == [f"de.{METHOD}", "gold"]
    assert load_dataset(str(repo), "gold")["test"]["tokens"] == [["Berlin", "ist", "groß"]]
    publish_local(build_dir, repo, [f"es.{METHOD}"])  # a second publish keeps it too, once
    meta = yaml.safe_load((repo / "README.md").read_text().split("---")[1])
    assert [c["config_name"] for c in meta["configs"]] == [f"de.{METHOD}", f"es.{METHOD}", "gold"]
