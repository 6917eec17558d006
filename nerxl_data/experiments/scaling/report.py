"""What a run writes for readers: ``results.csv`` (one row per target, method, order, k and
seed), ``results.md`` (tables with intervals, the differences, warnings on weak runs) and
``scaling.png`` (a grid of panels, at most four a row)."""

from __future__ import annotations

import csv
import logging
from pathlib import Path

import numpy as np

from ...paths import atomic_path, atomic_write
from .config import METHODS, TS_METHODS
from .stats import (
    differences,
    f1_from_counts,
    format_interval,
    headline,
    in_group,
    mean_difference,
    mean_interval,
    mean_of_targets,
    resolved,
    summarise,
)

logger = logging.getLogger(__name__)

CURVE_METHODS = [m for m in METHODS if m not in ("projection", "in-language")]  # direct-budget is one of METHODS
PANELS_PER_ROW = 4


def write_outputs(exp, rows: list[dict]) -> None:
    """``results.csv`` (per-seed rows), ``results.md`` and ``scaling.png``, each written whole
    (processes sharing a run folder write apart and rename)."""
    out = exp.out
    cols = ["target", "method", "order", "k", "sources", "seed", "f1", "precision", "recall", "n_pred", "n_gold",
            "n_train", "model"]
    with atomic_write(out / "results.csv", newline="") as f:
        w = csv.writer(f)
        w.writerow(cols)
        for r in rows:
            w.writerow([r.get(c) for c in cols])
    summary = summarise(rows, exp.cfg.bootstrap)
    with atomic_write(out / "results.md") as f:
        f.write(markdown(exp, rows, summary))
    try:
        with atomic_path(out / "scaling.png") as tmp:
            plot(exp, rows, summary, tmp)
    except ImportError:
        logger.warning("matplotlib is not installed: no plot (pip install 'nerxl-data[plot]')")


def warnings_for(exp, rows: list[dict]) -> list[str]:
    """What a reader must know before trusting the tables: one seed, models that predict
    (almost) no entity, reference rows below direct transfer."""
    out = []
    c = exp.cfg
    runs = c.seeds * max(c.orders, 1)
    if len({r["seed"] for r in rows}) < 2:  # the seeds that finished, not the ones planned
        out.append("**One seed:** the intervals hold only the test-sample noise, not the spread between training runs; "
                   "a difference marked resolved may not survive another seed (use --seeds 3).")
    weak = [r for r in rows if r["n_gold"] and r["n_pred"] < 0.1 * r["n_gold"]]
    if weak:
        out.append(f"**Under-trained models:** {len(weak)} of {len(rows)} runs predict fewer than a tenth of the gold "
                   f"entities (0 in {sum(r['n_pred'] == 0 for r in weak)}); their cells mean little (more steps, "
                   "--min-steps, or the cached recipe).")
    for t in exp.targets:
        inl = [r["f1"] for r in rows if r["target"] == t and r["method"] == "in-language"]
        dk = [r["f1"] for r in rows if r["target"] == t and r["method"] == "direct"]
        if inl and dk and np.mean(inl) < np.mean(dk):
            out.append(f"**{t}: the in-language model scores below direct transfer** ({np.mean(inl):.1f} vs "
                       f"{np.mean(dk):.1f}): it is not a ceiling here; the recipe under-trains it.")
    del runs
    return out


def header(exp, rows: list[dict] | None = None) -> str:
    c = exp.cfg
    done = sorted({r["seed"] for r in rows}) if rows else []
    seeds = (f"{c.seeds}" if not rows or len(done) == c.seeds
             else f"{len(done)} finished of {c.seeds} planned (seed {', '.join(map(str, done))}; a stopped run)")
    data = exp.data()
    tests = ", ".join(f"{t} {len(d)}" for t, d in data["test"].items())
    caps = (f"test sentences per target: {tests} ({'whole gold test sets' if c.max_test_sentences is None else f'capped at {c.max_test_sentences}, seeded sample'}); "
            f"training sentences per source: {c.max_sentences or 'all'}; in-language: "
            f"{'the whole gold train split' if c.in_language_whole else 'capped like a source'}; unlabeled student "
            f"sentences per target: {c.max_unlabeled or 'all'}; silver pairs built per target: {c.max_silver or 'all'}"
            + (f"; fixed budget (direct-budget): the k sources share {c.budget_sentences} sentences" if c.budget_sentences else ""))
    return (f"Caps: {caps}.\n\nRecipe: {c.describe_recipe()}; entity-less silver/student sentences kept: "
            f"{c.empty_ratio:g} per entity sentence. Seeds: {seeds}; random source orders: {c.orders} "
            f"(order seed {c.order_seed}). Scores: strict IOB2 entity-level micro F1 x 100 (`nerxl_data.evaluation`), "
            "mean over seeds (and random orders) with a 95% interval: two-level bootstrap (1,000 replicates "
            "resampling test sentences and runs).")


