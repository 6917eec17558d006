"""Tag schemes, spans, validation and label mapping (nerxl_data.schema).

The round-trip tests run on every file of Europarl-NER and CoNLL under NERXL_DATA_DIR, and the
decoded spans are cross-checked against seqeval's independent decoder.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from seqeval.metrics.sequence_labeling import get_entities
from seqeval.scheme import IOBES, Entities

from nerxl_data.corpora import read_conll
from nerxl_data.errors import ConfigError, TagError
from nerxl_data.schema import (
    LABEL_SETS,
    Span,
    TagRepairs,
    TypeMapping,
    convert_tags,
    label_names,
    spans_to_tags,
    tags_to_spans,
    types_of,
    validate_tags,
)


def _real_files(data_dir: Path) -> list[Path]:
    files = sorted((data_dir / "europarl-ner").glob("*.conll")) + sorted(
        (data_dir / "conll").glob("*/*.tsv")
    )
    assert len(files) == 16, files  # 4 Europarl languages + 4 CoNLL languages x 3 splits
    return files


def test_round_trip_every_real_file(data_dir):
    """IOB2 -> spans -> IOB1/BIOES -> spans -> IOB2 is the identity on every sentence, and the
    spans agree with seqeval's decoders (IOB2 lenient decoder, strict IOBES decoder)."""
    for path in _real_files(data_dir):
        sentences = list(read_conll(path))
        iob1_differs = 0
        bioes_tags, bioes_spans = [], []
        for ex in sentences:
            tags = ex["ner_tags"]
            spans = tags_to_spans(tags, "IOB2")
            seqeval_spans = [Span(s, e + 1, t) for t, s, e in get_entities(tags)]
            assert spans == sorted(seqeval_spans), (path, ex["id"])
            for scheme in ("IOB1", "BIOES"):
                other = convert_tags(tags, "IOB2", scheme)
                assert len(other) == len(tags)
                assert tags_to_spans(other, scheme) == spans, (path, ex["id"], scheme)
                assert convert_tags(other, scheme, "IOB2") == tags, (path, ex["id"], scheme)
            iob1 = convert_tags(tags, "IOB2", "IOB1")
            iob1_differs += iob1 != tags
            assert convert_tags(convert_tags(iob1, "IOB1", "BIOES"), "BIOES", "IOB2") == tags
            bioes_tags.append(convert_tags(tags, "IOB2", "BIOES"))
            bioes_spans.append(spans)
        # seqeval's strict IOBES reader finds the same entities in our BIOES output
        strict = Entities(bioes_tags, IOBES).entities
        for ours, theirs in zip(bioes_spans, strict, strict=True):
            assert ours == sorted(Span(e.start, e.end, e.tag) for e in theirs), path
        # IOB1 really is a different encoding (B- only between adjacent same-type entities)
        assert iob1_differs > 0, path


def test_stray_i_strict_and_repair():
    with pytest.raises(TagError) as exc:
        tags_to_spans(["O", "I-PER", "I-PER"])
    assert exc.value.token == 1
    assert "stray I- tag" in str(exc.value) and "'I-PER' after 'O'" in str(exc.value)

    repairs = TagRepairs()
    assert tags_to_spans(["O", "I-PER", "I-PER"], policy="repair", repairs=repairs) == [
        Span(1, 3, "PER")
    ]
    assert repairs.counts == Counter({"stray I- tag": 1})


def test_i_across_types():
    with pytest.raises(TagError, match="I- continuation across types") as exc:
        validate_tags(["B-PER", "I-LOC", "O"])
    assert exc.value.token == 1
    repairs = TagRepairs()
    fixed = validate_tags(["B-PER", "I-LOC", "O"], policy="repair", repairs=repairs)
    assert fixed == ["B-PER", "B-LOC", "O"]
    assert repairs.summary() == "1 I- continuation across types"


def test_iob1_is_lenient_and_uses_b_only_between_same_type():
    tags = ["I-PER", "I-PER", "B-PER", "O", "I-LOC"]
    spans = tags_to_spans(tags, "IOB1")
    assert spans == [Span(0, 2, "PER"), Span(2, 3, "PER"), Span(4, 5, "LOC")]
    assert spans_to_tags(spans, 5, "IOB1") == tags
    assert convert_tags(tags, "IOB1", "IOB2") == ["B-PER", "I-PER", "B-PER", "O", "B-LOC"]


