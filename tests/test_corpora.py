"""Readers, writers, the corpus registry and the demo sample (nerxl_data.corpora, .resources)."""

from __future__ import annotations

import json
import logging
import types
from collections import Counter
from pathlib import Path

import pytest

from nerxl_data.corpora import (
    CORPORA,
    ReadReport,
    corpus_files,
    corpus_stats,
    get_corpus,
    load_corpus,
    parse_corpus_ref,
    read_conll,
    read_hf_dataset,
    read_jsonl,
    read_parallel_text,
    read_parquet,
    read_path,
    write_conll,
    write_jsonl,
    write_parquet,
)
from nerxl_data.errors import ConfigError, InputError
from nerxl_data.resources import DEMO_LANGUAGES, demo_path
from nerxl_data.schema import LABEL_SETS, label_names, tags_to_spans


def _write(tmp_path: Path, text: str, name: str = "bad.conll") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _error(path: Path, **kwargs) -> str:
    with pytest.raises(InputError) as exc:
        list(read_conll(path, **kwargs))
    return str(exc.value)


# --- real data ---------------------------------------------------------------------------------


def test_europarl_is_parallel_799_sentences(data_dir):
    lengths = {}
    for lang in ("en", "de", "es", "it"):
        path = data_dir / "europarl-ner" / f"{lang}.conll"
        sentences = list(read_conll(path, types=LABEL_SETS["conll"]))
        lengths[lang] = len(sentences)
        # every non-blank line is a token: nothing skipped or lost
        token_lines = sum(1 for line in path.read_text(encoding="utf-8").splitlines() if line.strip())
        assert sum(len(ex["tokens"]) for ex in sentences) == token_lines
        assert [ex["id"] for ex in sentences[:3]] == ["0", "1", "2"]
    assert set(lengths.values()) == {799}


def test_conll2003_space_separated_docstart_counted(data_dir):
    path = data_dir / "conll" / "en" / "dev.tsv"
    assert "\t" not in path.read_text(encoding="utf-8")  # space separated
    report = ReadReport()
    sentences = list(read_conll(path, report=report))
    # the split sizes published with CoNLL-2003 (validation: 3,250 sentences)
    assert len(sentences) == report.sentences == 3250
    docstarts = sum(1 for line in path.read_text().splitlines() if line.startswith("-DOCSTART-"))
    assert report.skipped == {"-DOCSTART- line": docstarts} and docstarts > 0
    assert not any("-DOCSTART-" in ex["tokens"] for ex in sentences)


def test_masakhaner_repairs_are_counted_and_warned(data_dir, caplog):
    path = data_dir / "masakhaner2" / "kin" / "train.txt"
    with pytest.raises(InputError) as exc:
        list(read_conll(path))
    assert str(path) in str(exc.value) and "line " in str(exc.value)
    bad_line = exc.value.line
    assert path.read_text(encoding="utf-8").splitlines()[bad_line - 1].split()[-1].startswith("I-")

    # count stray I- tags independently: an I-X after O or at a sentence start
    prev, stray = "O", 0
    for line in path.read_text(encoding="utf-8").splitlines():
        tag = line.split()[-1] if line.strip() else "O"
        stray += tag.startswith("I-") and prev == "O"
        prev = tag
    report = ReadReport()
    with caplog.at_level(logging.WARNING):
        sentences = list(read_conll(path, policy="repair", report=report))
    assert stray > 0 and report.repairs.counts == Counter({"stray I- tag": stray})
    assert f"repaired tags: {stray} stray I- tag" in caplog.text
    assert all(tags_to_spans(ex["ner_tags"]) is not None for ex in sentences)  # valid now


