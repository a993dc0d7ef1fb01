"""What generation produces: the script, and the record of how it was obtained and what it cost."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from cloudinspect.generation._extract import ExtractionMethod, syntax_error
from cloudinspect.models.spec import TokenUsage


class GeneratedCode(BaseModel):
    """A complete Python script that answers the inspection request, with a short explanation."""

    code: str = Field(description="The complete Python 3 script as plain code, without Markdown fences.")
    explanation: str = Field(description="A few sentences on how the script works.")
    services: list[str] = Field(description='The boto3 service names the script uses, such as "s3" or "ec2".')


class ChatTurn(BaseModel):
    """One message sent to the model."""

    model_config = ConfigDict(extra="forbid")

    role: Literal["system", "user", "assistant"]
    content: str


class ReplyPiece(BaseModel):
    """One reply of the model: the first answer, or a continuation of a reply cut off by the token limit."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["structured", "text", "continuation"]
    content: str = Field(description="The reply's text (for structured output: its fields as JSON).")
    finish_reason: str | None = Field(description="As the provider reports it (length, max_tokens, stop...).")
    truncated: bool = Field(description="Cut off by the output token limit.")
    usage: TokenUsage = Field(default_factory=TokenUsage)
    latency_ms: float = Field(ge=0)
    cached: bool = Field(False, description="Answered from the response cache: nothing billed, usage zero.")


class CodeArtifact(BaseModel):
    """A generated script for one catalogue prompt, with everything needed to judge and reproduce it.

    `usage` and `cost_usd` add up every call (first reply and continuations); `latency_ms` is the time spent
    waiting for the model. `messages` is the conversation of the last call, continuation requests included.
    No API key is ever recorded: models name the variable that holds theirs, and only parameters are kept.
    """

    model_config = ConfigDict(extra="forbid")

    prompt_id: str
    variables: dict[str, Any] = Field(description="The prompt's variables, validated, defaults filled in.")
    model_id: str = Field(description="Registry id, or replay:PATH.")
    model: str = Field(description="The provider's model name.")
    provider: str
    family: str
    parameters: dict[str, Any] = Field(description="Request parameters of the model (temperature, max_tokens...).")
    messages: list[ChatTurn]
    replies: list[ReplyPiece]
    code: str
    explanation: str = ""
    services: list[str] = Field(
        default_factory=list,
        description="Services the model declared (structured output), else those the code creates clients for.",
    )
    extraction: ExtractionMethod
    finish_reason: str | None = Field(description="Finish reason of the last reply.")
    truncated: bool = Field(description="Still cut off after the last continuation.")
    continuations: int = Field(ge=0, description="Continuation requests made after truncated replies.")
    max_continuations: int = Field(ge=0)
    usage: TokenUsage = Field(default_factory=TokenUsage)
    cost_usd: float = Field(ge=0, description="From the registry's list prices.")
    latency_ms: float = Field(ge=0)
    created_at: datetime
    warnings: list[str] = Field(default_factory=list)

    @property
    def parses(self) -> bool:
        """Whether the code is syntactically valid Python."""
        return bool(self.code.strip()) and syntax_error(self.code) is None

    def summary(self) -> str:
        """One line: model, tokens, cost, latency, extraction, continuations."""
        u = self.usage
        cached = f" ({u.cached_input_tokens} cached)" if u.cached_input_tokens else ""
        return (
            f"{self.model_id}: {u.input_tokens} input{cached} + {u.output_tokens} output tokens, "
            f"${self.cost_usd:.6f}, {self.latency_ms / 1000:.2f} s, extraction {self.extraction}, "
            f"{self.continuations} continuation{'s' if self.continuations != 1 else ''}"
            + (", still truncated" if self.truncated else "")
            + ("" if self.parses else ", does not parse")
        )
