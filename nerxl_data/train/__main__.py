"""``python -m nerxl_data.train --model_name_or_path ... --dataset_name masakhaner2:hau --output_dir ... --do_train``

Arguments as in run_ner.py (HfArgumentParser over ModelArguments, DataTrainingArguments and
TrainingArguments; how each is honoured: :mod:`nerxl_data.cli.train`), plus the training
recipe's flags (RecipeArguments: ``--min_steps``, ``--num_layers``, ``--freeze_embeddings``,
``--empty_ratio``); ``--dataset_name`` may list several sources separated by commas.
"""

import sys

from ..errors import NerxlError

HINT = "--learning_rate 5e-4 --num_layers 4 --max_seq_length 64 --empty_ratio 0 --min_steps 60 --num_train_epochs 12"
"""The CPU recipe in this parser's flags (``nerxl train``'s are ``recipe.CPU_HINT``)."""


def main(argv=None) -> int:
    from transformers import HfArgumentParser, TrainingArguments

    from .data import LabelReport
    from .run import DataTrainingArguments, ModelArguments, RecipeArguments, train_ner

    parser = HfArgumentParser((ModelArguments, DataTrainingArguments, TrainingArguments, RecipeArguments))
    try:
        if argv is None and len(sys.argv) == 2 and sys.argv[1].endswith(".json"):
            model_args, data_args, training_args, recipe_args = parser.parse_json_file(sys.argv[1])
        else:
            model_args, data_args, training_args, recipe_args = parser.parse_args_into_dataclasses(args=argv)
        results = train_ner(model_args, data_args, training_args, recipe_args.recipe(), hint=HINT)
    except NerxlError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 2
    print("\n".join(LabelReport.from_dict(results["label_report"]).lines()))
    for split in ("validation", "test"):
        if split in results:
            print(f"{split}: f1={results[split]['overall_f1']:.4f}")
    for line in results.get("warnings", []):
        print(f"Warning: {line}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