def test_selectable_columns_and_separator(tmp_path):
    # the original 4-column CoNLL-2003 layout: token POS chunk NER
    src = list(read_conll(demo_path("en")))
    lines = []
    for ex in src:
        lines += [f"{t} NN I-NP {g}" for t, g in zip(ex["tokens"], ex["ner_tags"], strict=True)] + [""]
    path = _write(tmp_path, "\n".join(lines) + "\n", "four.conll")
    assert list(read_conll(path, tag_col=3)) == src
    assert list(read_conll(path, sep=" ")) == src
    tokens_as_pos = list(read_conll(path, token_col=1))
    assert {t for ex in tokens_as_pos for t in ex["tokens"]} == {"NN"}


def test_scheme_on_read(tmp_path):
    path = _write(tmp_path, "A\tS-PER\nB\tB-LOC\nC\tE-LOC\n\n", "bioes.conll")
    (ex,) = read_conll(path, scheme="BIOES")
    assert ex["ner_tags"] == ["B-PER", "B-LOC", "I-LOC"]


# --- bad input: each names file, line and problem ------------------------------------------------


@pytest.mark.parametrize(
    "text, line, problem",
    [
        ("Paris\tB-LOC\nis\n", 2, "wrong column count: 1 columns"),
        ("Paris\n", 1, "found 1 column"),
        ("Paris\tB-LOC\tx\nis\tO\n", 2, "wrong column count: 2 columns"),
        ("Paris\tB-LOC\nis\t\n", 2, "empty tag"),
        ("Paris\tB-LOC\n\tO\n", 2, "empty token"),
        ("Paris\tB-LOC\nis\tX-PER\n", 2, "malformed tag 'X-PER'"),
        ("Paris\tB-LOC\nis\tPER\n", 2, "malformed tag 'PER'"),
        ("Paris\tB-LOC\n\nis\tO\nAda\tI-PER\n", 4, "stray I- tag"),
        ("New\tB-LOC\nYork\tI-ORG\n", 2, "I- continuation across types"),
    ],
)
def test_bad_conll_lines(tmp_path, text, line, problem):
    path = _write(tmp_path, text)
    message = _error(path)
    assert message.startswith(f"{path}, line {line}: ")
    assert problem in message


def test_unknown_tag_against_label_set(tmp_path):
    path = _write(tmp_path, "Monday\tB-DATE\n")
    assert read_conll(path, types=LABEL_SETS["masakhaner"]) is not None
    message = _error(path, types=LABEL_SETS["conll"])
    assert f"{path}, line 1: unknown tag 'B-DATE'" in message


def test_repair_policy_fixes_sequences_but_not_malformed_tags(tmp_path, caplog):
    path = _write(tmp_path, "New\tB-LOC\nYork\tI-ORG\n\nAda\tI-PER\n")
    report = ReadReport()
    with caplog.at_level(logging.WARNING):
        out = list(read_conll(path, policy="repair", report=report))
    assert [ex["ner_tags"] for ex in out] == [["B-LOC", "B-ORG"], ["B-PER"]]
    assert report.repairs.counts == Counter({"I- continuation across types": 1, "stray I- tag": 1})
    assert "1 I- continuation across types, 1 stray I- tag" in caplog.text
    bad = _write(tmp_path, "Ada\tB-PER\nis\tX-O\n", "malformed.conll")
    assert "line 2: malformed tag" in _error(bad, policy="repair")


@pytest.mark.parametrize(
    "text, what", [("", "empty file"), ("\n\n  \n", "empty file"), ("-DOCSTART- O\n\n", "only -DOCSTART-")]
)
def test_empty_files(tmp_path, text, what):
    path = _write(tmp_path, text)
    message = _error(path)
    assert message.startswith(str(path)) and what in message


def test_directory_and_missing_file(tmp_path):
    assert _error(tmp_path) == f"{tmp_path}: is a directory, expected a file"
    assert _error(tmp_path / "nope.conll") == f"{tmp_path / 'nope.conll'}: no such file"
    with pytest.raises(InputError, match="is a directory"):
        list(read_parquet(tmp_path))


