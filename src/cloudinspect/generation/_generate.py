"""`generate_code`: ask a model for the script of one catalogue prompt.

Messages come from templates (`resources/templates/generate_*.jinja2`): a system message with the rules and
the output contract's JSON Schema, and the prompt's request rendered with its variables and the model family's
adjustments. Base models (capabilities.chat false) get one completion-style document instead, which the
llama.cpp provider ends with the model's completion cue (an open ```python fence).

Models with `capabilities.structured_output` answer with a `GeneratedCode` (code, explanation, services)
through `with_structured_output(include_raw=True)`, which keeps the raw message and so its token usage. If
that fails (no support, unparsable or truncated output) the reply's own code block is used when it holds a
complete script, otherwise the model is asked again for a fenced code block. Other models answer in free text
and the script is extracted from it (see `_extract`).

When a free-text reply stops at the output token limit with its script unfinished, the partial reply goes
back to the model as an assistant message with a request to continue exactly where it stopped, and the pieces
are stitched (see `_stitch`), at most `max_continuations` times. Base models are not continued: the llama.cpp
completion prompt cannot resume mid-line. The finish reason is read from each provider's response metadata:
`finish_reason` (OpenAI chat completions, llama.cpp: "length"), `stop_reason` (Anthropic: "max_tokens"),
`stopReason` (Bedrock Converse: "max_tokens"), `done_reason` (Ollama: "length") or
`incomplete_details.reason` (OpenAI Responses: "max_output_tokens").

The prompt id travels in the run metadata (`cloudinspect_prompt_id`), which the replay provider reads and
every other provider ignores.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from time import perf_counter
from typing import Any, cast
from urllib.parse import urlsplit, urlunsplit

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langchain_core.runnables import Runnable, RunnableConfig

from cloudinspect.catalog.render import render_prompt, resolve_variables
from cloudinspect.catalog.schema import InspectionPrompt
from cloudinspect.errors import CloudInspectError, InputError
from cloudinspect.generation._artifact import ChatTurn, CodeArtifact, GeneratedCode, ReplyPiece
from cloudinspect.generation._extract import Extraction, extract_code, services_in
from cloudinspect.generation._stitch import join_continuation
from cloudinspect.generation._templates import render_template
from cloudinspect.models.providers import get_model
from cloudinspect.models.registry import get_spec
from cloudinspect.models.replay import PROMPT_ID_METADATA_KEY, REPLAY_PREFIX
from cloudinspect.models.resilience import (
    ProviderError,
    ProviderFailure,
    RetryPolicy,
    call_with_retries,
    client_overrides,
)
from cloudinspect.models.spec import ModelSpec, Provider, TokenUsage

TRUNCATION_REASONS = frozenset({"length", "max_tokens", "max_output_tokens"})
_FINISH_KEYS = ("finish_reason", "stop_reason", "stopReason", "done_reason")
_ROLES = {"system": "system", "human": "user", "ai": "assistant"}
CACHE_HIT_KEY = "cloudinspect_cache_hit"
"""`response_metadata` key set on a message answered from the response cache: its usage and cost count as zero."""


class GenerationError(CloudInspectError):
    """The model failed to answer (network, authentication, quota, provider error). Exit code 1."""


class ModelCallError(GenerationError, ProviderError):
    """The provider failed for good (at once, or after the retry policy's tries): `.failure.kind` and
    `.failure.transient` say why, `.tries` how often it was asked."""


def finish_reason_of(message: BaseMessage) -> str | None:
    """Why the provider stopped generating, as it reports it (see the module docstring for the keys)."""
    meta = message.response_metadata or {}
    for key in _FINISH_KEYS:
        if meta.get(key):
            return str(meta[key])
    details = meta.get("incomplete_details")
    if isinstance(details, dict) and details.get("reason"):
        return str(details["reason"])
    return None


def is_truncated(finish_reason: str | None) -> bool:
    """Whether a finish reason means the output token limit was hit."""
    return finish_reason is not None and finish_reason.lower() in TRUNCATION_REASONS


def message_text(message: BaseMessage) -> str:
    """A message's text; reasoning and tool-call blocks left out."""
    content = message.content
    if isinstance(content, str):
        return content
    parts = []
    for block in content:
        if isinstance(block, str):
            parts.append(block)
        elif isinstance(block, dict) and block.get("type") == "text":
            parts.append(str(block.get("text", "")))
    return "".join(parts)


def model_label(spec: ModelSpec) -> str:
    """The id a user names the model by: the registry id, or replay:PATH."""
    return f"{REPLAY_PREFIX}{spec.model}" if spec.provider is Provider.replay else spec.id


def build_messages(
    prompt: InspectionPrompt,
    variables: Mapping[str, Any] | None,
    spec: ModelSpec,
    *,
    structured: bool = False,
    history: Sequence[BaseMessage] = (),
) -> list[BaseMessage]:
    """The messages that ask `spec`'s model for the script of `prompt` (see the module docstring), followed by
    `history`: the turns of a repair conversation (earlier replies as AI messages, feedback as human messages).

    A base model has no turns: its history is folded into its one completion document, each earlier script
    followed by what was wrong with it, before the cue for the corrected script."""
    request = render_prompt(prompt, variables, family=spec.family).strip()
    schema = json.dumps(prompt.contract.json_schema, ensure_ascii=False)
    if not spec.capabilities.chat:
        turns = [(m.type, message_text(m)) for m in history if m.type in ("ai", "human")]
        return [
            HumanMessage(
                render_template(
                    "generate_completion", title=prompt.title, request=request, schema=schema, history=turns
                )
            )
        ]
    return [
        SystemMessage(render_template("generate_system", schema=schema, structured=structured)),
        HumanMessage(render_template("generate_request", request=request, prompt=prompt)),
        *history,
    ]


def _turns(messages: list[BaseMessage]) -> list[ChatTurn]:
    return [ChatTurn.model_validate({"role": _ROLES.get(m.type, "user"), "content": message_text(m)}) for m in messages]


def _public_url(url: str) -> str:
    """A URL without user info or query, where credentials could hide."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def _parameters(spec: ModelSpec) -> dict[str, Any]:
    params = spec.parameters.model_dump(mode="json", exclude_none=True)
    if "base_url" in params:
        params["base_url"] = _public_url(params["base_url"])
    return params


def _added(a: TokenUsage, b: TokenUsage) -> TokenUsage:
    return TokenUsage(
        input_tokens=a.input_tokens + b.input_tokens,
        output_tokens=a.output_tokens + b.output_tokens,
        cached_input_tokens=a.cached_input_tokens + b.cached_input_tokens,
        cache_write_tokens=a.cache_write_tokens + b.cache_write_tokens,
    )


@dataclass
class _Session:
    """The calls of one generation, each recorded as a reply piece."""

    model: BaseChatModel
    spec: ModelSpec
    config: RunnableConfig
    pieces: list[ReplyPiece] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    retry: RetryPolicy = field(default_factory=RetryPolicy)

    def call(self, runnable: Runnable[Any, Any], messages: list[BaseMessage]) -> tuple[Any, float]:
        """The runnable's answer and the latency of the try that gave it; transient provider failures are
        retried as the policy says, each retry noted in the warnings."""
        start = perf_counter()

        def attempt() -> Any:
            nonlocal start
            start = perf_counter()
            return runnable.invoke(messages, config=self.config)

        def note(failure: ProviderFailure, tried: int, wait_s: float) -> None:
            self.warnings.append(f"{failure.headline}; retried after {wait_s:.1f} s")

        try:
            result = call_with_retries(attempt, self.retry, on_retry=note)
        except ProviderError as exc:
            label, provider = model_label(self.spec), self.spec.provider.value
            raise ModelCallError(exc.failure, exc.tries, model=label, provider=provider) from exc.__cause__
        return result, (perf_counter() - start) * 1000

    def record(self, kind: str, message: BaseMessage, content: str, latency_ms: float) -> ReplyPiece:
        reason = finish_reason_of(message)
        # A reply from the response cache (cloudinspect.bench.cache) was paid for once, by the run that stored it.
        cached = bool((getattr(message, "response_metadata", None) or {}).get(CACHE_HIT_KEY))
        usage = TokenUsage() if cached else TokenUsage.from_metadata(getattr(message, "usage_metadata", None))
        piece = ReplyPiece.model_validate(
            {
                "kind": kind,
                "content": content,
                "finish_reason": reason,
                "truncated": is_truncated(reason),
                "usage": usage,
                "latency_ms": latency_ms,
                "cached": cached,
            }
        )
        self.pieces.append(piece)
        return piece


@dataclass
class _Outcome:
    extraction: Extraction
    messages: list[BaseMessage]
    continuations: int = 0
    truncated: bool = False
    services: list[str] | None = None


def _structured(session: _Session, messages: list[BaseMessage]) -> _Outcome | str:
    """The structured answer, or why there is none (the caller then asks for free text)."""
    try:
        runnable = session.model.with_structured_output(GeneratedCode, include_raw=True)
    except NotImplementedError:
        return "the model class does not implement it"
    result, latency = session.call(runnable, messages)
    result = cast(dict[str, Any], result)
    raw = result.get("raw")
    raw = raw if isinstance(raw, BaseMessage) else AIMessage("")
    parsed = result.get("parsed")
    text = message_text(raw)
    if isinstance(parsed, GeneratedCode):
        content = parsed.model_dump_json(indent=1)
    elif isinstance(raw, AIMessage) and raw.tool_calls:
        content = json.dumps(raw.tool_calls[0].get("args"), ensure_ascii=False)
    else:
        content = text
    piece = session.record("structured", raw, content, latency)
    if isinstance(parsed, GeneratedCode) and parsed.code.strip():
        fenced = "```" in parsed.code
        extraction = extract_code(parsed.code if fenced else f"```python\n{parsed.code}\n```")
        extraction.method, extraction.explanation = "structured", parsed.explanation.strip()
        if fenced:
            extraction.warnings.insert(0, "the structured code field held Markdown fences: removed them")
        return _Outcome(extraction, messages, services=parsed.services)
    why = "the reply was cut off by the token limit" if piece.truncated else "the reply did not fit the schema"
    error = result.get("parsing_error")
    if error is not None and not piece.truncated:
        first_line = (str(error).splitlines() or [""])[0][:200]
        why += f" ({type(error).__name__}: {first_line})"
    if text.strip() and not piece.truncated:
        salvaged = extract_code(text)
        if salvaged.code and salvaged.complete and salvaged.parses:
            session.warnings.append(f"structured output failed ({why}): used the code block of its reply")
            return _Outcome(salvaged, messages)
    return why


def _incomplete(text: str) -> bool:
    extraction = extract_code(text)
    return extraction.method == "raw" or not extraction.complete or not extraction.parses


def _free_text(session: _Session, messages: list[BaseMessage], max_continuations: int) -> _Outcome:
    conversation = list(messages)
    reply, latency = session.call(session.model, conversation)
    text = message_text(reply)
    piece = session.record("text", reply, text, latency)
    combined, continuations = text, 0
    while piece.truncated and _incomplete(combined):
        if not session.spec.capabilities.chat:
            session.warnings.append(
                "the reply was cut off by the token limit; base (completion-style) models are not continued"
            )
            break
        if continuations >= max_continuations:
            break
        if not text.strip():
            # Nothing to continue from (a reasoning model spent the budget thinking), and providers reject
            # empty assistant turns: more output tokens are the only remedy.
            session.warnings.append("the token limit was reached before any text: raise max_tokens")
            break
        conversation += [AIMessage(text), HumanMessage(render_template("generate_continue"))]
        reply, latency = session.call(session.model, conversation)
        text = message_text(reply)
        piece = session.record("continuation", reply, text, latency)
        combined = join_continuation(combined, text)
        continuations += 1
    truncated = piece.truncated and _incomplete(combined)
    if truncated and session.spec.capabilities.chat:
        session.warnings.append(
            f"the reply is still cut off after {continuations} continuation(s) (max_continuations={max_continuations})"
        )
    return _Outcome(extract_code(combined), conversation, continuations, truncated)


def generate_code(
    prompt: InspectionPrompt,
    variables: Mapping[str, Any] | None,
    model: str | ModelSpec,
    *,
    max_continuations: int = 2,
    chat_model: BaseChatModel | None = None,
    history: Sequence[BaseMessage] = (),
    retry: RetryPolicy | None = None,
) -> CodeArtifact:
    """Ask `model` (a registry id, `replay:PATH` or a spec) for a script answering `prompt` with `variables`.

    `history`: a repair conversation to continue (see `build_messages`): the request, then earlier replies and
    the feedback on each; the model answers the last feedback.

    `chat_model` replaces the chat model built from the spec (tests, pre-configured clients, or one replay
    model shared by several calls so that its cursors advance); the spec still decides messages, structured
    output and prices. Raises InputError for invalid variables, GenerationError
    when the provider fails; an unusable reply is not an error: the artifact's warnings say what is wrong.

    `retry` (default `RetryPolicy()`) retries transient provider failures (rate limits, timeouts, server and
    connection errors), each retry noted in the warnings; a provider that still fails raises ModelCallError, a
    GenerationError whose `.failure` says why.
    """
    if max_continuations < 0:
        raise InputError(f"max_continuations must be 0 or more, got {max_continuations}")
    spec = get_spec(model) if isinstance(model, str) else model
    values = resolve_variables(prompt, variables)
    policy = retry or RetryPolicy()
    llm = chat_model if chat_model is not None else get_model(spec, **client_overrides(spec, policy))
    from cloudinspect.observability import run_config

    config = run_config(
        "cloudinspect.generate",
        ["cloudinspect", "generate"],
        {PROMPT_ID_METADATA_KEY: prompt.id, "cloudinspect_model_id": model_label(spec)},
    )
    session = _Session(llm, spec, config, retry=policy)
    created = datetime.now(UTC)
    outcome: _Outcome | None = None
    if spec.capabilities.structured_output and spec.capabilities.chat:
        answer = _structured(session, build_messages(prompt, values, spec, structured=True, history=history))
        if isinstance(answer, str):
            session.warnings.append(f"structured output failed ({answer}): asked again for a fenced code block")
        else:
            outcome = answer
    if outcome is None:
        outcome = _free_text(session, build_messages(prompt, values, spec, history=history), max_continuations)
    extraction = outcome.extraction
    usage = TokenUsage()
    for piece in session.pieces:
        usage = _added(usage, piece.usage)
    last = session.pieces[-1]
    return CodeArtifact(
        prompt_id=prompt.id,
        variables=values,
        model_id=model_label(spec),
        model=spec.model,
        provider=spec.provider.value,
        family=spec.family,
        parameters=_parameters(spec),
        messages=_turns(outcome.messages),
        replies=session.pieces,
        code=extraction.code,
        explanation=extraction.explanation,
        services=outcome.services if outcome.services is not None else services_in(extraction.code),
        extraction=extraction.method,
        finish_reason=last.finish_reason,
        truncated=outcome.truncated,
        continuations=outcome.continuations,
        max_continuations=max_continuations,
        usage=usage,
        cost_usd=spec.cost_usd(usage),
        latency_ms=sum(p.latency_ms for p in session.pieces),
        created_at=created,
        warnings=[*session.warnings, *extraction.warnings],
    )
