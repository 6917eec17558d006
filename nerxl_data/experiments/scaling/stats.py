"""Scores and intervals of a scaling run: micro F1 from per-sentence counts, the two-level
bootstrap (test sentences and runs resampled), paired differences and the contrasts a reader
asks about. Pure functions over result rows (``run.Experiment.collect``)."""

from __future__ import annotations

import math
import zlib

import numpy as np

from .config import TS_METHODS


def f1_from_counts(c: np.ndarray) -> np.ndarray:
    """Micro F1 (0-1) from summed ``[..., 3]`` counts (tp, predicted, gold): the strict IOB2
    entity-level F1 of :func:`nerxl_data.evaluation.evaluate_tags`, from its sentence counts."""
    tp, npred, ngold = c[..., 0], c[..., 1], c[..., 2]
    denom = npred + ngold
    return np.where(denom > 0, 2 * tp / np.maximum(denom, 1), 0.0)


def _sentence_weights(n: int, n_boot: int, rng) -> np.ndarray:
    """``[n_boot, n]`` multiplicities of one bootstrap resample of n test sentences each."""
    return rng.multinomial(n, np.full(n, 1.0 / n), size=n_boot).astype(np.float64)


def _run_means(arr: np.ndarray, w: np.ndarray, rng) -> np.ndarray:
    """Per replicate: micro F1 of each run on the resampled sentences (``w``), then the mean over
    a resample of the runs. ``arr`` is ``[R, n, 3]`` counts; returns ``[n_boot]`` (0-1)."""
    f1 = f1_from_counts(np.einsum("bn,rnc->brc", w, arr))  # [B, R]
    pick = rng.integers(arr.shape[0], size=(w.shape[0], arr.shape[0]))
    return np.take_along_axis(f1, pick, axis=1).mean(1)


def _mean_f1(runs: list[np.ndarray]) -> tuple[np.ndarray, float]:
    arr = np.stack(runs).astype(np.float64)
    return arr, float(f1_from_counts(arr.sum(1)).mean())


def mean_interval(runs: list[np.ndarray], n_boot: int = 1000, seed: int = 0) -> tuple[float, float, float]:
    """Mean F1 of the runs (each ``[n_sentences, 3]`` counts on one test set) and its 95%
    two-level bootstrap interval (test sentences and runs resampled), all x 100."""
    arr, mean = _mean_f1(runs)
    if n_boot <= 0:
        return 100 * mean, float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    lo, hi = np.percentile(_run_means(arr, _sentence_weights(arr.shape[1], n_boot, rng), rng), [2.5, 97.5])
    return 100 * mean, 100 * float(lo), 100 * float(hi)


def difference_interval(a_runs: list[np.ndarray], b_runs: list[np.ndarray], n_boot: int = 1000,
                        seed: int = 0) -> tuple[float, float, float]:
    """Mean F1 of runs ``a`` minus that of runs ``b`` (both on one test set) with a paired 95%
    two-level bootstrap interval: each replicate draws one resample of the test sentences shared
    by both sides (the pairing) and resamples each side's runs apart. x 100."""
    return mean_difference([(a_runs, b_runs)], n_boot, seed)


def mean_difference(pairs: list[tuple[list[np.ndarray], list[np.ndarray]]], n_boot: int = 1000,
                    seed: int = 0) -> tuple[float, float, float]:
    """The mean over targets of (a minus b), one ``(a_runs, b_runs)`` pair per target, each
    target's paired bootstrap done apart and the replicates averaged over targets. x 100."""
    points, boots = [], []
    for i, (a_runs, b_runs) in enumerate(pairs):
        (a, ma), (b, mb) = _mean_f1(a_runs), _mean_f1(b_runs)
        rng = np.random.default_rng(seed + i)
        w = _sentence_weights(a.shape[1], n_boot, rng)
        points.append(ma - mb)
        boots.append(_run_means(a, w, rng) - _run_means(b, w, rng))
    lo, hi = np.percentile(np.mean(boots, axis=0), [2.5, 97.5])
    return 100 * float(np.mean(points)), 100 * float(lo), 100 * float(hi)


def mean_of_targets(per_target: list[list[np.ndarray]], n_boot: int = 1000, seed: int = 0) -> tuple[float, float, float]:
    """The mean over targets of their mean F1, with the same bootstrap done per target."""
    means, boots = [], []
    for i, runs in enumerate(per_target):
        arr, mean = _mean_f1(runs)
        means.append(mean)
        rng = np.random.default_rng(seed + i)
        boots.append(_run_means(arr, _sentence_weights(arr.shape[1], n_boot, rng), rng))
    lo, hi = np.percentile(np.mean(boots, axis=0), [2.5, 97.5])
    return 100 * float(np.mean(means)), 100 * float(lo), 100 * float(hi)


