"""Asking a chat model for one JSON document that a pydantic model validates, from any provider.

Structured-output APIs (tool calling, JSON mode) are not available everywhere: replay files, llama.cpp's small
models and some OpenAI-compatible servers answer in text. So this asks in text, finds the JSON in the reply (a
fenced ```json block, else the first JSON object that parses), validates it, and when that fails asks again once
with what was wrong ("fix" turns). What the model got wrong stays visible (`error`, `texts`); a reply that never
validates is not an exception but an answer without a value, and the caller decides (a planner falls back to its
shortlist, a diagnosis says it could not conclude). Provider failures are exceptions (`ModelCallError`), as in
code generation: they are not the model's answer.

The call's metadata carries `key` under the replay provider's prompt-id key, so one replay file can hold the
replies of every step of a workflow (`troubleshoot.plan: [...]`).
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from time import perf_counter
from typing import Any, Generic, TypeVar

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langchain_core.runnables import RunnableConfig
from pydantic import BaseModel, ValidationError

from cloudinspect.models.replay import PROMPT_ID_METADATA_KEY
from cloudinspect.models.resilience import ProviderError, RetryPolicy, call_with_retries
from cloudinspect.models.spec import ModelSpec, TokenUsage

T = TypeVar("T", bound=BaseModel)

_FENCE = re.compile(r"```[ \t]*(?:json|JSON|json5)?[ \t]*\n(.*?)```", re.DOTALL)
_THINK = re.compile(r"<think>.*?</think>", re.DOTALL)
MAX_ERRORS_SHOWN = 8


@dataclass(frozen=True)
class JsonReply(Generic[T]):
    """The validated value (None when no reply validated), why not, the raw replies and what they cost."""

    value: T | None
    error: str = ""
    texts: list[str] = field(default_factory=list)
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float = 0.0
    latency_ms: float = 0.0
    calls: int = 0

    @property
    def ok(self) -> bool:
        return self.value is not None


def _text(message: BaseMessage) -> str:
    content = message.content
    if isinstance(content, str):
        return content
    return "".join(part if isinstance(part, str) else str(part.get("text", "")) for part in content)


def find_json(text: str) -> Any:
    """The JSON document in a model's reply: a fenced block that parses, else the first object or array that
    parses anywhere in the text. ValueError when there is none."""
    text = _THINK.sub("", text)
    for block in _FENCE.findall(text):
        try:
            return json.loads(block)
        except ValueError:
            continue
    decoder = json.JSONDecoder()
    for index, char in enumerate(text):
        if char in "{[":
            try:
                value, _ = decoder.raw_decode(text, index)
            except ValueError:
                continue
            if isinstance(value, dict) or (isinstance(value, list) and value):
                return value
    raise ValueError("the reply holds no JSON object")


def _problems(exc: ValidationError) -> str:
    lines = []
    for err in exc.errors()[:MAX_ERRORS_SHOWN]:
        where = ".".join(str(p) for p in err["loc"]) or "(root)"
        lines.append(f"- {where}: {err['msg']}")
    more = len(exc.errors()) - MAX_ERRORS_SHOWN
    if more > 0:
        lines.append(f"- ... and {more} more")
    return "\n".join(lines)


def parse_reply(text: str, schema: type[T]) -> tuple[T | None, str]:
    """(value, '') when the reply holds a JSON document `schema` validates, else (None, what is wrong)."""
    try:
        data = find_json(text)
    except ValueError as exc:
        return None, str(exc)
    try:
        return schema.model_validate(data), ""
    except ValidationError as exc:
        return None, f"the JSON does not fit the expected shape:\n{_problems(exc)}"


def ask_json(
    model: BaseChatModel,
    spec: ModelSpec,
    messages: Sequence[BaseMessage],
    schema: type[T],
    *,
    key: str,
    fixes: int = 1,
    retry: RetryPolicy | None = None,
    config: RunnableConfig | None = None,
) -> JsonReply[T]:
    """Ask `model` (described by `spec`, for prices) for a JSON document of `schema`; up to `fixes` more turns
    tell it what was wrong. Transient provider failures are retried per `retry`; a provider that fails for good
    raises ModelCallError."""
    from cloudinspect.generation import ModelCallError
    from cloudinspect.generation._generate import CACHE_HIT_KEY, model_label

    policy = retry or RetryPolicy()
    run_config: RunnableConfig = dict(config or {})  # type: ignore[assignment]
    run_config["metadata"] = {**(run_config.get("metadata") or {}), PROMPT_ID_METADATA_KEY: key}
    conversation = list(messages)
    texts: list[str] = []
    usage = TokenUsage()
    cost = latency = 0.0
    error = ""
    for turn in range(fixes + 1):
        start = perf_counter()
        try:
            reply = call_with_retries(functools.partial(model.invoke, list(conversation), config=run_config), policy)
        except ProviderError as exc:
            raise ModelCallError(
                exc.failure, exc.tries, model=model_label(spec), provider=spec.provider.value
            ) from exc.__cause__
        latency += (perf_counter() - start) * 1000
        cached = bool((getattr(reply, "response_metadata", None) or {}).get(CACHE_HIT_KEY))
        if not cached:
            call_usage = TokenUsage.from_metadata(getattr(reply, "usage_metadata", None))
            usage = TokenUsage(
                input_tokens=usage.input_tokens + call_usage.input_tokens,
                output_tokens=usage.output_tokens + call_usage.output_tokens,
                cached_input_tokens=usage.cached_input_tokens + call_usage.cached_input_tokens,
                cache_write_tokens=usage.cache_write_tokens + call_usage.cache_write_tokens,
            )
            cost += spec.cost_usd(call_usage)
        text = _text(reply)
        texts.append(text)
        value, error = parse_reply(text, schema)
        if value is not None:
            return JsonReply(value, "", texts, usage.input_tokens, usage.output_tokens, cost, latency, turn + 1)
        if turn < fixes:
            conversation += [
                AIMessage(text),
                HumanMessage(
                    f"That reply could not be used: {error}\n"
                    "Reply again with only the corrected JSON object in one ```json block, nothing else."
                ),
            ]
    return JsonReply(None, error, texts, usage.input_tokens, usage.output_tokens, cost, latency, fixes + 1)
