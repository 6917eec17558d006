"""What a run will train and score, counted before any work, the time it should take, and the
caps that make it fit a budget."""

from __future__ import annotations

from .config import TS_METHODS, source_spec


def cells(exp) -> list[dict]:
    """Every (target, order, k, method, seed) cell with the model it reads (no training)."""
    out = []
    ref_methods = exp.cfg.reference_methods
    for t in exp.targets:
        for name, order in exp.orders_for(t).items():
            methods = [m for m in exp.cfg.methods
                       if name.startswith("random-") or ref_methods is None or m in ref_methods]
            for k in range(1, len(order) + 1):
                for seed in range(exp.cfg.seeds):
                    for m in methods:
                        if m in TS_METHODS or m in ("direct", "direct-budget"):
                            out.append({"target": t, "order": name, "k": k, "method": m, "seed": seed,
                                        "langs": order[:k], "n": exp.n_for(m, k)})
    return out


def plan(exp) -> dict:
    """What the run trains and evaluates (counts of models, sentences) before any work."""
    c = exp.cfg
    raw = exp.raw()
    direct, students = set(), set()
    for cell in exp.cells():
        langs, n, seed = cell["langs"], cell["n"], cell["seed"]
        if cell["method"] in ("direct", "direct-budget"):
            direct.add((tuple(sorted(langs)), seed, n))
        else:
            w = "uniform" if len(langs) == 1 else cell["method"].split("-", 1)[1]
            students.add((cell["target"], tuple(sorted(langs)), w, seed, n))
            for s in langs:
                direct.add(((s,), seed, n))
    if "in-language" in c.methods:
        direct |= {((t,), s, None) for t in exp.targets for s in range(c.seeds)}

    def size(n, cap_):
        return n if cap_ is None else min(n, cap_)

    train = {lang: size(len(d["train"]), c.max_sentences) for lang, (d, _) in raw.items()}
    test = {t: size(len(raw[t][0]["test"]), c.max_test_sentences) for t in exp.targets}
    unl = {t: size(len(raw[t][0]["train"]), c.max_unlabeled) for t in exp.targets}
    steps = exp.steps
    batch = c.batch_size
    train_passes = sum(steps(sum(min(n or 10**9, train[s]) for s in lg)) * batch for lg, _, n in direct)
    eval_sents = sum(test[t] for lg, _, _ in direct for t in exp.targets
                     if list(lg) == [t] or set(lg) <= set(exp.sources_of(t)))
    teacher_pairs = {(s, seed, n, t) for (t, lg, _, seed, n) in students for s in lg}
    probe_sents = sum(unl[t] for (_, _, _, t) in teacher_pairs)
    # Students keep the sentences with an entity (about a third, seen on MasakhaNER) unless empty_ratio is large.
    keep = min(1.0, 0.4 * (1 + c.empty_ratio))
    student_passes = sum(steps(int(keep * unl[t])) * batch for (t, *_rest) in students)
    eval_sents += sum(test[t] for (t, *_rest) in students)
    proj = [t for t in exp.targets if source_spec(t).startswith("masakhaner2:")] if "projection" in c.methods else []
    silver = sum(size(len(raw[t][0]["train"]) * 3, c.max_silver) for t in proj)  # LAFAND: ~3x the NER train
    proj_passes = c.seeds * sum(steps(int(keep * size(10**6, c.max_silver))) * batch for _ in proj)
    eval_sents += c.seeds * sum(test[t] for t in proj)
    feature_sents = (sum(train.values()) + sum(test.values()) + sum(unl.values()) + silver) if c.recipe == "cached" else 0
    return {"recipe": c.recipe, "direct_models": len(direct), "students": len(students), "projection_models": len(proj) * c.seeds,
            "train_sentence_passes": train_passes + student_passes + proj_passes, "eval_sentences": eval_sents,
            "teacher_inference_sentences": probe_sents, "silver_pairs_to_build": silver,
            "feature_sentences": feature_sents, "test_sentences": test, "unlabeled_sentences": unl}


# Rates measured on this project's 2-core machine (e5-small, one process, two threads):
# finetune: 4 layers, trimmed vocabulary, max_length 64 (benchmarks/results/scaling.md, 2026-12);
# cached: the feature pass at layer 4 and probe training (benchmarks/results/recipe.md).
RATES = {
    "finetune": {"train_per_s": 20.0, "infer_per_s": 50.0, "feature_per_s": 0.0},
    "cached": {"train_per_s": 5000.0, "infer_per_s": 20000.0, "feature_per_s": 100.0},
}


def estimate_seconds(plan_: dict, train_per_s: float | None = None, infer_per_s: float | None = None,
                     align_per_s: float = 8.0, feature_per_s: float | None = None) -> float:
    """Seconds for ``plan_`` at the given rates (defaults: :data:`RATES` of its recipe), plus
    the silver builds and a fixed 3 s per model."""
    r = RATES[plan_.get("recipe", "finetune")]
    train_per_s = train_per_s or r["train_per_s"]
    infer_per_s = infer_per_s or r["infer_per_s"]
    feature_per_s = feature_per_s or r["feature_per_s"]
    models = plan_["direct_models"] + plan_["students"] + plan_["projection_models"]
    feats = plan_.get("feature_sentences", 0) / feature_per_s if feature_per_s else 0.0
    return (plan_["train_sentence_passes"] / train_per_s + (plan_["eval_sentences"] + plan_["teacher_inference_sentences"]) / infer_per_s
            + plan_["silver_pairs_to_build"] / align_per_s + feats + 3 * models)
