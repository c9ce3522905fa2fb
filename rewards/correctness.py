"""`is_correct`: THE answer check, shared by the rewards and the evaluator.

The `answer` and `correctness` rewards give their top score exactly when
`is_correct(fmt.extract(completion), gold)` holds, and `recipes.evaluate`
counts an example correct by the same call, so a "correct" in a report is a
top reward in training and nothing else.

Correct means: the same string after stripping whitespace, or the same exact
value after `parse_number`-style parsing of both sides (``1600`` = ``1,600`` =
``$1,600`` = ``1600.0`` = ``1600.``). Values compare as fractions, not floats,
so large integers that round to the same float are not confused. Anything
else ("1600 dollars", "x = 1600") is not correct; math-verify's symbolic
equivalence is the separate `math_verify` reward, kept out of here for speed.

>>> is_correct("$1,600", "1600"), is_correct("1600.0", "1,600"), is_correct("1601", "1600")
(True, True, False)
>>> is_correct(None, "3"), is_correct("", "")
(False, False)
"""

from __future__ import annotations

from rewards.numbers import parse_exact

__all__ = ["gold_text", "is_correct"]


def gold_text(gold: object) -> str | None:
    """A gold answer as text: strings as they are, ints/floats via str(), else None.

    >>> gold_text(72), gold_text(" 72 "), gold_text(None), gold_text(True)
    ('72', ' 72 ', None, None)
    """
    if isinstance(gold, str):
        return gold
    if isinstance(gold, (int, float)) and not isinstance(gold, bool):
        return str(gold)
    return None


def is_correct(pred: str | None, gold: str | int | float | None) -> bool:
    """Whether the extracted answer ``pred`` equals ``gold`` (string or exact numeric match)."""
    gold_str = gold_text(gold)
    if not isinstance(pred, str) or gold_str is None:
        return False
    pred, gold_str = pred.strip(), gold_str.strip()
    if not pred or not gold_str:
        return False
    if pred == gold_str:
        return True
    value = parse_exact(pred)
    return value is not None and value == parse_exact(gold_str)
