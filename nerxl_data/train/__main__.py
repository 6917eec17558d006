"""``python -m nerxl_data.train --model_name_or_path ... --dataset_name masakhaner2:hau --output_dir ... --do_train``

Arguments as in run_ner.py (HfArgumentParser over ModelArguments, DataTrainingArguments and
TrainingArguments); ``--dataset_name`` may list several sources separated by commas.
"""

import sys

from ..errors import NerxlError


def main(argv=None) -> int:
    from transformers import HfArgumentParser, TrainingArguments

    from .run import DataTrainingArguments, ModelArguments, train_ner

    parser = HfArgumentParser((ModelArguments, DataTrainingArguments, TrainingArguments))
    if argv is None and len(sys.argv) == 2 and sys.argv[1].endswith(".json"):
        model_args, data_args, training_args = parser.parse_json_file(sys.argv[1])
    else:
        model_args, data_args, training_args = parser.parse_args_into_dataclasses(args=argv)
    try:
        results = train_ner(model_args, data_args, training_args)
    except NerxlError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 2
    for split in ("validation", "test"):
        if split in results:
            print(f"{split}: f1={results[split]['overall_f1']:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
