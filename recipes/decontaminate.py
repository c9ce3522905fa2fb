"""Training rows that share a word n-gram with an evaluation set (decontamination), as open-r1 checks it.

    python -m recipes.decontaminate --train recipes/configs/grpo_smollm2_demo.yaml \\
        --eval tests/fixtures/gsm8k_sample.jsonl --out runs/decontaminate

Algorithm (open-r1 ``scripts/decontaminate.py``, itself s1's ``data/decontaminate_util.py``):
normalise each problem text, cut it into word n-grams (n = 8), put every
evaluation problem's n-grams in one lookup, then pass once over the training
rows: a row is flagged when any of its n-grams is in the lookup. The lookup
holds the hash of each n-gram tuple (with the first evaluation row that has
it); a hit is confirmed against that row's n-grams, so a hash collision never
flags a row. Measured: 17,000 training rows of 80 random words against 500
evaluation rows, 0.5 s (2-core CPU, load average 0.6-0.9, Python 3.11).

Only the ``question`` column (the problem) is compared. ``--train``: a recipe
YAML (data built as the run builds it; ``--key value`` overrides apply) or a
file; ``--eval``: a dataset name (``--eval-split``; the config's knobs when it is
the config's evaluation set) or a file. A file is read by the ``openr1_math``
builder (question from ``problem``, ``prompt`` or ``question``, DAPO's
instruction stripped: what a run trains on); ``index`` is its row.

Writes ``DIR/decontamination.json``: ngram, train, eval, train_rows, eval_rows,
flagged, and per flagged row its index, id, first shared n-gram, eval_index, eval_id.

Generated sources: ``arithmetic`` fills train and test from the same templates
on purpose, split by a hash of each problem's arithmetic. Its 8-grams are
template words: the demo config flags 789 of 1000 training rows against its test
split, with no test question repeated. `skip_reason` names such a pair, so a
pipeline can skip the check instead of dropping most of the data.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from data_prep import DATASETS, build_dataset
from data_prep.local_files import SUFFIXES
from recipes.errors import RecipeError, run_cli
from recipes.io_utils import write_json

REPORT = "decontamination.json"
FILE_READER = "openr1_math"  # reads a file's problem, prompt or question column

# open-r1 scripts/decontaminate.py (huggingface/open-r1 @ 1416fa0, unchanged since #416):
#     text = text.lower().strip()
#     text = " ".join(text.split())
# It keeps punctuation ("april," is not "april"); lm-evaluation-harness's Janitor
# (lm_eval/decontamination/janitor.py) deletes string.punctuation. We make every non-word
# character a space instead, so spacing around it does not count either: "$2x+3=11$" reads as
# "$2x + 3 = 11$" (deleting would give "2x311"), and a re-cased, re-punctuated copy matches.
_PUNCTUATION = re.compile(r"[^\w\s]|_")


def normalize(text: str) -> str:
    """Lower case, punctuation made white space, runs of white space made one space.

    >>> normalize("  Weng earns $12\\n an HOUR, for babysitting. "), normalize("$2x+3=11$")
    ('weng earns 12 an hour for babysitting', '2x 3 11')
    """
    return " ".join(_PUNCTUATION.sub(" ", text.lower()).split())


def ngrams(text: str, n: int) -> list[tuple[str, ...]]:
    """The word n-grams of the normalised text; a text shorter than n words is one n-gram, itself.

    open-r1's ``word_ngrams`` returns no n-gram for a text under n words, so such a
    problem can never be flagged; here it matches a training row that is the same text.

    >>> ngrams("What is 2 + 3?", 3)
    [('what', 'is', '2'), ('is', '2', '3')]
    >>> ngrams("What is 2 + 3?", 8)
    [('what', 'is', '2', '3')]
    """
    words = normalize(text).split()
    if len(words) < n:
        return [tuple(words)] if words else []
    return [tuple(words[i:i + n]) for i in range(len(words) - n + 1)]


@dataclass(frozen=True)
class Overlap:
    """Training row ``index`` shares n-gram ``shared`` with evaluation row ``eval_index``."""

    index: int
    shared: str
    eval_index: int


def _check_ngram(ngram: object) -> int:
    if isinstance(ngram, bool) or not isinstance(ngram, int) or ngram < 1:
        raise RecipeError(f"ngram: expected a whole number >= 1, got {ngram!r}")
    return ngram


def find_overlaps(train_questions: Sequence[str], eval_questions: Sequence[str],
                  ngram: int = 8) -> list[Overlap]:
    """Every training question sharing a word n-gram with an evaluation question, in training order.

    >>> evals = ["Natalia sold clips to 48 of her friends in April, and then she sold half as many."]
    >>> find_overlaps(["NATALIA sold clips to 48 of her friends in april!", "She sold half as many."], evals)
    [Overlap(index=0, shared='natalia sold clips to 48 of her friends', eval_index=0)]
    """
    n = _check_ngram(ngram)
    lookup: dict[int, int] = {}
    for j, question in enumerate(eval_questions):
        for gram in ngrams(question, n):
            lookup.setdefault(hash(gram), j)
    found = []
    for i, question in enumerate(train_questions):
        for gram in ngrams(question, n):
            j = lookup.get(hash(gram))
            if j is not None and gram in ngrams(eval_questions[j], n):  # not a hash collision
                found.append(Overlap(i, " ".join(gram), j))
                break
    return found


def _column(rows: Any, name: str, label: str, required: bool = True) -> list:
    """A column of a ``datasets.Dataset`` or of a list of dicts (None where a row lacks it)."""
    if hasattr(rows, "column_names"):
        values = list(rows[name]) if name in rows.column_names else [None] * len(rows)
    else:
        values = [row.get(name) for row in rows]
    if required and None in values:
        raise RecipeError(f"{label}: a row has no {name!r}, the problem text to compare")
    return values


def check(train_rows: Any, eval_rows: Any, ngram: int, out_dir: str | Path | None,
          label_train: str, label_eval: str, note: str | None = None) -> dict[str, Any]:
    """Compare the rows' ``question`` columns, write ``out_dir/decontamination.json`` atomically, return it.

    ``note`` (e.g. `skip_reason`'s) is recorded beside the counts.
    """
    train_questions = _column(train_rows, "question", "train")
    eval_questions = _column(eval_rows, "question", "eval")
    train_ids, eval_ids = _column(train_rows, "id", "train", False), _column(eval_rows, "id", "eval", False)
    overlaps = find_overlaps(train_questions, eval_questions, ngram)
    report = {
        "ngram": ngram, "train": label_train, "eval": label_eval,
        "train_rows": len(train_questions), "eval_rows": len(eval_questions), "flagged": len(overlaps),
        "rows": [{"index": o.index, "id": train_ids[o.index], "shared": o.shared,
                  "eval_index": o.eval_index, "eval_id": eval_ids[o.eval_index]} for o in overlaps],
        **({"note": note} if note else {}),
    }
    if out_dir is not None:  # None: another rank of the same run (recipes.distributed)
        write_json(Path(out_dir) / REPORT, report)
    return report


def drop_flagged(dataset: Any, report: dict[str, Any]) -> Any:
    """The dataset without the rows `check` flagged, in order (``Dataset.select``)."""
    if report["train_rows"] != len(dataset):
        raise RecipeError(f"decontamination: the report is of {report['train_rows']} training rows, "
                          f"the dataset has {len(dataset)}")
    flagged = {row["index"] for row in report["rows"]}
    return dataset.select([i for i in range(len(dataset)) if i not in flagged])


def skip_reason(train: tuple[str, str | None], evals: tuple[str | None, str | None]) -> str | None:
    """Why an n-gram check of (dataset, data_file) ``train`` against ``evals`` means nothing, else None.

    >>> mine = ("arithmetic", None)
    >>> skip_reason(mine, mine)[:23], skip_reason(mine, ("gsm8k", None))
    ('arithmetic is generated', None)
    """
    builder = DATASETS.get(train[0])
    if train != evals or train[1] or builder is None or not builder.generated:
        return None
    return (f"{train[0]} is generated from templates shared by train and test on purpose; "
            "its splits are apart by construction, so shared n-grams are template words")


# ---------------------------------------------------------------- command line


def parse_args(argv: list[str] | None) -> tuple[argparse.Namespace, list[str]]:
    p = argparse.ArgumentParser(prog="python -m recipes.decontaminate", description=__doc__.split("\n\n")[0])
    p.add_argument("--train", required=True, help="recipe YAML, or a data file")
    p.add_argument("--eval", required=True, help=f"{', '.join(DATASETS)}, or a data file")
    p.add_argument("--ngram", type=int, default=8, help="words per n-gram (open-r1's default: 8)")
    p.add_argument("--eval-split", default="test")
    p.add_argument("--eval-limit", type=int, default=None, help="at most this many evaluation rows")
    p.add_argument("--out", required=True, help="folder for decontamination.json")
    return p.parse_known_args(argv)


def _file_rows(field: str, path: str, split: str, limit: int | None):
    """A data file's rows in file order (``index`` == ``id`` == row), the first ``limit`` of them."""
    if Path(path).suffix.lower() not in SUFFIXES:
        names = ", ".join(DATASETS) if field == "eval" else "a .yaml/.yml config"
        raise RecipeError(f"{field}: unknown {path!r}; expected {names} or a {', '.join(SUFFIXES)} file")
    rows = build_dataset(FILE_READER, split=split, data_file=path)
    order = sorted(range(len(rows)), key=rows["id"].__getitem__)  # Dataset.sort warns
    return rows.select(order[:limit])


def _train_rows(args: argparse.Namespace, overrides: list[str]) -> tuple[Any, Any, str]:
    """(rows, RunConfig or None, label)."""
    if Path(args.train).suffix.lower() in (".yaml", ".yml"):
        from recipes.config import load_config
        from recipes.run_inputs import train_dataset

        cfg = load_config(args.train, overrides)
        r = cfg.recipe
        return train_dataset(cfg), cfg, f"{args.train}: {r.data_file or r.dataset} ({r.dataset_split})"
    if overrides:
        raise RecipeError(f"arguments: {overrides[0]} is a config override; {args.train} is no YAML config")
    return _file_rows("train", args.train, "train", None), None, args.train


def _eval_rows(args: argparse.Namespace, cfg: Any) -> Any:
    if args.eval not in DATASETS:
        return _file_rows("eval", args.eval, args.eval_split, args.eval_limit)
    knobs, seed = {}, 0
    if cfg is not None:
        from recipes.run_inputs import eval_knobs, eval_source

        seed = cfg.grpo.seed
        if eval_source(cfg) == (args.eval, None):  # the run's own evaluation set: its knobs too
            knobs = eval_knobs(cfg)
    return build_dataset(args.eval, split=args.eval_split, limit=args.eval_limit, seed=seed, **knobs)


def main(argv: list[str] | None = None) -> int:
    args, overrides = parse_args(argv)
    n = _check_ngram(args.ngram)
    if args.eval_limit is not None and args.eval_limit < 1:
        raise RecipeError(f"eval-limit: expected a positive integer, got {args.eval_limit}")
    train, cfg, label_train = _train_rows(args, overrides)
    eval_rows = _eval_rows(args, cfg)
    evals = (args.eval, None) if args.eval in DATASETS else (None, args.eval)
    note = skip_reason((cfg.recipe.dataset, cfg.recipe.data_file), evals) if cfg is not None else None
    report = check(train, eval_rows, n, args.out, label_train, f"{args.eval} ({args.eval_split})", note)
    article = "an" if str(n).startswith("8") or n in (11, 18) else "a"
    print(f"decontaminate: {report['flagged']} of {report['train_rows']} training rows share {article} "
          f"{n}-gram with {report['eval_rows']} evaluation problems -> {Path(args.out) / REPORT}")
    return 0


if __name__ == "__main__":
    sys.exit(run_cli(main))
