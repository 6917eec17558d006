"""The fast surface scorer (candidates.py) gives exactly what the straightforward difflib
computation gives: the same ratios, the same candidates, the same projections (scores included).

The reference (nerxl_data.testing.reference) is the scorer as first written: a ``difflib.SequenceMatcher`` per
candidate, every target word compared for surface anchors, every scorer called per candidate.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nerxl_data.project import CandidatesConfig, project
from nerxl_data.project import candidates as cand
from nerxl_data.schema import Link, Span, tags_to_spans
from nerxl_data.testing.reference import ratio, reference_projection

TEXT = st.text(alphabet="abcaáß ΣσKk-", max_size=24)


@settings(max_examples=3000, deadline=None)
@given(TEXT, TEXT, st.sampled_from([0.0, 0.5, 0.8, 0.9]))
def test_similarity_is_difflibs_ratio(a, b, floor):
    ref = ratio(a, b)
    got = cand.similarity(a, b, floor)
    assert got == (ref if ref >= floor else 0.0) or (got == 0.0 and ref < floor)
    assert cand.similarity(a, b) == ref


WORDS = st.lists(st.sampled_from(["Prodi", "prodi", "Prodis", "Kommission", "Commission", "der", ",", "EU",
                                  "EU-Kommission", "Kosovo", "Kosovos", "Straße", "STRASSE", "la", "Unión"]),
                 min_size=1, max_size=10)


@settings(max_examples=400, deadline=None)
@given(WORDS, WORDS, st.data(), st.sampled_from([
    CandidatesConfig(scorers=("links", "surface"), weights=(1.0, 0.5)),
    CandidatesConfig(matching="ilp", scorers=("surface", "links")),
    CandidatesConfig(scorers=("surface",), min_surface=0.6, trim=False),
    CandidatesConfig(scorers=("links", "surface"), outside=0.5, max_ngram=3),
]))
def test_fast_surface_projection_equals_reference_on_generated_pairs(src, tgt, data, config):
    start = data.draw(st.integers(0, len(src) - 1))
    end = data.draw(st.integers(start + 1, len(src)))
    spans = [Span(start, end, "ORG")]
    links = data.draw(st.lists(st.builds(Link, st.integers(0, len(src) - 1), st.integers(0, len(tgt) - 1)),
                               max_size=6))
    assert project(src, spans, tgt, links, "candidates-ngram", config) == reference_projection(
        src, spans, tgt, links, config)


@pytest.mark.parametrize("lang", ["de", "es", "it"])
def test_fast_surface_projection_equals_reference_on_europarl(data_dir, europarl_en_de, lang):
    """Every Europarl-NER pair, gold English entities, links from every other source word to
    the diagonal (no aligner needed): the recommended configuration and an ILP variant."""
    from nerxl_data.corpora.registry import load_corpus

    en = europarl_en_de[0]
    tgt_rows = europarl_en_de[1] if lang == "de" else list(
        load_corpus(f"europarl-ner:{lang}", "test", data_dir=data_dir, policy="repair"))
    configs = [CandidatesConfig(scorers=("links", "surface"), weights=(1.0, 0.5)),
               CandidatesConfig(matching="ilp", scorers=("links", "surface"), weights=(1.0, 0.5))]
    n_surface = 0
    for x, y in zip(en, tgt_rows, strict=True):
        src, tgt = x["tokens"], y["tokens"]
        spans = tags_to_spans(x["ner_tags"])
        links = [Link(i, min(len(tgt) - 1, round(i * len(tgt) / len(src)))) for i in range(0, len(src), 2)]
        for config in configs:
            got = project(src, spans, tgt, links, "candidates-ngram", config)
            assert got == reference_projection(src, spans, tgt, links, config)
            n_surface += sum(s.score > 1.0 for s in got.spans)  # the surface score added something
    assert n_surface > 20  # the surface scorer really took part (46 on de)
