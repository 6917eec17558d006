"""The two ways a scaling run trains a model, behind one interface, so that the experiment's
direct, teacher, student, projection and in-language models are all trained and scored the
same way whichever recipe is chosen:

* :class:`Finetune`: the Trainer (``nerxl_data.train.trainer.fit`` for gold tags,
  ``nerxl_data.train.distill.train_student`` for soft labels), every kept layer trained;
  on CUDA with bf16 (or fp16) autocast and TF32 unless ``mixed_precision`` is off.
* :class:`Cached`: :mod:`nerxl_data.train.cached`, the frozen bottom layers run once per
  sentence and kept on disk, the layers above and the head trained over the kept states.

Both take per-word target distributions (one-hot gold tags or teachers' soft labels) and give
per-word logits; ``save``/``load`` keep a teacher for a later run.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .config import ExperimentConfig


class Finetune:
    name = "finetune"

    def __init__(self, cfg: ExperimentConfig, base, work: Path):
        self.cfg, self._base_fn, self.work = cfg, base, work  # base: a callable, run once, on first training
        self._base = None

    @property
    def base(self) -> str:
        if self._base is None:
            self._base = self._base_fn()
        return self._base

    def steps(self, n: int) -> int:
        return self.cfg.fit_recipe().steps(n, self.cfg.epochs, self.cfg.batch_size)

    def training_args(self, n: int, seed: int):
        import torch
        from transformers import TrainingArguments

        c = self.cfg
        cuda = torch.cuda.is_available() and c.mixed_precision
        bf16 = cuda and torch.cuda.is_bf16_supported()
        return TrainingArguments(
            output_dir=str(self.work / "tmp"), max_steps=self.steps(n), learning_rate=c.learning_rate,
            per_device_train_batch_size=c.batch_size, per_device_eval_batch_size=64, seed=seed,
            save_strategy="no", report_to="none", logging_strategy="no", disable_tqdm=True, warmup_steps=0.1,
            train_sampling_strategy="group_by_length",  # dynamic padding over batches of similar length
            bf16=bf16, fp16=cuda and not bf16, tf32=cuda or None,
        )

    def fit(self, sentences, targets: Sequence[np.ndarray], labels: Sequence[str], seed: int, *, hard: bool):
        import datasets

        from ...train.distill import train_student
        from ...train.trainer import fit

        kw = {"max_length": self.cfg.max_length, "freeze_embeddings": self.cfg.freeze_embeddings,
              "num_layers": self.cfg.num_layers}
        args = self.training_args(len(sentences), seed)
        if hard:
            ds = datasets.Dataset.from_dict({"tokens": [list(s) for s in sentences],
                                             "ner_tags": [t.argmax(-1).tolist() for t in targets]})
            trainer = fit(self.base, ds, labels, args, **kw)
        else:
            trainer = train_student(self.base, sentences, targets, labels, args, **kw)
        return trainer.model, trainer.processing_class

    def word_logits(self, handle, sentences) -> tuple[list[np.ndarray], int]:
        import torch

        from ...train.trainer import word_logits

        model, tok = handle
        cuda = next(model.parameters()).is_cuda
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=cuda and self.cfg.mixed_precision):
            return word_logits(model, tok, sentences, max_length=self.cfg.max_length, batch_size=128 if cuda else 32)

    def save(self, handle, path: Path) -> None:
        model, tok = handle
        model.save_pretrained(path)
        tok.save_pretrained(path)

    def load(self, path: Path):
        from transformers import AutoModelForTokenClassification, AutoTokenizer

        return AutoModelForTokenClassification.from_pretrained(path), AutoTokenizer.from_pretrained(path)


class Cached:
    name = "cached"

    def __init__(self, cfg: ExperimentConfig, model_path: str, features_dir: Path):
        from ...train.cached import FeatureCache

        self.cfg = cfg
        self.recipe = cfg.cached_recipe()
        self.cache = FeatureCache(model_path, self.recipe.feature_layer, features_dir, max_length=cfg.max_length)

    def steps(self, n: int) -> int:
        return self.recipe.steps(n)

    def prepare(self, sentences) -> None:
        """Encode every sentence the run reads in one pass (later calls find them cached)."""
        t0 = time.time()
        self.cache.get(sentences)
        self.feature_seconds = time.time() - t0

    def fit(self, sentences, targets, labels, seed: int, *, hard: bool):
        from ...train.cached import fit_cached

        return fit_cached(self.cache, sentences, targets, labels, self.recipe, seed)

    def word_logits(self, handle, sentences) -> tuple[list[np.ndarray], int]:
        feats = self.cache.get(sentences)
        logits = handle.word_logits(sentences, feats)
        truncated = sum(int((feats.firsts(i) < 0).sum()) for i in range(len(feats)))
        return logits, truncated

    def save(self, handle, path: Path) -> None:
        from safetensors.torch import save_file

        path.mkdir(parents=True, exist_ok=True)
        save_file({k: v.contiguous() for k, v in handle.state_dict().items()}, str(path / "top.safetensors"))
        (path / "labels.txt").write_text("\n".join(handle.labels) + "\n")

    def load(self, path: Path):
        from safetensors.torch import load_file

        from ...train.cached import CachedModel, _Top

        labels = (path / "labels.txt").read_text().split()
        module, full = _Top.build(self.cache.model_path, self.recipe, len(labels), 0)
        module.load_state_dict(load_file(str(path / "top.safetensors")))
        module.eval()
        return CachedModel(module, full, self.cache, self.recipe, labels)