def test_latin1_fallback_is_reported(tmp_path, caplog):
    utf8 = demo_path("de").read_text(encoding="utf-8")
    path = tmp_path / "de.latin1.conll"
    path.write_bytes(utf8.encode("latin-1"))
    non_ascii = [i for i, line in enumerate(utf8.splitlines(), 1) if not line.isascii()]
    report = ReadReport()
    with caplog.at_level(logging.WARNING):
        got = list(read_conll(path, report=report))
    assert got == list(read_conll(demo_path("de")))
    assert report.fallback_lines == len(non_ascii) > 0
    assert report.first_fallback_line == non_ascii[0]
    assert f"{len(non_ascii)} line(s) are not valid UTF-8 (first: line {non_ascii[0]})" in caplog.text
    # without a fallback: an error naming the first bad line and byte
    message = _error(path, encoding_fallback=None)
    assert message.startswith(f"{path}, line {non_ascii[0]}: byte 0x")
    assert "not valid UTF-8" in message


def test_readers_are_lazy_generators(tmp_path):
    # a bad line at the end is only met when reading gets there: nothing is read up front
    path = _write(tmp_path, "Ada\tB-PER\n\nis\tB-\n")
    reader = read_conll(path)
    assert isinstance(reader, types.GeneratorType)
    assert next(reader)["tokens"] == ["Ada"]
    with pytest.raises(InputError, match="line 3"):
        next(reader)


# --- JSONL, parquet, HF datasets ----------------------------------------------------------------


def test_jsonl_round_trip_and_errors(tmp_path, data_dir):
    src = list(read_conll(data_dir / "europarl-ner" / "es.conll"))
    path = tmp_path / "es.jsonl"
    assert write_jsonl(src, path) == 799
    assert list(read_jsonl(path)) == src
    assert list(read_path(path)) == src

    bad = tmp_path / "bad.jsonl"
    bad.write_text(
        json.dumps({"tokens": ["a"], "ner_tags": ["O"]}) + "\n"
        + json.dumps({"tokens": ["a", "b"], "ner_tags": ["O"]}) + "\n",
        encoding="utf-8",
    )
    with pytest.raises(InputError, match=r"bad.jsonl, line 2: length mismatch: 2 tokens but 1 tags"):
        list(read_jsonl(bad))
    bad.write_text('{"tokens": ["a"], "ner_tags": ["O"]}\n{"tokens": [\n', encoding="utf-8")
    with pytest.raises(InputError, match="line 2: invalid JSON"):
        list(read_jsonl(bad))
    bad.write_text("", encoding="utf-8")
    with pytest.raises(InputError, match="empty file"):
        list(read_jsonl(bad))


def test_parquet_round_trip_in_row_groups(tmp_path, data_dir):
    import pyarrow.parquet as pq

    src = list(read_conll(data_dir / "europarl-ner" / "de.conll"))
    names = label_names(LABEL_SETS["conll"])
    path = tmp_path / "de.parquet"
    assert write_parquet(iter(src), path, label_names=names, row_group_size=100) == 799
    assert pq.ParquetFile(path).metadata.num_row_groups == 8  # ceil(799 / 100)
    assert list(read_parquet(path, batch_size=64)) == src  # names come from the file's metadata
    ids = list(read_parquet(path, ids=True))
    assert [[names[i] for i in ex["ner_tags"]] for ex in ids] == [ex["ner_tags"] for ex in src]

    # datasets sees a ClassLabel column, and read_hf_dataset reads the file back by builder name
    from datasets import load_dataset

    ds = load_dataset("parquet", data_files=str(path), split="train")
    assert ds.features["ner_tags"].feature.names == names
    assert list(read_hf_dataset("parquet", data_files=str(path), split="train")) == src
    assert list(read_hf_dataset("parquet", data_files=str(path), split="train", ids=True)) == ids

    plain = tmp_path / "plain.parquet"
    write_parquet(src[:5], plain)
    assert list(read_parquet(plain)) == src[:5]


