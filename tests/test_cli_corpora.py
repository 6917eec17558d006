"""`nerxl corpora list|show` and `nerxl stats`, through click's test runner."""

from __future__ import annotations

import json
from collections import Counter

import pytest
from click.testing import CliRunner
from seqeval.metrics.sequence_labeling import get_entities

from nerxl_data.cli import main
from nerxl_data.corpora import CORPORA
from nerxl_data.resources import demo_path


@pytest.fixture
def run(monkeypatch):
    def invoke(*args: str, data_dir=None):
        if data_dir is None:
            monkeypatch.delenv("NERXL_DATA_DIR", raising=False)
        else:
            monkeypatch.setenv("NERXL_DATA_DIR", str(data_dir))
        return CliRunner().invoke(main, list(args))

    return invoke


def assert_user_error(result, *fragments: str) -> None:
    """Exit status 2, one `Error:` line on stderr, no traceback."""
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    assert "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def test_corpora_list(run):
    result = run("corpora", "list")
    assert result.exit_code == 0
    listed = [line.split()[0] for line in result.stdout.splitlines()]
    assert listed == list(CORPORA)
    as_json = json.loads(run("corpora", "list", "--json").stdout)
    assert as_json["masakhaner2"] == "masakhane/masakhaner2"


def test_corpora_show(run):
    result = run("corpora", "show", "europarl-ner")
    assert result.exit_code == 0
    assert "ShkalikovOleh/europarl-ner" in result.stdout
    assert "$NERXL_DATA_DIR/europarl-ner/{lang}.conll" in result.stdout
    info = json.loads(run("corpora", "show", "masakhaner2", "--json").stdout)
    assert info["entity_types"] == ["PER", "ORG", "LOC", "DATE"]
    assert info["licence"] == "CC BY-NC 4.0"


def test_corpora_show_unknown(run):
    assert_user_error(run("corpora", "show", "conll2004"), "Unknown corpus 'conll2004'", "conll2003")


def test_stats_europarl_de(run, data_dir):
    result = run("stats", "europarl-ner:de", data_dir=data_dir)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[1].split() == ["sentences", "799"]

    stats = json.loads(run("stats", "europarl-ner:de", "--json", data_dir=data_dir).stdout)
    # entity counts from seqeval's decoder over the raw file
    sents, cur = [], []
    for line in (data_dir / "europarl-ner" / "de.conll").read_text(encoding="utf-8").splitlines():
        if line.strip():
            cur.append(line.split("\t")[1])
        elif cur:
            sents.append(cur)
            cur = []
    sents += [cur] if cur else []
    expected = Counter(t for tags in sents for t, _, _ in get_entities(tags))
    assert stats["sentences"] == len(sents) == 799
    assert stats["tokens"] == sum(map(len, sents))
    assert stats["entities_per_type"] == dict(sorted(expected.items()))


def test_stats_split_and_path(run, data_dir):
    stats = json.loads(run("stats", "conll2003:en", "--split", "dev", "--json", data_dir=data_dir).stdout)
    assert stats["sentences"] == 3250 and stats["skipped"]["-DOCSTART- line"] > 0
    result = run("stats", str(demo_path("es")), "--json")
    assert result.exit_code == 0 and json.loads(result.stdout)["sentences"] == 40


def test_stats_repair_policy(run, tmp_path, caplog):
    path = tmp_path / "stray.conll"
    path.write_text("Ada\tI-PER\nLovelace\tI-PER\n", encoding="utf-8")
    assert_user_error(run("stats", str(path)), str(path), "line 1", "stray I- tag")
    result = run("stats", str(path), "--policy", "repair")
    assert result.exit_code == 0
    assert "repairs: 1 stray I- tag" in result.stdout
    assert "repaired tags: 1 stray I- tag" in caplog.text  # the reader's logged warning


@pytest.mark.parametrize(
    "content, fragments",
    [
        ("Ada\tB-PER\nLovelace\n", ["line 2", "wrong column count"]),
        ("Ada\tB-PER\nLovelace\tI-LOC\n", ["line 2", "I- continuation across types"]),
        ("", ["empty file"]),
        (b"Ada\tB-PER\nZ\xfcrich\tB-LOC\n", []),  # Latin-1 byte: read with a fallback, no error
    ],
)
def test_stats_bad_files(run, tmp_path, caplog, content, fragments):
    path = tmp_path / "in.conll"
    if isinstance(content, bytes):
        path.write_bytes(content)
        result = run("stats", str(path))
        assert result.exit_code == 0
        assert "1 line(s) are not valid UTF-8 (first: line 2)" in caplog.text
        return
    path.write_text(content, encoding="utf-8")
    assert_user_error(run("stats", str(path)), str(path), *fragments)


def test_stats_user_errors(run, tmp_path, data_dir):
    assert_user_error(run("stats", str(tmp_path)), "is a directory")
    assert_user_error(run("stats", "no-such-thing"), "neither an existing file nor a corpus")
    assert_user_error(run("stats", "europarl-ner:xx", data_dir=data_dir), "language of europarl-ner")
    assert_user_error(run("stats", "conll2003:en", "--split", "tset", data_dir=data_dir), "split")
    assert_user_error(run("stats", "lafand:en-hau", data_dir=data_dir), "parallel text")
