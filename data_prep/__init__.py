"""Dataset builders: every source becomes the same `datasets.Dataset` for GRPO, SFT and eval.

>>> from data_prep import build_dataset
>>> ds = build_dataset("arithmetic", split="train", limit=3, seed=0, format="unsloth")
>>> ds.column_names
['prompt', 'answer', 'question', 'reasoning', 'id', 'phrasing', 'operation', 'steps']
>>> [m["role"] for m in ds[0]["prompt"]]
['system', 'user']

Columns:

- `prompt`: chat messages, the format's system prompt then the question (TRL's
  conversational prompt column);
- `answer`: the gold answer as a string (what rewards and the evaluator compare with);
- `question`: the problem text;
- `reasoning`: a worked solution when the source has one, else "" (SFT priming
  renders `fmt.render(reasoning, answer)`);
- `id`: the row's position in its source split, stable across seeds and limits.

Datasets (`DATASETS`): `arithmetic` (generated, offline; the default of the CPU demo),
`gsm8k` (`openai/gsm8k`), `openr1_math` (`open-r1/DAPO-Math-17k-Processed` or
`open-r1/OpenR1-Math-220k`), and the evaluation sets `math500` (`HuggingFaceH4/MATH-500`)
and `aime24` (`HuggingFaceH4/aime_2024`), and `hub`: any Hub dataset, told its columns
(`data_prep.hub_dataset`). Each reads a local `.jsonl` / `.json` / `.parquet` / `.csv`
instead when given `data_file`. Splits: `train`, `test`, and `validation` (held out from
train, disjoint from test, for choosing checkpoints); the evaluation sets have `test` only.
Options: `split`, `limit`, `seed`, `format`, plus per-dataset knobs (see each module). Any bad input raises `DataError`, a `ValueError` whose message
is one line starting with the option to fix, e.g. `data_file: /x.jsonl not found`;
the recipes print it and exit with status 2.
"""

from importlib import import_module

__all__ = ["DATASETS", "Builder", "DataError", "build_dataset"]
_HOME = {"DATASETS": "builders", "Builder": "builders", "build_dataset": "builders", "DataError": "errors"}


def __getattr__(name: str):
    # Lazy: `rewards` imports `data_prep.formats`, and must stay light (no datasets/pyarrow/pandas).
    if name in _HOME:
        return getattr(import_module(f"data_prep.{_HOME[name]}"), name)
    raise AttributeError(f"module 'data_prep' has no attribute {name!r}")
