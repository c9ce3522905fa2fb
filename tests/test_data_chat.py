"""Chat datasets for SFT: each conversation becomes prompt = turns before the last reply, completion = that reply."""

from __future__ import annotations

import json

import pytest

from data_prep.chat import chat_rows
from data_prep.errors import DataError
from tests.conftest import FIXTURES

CHAT = FIXTURES / "chat_sample.jsonl"


def test_every_conversation_trains_on_its_last_assistant_reply_only():
    rows = chat_rows(str(CHAT))
    assert len(rows) == 8
    multi = rows[3]  # user, assistant, user, assistant
    assert [t["role"] for t in multi["prompt"]] == ["user", "assistant", "user"]
    assert multi["completion"] == [{"role": "assistant", "content": "3 + 4 = 7."}]
    assert rows[1]["prompt"][0]["role"] == "system"  # a system turn stays in the prompt
    assert all(r["completion"][0]["role"] == "assistant" and r["prompt"][-1]["role"] != "assistant" for r in rows)
    assert len(chat_rows(str(CHAT), limit=3)) == 3


@pytest.mark.parametrize(("messages", "problem"), [
    ([{"role": "user", "content": "Hi"}], "row 2 has no assistant turn"),
    ([{"role": "assistant", "content": "Hi"}], "row 2 starts with the assistant turn"),
    ([{"role": "user", "text": "Hi"}], "row 2 has a turn that is not"),
    ("Hi", "row 2 has no messages"),
])
def test_a_malformed_conversation_is_one_line_naming_the_field_and_row(tmp_path, messages, problem):
    good = {"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}]}
    path = tmp_path / "chat.jsonl"
    path.write_text(json.dumps(good) + "\n" + json.dumps({"messages": messages}) + "\n")
    with pytest.raises(DataError) as err:
        chat_rows(str(path), field="sft_prime.chat_dataset")
    message = str(err.value)
    assert message.startswith("sft_prime.chat_dataset: ") and problem in message and "\n" not in message


def test_a_missing_file_or_column_names_the_field(tmp_path):
    with pytest.raises(DataError, match=r"^sft_prime.chat_dataset: .*not found"):
        chat_rows(str(tmp_path / "nope.jsonl"), field="sft_prime.chat_dataset")
    plain = tmp_path / "qa.jsonl"
    plain.write_text(json.dumps({"question": "q", "answer": "a"}) + "\n")
    with pytest.raises(DataError, match=r"^chat_dataset: missing column 'messages'"):
        chat_rows(str(plain))