def markdown(exp, rows: list[dict], summary: dict) -> str:
    methods = [m for m in CURVE_METHODS if any(r["method"] == m for r in rows)]
    lines = [header(exp, rows), ""]
    warn = warnings_for(exp, rows)
    if warn:
        lines += ["Before reading the tables:", ""] + [f"- {w}" for w in warn] + [""]
    for t in exp.targets:
        K = len(exp.sources_of(t))
        orders = exp.orders_for(t)
        lines += [f"### Target {t} (sources {', '.join(exp.sources_of(t))})", ""]
        for group, title in (("random", f"mean over {exp.cfg.orders} random orders"), ("given", "given order"),
                             ("similarity", "similarity order")):
            if group in orders:
                title += " " + "+".join(orders[group])
            if not any((t, m, group, k) in summary for m in methods for k in range(1, K + 1)):
                continue
            shown = [m for m in methods if any((t, m, group, k) in summary for k in range(1, K + 1))]
            lines += [f"{title}:", "", "| k | " + " | ".join(shown) + " |", "|---|" + "---|" * len(shown)]
            for k in range(1, K + 1):
                cells = []
                for m in shown:
                    s = summary.get((t, m, group, k))
                    cells.append("" if s is None else format_interval(*s[:3]) + (f" ({s[4]}/{s[3]} predict no entity)" if s[4] else ""))
                lines.append(f"| {k} | " + " | ".join(cells) + " |")
            lines.append("")
        lines += reference_lines(exp, rows, summary, t, K) + [""]
        diffs = differences(exp, rows, t, K)
        if diffs:
            lines += [f"Differences on {t} (paired two-level bootstrap, 95%; *resolved* when the interval excludes 0):", ""]
            lines += [f"- {name}: {resolved(*v)}" for name, v in diffs.items()] + [""]
    if len(exp.targets) > 1:
        lines += mean_table(exp, rows, methods)
    return "\n".join(lines) + "\n"


def reference_lines(exp, rows, summary, t: str, K: int) -> list[str]:
    ref = []
    if (s := summary.get((t, "in-language", "-", 0))):
        n = next(r["n_train"] for r in rows if r["target"] == t and r["method"] == "in-language")
        ref.append(f"- in-language (gold {t} train, {n} sentences): {format_interval(*s[:3])}")
    k1 = {}
    for r in rows:
        if r["target"] == t and r["method"] == "direct" and r["k"] == 1:
            k1.setdefault(r["sources"], {})[(r["order"], r["seed"])] = np.array(r["counts"])
    if k1:
        best = max(k1, key=lambda s: np.mean([f1_from_counts(c.sum(0)) for c in k1[s].values()]))
        b = mean_interval(list(k1[best].values()), exp.cfg.bootstrap)
        txt = f"- best-single-source (picked on the {t} test: an oracle): {best} {format_interval(*b)}"
        if "en" in k1 and best != "en":
            txt += f"; English {format_interval(*mean_interval(list(k1['en'].values()), exp.cfg.bootstrap))}"
        ref.append(txt)
    silver = exp.silver.info(t) if "projection" in exp.cfg.methods else None
    if (s := summary.get((t, "projection", "-", 0))):
        r0 = next(r for r in rows if r["target"] == t and r["method"] == "projection")
        st = r0["silver"]
        ref.append(f"- projection (builder config `{silver['config']}`, pivot {r0['sources']}; LAFAND pairs {t} "
                   f"with its pivot only, so one row, not a curve): {format_interval(*s[:3])}"
                   + (f" ({s[4]}/{s[3]} predict no entity)" if s[4] else "")
                   + f". Silver: {st['sentences']} sentences, {st['with_entity']} with an entity, {st['entities']} entities "
                   f"({st['entities_per_100_tokens']} per 100 tokens); trained on {st['kept']}.")
    elif silver is not None and silver.get("config") is None:
        ref.append(f"- projection: none ({silver['why']})")
    studs = [r for r in rows if r["target"] == t and r["method"] in TS_METHODS and r["k"] > 1 and r.get("weights")]
    if studs:
        avg: dict = {}
        for r in studs:
            if r["method"] != "ts-uniform" and r["k"] == K:
                for s, w in r["weights"].items():
                    avg.setdefault(r["method"], {}).setdefault(s, []).append(w)
        for m, ws in avg.items():
            ref.append(f"- {m} teacher weights at k={K}: " + ", ".join(f"{s} {np.mean(v):.2f}" for s, v in ws.items()))
        kept = [r["with_entity"] / max(r["unlabeled"], 1) for r in studs]
        ref.append(f"- students: {100 * np.mean(kept):.0f}% of the unlabeled sentences carry an entity under the combined "
                   f"teachers (the rest down-sampled to {exp.cfg.empty_ratio:g} per entity sentence)")
    return ref


