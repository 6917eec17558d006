"""Teacher-student learning on unlabeled target text (Wu et al. 2020, arXiv:2004.12440).

Teachers (token classifiers, one per source language, sharing a label list) tag unlabeled
target sentences; their per-word distributions are combined (uniform average, or weighted by
teacher agreement or by language similarity); a student is trained to match the combined
distribution with a soft cross-entropy (= KL to the teachers up to a constant) at the first
subword of each word. Distributions are kept per *word*, so teachers and student may use
different tokenizers.

>>> import numpy as np
>>> p = [[np.array([[0.9, 0.1]])], [np.array([[0.5, 0.5]])]]
>>> aggregate(p, np.array([0.5, 0.5]))[0].astype(float).round(2).tolist()
[[0.7, 0.3]]
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence

import numpy as np

from ..errors import ConfigError, unknown_name
from .data import first_subword_mask
from .trainer import word_logits

WEIGHTINGS = ("uniform", "agreement", "similarity", "lid")


def _softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    x = x - x.max(axis=axis, keepdims=True)
    e = np.exp(x)
    return e / e.sum(axis=axis, keepdims=True)


def teacher_word_probs(
    teacher_dirs: Sequence[str | os.PathLike],
    sentences: Sequence[Sequence[str]],
    label_list: Sequence[str],
    *,
    max_length: int = 128,
    batch_size: int = 32,
) -> list[list[np.ndarray]]:
    """Per teacher, per sentence: ``[n_words, n_labels]`` probabilities, columns in ``label_list`` order.

    Raises:
        ConfigError: a teacher's labels are not a subset of ``label_list``.
    """
    from transformers import AutoModelForTokenClassification, AutoTokenizer

    out = []
    for d in teacher_dirs:
        model = AutoModelForTokenClassification.from_pretrained(d)
        tok = AutoTokenizer.from_pretrained(d)
        names = [model.config.id2label[i] for i in range(model.config.num_labels)]
        extra = [n for n in names if n not in label_list]
        if extra:
            raise ConfigError(f"teacher {d} predicts labels {extra} that the student label set {list(label_list)} lacks")
        cols = [list(label_list).index(n) for n in names]
        logits, _ = word_logits(model, tok, sentences, max_length=max_length, batch_size=batch_size)
        probs = []
        for row in logits:
            p = np.zeros((row.shape[0], len(label_list)), dtype=np.float32)
            p[:, cols] = _softmax(row)
            probs.append(p)
        out.append(probs)
        del model
    return out


def aggregate(probs: list[list[np.ndarray]], weights: np.ndarray) -> list[np.ndarray]:
    """Weighted average of the teachers' distributions, sentence by sentence."""
    weights = np.asarray(weights, dtype=np.float64)
    weights = weights / weights.sum()
    return [sum(w * p[i] for w, p in zip(weights, probs, strict=True)).astype(np.float32) for i in range(len(probs[0]))]


def agreement_weights(probs: list[list[np.ndarray]]) -> np.ndarray:
    """Weight each teacher by how much it agrees with the others on the target text.

    Agreement of teacher t = mean over words of ``sum_l p_t(l) * mean_{s != t} p_s(l)`` (the
    probability that t and a random other teacher pick the same label); weights sum to 1.
    One teacher gets weight 1.
    """
    k = len(probs)
    if k == 1:
        return np.ones(1)
    flat = [np.concatenate(p, axis=0) for p in probs]
    agree = []
    for t in range(k):
        others = sum(flat[s] for s in range(k) if s != t) / (k - 1)
        agree.append(float((flat[t] * others).sum(-1).mean()))
    a = np.array(agree)
    return a / a.sum() if a.sum() > 0 else np.full(k, 1.0 / k)