def test_hf_dataset_that_cannot_load_is_a_user_error(tmp_path):
    missing = tmp_path / "missing.parquet"
    with pytest.raises(InputError, match=r"parquet \[train\]: could not load the dataset: FileNotFoundError"):
        next(read_hf_dataset("parquet", data_files=str(missing), split="train"))


def test_parquet_bad_rows(tmp_path):
    path = tmp_path / "bad.parquet"
    write_parquet([{"id": "a", "tokens": ["x", "y"], "ner_tags": ["O"]}], path)
    with pytest.raises(InputError, match=r"bad.parquet, row 0: length mismatch"):
        list(read_parquet(path))
    write_parquet([{"id": "a", "tokens": ["x"], "ner_tags": ["O"]},
                   {"id": "b", "tokens": ["Ada"], "ner_tags": ["I-PER"]}], path)
    with pytest.raises(InputError, match=r"row 1: .*stray I- tag"):
        list(read_parquet(path))
    with pytest.raises(InputError, match="not in the label names"):
        write_parquet([{"id": "a", "tokens": ["x"], "ner_tags": ["B-FOO"]}], path, label_names=["O"])
    not_parquet = _write(tmp_path, "hello\n", "x.parquet")
    with pytest.raises(InputError, match="not a parquet file"):
        list(read_parquet(not_parquet))


def test_conll_writer_round_trip(tmp_path, data_dir):
    src = list(read_conll(data_dir / "conll" / "nl" / "test.tsv"))
    path = tmp_path / "nl.conll"
    assert write_conll(src, path) == len(src)
    assert list(read_conll(path)) == src
    names = label_names(LABEL_SETS["conll"])
    as_ids = [{**ex, "ner_tags": [names.index(t) for t in ex["ner_tags"]]} for ex in src[:10]]
    write_conll(as_ids, path, label_names=names)
    assert list(read_conll(path)) == src[:10]
    with pytest.raises(InputError, match="contains the separator"):
        write_conll([{"id": "0", "tokens": ["a\tb"], "ner_tags": ["O"]}], path)


# --- parallel text ---------------------------------------------------------------------------------


def test_parallel_text_real_pairs(data_dir):
    src, tgt = corpus_files("lafand", "en-hau", "dev", data_dir=data_dir)
    pairs = list(read_parallel_text(src, tgt))
    assert len(pairs) == 1300 == len(src.read_text(encoding="utf-8").splitlines())
    assert pairs[0]["src"] == src.read_text(encoding="utf-8").splitlines()[0].strip()
    assert pairs[-1]["tgt"] == tgt.read_text(encoding="utf-8").splitlines()[-1].strip()


def test_parallel_text_mismatch_names_both_counts(tmp_path, data_dir):
    src = data_dir / "lafand" / "en-hau" / "dev.en"
    short = tmp_path / "short.hau"
    short.write_text("\n".join(["x"] * 1299) + "\n", encoding="utf-8")
    with pytest.raises(InputError) as exc:
        next(read_parallel_text(src, short))
    assert f"{src} has 1300 lines but {short} has 1299" in str(exc.value)


def test_parallel_text_blank_lines_counted(tmp_path):
    a = _write(tmp_path, "one\n\nthree\n", "a.txt")
    b = _write(tmp_path, "uno\ndos\ntres\n", "b.txt")
    report = ReadReport()
    assert [p["id"] for p in read_parallel_text(a, b, report=report)] == ["0", "2"]
    assert report.skipped == {"blank line on one or both sides": 1}


# --- registry ----------------------------------------------------------------------------------


def test_registry_entries_are_complete():
    assert set(CORPORA) == {
        "europarl-ner", "conll2003", "conll2002", "masakhaner2", "xtreme-panx", "wikiann", "lafand",
    }
    for info in CORPORA.values():
        assert info.hub_id and info.splits and info.licence and info.citation and info.languages
        assert info.label_set is None or info.label_set in LABEL_SETS
        assert set(info.local_languages) <= set(info.languages)
    assert get_corpus("xtreme-panx").hub_config_for("sw") == "PAN-X.sw"
    assert get_corpus("lafand").hub_config_for("en-hau") == "en-hau"