def _per_target(rows, targets, method, k, group):
    return [[np.array(r["counts"]) for r in rows if r["target"] == t and r["method"] == method and r["k"] == k
             and in_group(r["order"], group)] for t in targets]


def mean_table(exp, rows: list[dict], methods: list[str]) -> list[str]:
    """Mean over targets (headline orders), each target's bootstrap done apart."""
    from .stats import contrasts

    K = min(len(exp.sources_of(t)) for t in exp.targets)
    g = headline(exp)
    lines = [f"### Mean over the {len(exp.targets)} targets ({'random' if g == 'random' else g} orders)", "",
             "| k | " + " | ".join(methods) + " |", "|---|" + "---|" * len(methods)]
    for k in range(1, K + 1):
        cells = []
        for m in methods:
            per = _per_target(rows, exp.targets, m, k, g)
            cells.append(format_interval(*mean_of_targets(per, exp.cfg.bootstrap)) if all(per) else "")
        lines.append(f"| {k} | " + " | ".join(cells) + " |")
    for m in ("in-language", "projection"):
        per = [[np.array(r["counts"]) for r in rows if r["target"] == t and r["method"] == m] for t in exp.targets]
        if all(per):
            lines.append(f"\n{m}: {format_interval(*mean_of_targets(per, exp.cfg.bootstrap))}")
    per_target = {t: contrasts(exp, rows, t, len(exp.sources_of(t))) for t in exp.targets}
    common = [n for n in per_target[exp.targets[0]] if all(n in c for c in per_target.values())]
    if common:
        lines += ["", f"Differences, mean over the {len(exp.targets)} targets (each target's paired bootstrap apart, "
                  "replicates averaged; *resolved* when the 95% interval excludes 0):", ""]
        lines += [f"- {n}: {resolved(*mean_difference([per_target[t][n] for t in exp.targets], exp.cfg.bootstrap, seed=i))}"
                  for i, n in enumerate(common)]
    return lines + [""]


def plot(exp, rows: list[dict], summary: dict, path: Path) -> None:
    """One panel per target plus a mean panel, at most :data:`PANELS_PER_ROW` a row: mean F1
    over random orders and seeds by k, 95% bands; in-language and projection as dashed lines."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    targets = exp.targets
    g = headline(exp)
    n = len(targets) + (1 if len(targets) > 1 else 0)
    ncols = min(n, PANELS_PER_ROW)
    nrows = -(-n // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.8 * ncols, 3.4 * nrows), squeeze=False, sharey=True)
    flat = list(axes.flat)
    colors = dict(zip((*METHODS, "direct-budget"), plt.rcParams["axes.prop_cycle"].by_key()["color"], strict=False))

    def curve(ax, pts, m):
        if pts:
            k, mean, lo, hi = map(np.array, zip(*pts, strict=True))
            ax.plot(k, mean, marker="o", label=m, color=colors[m])
            ax.fill_between(k, lo, hi, alpha=0.2, color=colors[m])

    for ax, t in zip(flat, targets, strict=False):
        for m in CURVE_METHODS:
            curve(ax, sorted((k, *summary[(t, m, g, k)][:3]) for (tt, mm, gg, k) in summary if (tt, mm, gg) == (t, m, g)), m)
        for m in ("in-language", "projection"):
            if (s := summary.get((t, m, "-", 0))):
                ax.axhline(s[0], ls="--", color=colors[m], label=m)
                ax.axhspan(s[1], s[2], alpha=0.1, color=colors[m])
        ax.set_title(f"target {t}")
        ax.set_xticks(range(1, len(exp.sources_of(t)) + 1))
    if len(targets) > 1:
        ax = flat[len(targets)]
        K = min(len(exp.sources_of(t)) for t in targets)
        for m in CURVE_METHODS:
            pts = [(k, *mean_of_targets(per, exp.cfg.bootstrap)) for k in range(1, K + 1)
                   if all(per := _per_target(rows, targets, m, k, g))]
            curve(ax, pts, m)
        ax.set_title("mean over targets")
        ax.set_xticks(range(1, K + 1))
    for ax in flat[n:]:
        ax.set_visible(False)
    for ax in flat[:n]:
        ax.set_xlabel("sources k")
    for row in axes:
        row[0].set_ylabel("test F1 (95% interval)")
    flat[0].legend(fontsize=7)
    fig.suptitle(f"recipe: {exp.cfg.recipe}", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110, format="png")
    plt.close(fig)