def sentence_embeddings(model_path: str | os.PathLike, sentences: Sequence[Sequence[str]], *, max_length: int = 128, batch_size: int = 32) -> np.ndarray:
    """Mean-pooled last-layer embeddings (e5 style, L2-normalised) of pre-split sentences."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(model_path)
    model = AutoModel.from_pretrained(model_path).eval()
    vecs = []
    for start in range(0, len(sentences), batch_size):
        texts = [" ".join(s) for s in sentences[start:start + batch_size]]
        enc = tok(texts, truncation=True, max_length=max_length, padding=True, return_tensors="pt")
        with torch.no_grad():
            h = model(**enc).last_hidden_state
        m = enc["attention_mask"].unsqueeze(-1).float()
        v = (h * m).sum(1) / m.sum(1)
        vecs.append(torch.nn.functional.normalize(v, dim=-1).numpy())
    return np.concatenate(vecs, axis=0)


def similarity_weights(
    model_path: str | os.PathLike,
    source_sentences: Sequence[Sequence[Sequence[str]]],
    target_sentences: Sequence[Sequence[str]],
    *,
    temperature: float = 0.1,
    sample: int = 200,
) -> tuple[np.ndarray, list[float]]:
    """Language-similarity weights: softmax over the cosine between each source's and the
    target's centroid sentence embedding (e5 is a sentence-embedding model), / ``temperature``.

    Returns (weights, cosines).
    """
    tgt = sentence_embeddings(model_path, target_sentences[:sample]).mean(0)
    cos = []
    for sents in source_sentences:
        c = sentence_embeddings(model_path, sents[:sample]).mean(0)
        cos.append(float(c @ tgt / (np.linalg.norm(c) * np.linalg.norm(tgt))))
    return _softmax(np.array(cos) / temperature), cos


def lid_weights(
    source_sentences: Sequence[Sequence[Sequence[str]]],
    target_sentences: Sequence[Sequence[str]],
    *,
    sample: int = 2000,
) -> tuple[np.ndarray, list[float]]:
    """Wu et al. (2020)'s multi-source weights from language identification: a classifier over
    the *source* languages (here a multinomial naive Bayes over character 1-3-grams within word
    boundaries, hashed into 2^18 features, trained on up to ``sample`` training sentences per
    source) tags every target sentence; a teacher's weight is the mean probability the
    classifier gives its source language over the target sentences (they sum to 1).

    Returns (weights, the same mean probabilities as a list).

    >>> w, _ = lid_weights([[["the", "cat"], ["a", "dog"]], [["die", "Katze"], ["der", "Hund"]]], [["the", "dog"]])
    >>> bool(w[0] > w[1])
    True
    """
    from sklearn.feature_extraction.text import HashingVectorizer
    from sklearn.naive_bayes import MultinomialNB

    vec = HashingVectorizer(analyzer="char_wb", ngram_range=(1, 3), n_features=2**18, alternate_sign=False, norm=None)
    texts, labels = [], []
    for k, sents in enumerate(source_sentences):
        for s in list(sents)[:sample]:
            texts.append(" ".join(s).lower())
            labels.append(k)
    clf = MultinomialNB(alpha=0.1).fit(vec.transform(texts), labels)
    probs = clf.predict_proba(vec.transform([" ".join(s).lower() for s in target_sentences]))
    w = probs.mean(0)
    return w / w.sum(), [float(x) for x in w]


def teacher_weights(method: str, probs, *, encoder=None, source_sentences=None, target_sentences=None) -> tuple[np.ndarray, dict]:
    """Weights by ``method`` (uniform, agreement, similarity, lid) and what they were computed from."""
    if method not in WEIGHTINGS:
        raise unknown_name("teacher weighting", method, WEIGHTINGS)
    k = len(probs)
    if method == "uniform":
        return np.full(k, 1.0 / k), {}
    if method == "agreement":
        return agreement_weights(probs), {}
    if method == "lid":
        if source_sentences is None or target_sentences is None:
            raise ConfigError("lid weighting needs source and target sentences")
        w, p = lid_weights(source_sentences, target_sentences)
        return w, {"lid_probability": p}
    if encoder is None or source_sentences is None or target_sentences is None:
        raise ConfigError("similarity weighting needs an encoder and source/target sentences")
    w, cos = similarity_weights(encoder, source_sentences, target_sentences)
    return w, {"cosine": cos}


def select_sentences(has_entity: Sequence[bool], empty_ratio: float, seed: int) -> list[int]:
    """The training rule for silver and soft-labelled sentences (never looks at a test set): keep
    every sentence that holds an entity and at most ``empty_ratio`` entity-less sentences per
    kept entity sentence (a seeded sample), in the original order. Projection work drops or
    down-samples entity-less silver sentences the same way: left in, they teach a small model to
    predict ``O`` everywhere.

    >>> select_sentences([True, False, False, True], 0.5, seed=0)
    [0, 2, 3]
    """
    with_e = [i for i, h in enumerate(has_entity) if h]
    without = [i for i, h in enumerate(has_entity) if not h]
    n_empty = min(len(without), int(round(empty_ratio * len(with_e))))
    if not with_e:  # nothing to learn an entity from: keep everything, the caller reports it
        return list(range(len(has_entity)))
    rng = np.random.default_rng(seed)
    extra = sorted(rng.choice(len(without), size=n_empty, replace=False).tolist()) if n_empty else []
    return sorted(with_e + [without[j] for j in extra])


def soft_has_entity(soft: Sequence[np.ndarray], label_list: Sequence[str]) -> list[bool]:
    """Whether the combined teachers' argmax puts an entity label on some word of each sentence."""
    o = list(label_list).index("O")
    return [bool(p.shape[0]) and bool((p.argmax(-1) != o).any()) for p in soft]


