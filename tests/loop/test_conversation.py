"""The repair conversation within a context window: full recent attempts, a summary of older ones, trimming,
fresh starts, and the same history folded into a base model's completion document."""

from __future__ import annotations

from datetime import UTC, datetime

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage

from cloudinspect.catalog import load_catalog
from cloudinspect.generation import build_messages, message_text
from cloudinspect.loop.conversation import estimate_tokens, repair_history, repair_messages
from cloudinspect.loop.state import Attempt
from cloudinspect.models.registry import get_spec

NOW = datetime(2026, 1, 1, tzinfo=UTC)
INITIAL: list[BaseMessage] = [
    SystemMessage("You write Python scripts that inspect AWS accounts. " * 10),
    HumanMessage("List the EC2 instances by state and type."),
]


def _attempt(n: int, lines: int = 20, feedback: str | None = None) -> Attempt:
    code = "import boto3\n" + "".join(f"value_{n}_{i} = {i}  # attempt {n} line {i}\n" for i in range(lines))
    return Attempt(
        n=n,
        code=code,
        error_class="runtime",
        error_message=f"KeyError: 'Key{n}'",
        feedback=feedback if feedback is not None else f"Attempt {n} failed: KeyError: 'Key{n}'.\n" + "detail\n" * 5,
        started_at=NOW,
        finished_at=NOW,
    )


def _tokens(messages: list[BaseMessage]) -> int:
    return sum(estimate_tokens(message_text(m)) + 4 for m in messages)


def _text(messages: list[BaseMessage]) -> str:
    return "\n".join(message_text(m) for m in messages)


def test_no_attempts_is_the_initial_conversation() -> None:
    assert repair_messages(INITIAL, [], context_tokens=8192) == INITIAL


def test_last_attempts_in_full_and_older_ones_summarised() -> None:
    attempts = [_attempt(n) for n in range(1, 5)]
    messages = repair_messages(INITIAL, attempts, context_tokens=None, keep_last=2)
    assert messages[:2] == INITIAL
    summary, *turns = messages[2:]
    assert isinstance(summary, HumanMessage)
    assert "1: runtime: KeyError: 'Key1'" in message_text(summary)
    assert "2: runtime: KeyError: 'Key2'" in message_text(summary)
    assert [type(m) for m in turns] == [AIMessage, HumanMessage, AIMessage, HumanMessage]
    assert message_text(turns[0]).startswith("```python\nimport boto3\n")
    assert message_text(turns[0]).endswith("\n```")
    assert "attempt 3 line 19" in message_text(turns[0])
    assert message_text(turns[1]) == attempts[2].feedback
    assert message_text(turns[3]) == attempts[3].feedback
    # The older scripts are not repeated.
    assert "attempt 1 line" not in _text(messages)
    assert "attempt 2 line" not in _text(messages)


def test_everything_fits_in_a_large_window() -> None:
    attempts = [_attempt(1), _attempt(2)]
    messages = repair_messages(INITIAL, attempts, context_tokens=8192, reserve_tokens=1024)
    assert len(messages) == 2 + 4
    assert "attempt 1 line 0" in _text(messages)


def test_fewer_attempts_in_full_when_they_do_not_fit() -> None:
    attempts = [_attempt(n, lines=60) for n in range(1, 4)]
    both = repair_messages(INITIAL, attempts, context_tokens=None, keep_last=2)
    budget = _tokens(both) - 100
    messages = repair_messages(INITIAL, attempts, context_tokens=budget + 500, reserve_tokens=500, keep_last=2)
    assert _tokens(messages) <= budget
    assert messages[:2] == INITIAL
    assert "attempt 2 line" not in _text(messages)
    assert "attempt 3 line 59" in _text(messages)
    assert "2: runtime" in _text(messages)


def test_small_budget_keeps_the_initial_messages_and_the_trimmed_last_attempt() -> None:
    attempts = [
        _attempt(n, lines=200, feedback=f"Attempt {n} failed.\n" + "evidence\n" * 100 + "Reply with it.")
        for n in range(1, 4)
    ]
    context, reserve = _tokens(INITIAL) + 700, 200
    messages = repair_messages(INITIAL, attempts, context_tokens=context, reserve_tokens=reserve)
    assert _tokens(messages) <= context - reserve
    assert messages[:2] == INITIAL
    text = _text(messages[2:])
    # The last attempt: its script's head and tail, and its feedback's head and closing instruction.
    assert "attempt 3 line 0 " in text or "attempt 3 line 0\n" in text
    assert "attempt 3 line 199" in text
    assert "lines omitted" in text
    assert "Attempt 3 failed." in text
    assert text.rstrip().endswith("Reply with it.")
    assert "attempt 2 line" not in text
    assert isinstance(messages[-1], HumanMessage)


def test_a_custom_token_counter_is_used() -> None:
    attempts = [_attempt(n, lines=100) for n in range(1, 3)]

    def words(text: str) -> int:
        return len(text.split())

    roomy = repair_messages(INITIAL, attempts, context_tokens=100_000, count_tokens=words)
    tight = repair_messages(
        INITIAL,
        attempts,
        context_tokens=sum(words(message_text(m)) + 4 for m in INITIAL) + 700,
        reserve_tokens=0,
        count_tokens=words,
    )
    assert "attempt 1 line" in _text(roomy)
    assert "attempt 1 line" not in _text(tight)
    assert sum(words(message_text(m)) + 4 for m in tight) <= sum(words(message_text(m)) + 4 for m in INITIAL) + 700


def test_fresh_start_lists_what_failed_without_old_code() -> None:
    attempts = [_attempt(n) for n in range(1, 4)]
    messages = repair_messages(INITIAL, attempts, context_tokens=8192, fresh=True)
    assert messages[:2] == INITIAL
    assert len(messages) == 3
    text = message_text(messages[2])
    assert isinstance(messages[2], HumanMessage)
    assert "Start again from scratch" in text
    for n in (1, 2, 3):
        assert f"{n}: runtime: KeyError: 'Key{n}'" in text
    assert "attempt 1 line" not in text
    assert "import boto3" not in text
    assert "```python code block" in text


def test_fresh_start_drops_the_oldest_lines_when_short_of_room() -> None:
    attempts = [_attempt(n) for n in range(1, 40)]
    history = repair_history(attempts, budget_tokens=200, fresh=True)
    text = message_text(history[0])
    assert estimate_tokens(text) + 4 <= 200
    assert "39: runtime" in text
    assert "\n- 1: runtime" not in text


def test_missing_feedback_is_rendered_from_the_attempt() -> None:
    attempt = _attempt(1, feedback="")
    history = repair_history([attempt], budget_tokens=None)
    assert message_text(history[1]).startswith("Attempt 1 failed: the script raised an exception while running.")


def test_a_base_model_gets_the_history_folded_into_its_document() -> None:
    spec = get_spec("gemma3-270m")
    assert not spec.capabilities.chat
    prompt = load_catalog()["ec2-instances-by-state-and-type"]
    history = repair_history([_attempt(1), _attempt(2)], budget_tokens=4000)
    messages = build_messages(prompt, {}, spec, history=history)
    assert len(messages) == 1
    document = message_text(messages[0])
    assert "attempt 2 line 19" in document
    assert "Attempt 2 failed: KeyError: 'Key2'." in document
    assert document.rstrip().endswith("corrected:")