def format_interval(m: float, lo: float, hi: float) -> str:
    """``mean [lo, hi]`` with one decimal (the mean alone when there is no interval)."""
    return f"{m:.1f} [{lo:.1f}, {hi:.1f}]" if not math.isnan(lo) else f"{m:.1f}"


def is_resolved(lo: float, hi: float) -> bool:
    return lo > 0 or hi < 0


def resolved(d: float, lo: float, hi: float) -> str:
    return f"{d:+.1f} [{lo:+.1f}, {hi:+.1f}]" + (" *resolved*" if is_resolved(lo, hi) else " not resolved")


def headline(exp) -> str:
    """The order group the headline numbers (differences, mean panel) use: the random orders'
    mean, or the first reference order when the run has no random order."""
    return "random" if exp.cfg.orders > 0 or not exp.cfg.reference_orders else exp.cfg.reference_orders[0]


def in_group(order: str, group: str) -> bool:
    return order.startswith("random-") if group == "random" else order == group


def order_group(order: str) -> str:
    return "random" if order.startswith("random-") else order


def summarise(rows: list[dict], n_boot: int = 1000) -> dict:
    """``{(target, method, order_group, k): (mean, lo, hi, n_runs, n_no_entity)}``; order_group is
    ``random`` (the mean over the random orders), ``given`` or ``similarity``; reference rows use
    order ``-`` and k 0."""
    groups: dict = {}
    for r in rows:
        groups.setdefault((r["target"], r["method"], order_group(r["order"]), r["k"]), []).append(r)
    out = {}
    for key, rs in groups.items():
        runs = [np.array(r["counts"]) for r in rs]
        out[key] = (*mean_interval(runs, n_boot, seed=zlib.crc32(repr(key).encode())), len(rs), sum(r["n_pred"] == 0 for r in rs))
    return out


def runs_of(rows: list[dict], target: str, method: str, k: int | None = None, *, group: str = "random",
            sources: str | None = None) -> list[np.ndarray]:
    """Per-sentence counts of the runs of one cell (reference rows: ``k=None``)."""
    out = []
    for r in rows:
        if r["target"] != target or r["method"] != method:
            continue
        if k is not None and (r["k"] != k or not in_group(r["order"], group)):
            continue
        if sources is not None and r["sources"] != sources:
            continue
        out.append(np.array(r["counts"]))
    return out


def contrasts(exp, rows: list[dict], target: str, K: int, *, group: str | None = None) -> dict[str, tuple[list, list]]:
    """The contrasts a reader asks about on ``target``: ``{name: (a_runs, b_runs)}`` (the headline
    order group unless ``group``), those with runs on both sides."""
    g = group or headline(exp)
    pairs = {}
    for m in ("direct", *TS_METHODS):
        for k in range(2, K + 1):
            pairs[f"{m}: k={k} minus k=1"] = (runs_of(rows, target, m, k, group=g), runs_of(rows, target, m, 1, group=g))
    for m in TS_METHODS[1:]:
        pairs[f"{m} minus ts-uniform at k={K}"] = (runs_of(rows, target, m, K, group=g), runs_of(rows, target, "ts-uniform", K, group=g))
    for m in TS_METHODS:
        for k in sorted({1, K}):
            if k == 1 and m != "ts-uniform":
                continue  # k=1: every weighting is the same one-teacher student
            pairs[f"{m} minus direct at k={k}"] = (runs_of(rows, target, m, k, group=g), runs_of(rows, target, "direct", k, group=g))
    en = [np.array(r["counts"]) for r in rows if r["target"] == target and r["method"] == "direct" and r["k"] == 1
          and r["sources"] == "en"]
    pairs["projection minus direct from English alone"] = (runs_of(rows, target, "projection"), en)
    pairs[f"projection minus direct at k={K}"] = (runs_of(rows, target, "projection"), runs_of(rows, target, "direct", K, group=g))
    pairs[f"in-language minus direct at k={K}"] = (runs_of(rows, target, "in-language"), runs_of(rows, target, "direct", K, group=g))
    budget = runs_of(rows, target, "direct-budget", K, group=g)
    if budget:
        pairs[f"direct at k={K} minus the fixed-budget direct at k={K}"] = (runs_of(rows, target, "direct", K, group=g), budget)
        pairs[f"fixed-budget direct: k={K} minus k=1"] = (budget, runs_of(rows, target, "direct-budget", 1, group=g))
    return {name: (a, b) for name, (a, b) in pairs.items() if a and b}


def differences(exp, rows: list[dict], target: str, K: int) -> dict[str, tuple[float, float, float]]:
    """Each contrast on ``target`` as a paired bootstrap difference with its 95% interval."""
    return {name: difference_interval(a, b, exp.cfg.bootstrap, seed=i)
            for i, (name, (a, b)) in enumerate(contrasts(exp, rows, target, K).items())}
