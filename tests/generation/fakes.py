"""Small chat models for generation tests: scripted replies, the messages they were sent, tool calling."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.messages.ai import UsageMetadata
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.runnables import Runnable
from pydantic import Field


def reply(
    content: str,
    finish_reason: str | None = "stop",
    *,
    input_tokens: int = 100,
    output_tokens: int = 50,
    key: str = "finish_reason",
) -> AIMessage:
    """An assistant message as a provider returns it, finish reason under the provider's own key."""
    metadata = {key: finish_reason} if finish_reason is not None else {}
    usage = UsageMetadata(
        input_tokens=input_tokens, output_tokens=output_tokens, total_tokens=input_tokens + output_tokens
    )
    return AIMessage(content=content, response_metadata=metadata, usage_metadata=usage)


def tool_reply(args: dict[str, Any], finish_reason: str = "stop", **tokens: int) -> AIMessage:
    """An assistant message that calls the GeneratedCode tool (how structured output comes back)."""
    message = reply("", finish_reason, **tokens)
    message.tool_calls = [{"name": "GeneratedCode", "args": args, "id": "call_1", "type": "tool_call"}]
    return message


class ScriptedChatModel(BaseChatModel):
    """Returns the given replies in order and records every request (messages, kwargs such as tools)."""

    replies: list[AIMessage]
    received: list[list[BaseMessage]] = Field(default_factory=list)
    kwargs: list[dict[str, Any]] = Field(default_factory=list)
    metadata_seen: list[dict[str, Any]] = Field(default_factory=list)

    @property
    def _llm_type(self) -> str:
        return "scripted"

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        self.received.append(list(messages))
        self.kwargs.append(kwargs)
        self.metadata_seen.append(dict(run_manager.metadata) if run_manager else {})
        if len(self.received) > len(self.replies):
            raise AssertionError(f"unexpected call #{len(self.received)}")
        return ChatResult(generations=[ChatGeneration(message=self.replies[len(self.received) - 1])])

    def bind_tools(
        self, tools: Sequence[dict[str, Any] | type | Callable[..., Any]], **kwargs: Any
    ) -> Runnable[Any, AIMessage]:
        return self.bind(tools=list(tools), **kwargs)


class FailingChatModel(BaseChatModel):
    """Raises like a provider SDK does on a network or authentication error."""

    @property
    def _llm_type(self) -> str:
        return "failing"

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        raise ConnectionError("connection refused by api.example.com")
