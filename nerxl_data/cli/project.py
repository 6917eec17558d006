"""`nerxl project`, `nerxl evaluate` and `nerxl bench europarl`: parse arguments, call the library."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from ..errors import ConfigError, InputError, excerpt
from ..project.api import METHODS


def parse_options(method: str, items: tuple[str, ...]) -> dict[str, Any]:
    """``("max_gap=2", "scorers=links,surface")`` -> ``{"max_gap": 2, "scorers": ("links", "surface")}``.

    Raises:
        ConfigError: an item without ``=`` or an option the method does not have.
    """
    from ..options import parse_pairs
    from ..project import get_method

    return parse_pairs(items, "-o", get_method(method).config_cls, f"method {method!r}")


def _is_text(path: Path, fmt: str) -> bool:
    """Whether the target is read as tokenised text (one sentence a line) rather than CoNLL (by
    its name, under a compression suffix: ``de.conll.gz`` is CoNLL)."""
    from ..corpora._io import format_suffix

    return fmt == "text" or (fmt == "auto" and format_suffix(path) not in (".conll", ".tsv", ".iob", ".bio"))


def _read_target(path: Path, fmt: str) -> list[list[str]]:
    from ..corpora.conll import read_conll

    if not _is_text(path, fmt):
        return [ex["tokens"] for ex in read_conll(path, policy="repair")]
    from ..corpora.parallel import read_tokenized

    return read_tokenized(path)


_method_names = list(METHODS)  # the registry, not a copy of its names


def _with_recommended(method: str, options: dict[str, Any]) -> dict[str, Any]:
    """The options ``nerxl build`` and ``nerxl bench`` use for ``method`` (the benchmark's
    recommended setup, for its method), overridden by the user's; scorers given without weights
    drop the recommended weights."""
    from ..bench import RECOMMENDED

    base = dict(RECOMMENDED.options) if method == RECOMMENDED.method else {}
    if "scorers" in options:
        base.pop("weights", None)
    return {**base, **options}


@click.command("project")
@click.option("--src-conll", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Source sentences with entities (CoNLL, IOB2).")
@click.option("--tgt", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Target sentences: CoNLL, or tokenised text (one sentence a line).")
@click.option("--tgt-format", type=click.Choice(["auto", "conll", "text"]), default="auto", show_default=True)
@click.option("--links", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Pharaoh links source-target, one line per sentence (i-j or i-j:score).")
@click.option("--back-links", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Links from back-translation (or a second aligner), combined with --links.")
@click.option("--combine", type=click.Choice(["intersection", "union", "weighted"]), default="intersection",
              show_default=True, help="How --back-links are combined with --links.")
@click.option("--method", default="candidates-ngram", show_default=True,
              help=f"One of: {', '.join(_method_names)} (candidates-ngram: with the options nerxl build and bench "
                   "use, greedy matching, links + surface scorers weighted 1, 0.5, unless -o sets them).")
@click.option("-o", "--option", "options", multiple=True, metavar="KEY=VALUE",
              help="A method option, e.g. -o max_gap=2 -o matching=ilp -o scorers=links,surface.")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="Output CoNLL.")
@click.option("--report-json", type=click.Path(dir_okay=False, path_type=Path), help="Also write the report as JSON.")
def project_cmd(src_conll, tgt, tgt_format, links, back_links, combine, method, options, out, report_json):
    """Project the entities of SRC onto TGT through word links; print the projection report."""
    from ..align.pharaoh import parse_links, read_link_lines
    from ..corpora.conll import read_conll, write_conll
    from ..paths import atomic_path, check_distinct, check_output
    from ..project import LinkCombination, ProjectionReport, get_method, project_batch

    m = get_method(method)
    config = m.make_config(**_with_recommended(method, parse_options(method, options)))
    check_distinct({"--out": out, "--report-json": report_json},
                   {"--src-conll": src_conll, "--tgt": tgt, "--links": links, "--back-links": back_links})
    for path in (out, report_json):
        if path is not None:
            check_output(path)
    src = list(read_conll(src_conll))
    tgt_words = _read_target(tgt, tgt_format)
    empty = next((i for i, words in enumerate(tgt_words) if not words), None)
    if empty is not None:  # CoNLL cannot hold an empty sentence: every later one would shift
        where = {"line": empty + 1} if _is_text(tgt, tgt_format) else {"row": empty}
        raise InputError("is an empty target sentence: the CoNLL output cannot hold it and every later "
                         "sentence would shift; remove the pair from both files", source=str(tgt), **where)
    if len(src) != len(tgt_words):
        raise InputError(f"{len(src)} source sentences but {len(tgt_words)} target sentences", source=str(tgt))
    if m.uses_links and links is None:
        raise ConfigError(f"method {method!r} needs --links")

    def read(path):
        if path is None:
            return None
        rows = read_link_lines(path)
        if len(rows) != len(src):
            raise InputError(f"{len(rows)} link lines for {len(src)} sentences", source=str(path))
        return [
            parse_links(r, len(s["tokens"]), len(t), source=str(path), lineno=i + 1)
            for i, (r, s, t) in enumerate(zip(rows, src, tgt_words, strict=True))
        ]

    fwd, back = read(links), read(back_links)
    report = ProjectionReport()
    batch = {"src_tokens": [ex["tokens"] for ex in src], "src_ner_tags": [ex["ner_tags"] for ex in src],
             "tokens": tgt_words, "links": fwd or [[] for _ in src]}
    if back:
        batch["back_links"] = back
    done = project_batch(batch, method, config, back_links="back_links" if back else None,
                         combination=LinkCombination(combine), report=report.update)
    records = [{"id": str(i), "tokens": words, "ner_tags": tags}
               for i, (words, tags) in enumerate(zip(done["tokens"], done["ner_tags"], strict=True))]
    if report_json is None:
        write_conll(records, out)
    else:  # both or neither: the report is written first and renamed in after the output
        with atomic_path(report_json) as tmp:
            tmp.write_text(json.dumps(report.to_dict(), indent=1) + "\n", encoding="utf-8")
            write_conll(records, out)
    click.echo(report.format())


@click.command("evaluate")
@click.option("--pred", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--gold", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def evaluate_cmd(pred, gold, as_json):
    """Exact span+type precision, recall and F1 (micro and per type) of PRED against GOLD (CoNLL).

    The two files must hold the same sentences: same count, same tokens in each (tokens that
    differ only in Unicode normalisation, NFC and NFD, are the same token; they are counted)."""
    import logging

    from ..corpora._io import nfc
    from ..corpora.conll import read_conll
    from ..evaluation import evaluate_tags, format_scores

    g = list(read_conll(gold))
    p = list(read_conll(pred, policy="repair"))
    if len(g) != len(p):
        raise InputError(f"{len(p)} sentences, but the gold file has {len(g)}", source=str(pred))
    normalised = 0
    for i, (a, b) in enumerate(zip(g, p, strict=True)):
        if len(a["tokens"]) != len(b["tokens"]):
            raise InputError(
                f"{len(b['tokens'])} tokens, but the gold sentence has {len(a['tokens'])}", source=str(pred), row=i
            )
        for k, (x, y) in enumerate(zip(a["tokens"], b["tokens"], strict=True)):
            if x == y:
                continue
            if nfc(x) == nfc(y):
                normalised += 1
                continue
            raise InputError(
                f"token {k + 1} is {excerpt(y, 40)} but the gold sentence has {excerpt(x, 40)}: the files "
                "do not hold the same sentences", source=str(pred), row=i,
            )
    if normalised:
        logging.getLogger(__name__).warning(
            "%s: %d token(s) differ from the gold file's only in Unicode normalisation (NFC and NFD forms of "
            "the same text): compared as the same tokens", pred, normalised)
    scores = evaluate_tags([x["ner_tags"] for x in g], [x["ner_tags"] for x in p])
    click.echo(json.dumps(scores, indent=1) if as_json else format_scores(scores))


@click.group("bench")
def bench_cmd():
    """Benchmarks."""


@bench_cmd.command("europarl")
@click.option("--aligner", default=None, help="Aligner name, or two joined by '+' (e.g. simalign-argmax+eflomal).")
@click.option("--model", default=None, help="Encoder of the neural aligners.")
@click.option("--layer", default=None, type=int)
@click.option("--method", default=None,
              help=f"One of: {', '.join(n for n, m in METHODS.items() if m.uses_links)} (projection over links).")
@click.option("-o", "--option", "options", multiple=True, metavar="KEY=VALUE", help="A method option.")
@click.option("--combine", type=click.Choice(["intersection", "union", "weighted"]), default=None,
              help="How two aligners' links are combined.")
@click.option("--lang", "langs", multiple=True, type=click.Choice(["de", "es", "it"]), help="Languages (default all).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def bench_europarl_cmd(aligner, model, layer, method, options, combine, langs, as_json):
    """Project Europarl-NER's gold English entities onto de, es, it; F1 per language and mean.

    With no options it runs the recommended (best measured) configuration. Reads NERXL_DATA_DIR.
    """
    from dataclasses import replace

    from ..bench import LANGS, RECOMMENDED, bench_europarl

    setup = RECOMMENDED
    if method is not None and method != setup.method:
        setup = replace(setup, method=method, options={})
    changes = {k: v for k, v in (("aligner", aligner), ("model", model), ("layer", layer), ("combine", combine)) if v is not None}
    setup = replace(setup, **changes)
    if options:
        setup = replace(setup, options={**setup.options, **parse_options(setup.method, options)})
    result = bench_europarl(setup, tuple(langs) or LANGS)
    if as_json:
        click.echo(json.dumps(result, indent=1))
        return
    for lang in tuple(langs) or LANGS:
        r = result[lang]
        click.echo(f"{lang}: P {r['precision']:.2f}  R {r['recall']:.2f}  F1 {r['f1']:.2f}")
    click.echo(f"mean F1 {result['mean']['f1']:.2f}  ({setup.aligner}, {setup.label()}, combine={setup.combine})")


commands = [project_cmd, evaluate_cmd, bench_cmd]
