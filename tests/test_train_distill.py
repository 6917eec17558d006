"""Teacher-student: pure aggregation/weighting functions, and tiny real teachers and a student
trained on unlabeled Yoruba sentences (MasakhaNER train, labels removed)."""

from __future__ import annotations

import numpy as np
import pytest

from nerxl_data.errors import ConfigError
from nerxl_data.schema import LABEL_SETS, label_names
from nerxl_data.train.distill import (
    aggregate,
    agreement_weights,
    teacher_weights,
    teacher_word_probs,
    train_student,
)

NAMES = label_names(LABEL_SETS["masakhaner"])



pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_agreement_weights_favour_the_agreeing_teachers():
    rng = np.random.default_rng(0)
    base = [rng.dirichlet(np.ones(5), size=n) for n in (4, 6, 3)]
    odd = [np.roll(p, 2, axis=1) for p in base]  # a teacher that puts its mass elsewhere
    w = agreement_weights([base, base, odd])
    assert w.sum() == pytest.approx(1.0)
    assert w[0] == pytest.approx(w[1]) and w[2] < w[0]
    assert agreement_weights([base]).tolist() == [1.0]
    avg = aggregate([base, odd], np.array([3.0, 1.0]))
    assert np.allclose(avg[1], 0.75 * base[1] + 0.25 * odd[1], atol=1e-6)
    assert np.allclose(avg[2].sum(-1), 1.0, atol=1e-5)
    with pytest.raises(ConfigError, match="Unknown teacher weighting"):
        teacher_weights("softmax", [base])


@pytest.fixture(scope="module")
def setup(data_dir, tmp_path_factory, tiny_bert_from_words):
    import datasets
    from transformers import TrainingArguments

    from nerxl_data.train.data import cap, load_source, map_labels
    from nerxl_data.train.trainer import fit

    tmp = tmp_path_factory.mktemp("distill")
    raw = {s: datasets.DatasetDict({"train": cap(load_source(s, data_dir=data_dir)["train"], 64, 0)}) for s in ("masakhaner2:hau", "masakhaner2:swa")}
    yor = cap(load_source("masakhaner2:yor", data_dir=data_dir)["train"], 40, 0)
    base = tiny_bert_from_words(tmp / "base", list(raw["masakhaner2:hau"]["train"]["tokens"]) + list(raw["masakhaner2:swa"]["train"]["tokens"]) + list(yor["tokens"]))
    mapped, names, _ = map_labels(raw, LABEL_SETS["masakhaner"])
    assert names == NAMES
    teachers = []
    for s in raw:
        args = TrainingArguments(str(tmp / s), num_train_epochs=6, learning_rate=3e-3, per_device_train_batch_size=8,
                                 report_to="none", save_strategy="no", seed=0)
        trainer = fit(str(base), mapped[s]["train"], names, args)
        trainer.save_model(str(tmp / s.replace(":", "-")))
        teachers.append(tmp / s.replace(":", "-"))
    return base, teachers, list(yor["tokens"]), raw


def _soft_ce(target: list[np.ndarray], model, tok, sents) -> float:
    from nerxl_data.train.trainer import word_logits

    logits, _ = word_logits(model, tok, sents)
    logp = [row - np.log(np.exp(row - row.max(-1, keepdims=True)).sum(-1, keepdims=True)) - row.max(-1, keepdims=True) for row in logits]
    return float(np.mean(np.concatenate([-(t * lp).sum(-1) for t, lp in zip(target, logp, strict=True)])))


def test_student_matches_teachers_on_unlabeled_target(setup, tmp_path):
    from transformers import (
        AutoModelForTokenClassification,
        AutoTokenizer,
        TrainingArguments,
        set_seed,
    )

    base, teachers, sents, raw = setup
    probs = teacher_word_probs(teachers, sents, NAMES)
    assert len(probs) == 2 and len(probs[0]) == len(sents)
    assert all(p.shape == (len(s), len(NAMES)) for p, s in zip(probs[0], sents, strict=True))
    assert np.allclose(np.concatenate(probs[1]).sum(-1), 1.0, atol=1e-4)
    # The two teachers were trained on different languages: they do not agree everywhere.
    assert not np.allclose(np.concatenate(probs[0]), np.concatenate(probs[1]), atol=1e-3)

    w, info = teacher_weights("similarity", probs, encoder=str(base), source_sentences=[d["train"]["tokens"] for d in raw.values()],
                              target_sentences=sents)
    assert w.sum() == pytest.approx(1.0) and len(info["cosine"]) == 2
    soft = aggregate(probs, w)

    set_seed(0)
    untrained = AutoModelForTokenClassification.from_pretrained(base, num_labels=len(NAMES), id2label=dict(enumerate(NAMES)),
                                                                 label2id={n: i for i, n in enumerate(NAMES)})
    tok = AutoTokenizer.from_pretrained(base)
    before = _soft_ce(soft, untrained, tok, sents)
    args = TrainingArguments(str(tmp_path), num_train_epochs=8, learning_rate=3e-3, per_device_train_batch_size=8,
                             report_to="none", save_strategy="no", seed=0)
    trainer = train_student(str(base), sents, soft, NAMES, args)
    after = _soft_ce(soft, trainer.model, tok, sents)
    assert after < before - 0.1, (before, after)
    # The student's argmax agrees with the combined teacher on most words.
    from nerxl_data.train.trainer import word_logits

    logits, _ = word_logits(trainer.model, tok, sents)
    agree = np.mean(np.concatenate([lg.argmax(-1) == t.argmax(-1) for lg, t in zip(logits, soft, strict=True)]))
    assert agree > 0.8
