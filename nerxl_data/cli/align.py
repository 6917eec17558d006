"""`nerxl align`: word-align two line-aligned files into a Pharaoh links file."""

from __future__ import annotations

from pathlib import Path

import click

from ..align import ALIGNERS
from ..options import parse_pairs as parse_options
from .types import POSITIVE


@click.command("align")
@click.option("--src", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Source sentences, whitespace-tokenised, one a line.")
@click.option("--tgt", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Target sentences, line-aligned with --src.")
@click.option("--aligner", default="simalign-itermax", show_default=True, help=f"One of: {', '.join(ALIGNERS)}.")
@click.option("--model", default="e5-small", show_default=True,
              help="Encoder: built-in e5-small, a local model directory or a Hub id (neural aligners).")
@click.option("--layer", default=8, show_default=True, type=int, help="Hidden layer to compare.")
@click.option("--batch-size", default=32, show_default=True, type=POSITIVE, help="Sequences per forward pass.")
@click.option("--device", default=None, help="cpu, cuda, cuda:1 ... (default: CUDA if available).")
@click.option("-o", "--option", "options", multiple=True, metavar="KEY=VALUE",
              help="Aligner option, repeatable: threshold=0.001, token_type=word, symmetrize=union, "
                   "extra_src=FILE, extra_tgt=FILE, ...")
@click.option("--scores/--no-scores", default=False, show_default=True, help="Write i-j:score instead of i-j.")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="Pharaoh links file.")
@click.option("--progress/--no-progress", default=True, show_default=True, help="Show a progress bar.")
def align_cmd(src, tgt, aligner, model, layer, batch_size, device, options, scores, out, progress):
    """Align --src and --tgt word by word; write one Pharaoh line (0-0 1-2 ...) per sentence pair."""
    from ..align import get_aligner
    from ..align.corpus import run_aligner
    from ..align.encoders import BUILTIN_MODELS
    from ..align.pharaoh import write_links
    from ..corpora.parallel import read_pair_files
    from ..paths import check_distinct, check_output

    opts = parse_options(options)
    extra = {k: str(opts[k]) for k in ("extra_src", "extra_tgt") if opts.get(k) is not None}
    check_distinct({"--out": out}, {"--src": src, "--tgt": tgt, **extra})
    check_output(out)  # a folder or an unwritable place fails now, not after aligning
    if not ALIGNERS.get(aligner).uses_model:
        built = get_aligner(aligner, **opts)
    else:
        from ..align.encoders import resolve_model

        model = model if model in BUILTIN_MODELS else resolve_model(model)  # fails fast offline
        built = get_aligner(aligner, model=model, layer=layer, device=device, batch_size=batch_size, **opts)
    src_sents, tgt_sents = read_pair_files(src, tgt)
    with built:
        links = run_aligner(built, src_sents, tgt_sents, progress=progress)
        empty = getattr(built, "empty_words", 0)
    n = write_links(str(out), links, scores=scores)
    note = f"; {empty} words had no subword and no link" if empty else ""
    click.echo(f"{n} sentence pairs aligned with {aligner} -> {out} ({sum(map(len, links))} links{note})", err=True)


commands = [align_cmd]
