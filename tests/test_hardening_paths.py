"""Hardening (issue 12), security: no write outside the folder asked for, no secret on screen.

Each test tries the attack the issue describes against the real command or function and checks
that it is refused with one ``Error:`` line (exit 2) and that nothing outside was touched.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from nerxl_data.cli import main
from nerxl_data.errors import ConfigError, NerxlError, RedactFilter, redact
from nerxl_data.paths import NAME_PATTERN, atomic_folder, check_name, safe_join
from nerxl_data.resources import demo_path
from nerxl_data.schema import LABEL_SETS, label_names

LABELS = label_names(LABEL_SETS["conll"])


def _rows(tokens=("Ade", "lo")):
    n = len(tokens)
    return {"id": ["0"], "tokens": [list(tokens)], "ner_tags": [[1] + [0] * (n - 1)],
            "source_lang": ["en"], "source_tokens": [list(tokens)], "source_ner_tags": [[1] + [0] * (n - 1)],
            "alignment": ["0-0"], "projection_score": [1.0]}


def _write_build(folder: Path, name: str = "de.x", tokens=("Ade", "lo")) -> Path:
    from datasets import Dataset

    from nerxl_data.hub.metadata import ConfigInfo, SourceInfo, SplitStats
    from nerxl_data.hub.publish import write_card, write_config

    info = ConfigInfo(name, name.split(".")[0], "en", "translate-train", "x",
                      {"translator": "none (parallel text)"}, LABELS,
                      [SourceInfo("s")], {"train": SplitStats(1)})
    write_config(folder, info, {"train": Dataset.from_dict(_rows(tokens))})
    write_card(folder)
    return folder / name


def _tamper_name(config_dir: Path, name: str) -> None:
    meta = config_dir / "nerxl_build.json"
    data = json.loads(meta.read_text())
    data["name"] = name
    meta.write_text(json.dumps(data))


# --- names and joins ------------------------------------------------------------------------

@pytest.mark.parametrize("bad", ["../victim", "/abs/path", "", ".", "..", "a/b", "a\\b", "de..x",
                                 ".hidden", "x\x00y", "tab\tname", "é" * 3, None])
def test_check_name_refuses_what_could_leave_a_folder(bad):
    with pytest.raises(ConfigError, match="invalid config name"):
        check_name(bad, "config name")


@pytest.mark.parametrize("good", ["de", "yor", "en-luo", "de.heuristic-e5small", "train", "PAN-X.de",
                                  "de.candidates-ngram-e5small-itermax", "zh_Hans"])
def test_check_name_accepts_real_names(good):
    assert check_name(good) == good


@given(st.text(min_size=1, max_size=30))
def test_a_checked_name_always_stays_inside_its_root(tmp_path_factory, name):
    root = tmp_path_factory.getbasetemp() / "root"
    try:
        check_name(name)
    except ConfigError:
        return
    assert NAME_PATTERN.fullmatch(name)
    assert safe_join(root, name).parent == root.resolve()


def test_safe_join_refuses_traversal_absolute_and_symlinks(tmp_path):
    root = tmp_path / "root"
    (root / "inside").mkdir(parents=True)
    (tmp_path / "outside").mkdir()
    (root / "link").symlink_to(tmp_path / "outside")
    assert safe_join(root, "inside", "f.txt") == (root / "inside" / "f.txt").resolve()
    for parts in (("..", "outside"), ("/etc",), ("link", "f.txt"), ("inside", "..", "..", "x")):
        with pytest.raises(ConfigError, match="outside this folder"):
            safe_join(root, *parts)


# --- publish --------------------------------------------------------------------------------

def test_publish_to_refuses_a_config_name_that_escapes(tmp_path):
    build = tmp_path / "build"
    cfg = _write_build(build)
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "keep.txt").write_text("precious")
    _tamper_name(cfg, "../victim")
    r = CliRunner().invoke(main, ["publish", str(build), "--to", str(tmp_path / "repo")])
    assert r.exit_code == 2, r.output
    assert r.output.startswith("Error:") and "invalid config name '../victim'" in r.output
    assert (victim / "keep.txt").read_text() == "precious"
    assert not (tmp_path / "repo").exists()


def test_publish_repo_refuses_an_absolute_config_name_before_any_upload(tmp_path, monkeypatch):
    build = tmp_path / "build"
    cfg = _write_build(build)
    _tamper_name(cfg, str(tmp_path / "secret-folder"))
    monkeypatch.setenv("HF_TOKEN", "hf_notarealtoken1234")
    r = CliRunner().invoke(main, ["publish", str(build), "--repo", "org/name"])
    assert r.exit_code == 2 and "invalid config name" in r.output, r.output


def test_publish_repo_with_a_bad_repo_id_is_one_error(tmp_path):
    build = tmp_path / "build"
    _write_build(build)
    r = CliRunner().invoke(main, ["publish", str(build), "--repo", "bad name!"])
    assert r.exit_code == 2 and "invalid Hub repo id 'bad name!'" in r.output, r.output
    assert "Traceback" not in r.output


def test_publish_to_an_unrelated_folder_refuses_unless_forced(tmp_path):
    build = tmp_path / "build"
    _write_build(build)
    other = tmp_path / "my-project"
    (other / "de.x").mkdir(parents=True)
    (other / "README.md").write_text("# my notes\n")
    (other / "de.x" / "mine.txt").write_text("mine")
    r = CliRunner().invoke(main, ["publish", str(build), "--to", str(other)])
    assert r.exit_code == 2 and "--force" in r.output and "not a dataset folder" in r.output
    assert (other / "README.md").read_text() == "# my notes\n"
    assert (other / "de.x" / "mine.txt").read_text() == "mine"
    r = CliRunner().invoke(main, ["publish", str(build), "--to", str(other), "--force"])
    assert r.exit_code == 0, r.output
    assert (other / "de.x" / "nerxl_build.json").is_file()
    # a dataset folder (ours) needs no --force the second time
    r = CliRunner().invoke(main, ["publish", str(build), "--to", str(other)])
    assert r.exit_code == 0, r.output


def test_publish_refuses_a_symlink_inside_a_config(tmp_path):
    build = tmp_path / "build"
    cfg = _write_build(build)
    (tmp_path / "private.txt").write_text("secret")
    (cfg / "extra.txt").symlink_to(tmp_path / "private.txt")
    r = CliRunner().invoke(main, ["publish", str(build), "--to", str(tmp_path / "repo")])
    assert r.exit_code == 2 and "is a link" in r.output, r.output
    assert not (tmp_path / "repo" / "de.x").exists()


def test_build_refuses_a_language_code_that_escapes(tmp_path):
    out = tmp_path / "out"
    target = tmp_path / "escaped"
    target.mkdir()
    (target / "keep.txt").write_text("keep")
    for lang in ("../escaped", str(target)):
        r = CliRunner().invoke(main, ["build", "conll-generic", "--lang", lang, "--out", str(out),
                                      "--source-file", str(demo_path("en")),
                                      "--target-file", str(demo_path("de"))])
        assert r.exit_code == 2 and "invalid language code" in r.output, r.output
    assert (target / "keep.txt").read_text() == "keep" and sorted(os.listdir(target)) == ["keep.txt"]
    assert not out.exists() or not any(p.name != ".cache" for p in out.iterdir())


def test_write_config_keeps_the_old_config_until_the_new_one_is_complete(tmp_path, monkeypatch):
    from datasets import Dataset

    from nerxl_data.corpora import read_parquet

    cfg = _write_build(tmp_path, tokens=("Ade", "lo"))
    before = {p.name: p.read_bytes() for p in cfg.iterdir()}

    def boom(self, *a, **k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Dataset, "to_parquet", boom)
    with pytest.raises(OSError):
        _write_build(tmp_path, tokens=("Bola", "wa"))
    assert {p.name: p.read_bytes() for p in cfg.iterdir()} == before
    assert [p.name for p in tmp_path.iterdir() if ".nerxl" in p.name] == []
    monkeypatch.undo()
    _write_build(tmp_path, tokens=("Bola", "wa"))
    assert next(read_parquet(cfg / "train-00000-of-00001.parquet", ids=True))["tokens"] == ["Bola", "wa"]


def test_atomic_folder_restores_the_old_folder_after_a_kill_between_renames(tmp_path):
    target = tmp_path / "de.x"
    target.mkdir()
    (target / "a").write_text("old")
    # what a kill between "old aside" and "new in" leaves: no target, the old one aside
    target.rename(tmp_path / ".de.x.nerxl-old")
    with atomic_folder(target) as tmp:
        assert (target / "a").read_text() == "old"  # put back before the new write starts
        (tmp / "a").write_text("new")
    assert (target / "a").read_text() == "new" and sorted(os.listdir(tmp_path)) == ["de.x"]


def test_tokens_with_whitespace_or_nul_never_reach_the_parquet(tmp_path):
    from nerxl_data.errors import InputError

    for bad in ("New York", "a\x00b"):
        with pytest.raises(InputError, match="contains"):
            _write_build(tmp_path / "b", tokens=(bad, "x"))
        assert not (tmp_path / "b" / "de.x").exists()


# --- redaction ------------------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "401 Unauthorized: headers {'authorization': 'Bearer hf_AbCdEfGh1234567890'}",
    "token hf_AbCdEfGh1234567890 refused", "Authorization: Bearer abc.def-ghi_123",
    "GET /api?token=hf_AbCdEfGh1234567890&x=1", "api_org_AbCdEfGh1234567890 is an org token",
])
def test_redact_removes_token_like_strings(text):
    clean = redact(text)
    assert "hf_AbCdEfGh" not in clean and "abc.def-ghi_123" not in clean and "api_org_AbCd" not in clean
    assert "***" in clean


@pytest.mark.parametrize("text", ["Unknown token type 'char'. Known: bpe, word", "set hf_transfer off",
                                  "hf_hub_download failed", "Bearer of bad news"])
def test_redact_leaves_ordinary_words_alone(text):
    assert redact(text) == text


def test_error_lines_and_log_lines_are_redacted(caplog):
    assert "hf_SECRET" not in str(NerxlError("refused: Bearer hf_SECRETSECRET"))
    logger = logging.getLogger("nerxl-test-redact")
    logger.addFilter(RedactFilter())
    with caplog.at_level(logging.WARNING):
        logger.warning("server said %s", "Bearer hf_SECRETSECRET99")
    assert "hf_SECRET" not in caplog.text and "Bearer ***" in caplog.text


class _EchoHeaders(BaseHTTPRequestHandler):
    """A server that echoes the request's headers in its error, as the issue's server did."""

    def do_GET(self):  # noqa: N802
        body = json.dumps({"error": f"bad request, headers: {dict(self.headers)}"}).encode()
        self.send_response(400)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_a_hub_error_that_echoes_the_token_is_redacted_on_screen(tmp_path):
    server = HTTPServer(("127.0.0.1", 0), _EchoHeaders)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        env = {k: v for k, v in os.environ.items() if not k.startswith("HF_")}
        env.update(HF_ENDPOINT=f"http://127.0.0.1:{server.server_port}", HF_TOKEN="hf_TopSecret0123456789",
                   HF_HOME=str(tmp_path / "hf"), HF_HUB_DISABLE_TELEMETRY="1")
        r = subprocess.run([sys.executable, "-m", "nerxl_data", "list", "org/name"], env=env,
                           capture_output=True, text=True, timeout=120)
    finally:
        server.shutdown()
    out = r.stdout + r.stderr
    assert r.returncode == 2, out
    assert "hf_TopSecret" not in out and "Error:" in out
    assert "Traceback" not in out and len(out.strip().splitlines()) == 1, out
