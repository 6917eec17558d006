"""Projection methods on hand-made cases: each case pins one rule of the method."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nerxl_data.errors import ConfigError, InputError
from nerxl_data.project import (
    DROP_REASONS,
    METHODS,
    CandidatesConfig,
    EasyProjectConfig,
    HeuristicConfig,
    HullConfig,
    LinkCombination,
    ProjectionReport,
    combine_links,
    compose_links,
    invert_links,
    parse_markers,
    project,
    project_batch,
)
from nerxl_data.project.candidates import match_bipartite, match_greedy, match_ilp
from nerxl_data.schema import Link, Span


def L(*pairs):
    return [Link(i, j) for i, j in pairs]


SRC = ["the", "European", "Parliament", "and", "Mr", "Prodi", "agree"]
TGT = ["das", "Europäische", "Parlament", "und", "Herr", "Prodi", "stimmen", "zu"]
SPANS = [Span(1, 3, "ORG"), Span(5, 6, "PER")]
LINKS = L((0, 0), (1, 1), (2, 2), (3, 3), (4, 4), (5, 5), (6, 6), (6, 7))


@pytest.mark.parametrize("method", ["hull", "heuristic", "candidates-ngram"])
def test_clean_links_project_every_entity(method):
    p = project(SRC, SPANS, TGT, LINKS, method)
    assert sorted(s.span for s in p.spans) == [Span(1, 3, "ORG"), Span(5, 6, "PER")]
    assert p.dropped == []
    assert p.tags(len(TGT)) == ["O", "B-ORG", "I-ORG", "O", "O", "B-PER", "O", "O"]
    assert all(s.score == 1.0 for s in p.spans)


def test_hull_spans_first_to_last_linked_word_but_heuristic_splits_runs():
    links = L((1, 1), (2, 5))  # "European" -> 1, "Parliament" -> 5: far apart
    hull = project(SRC, [SPANS[0]], TGT, links, "hull")
    assert hull.spans[0].span == Span(1, 6, "ORG")
    assert hull.spans[0].score == pytest.approx(2 * 2 / (2 + 5))
    heur = project(SRC, [SPANS[0]], TGT, links, "heuristic", HeuristicConfig(min_ratio=None))
    assert sorted(s.span for s in heur.spans) == [Span(1, 2, "ORG"), Span(5, 6, "ORG")]
    largest = project(SRC, [SPANS[0]], TGT, links + L((2, 6)), "heuristic",
                      HeuristicConfig(min_ratio=None, largest_run_only=True))
    assert [s.span for s in largest.spans] == [Span(5, 7, "ORG")]


def test_heuristic_merges_gaps_up_to_max_gap_and_filters_short_runs():
    links = L((1, 1), (2, 3))  # one unlinked word (2) between 1 and 3
    p = project(SRC, [SPANS[0]], TGT, links, "heuristic", HeuristicConfig(trim=False))
    assert p.spans[0].span == Span(1, 4, "ORG")
    # trimmed: "und" is a short lowercase word at the edge
    assert project(SRC, [SPANS[0]], TGT, links, "heuristic").spans[0].span == Span(1, 3, "ORG")
    p = project(SRC, [SPANS[0]], TGT, L((1, 1), (2, 4)), "heuristic", HeuristicConfig(max_gap=1))
    assert p.spans == []  # a gap of 2 is not merged; runs of 1 word: 1/2 is not > 0.8
    p = project(SRC, [SPANS[0]], TGT, links, "heuristic", HeuristicConfig(max_gap=0))
    # runs of 1 word for a 2-word entity: 1/2 is not > 0.8
    assert p.spans == [] and [d.reason for d in p.dropped] == ["below-threshold"]


@pytest.mark.parametrize("method, config", [("hull", HullConfig), ("heuristic", HeuristicConfig),
                                            ("candidates-ngram", CandidatesConfig)])
def test_trim_drops_punctuation_and_articles_at_edges_unless_the_source_has_them(method, config):
    tgt = ["Ich", "danke", "der", "Kommission", ",", "Herr", "Prodi"]
    src = ["I", "thank", "the", "Commission", ",", "Mr", "Prodi"]
    links = L((2, 2), (3, 2), (3, 3), (3, 4))
    p = project(src, [Span(3, 4, "ORG")], tgt, links, method)
    assert [s.span for s in p.spans] == [Span(3, 4, "ORG")]
    p = project(src, [Span(3, 4, "ORG")], tgt, links, method, config(trim=False))
    assert [s.span for s in p.spans] == [Span(2, 5, "ORG")]
    p = project(src, [Span(2, 4, "ORG")], tgt, links, method)  # "the Commission": keep "der"
    assert [s.span for s in p.spans] == [Span(2, 4, "ORG")]


def test_entities_without_links_are_dropped_with_reason_not_all_o():
    for method in ["hull", "heuristic", "candidates-ngram"]:
        p = project(SRC, SPANS, TGT, L((1, 1), (2, 2)), method)
        assert [s.source for s in p.spans] == [0]
        assert [(d.source, d.reason) for d in p.dropped] == [(1, "no-links")]


def test_overlaps_are_resolved_by_score_and_reported():
    # both entities link to target word 5; PER's link is its only one, ORG spreads over 4..5
    links = L((1, 4), (2, 5), (5, 5))
    for method in ["hull", "heuristic", "candidates-ngram"]:
        p = project(SRC, SPANS, TGT, links, method)
        spans = [s.span for s in p.spans]
        assert all(not a.overlaps(b) for a in spans for b in spans if a is not b)
        assert len(p.spans) + len(p.dropped) >= 2
        if method == "candidates-ngram":  # ORG takes 4..6 (score 1.0) before PER (1.0, shorter)
            assert spans == [Span(4, 6, "ORG")]
            assert [(d.source, d.reason) for d in p.dropped] == [(1, "overlap")]


def test_candidates_prefer_tight_span_over_hull():
    # "Parliament" also wrongly linked to "zu" (7): the hull would swallow the sentence
    links = L((1, 1), (2, 2), (2, 7))
    assert project(SRC, [SPANS[0]], TGT, links, "hull").spans[0].span == Span(1, 7, "ORG")  # "zu" trimmed
    p = project(SRC, [SPANS[0]], TGT, links, "candidates-ngram")
    assert p.spans[0].span == Span(1, 3, "ORG")
    assert p.spans[0].score == pytest.approx(2 * 2 / 4)


def test_matchings_bipartite_and_ilp_beat_greedy_when_entities_want_one_candidate():
    # both entities want (0,1); entity 0 has a second choice (3,4)
    pairs = [(1.0, 0, 0, 1), (0.9, 0, 3, 4), (0.95, 1, 0, 1)]
    assert match_greedy(pairs) == [(1.0, 0, 0, 1)]
    best = {(0, 3, 4), (1, 0, 1)}
    assert {(p[1], p[2], p[3]) for p in match_bipartite(pairs)} == best
    assert {(p[1], p[2], p[3]) for p in match_ilp(pairs)} == best


def test_only_ilp_knows_that_distinct_candidates_overlap():
    # entity 0: (0,2) 1.0 or (2,3) 0.9; entity 1: only (1,2) 0.8, which overlaps (0,2)
    pairs = [(1.0, 0, 0, 2), (0.9, 0, 2, 3), (0.8, 1, 1, 2)]
    assert match_greedy(pairs) == [(1.0, 0, 0, 2)]
    assert match_bipartite(pairs) == [(1.0, 0, 0, 2)]  # assigned (1,2) too, then dropped
    assert {(p[1], p[2], p[3]) for p in match_ilp(pairs)} == {(0, 2, 3), (1, 1, 2)}


def test_ilp_no_two_chosen_candidates_overlap():
    # entity 0 and 1 can each take (0,2) or (1,3): they overlap, so only one may be chosen
    pairs = [(0.9, 0, 0, 2), (0.8, 1, 1, 3), (0.7, 1, 0, 2)]
    chosen = match_ilp(pairs)
    assert len(chosen) == 1 and chosen[0][:2] == (0.9, 0)


def test_candidates_ner_uses_given_spans_and_type_aware_model_score():
    cands = [Span(1, 3, "ORG"), Span(5, 6, "PER"), Span(4, 6, "PER")]
    cfg = CandidatesConfig(extract="ner", scorers=("links", "ner"), weights=(1.0, 0.5))
    p = project(SRC, SPANS, TGT, L((1, 1), (2, 2), (5, 5)), "candidates-ner", cfg,
                candidates=cands, candidate_scores=[0.9, 0.9, 0.2])
    assert sorted(s.span for s in p.spans) == [Span(1, 3, "ORG"), Span(5, 6, "PER")]
    with pytest.raises(InputError, match="candidates"):
        project(SRC, SPANS, TGT, LINKS, "candidates-ner")


def test_surface_scorer_projects_copied_names_without_links():
    cfg = CandidatesConfig(scorers=("links", "surface"))
    p = project(SRC, [SPANS[1]], TGT, [], "candidates-ngram", cfg)
    assert [s.span for s in p.spans] == [Span(5, 6, "PER")]
    assert project(SRC, [SPANS[1]], TGT, [], "candidates-ngram").dropped[0].reason == "no-links"


def test_surface_scorer_takes_nfc_and_nfd_spellings_as_the_same_name():
    """A name typed in NFC on the source side and NFD on the target side (``ü`` as one code point
    or as ``u`` + U+0308) is a copied name: the same surface score as an identical spelling."""
    import unicodedata

    src = ["Herr", "Müller", "kommt"]
    nfd = [unicodedata.normalize("NFD", w) for w in src]
    assert nfd[1] != src[1]
    cfg = CandidatesConfig(scorers=("links", "surface"))
    same = project(src, [Span(1, 2, "PER")], src, [], "candidates-ngram", cfg)
    other = project(src, [Span(1, 2, "PER")], nfd, [], "candidates-ngram", cfg)
    assert [s.span for s in other.spans] == [Span(1, 2, "PER")]
    assert [s.score for s in other.spans] == [s.score for s in same.spans]


def test_back_translation_combination_filters_a_wrong_forward_link():
    fwd = L((1, 1), (2, 2), (2, 7))
    back = L((1, 1), (2, 2))
    p = project(SRC, [SPANS[0]], TGT, fwd, "hull", back_links=back)
    assert p.spans[0].span == Span(1, 3, "ORG")
    p = project(SRC, [SPANS[0]], TGT, fwd, "hull", back_links=back,
                combination=LinkCombination("union"))
    assert p.spans[0].span == Span(1, 7, "ORG")
    weighted = combine_links(fwd, back, "weighted", weight=0.5, threshold=0.75)
    assert {(x.src, x.tgt) for x in weighted} == {(1, 1), (2, 2)}


def test_compose_and_invert_links_build_back_translation_links():
    tgt_to_bt = L((0, 0), (1, 2))  # target -> back-translated source'
    bt_to_src = L((0, 1), (2, 0))  # source' -> source
    assert invert_links(compose_links(tgt_to_bt, bt_to_src)) == L((0, 1), (1, 0))


def test_easyproject_takes_best_match_not_last():
    marked = ["Die", "[", "Kommission", "]", "und", "[", "Kommissar", "Monti", "]"]
    src = ["the", "Commission", "and", "Commissioner", "Monti"]
    spans = [Span(1, 2, "ORG"), Span(3, 5, "PER")]
    p = project(src, spans, marked, method="easyproject",
                entity_translations=["Kommission", "Kommissar Monti"])
    assert p.tokens == ["Die", "Kommission", "und", "Kommissar", "Monti"]
    assert sorted(s.span for s in p.spans) == [Span(1, 2, "ORG"), Span(3, 5, "PER")]
    # "Kommissar" alone would pass the threshold for "Kommission" (ratio 0.74), yet the best wins
    assert [s.score for s in sorted(p.spans, key=lambda s: s.source)][0] == 1.0


@pytest.mark.parametrize(
    "marked, reason",
    [(["a", "[", "b"], "unbalanced-markers"), (["a", "]", "b"], "unbalanced-markers"),
     (["[", "a", "[", "b", "]", "]"], "nested-markers")],
)
def test_easyproject_bad_markers_drop_the_sentence_without_crashing(marked, reason):
    p = project(["x", "y"], [Span(0, 1, "PER"), Span(1, 2, "LOC")], marked, method="easyproject")
    assert p.spans == [] and {d.reason for d in p.dropped} == {reason} and len(p.dropped) == 2
    assert reason in DROP_REASONS


def test_easyproject_unmatched_marker_and_glued_brackets():
    plain, spans, err = parse_markers(["[Rom]", "ist", "[schön]"])
    assert (plain, spans, err) == (["Rom", "ist", "schön"], [(0, 1), (2, 3)], None)
    p = project(["Rome", "is", "Paris"], [Span(0, 1, "LOC"), Span(2, 3, "LOC")], ["[Rom]", "ist"],
                method="easyproject", config=EasyProjectConfig(threshold=0.5))
    assert [(d.source, d.reason) for d in p.dropped] == [(1, "unmatched-marker")]


def test_links_outside_sentences_raise_naming_the_row():
    with pytest.raises(InputError, match="row 7.*outside"):
        project(SRC, SPANS, TGT, L((0, 99)), "hull", row=7)
    with pytest.raises(InputError, match="outside"):
        project(SRC, SPANS, TGT, L((99, 0)), "candidates-ngram")


def test_unknown_names_list_the_known_ones():
    with pytest.raises(ConfigError, match="did you mean 'heuristic'"):
        project(SRC, SPANS, TGT, LINKS, "heuristc")
    with pytest.raises(ConfigError, match="Known: bipartite, greedy, ilp"):
        CandidatesConfig(matching="hungarian")
    with pytest.raises(ConfigError, match="no option 'gap'"):
        METHODS["heuristic"].make_config(gap=2)
    with pytest.raises(ConfigError, match="HullConfig"):
        project(SRC, SPANS, TGT, LINKS, "hull", HeuristicConfig())
    assert set(METHODS) == {"hull", "heuristic", "candidates-ngram", "candidates-ner", "easyproject"}
    assert isinstance(METHODS["hull"].make_config(), HullConfig)


def test_project_batch_and_report_count_dropped_by_reason():
    report = ProjectionReport()
    batch = {
        "src_tokens": [SRC, SRC],
        "src_ner_tags": [["O", "B-ORG", "I-ORG", "O", "O", "B-PER", "O"]] * 2,
        "tokens": [TGT, TGT],
        "links": ["0-0 1-1 2-2 5-5", [[1, 1], [2, 2, 0.5]]],
    }
    out = project_batch(batch, "heuristic", report=report.update)
    assert out["ner_tags"][0] == ["O", "B-ORG", "I-ORG", "O", "O", "B-PER", "O", "O"]
    assert out["ner_tags"][1] == ["O", "B-ORG", "I-ORG", "O", "O", "O", "O", "O"]
    assert out["projection_dropped"] == [[], ["1:no-links"]]
    d = report.to_dict()
    assert (d["source_entities"], d["projected"], d["dropped"]) == (4, 3, {"no-links": 1})
    assert d["per_type"]["PER"] == {"source": 2, "projected": 1, "dropped:no-links": 1}
    assert d["mean_score"] == 1.0  # every projected span is exactly its links (link scores are not weights)
    table = report.format()
    assert "no-links" in table and table.splitlines()[-2].startswith("all")


@pytest.mark.parametrize("cell", [["0-0", "1-1"], [[1, "x"]], [{"src": 1}]])
def test_project_batch_names_the_row_of_an_unreadable_links_cell(cell):
    batch = {"src_tokens": [SRC, SRC], "src_ner_tags": [["O", "B-ORG", "I-ORG", "O", "O", "B-PER", "O"]] * 2,
             "tokens": [TGT, TGT], "links": ["1-1", cell]}
    with pytest.raises(InputError, match="row 1.*cannot read .* as a link; give one Pharaoh string per row"):
        project_batch(batch, "heuristic")


def test_project_batch_with_datasets_map():
    datasets = pytest.importorskip("datasets")
    ds = datasets.Dataset.from_dict(
        {"src_tokens": [SRC], "src_ner_tags": [["O", "B-ORG", "I-ORG", "O", "O", "B-PER", "O"]],
         "tokens": [TGT], "links": ["1-1 2-2 5-5"]}
    )
    out = ds.map(project_batch, batched=True, fn_kwargs={"method": "candidates-ngram"})
    assert out[0]["ner_tags"][5] == "B-PER" and out[0]["projection_scores"] == [1.0, 1.0]


def test_hull_config_min_link_score_ignores_weak_links():
    links = [Link(1, 1, 0.9), Link(2, 2, 0.9), Link(2, 7, 0.1)]
    p = project(SRC, [SPANS[0]], TGT, links, "hull", HullConfig(min_link_score=0.5))
    assert p.spans[0].span == Span(1, 3, "ORG")


def test_project_batch_candidates_ner_and_easyproject_columns():
    tags = ["O", "B-ORG", "I-ORG", "O", "O", "B-PER", "O"]
    out = project_batch(
        {"src_tokens": [SRC], "src_ner_tags": [tags], "tokens": [TGT], "links": ["1-1 2-2 5-5"],
         "ner": [[{"start": 1, "end": 3, "label": "ORG", "score": 0.9}]]},
        "candidates-ner", candidates="ner",
    )
    assert out["ner_tags"][0][1:3] == ["B-ORG", "I-ORG"] and out["projection_dropped"] == [["1:below-threshold"]]
    marked = ["Das", "[", "Europäische", "Parlament", "]", "und", "Herr", "[", "Prodi", "]"]
    out = project_batch(
        {"src_tokens": [SRC], "src_ner_tags": [tags], "tokens": [marked], "links": [None],
         "trans": [["Europäisches Parlament", "Prodi"]]},
        "easyproject", entity_translations="trans",
    )
    assert out["tokens"][0] == ["Das", "Europäische", "Parlament", "und", "Herr", "Prodi"]
    assert out["ner_tags"][0] == ["O", "B-ORG", "I-ORG", "O", "O", "B-PER"]


def _brute_force(pairs):
    import itertools

    best = 0.0
    for r in range(len(pairs) + 1):
        for combo in itertools.combinations(pairs, r):
            ents = [p[1] for p in combo]
            if len(set(ents)) < len(ents):
                continue
            if any(a[2] < b[3] and b[2] < a[3] for a, b in itertools.combinations(combo, 2)):
                continue
            best = max(best, sum(p[0] for p in combo))
    return best


def test_ilp_is_optimal_and_never_below_greedy_or_bipartite_on_random_cases():
    import random

    rng = random.Random(0)
    for _ in range(60):
        pairs = []
        for k in range(rng.randint(1, 3)):
            for _ in range(rng.randint(1, 3)):
                a = rng.randint(0, 6)
                pairs.append((round(rng.uniform(0.1, 1.0), 3), k, a, a + rng.randint(1, 3)))
        pairs = list(dict.fromkeys(pairs))
        total = {name: sum(p[0] for p in f(pairs))
                 for name, f in [("greedy", match_greedy), ("bipartite", match_bipartite), ("ilp", match_ilp)]}
        assert total["ilp"] == pytest.approx(_brute_force(pairs))
        assert total["ilp"] >= total["greedy"] - 1e-9 and total["ilp"] >= total["bipartite"] - 1e-9
        chosen = match_ilp(pairs)
        assert len({p[1] for p in chosen}) == len(chosen)
        assert not any(a[2] < b[3] and b[2] < a[3] for i, a in enumerate(chosen) for b in chosen[i + 1:])


def _prune_reference(pairs):
    """The definition: drop a pair when a pair of the same entity inside its span scores more."""
    return [p for p in pairs
            if not any(q[1] == p[1] and q[2] >= p[2] and q[3] <= p[3] and q[0] > p[0] for q in pairs)]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from([0.1, 0.25, 0.5, 0.75, 0.9, 1.0]), st.integers(0, 1),
                          st.integers(0, 12), st.integers(1, 5)), min_size=1, max_size=90))
def test_dominated_pairs_are_pruned_exactly_and_ilp_stays_optimal_on_large_entities(raw):
    """Entities with many candidates (past the vectorised threshold) prune exactly the dominated
    pairs, and the ILP after all reductions scores what HiGHS scores on the unreduced problem."""
    from nerxl_data.project.candidates import _VECTOR_MIN, _prune_dominated, _solve_milp

    pairs = list(dict.fromkeys((s, k, a, a + n) for s, k, a, n in raw))
    assert sorted(_prune_dominated(pairs)) == sorted(_prune_reference(pairs))
    assert sum(p[0] for p in match_ilp(pairs)) == pytest.approx(sum(p[0] for p in _solve_milp(pairs)))
    big = [(round(0.01 * (i % 97), 2), 0, i % 13, i % 13 + 1 + i % 5) for i in range(3 * _VECTOR_MIN)]
    big = list(dict.fromkeys(big))
    assert len(big) > _VECTOR_MIN and sorted(_prune_dominated(big)) == sorted(_prune_reference(big))