def _student_dataset(tokenizer, sentences, soft, max_length):
    import datasets

    enc = tokenizer([list(s) for s in sentences], truncation=True, max_length=max_length, is_split_into_words=True)
    word_pos = []
    for i in range(len(sentences)):
        ids = enc.word_ids(batch_index=i)
        first = first_subword_mask(ids)
        word_pos.append([w if f else -1 for w, f in zip(ids, first, strict=True)])
    cols = {k: enc[k] for k in enc.keys()}
    cols["word_pos"] = word_pos
    cols["soft"] = [p.tolist() for p in soft]
    return datasets.Dataset.from_dict(cols)


class _SoftCollator:
    """Pads model inputs and builds ``soft_targets`` [B, T, L] with a mask of first subwords."""

    def __init__(self, tokenizer, num_labels: int):
        self.tokenizer = tokenizer
        self.num_labels = num_labels

    def __call__(self, features):
        import torch

        inputs = [{k: v for k, v in f.items() if k not in ("word_pos", "soft")} for f in features]
        batch = self.tokenizer.pad(inputs, return_tensors="pt")
        T = batch["input_ids"].shape[1]
        targets = torch.zeros(len(features), T, self.num_labels)
        mask = torch.zeros(len(features), T)
        for b, f in enumerate(features):
            soft = torch.tensor(f["soft"], dtype=torch.float32)
            for t, w in enumerate(f["word_pos"]):
                if w >= 0:
                    targets[b, t] = soft[w]
                    mask[b, t] = 1.0
        batch["soft_targets"] = targets
        batch["soft_mask"] = mask
        return batch


def _distill_trainer_class():
    from transformers import Trainer

    class DistillTrainer(Trainer):
        """Trainer whose loss is the soft cross-entropy to the teachers' distributions."""

        def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
            targets = inputs.pop("soft_targets")
            mask = inputs.pop("soft_mask")
            outputs = model(**inputs)
            logp = outputs.logits.log_softmax(-1)
            per_tok = -(targets * logp).sum(-1)
            loss = (per_tok * mask).sum() / mask.sum().clamp(min=1.0)
            return (loss, outputs) if return_outputs else loss

    return DistillTrainer


def train_student(
    model_name_or_path: str,
    sentences: Sequence[Sequence[str]],
    soft_targets: Sequence[np.ndarray],
    label_list: Sequence[str],
    training_args,
    *,
    max_length: int = 128,
    freeze_embeddings: bool = False,
    num_layers: int | None = None,
):
    """Train a student from ``model_name_or_path`` on unlabeled ``sentences`` to match
    ``soft_targets`` (per word, columns in ``label_list`` order). Returns the Trainer."""
    from transformers import AutoConfig, AutoModelForTokenClassification, AutoTokenizer, set_seed

    set_seed(training_args.seed)
    tokenizer = AutoTokenizer.from_pretrained(model_name_or_path)
    label_list = list(label_list)
    config = AutoConfig.from_pretrained(model_name_or_path, num_labels=len(label_list),
                                        **({"num_hidden_layers": num_layers} if num_layers else {}),
                                        id2label=dict(enumerate(label_list)), label2id={n: i for i, n in enumerate(label_list)})
    model = AutoModelForTokenClassification.from_pretrained(model_name_or_path, config=config, ignore_mismatched_sizes=True)
    if freeze_embeddings:
        model.get_input_embeddings().weight.requires_grad_(False)
    args = dataclasses.replace(training_args, remove_unused_columns=False)
    trainer = _distill_trainer_class()(
        model=model, args=args, train_dataset=_student_dataset(tokenizer, sentences, soft_targets, max_length),
        processing_class=tokenizer, data_collator=_SoftCollator(tokenizer, len(label_list)),
    )
    trainer.train_result = trainer.train()
    return trainer