def test_registry_local_layout_matches_data_dir(data_dir):
    """Every language the registry says is local has its files where the registry says."""
    for info in CORPORA.values():
        for lang in info.local_languages:
            files = corpus_files(info.name, lang, data_dir=data_dir)
            assert files and all(f.is_file() for f in files), (info.name, lang)
    assert [f.name for f in corpus_files("masakhaner2", "yor", "validation", data_dir=data_dir)] == ["dev.txt"]
    assert [f.name for f in corpus_files("conll2002", "es", "dev", data_dir=data_dir)] == ["dev.tsv"]
    assert len(corpus_files("lafand", "en-amh", data_dir=data_dir)) == 4  # no train split


def test_load_corpus_reads_env_data_dir(data_dir, monkeypatch):
    monkeypatch.setenv("NERXL_DATA_DIR", str(data_dir))
    assert corpus_stats(load_corpus("europarl-ner:de")).sentences == 799
    assert corpus_stats(load_corpus("conll2003:en", "test")).sentences == 3453
    pair = next(load_corpus("lafand:en-luo", "test"))
    assert set(pair) == {"id", "src", "tgt"}


def test_registry_errors(tmp_path, monkeypatch):
    with pytest.raises(ConfigError, match=r"Unknown corpus 'europarl' \(did you mean 'europarl-ner'\?\)"):
        parse_corpus_ref("europarl:de")
    with pytest.raises(ConfigError, match="needs a language"):
        parse_corpus_ref("europarl-ner")
    with pytest.raises(ConfigError, match="Unknown language of europarl-ner 'fr'"):
        parse_corpus_ref("europarl-ner:fr")
    with pytest.raises(ConfigError, match="Unknown split of conll2003 'tset'"):
        corpus_files("conll2003", "en", "tset", data_dir=tmp_path)
    with pytest.raises(ConfigError, match="no local files"):
        corpus_files("wikiann", "sw", data_dir=tmp_path)
    with pytest.raises(InputError, match="missing file for conll2003:en split test"):
        corpus_files("conll2003", "en", "test", data_dir=tmp_path)
    monkeypatch.delenv("NERXL_DATA_DIR", raising=False)
    with pytest.raises(ConfigError, match="conll2003:de is not on the Hub"):
        load_corpus("conll2003:de")


# --- demo sample -------------------------------------------------------------------------------


def test_demo_sample_is_parallel_with_matching_entities():
    demo = {lang: list(read_conll(demo_path(lang), types=LABEL_SETS["conll"])) for lang in DEMO_LANGUAGES}
    assert {len(s) for s in demo.values()} == {40}
    spans = {lang: [tags_to_spans(ex["ner_tags"]) for ex in s] for lang, s in demo.items()}
    for i in range(40):
        counts = {lang: Counter(s.label for s in spans[lang][i]) for lang in DEMO_LANGUAGES}
        assert counts["en"] == counts["de"] == counts["es"], (i, counts)
    # what the demo is for: entity-free sentences, multiword names, order changes across languages
    assert sum(1 for s in spans["en"] if not s) >= 5
    assert sum(1 for s in spans["en"] for sp in s if len(sp) > 1) >= 10
    reordered = sum(
        1 for i in range(40)
        if [s.label for s in spans["en"][i]] != [s.label for s in spans["de"][i]]
        or [s.label for s in spans["en"][i]] != [s.label for s in spans["es"][i]]
    )
    assert reordered >= 3
    for lang in DEMO_LANGUAGES:  # the Europarl-NER format: token<TAB>tag, blank line between
        lines = demo_path(lang).read_text(encoding="utf-8").splitlines()
        assert all(line == "" or line.count("\t") == 1 for line in lines)


def test_demo_path_unknown_language():
    with pytest.raises(ConfigError, match="Unknown demo language 'fr'"):
        demo_path("fr")
