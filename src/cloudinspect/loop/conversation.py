"""The conversation a model repairs from: the request, its earlier scripts and what was wrong with each, in the
model's context window.

Every attempt adds a script and a repair message, and a small model's window (SmolLM2: 8k tokens) fills after
a few rounds. The last attempts matter most, so they stay in full; older ones shrink to one line each in a
summary; when even that does not fit, only the last attempt stays, its script and feedback trimmed in the
middle. A fresh start (after the same error repeated) drops every old script: the model gets the request again
and the list of approaches that failed, so that it does not edit the same lines once more.

Base models (no chat turns) get the same history folded into their one completion document by
`cloudinspect.generation.build_messages(history=...)`: pass them `repair_history(...)`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage

from cloudinspect.generation import message_text, render_template
from cloudinspect.loop.feedback import failure_feedback, summary_line
from cloudinspect.loop.state import Attempt

TokenCounter = Callable[[str], int]
"""Counts the tokens of a text, such as a chat model's `get_num_tokens`."""

CHARS_PER_TOKEN = 3.5
_MESSAGE_OVERHEAD = 4  # role markers and separators a chat template adds around each message
_MIN_TOKENS = 16


def estimate_tokens(text: str) -> int:
    """A tokenizer-free estimate: about 3.5 characters per token for English and Python."""
    return math.ceil(len(text) / CHARS_PER_TOKEN)


def _tokens(messages: Sequence[BaseMessage], count: TokenCounter) -> int:
    return sum(count(message_text(m)) + _MESSAGE_OVERHEAD for m in messages)


def _code_message(code: str) -> AIMessage:
    return AIMessage(f"```python\n{code.rstrip()}\n```")


def _feedback(attempt: Attempt, earlier: Sequence[Attempt]) -> str:
    """The repair message the loop stored, or the one it would have stored."""
    return attempt.feedback or failure_feedback(attempt, previous=earlier)


def _turns(attempts: Sequence[Attempt], everything: Sequence[Attempt]) -> list[BaseMessage]:
    turns: list[BaseMessage] = []
    for attempt in attempts:
        earlier = [a for a in everything if a.n < attempt.n]
        turns += [_code_message(attempt.code), HumanMessage(_feedback(attempt, earlier))]
    return turns


def _summary(attempts: Sequence[Attempt]) -> HumanMessage:
    return HumanMessage(render_template("repair_summary", lines=[summary_line(a) for a in attempts]))


def _trim_middle(text: str, max_chars: int, marker: str) -> str:
    """`text` cut to about `max_chars` by removing whole lines from its middle (the head says what it is, the
    tail holds the error or the closing instruction)."""
    if len(text) <= max_chars:
        return text
    lines = text.splitlines()
    head: list[str] = []
    tail: list[str] = []
    used = len(marker) + 2
    front, back = 0, len(lines) - 1
    while front <= back:
        take_head = sum(map(len, head)) <= 1.5 * sum(map(len, tail))
        line = lines[front] if take_head else lines[back]
        if used + len(line) + 1 > max_chars:
            break
        used += len(line) + 1
        if take_head:
            head.append(line)
            front += 1
        else:
            tail.insert(0, line)
            back -= 1
    omitted = back - front + 1
    if omitted <= 0:
        return text
    if not head and not tail:  # one line longer than the room: cut it
        return text[: max(max_chars - 3, 0)] + "..."
    return "\n".join([*head, marker.format(omitted=omitted), *tail])


def _fit(text: str, max_tokens: int, count: TokenCounter, marker: str) -> str:
    """`text` trimmed in the middle until `count` says it has at most `max_tokens` tokens."""
    tokens = count(text)
    if tokens <= max_tokens:
        return text
    target = int(len(text) * max_tokens / max(tokens, 1))
    while target > 0:
        trimmed = _trim_middle(text, target, marker)
        if count(trimmed) <= max_tokens:
            return trimmed
        target = int(target * 0.85)
    return ""


def _last_only(attempts: Sequence[Attempt], budget: int, count: TokenCounter) -> list[BaseMessage]:
    """The last attempt alone, with the summary of the others if it fits, its code and feedback trimmed."""
    last = attempts[-1]
    messages: list[BaseMessage] = []
    if len(attempts) > 1:
        summary = _summary(attempts[:-1])
        if _tokens([summary], count) <= budget // 4:
            messages.append(summary)
            budget -= _tokens([summary], count)
    feedback = _feedback(last, attempts[:-1])
    room = budget - 2 * _MESSAGE_OVERHEAD
    feedback_room = max(min(count(feedback), room // 2), _MIN_TOKENS)
    feedback = _fit(feedback, feedback_room, count, "... ({omitted} lines omitted) ...")
    code_room = room - count(feedback)
    code = _fit(last.code, code_room, count, "# ... ({omitted} lines omitted) ...") if code_room >= _MIN_TOKENS else ""
    if code:
        messages.append(_code_message(code))
    return [*messages, HumanMessage(feedback)]


def _fresh(attempts: Sequence[Attempt], budget: int | None, count: TokenCounter) -> list[BaseMessage]:
    """One message: start again, and the approaches that failed (the oldest dropped when they do not fit)."""
    lines = [summary_line(a) for a in attempts]
    while True:
        message = HumanMessage(render_template("repair_fresh", lines=lines, total=len(attempts)))
        if budget is None or len(lines) <= 1 or _tokens([message], count) <= budget:
            return [message]
        lines = lines[1:]


def repair_history(
    attempts: Sequence[Attempt],
    *,
    budget_tokens: int | None,
    keep_last: int = 2,
    fresh: bool = False,
    count_tokens: TokenCounter | None = None,
) -> list[BaseMessage]:
    """The turns that follow the initial messages for the next attempt, within `budget_tokens` (None: no limit).

    The last `keep_last` attempts appear in full (their script as an AI message, their feedback as a human
    message); older ones become one summary message before them. Fewer attempts are kept in full when they do
    not fit; as a last resort only the last one, trimmed. `fresh`: one message listing what failed, no code.
    `count_tokens` defaults to `estimate_tokens`."""
    if not attempts:
        return []
    count = count_tokens or estimate_tokens
    if fresh:
        return _fresh(attempts, budget_tokens, count)
    for kept in range(min(max(keep_last, 1), len(attempts)), 0, -1):
        older, recent = attempts[:-kept], attempts[-kept:]
        messages: list[BaseMessage] = [_summary(older)] if older else []
        messages += _turns(recent, attempts)
        if budget_tokens is None or _tokens(messages, count) <= budget_tokens:
            return messages
    return _last_only(attempts, max(budget_tokens or 0, 4 * _MIN_TOKENS), count)


def repair_messages(
    initial: Sequence[BaseMessage],
    attempts: Sequence[Attempt],
    *,
    context_tokens: int | None,
    reserve_tokens: int = 1024,
    keep_last: int = 2,
    fresh: bool = False,
    count_tokens: TokenCounter | None = None,
) -> list[BaseMessage]:
    """The messages for the next attempt: `initial` (system and request, never trimmed) followed by
    `repair_history`, all within `context_tokens - reserve_tokens` (the reserve is for the reply; None: no
    limit)."""
    count = count_tokens or estimate_tokens
    budget = None if context_tokens is None else context_tokens - reserve_tokens - _tokens(initial, count)
    history = repair_history(attempts, budget_tokens=budget, keep_last=keep_last, fresh=fresh, count_tokens=count)
    return [*initial, *history]