@pytest.mark.parametrize(
    "tags, kinds",
    [
        (["B-PER", "O"], {"unterminated BIOES entity": 1}),
        (["B-PER", "I-PER"], {"unterminated BIOES entity": 1}),
        (["O", "E-PER"], {"stray E- tag": 1}),
        (["B-PER", "S-LOC"], {"unterminated BIOES entity": 1}),
        (["I-PER", "E-PER"], {"stray I- tag": 1}),
    ],
)
def test_bioes_invalid(tags, kinds):
    with pytest.raises(TagError):
        tags_to_spans(tags, "BIOES")
    repairs = TagRepairs()
    spans = tags_to_spans(tags, "BIOES", "repair", repairs)
    assert dict(repairs.counts) == kinds
    # the repaired sequence is valid BIOES
    fixed = spans_to_tags(spans, len(tags), "BIOES")
    assert tags_to_spans(fixed, "BIOES") == spans


@pytest.mark.parametrize("tag", ["", "PER", "B-", "X-PER", "S-PER", "b-per"])
def test_malformed_tags_raise_even_under_repair(tag):
    with pytest.raises(TagError) as exc:
        tags_to_spans(["O", tag], "IOB2", "repair")
    assert exc.value.token == 1


def test_unknown_type():
    with pytest.raises(TagError, match="unknown tag 'B-DATE'") as exc:
        validate_tags(["O", "B-DATE"], types=LABEL_SETS["conll"])
    assert exc.value.token == 1
    assert validate_tags(["B-DATE"], types=LABEL_SETS["masakhaner"]) == ["B-DATE"]


def test_unknown_scheme_and_policy_list_the_options():
    with pytest.raises(ConfigError, match="did you mean 'BIOES'"):
        tags_to_spans(["O"], "BIOSE")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="Known: repair, strict"):
        tags_to_spans(["O"], "IOB2", "fix")  # type: ignore[arg-type]


def test_spans_to_tags_rejects_overlap_and_out_of_range():
    with pytest.raises(TagError, match="overlap"):
        spans_to_tags([Span(0, 2, "PER"), Span(1, 3, "LOC")], 3)
    with pytest.raises(TagError, match="does not fit"):
        spans_to_tags([Span(2, 4, "PER")], 3)


def test_label_names_match_the_hub_europarl_ner_order():
    # ShkalikovOleh/europarl-ner and conll2003 on the Hub use this ClassLabel order.
    assert label_names(LABEL_SETS["conll"]) == [
        "O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC", "B-MISC", "I-MISC",
    ]
    assert types_of(label_names(LABEL_SETS["masakhaner"], "BIOES")) == list(LABEL_SETS["masakhaner"])


def test_type_mapping_policies_on_real_data(data_dir):
    """CoNLL -> WikiANN label set: MISC is dropped (and counted), kept, or an error."""
    sentences = list(read_conll(data_dir / "europarl-ner" / "en.conll"))
    misc = sum(1 for ex in sentences for s in tags_to_spans(ex["ner_tags"]) if s.label == "MISC")
    assert misc > 0
    drop = TypeMapping(LABEL_SETS["wikiann"], missing="drop")
    dropped: Counter = Counter()
    mapped = [drop.map_tags(ex["ner_tags"], dropped) for ex in sentences]
    assert dropped == Counter({"MISC": misc})
    assert not any(t.endswith("-MISC") for tags in mapped for t in tags)
    keep = TypeMapping(LABEL_SETS["wikiann"], missing="keep")
    assert [keep.map_tags(ex["ner_tags"]) for ex in sentences] == [ex["ner_tags"] for ex in sentences]
    error = TypeMapping(LABEL_SETS["wikiann"], missing="error")
    with pytest.raises(ConfigError, match="'MISC' is not in the target label set"):
        for ex in sentences:
            error.map_tags(ex["ner_tags"])
    assert drop.lacking(LABEL_SETS["conll"]) == ["MISC"]


def test_type_mapping_rename_and_bad_policy():
    m = TypeMapping(("PER", "LOC"), rename={"PERSON": "PER", "GPE": "LOC"})
    assert m.map_tags(["B-PERSON", "I-PERSON", "B-GPE", "B-DATE"]) == ["B-PER", "I-PER", "B-LOC", "O"]
    with pytest.raises(ConfigError, match="missing-type policy"):
        TypeMapping(("PER",), missing="ignore")  # type: ignore[arg-type]
