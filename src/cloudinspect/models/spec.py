"""The model registry's schema: what a model is, what it costs and how to call it.

A `ModelSpec` is validated twice over: pydantic checks types and unknown fields, then `_provider_rules`
checks what each provider accepts (no sampling parameters on reasoning models, extended thinking budgets
below max_tokens, a base_url for OpenAI-compatible servers, a weights file for llama.cpp). Rule
violations carry the path of the offending field so that the registry can point at its line.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from pydantic import BaseModel, ConfigDict, Field, model_validator

ID_PATTERN = r"^[a-z0-9]+(?:[-._][a-z0-9]+)*$"
ENV_VAR_PATTERN = r"^[A-Z_][A-Z0-9_]*$"

OPENAI_EFFORTS = ("none", "minimal", "low", "medium", "high", "xhigh", "max")
ANTHROPIC_EFFORTS = ("low", "medium", "high", "xhigh", "max")

# OpenAI reasoning models reject temperature and top_p unless reasoning is switched off.
_OPENAI_REASONING_NAME = re.compile(r"^(o\d|gpt-5|gpt-6)")
# Claude 5.x models think adaptively: no budget_tokens, and sampling parameters are rejected.
_ANTHROPIC_ADAPTIVE_ONLY = re.compile(r"claude-(opus|sonnet|haiku|fable|mythos)-5")
# Anthropic's extended thinking needs at least this many budget tokens.
_MIN_THINKING_BUDGET = 1024

_LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1", "0.0.0.0"}  # noqa: S104 - a host name we compare, not bind


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Provider(StrEnum):
    """Where a model runs and which LangChain class talks to it."""

    openai = "openai"
    anthropic = "anthropic"
    bedrock = "bedrock"
    ollama = "ollama"
    openai_compatible = "openai_compatible"
    llamacpp = "llamacpp"
    replay = "replay"


HOSTED_PROVIDERS = frozenset({Provider.openai, Provider.anthropic, Provider.bedrock})

# The environment variable holding the API key when a spec names none.
DEFAULT_KEY_ENV: dict[Provider, str] = {
    Provider.openai: "OPENAI_API_KEY",
    Provider.anthropic: "ANTHROPIC_API_KEY",
}


class Prices(_Strict):
    """List prices in USD per million tokens."""

    input: float = Field(0.0, ge=0, description="Uncached input tokens.")
    cached_input: float | None = Field(
        None, ge=0, description="Input tokens read from the prompt cache (defaults to the input price)."
    )
    output: float = Field(0.0, ge=0, description="Output tokens, reasoning tokens included.")
    cache_write: float | None = Field(
        None, ge=0, description="Input tokens written to the prompt cache (defaults to the input price)."
    )

    def cost_usd(self, usage: TokenUsage | Mapping[str, Any] | None) -> float:
        """The cost of one call's token usage."""
        u = usage if isinstance(usage, TokenUsage) else TokenUsage.from_metadata(usage)
        cached = self.input if self.cached_input is None else self.cached_input
        write = self.input if self.cache_write is None else self.cache_write
        return (
            u.uncached_input_tokens * self.input
            + u.cached_input_tokens * cached
            + u.cache_write_tokens * write
            + u.output_tokens * self.output
        ) / 1_000_000


class Capabilities(_Strict):
    """What a model can do; `select_models(requires=...)` filters on these names."""

    chat: bool = Field(True, description="Instruction tuned; False for base models prompted completion-style.")
    reasoning: bool = Field(False, description="Thinks before answering (reasoning effort or thinking budget).")
    structured_output: bool = False
    tool_calling: bool = False
    prompt_caching: bool = False

    @classmethod
    def names(cls) -> list[str]:
        """Every capability name."""
        return list(cls.model_fields)


class Parameters(_Strict):
    """Request parameters; each provider accepts a subset (see the module docstring)."""

    temperature: float | None = Field(None, ge=0, le=2)
    top_p: float | None = Field(None, gt=0, le=1)
    top_k: int | None = Field(None, ge=1)
    max_tokens: int | None = Field(None, ge=1, description="Cap on output tokens (reasoning included).")
    reasoning_effort: str | None = Field(None, description="OpenAI reasoning effort or Anthropic effort.")
    thinking_budget: int | None = Field(
        None, ge=1, description="Anthropic extended thinking budget_tokens (pre-adaptive models)."
    )
    seed: int | None = None
    stop: list[str] | None = None
    base_url: str | None = Field(None, description="API endpoint; required for openai_compatible.")
    timeout: float | None = Field(None, gt=0, description="Seconds before a request is abandoned.")
    max_retries: int | None = Field(None, ge=0)


class GGUFSource(_Strict):
    """Where llama.cpp weights come from: exactly one of path, package (+file) or assemble."""

    path: Path | None = Field(None, description="A GGUF file on disk.")
    package: str | None = Field(None, description="An installed package whose directory holds `file`.")
    file: str | None = Field(None, description="The GGUF file name inside `package`.")
    assemble: str | None = Field(
        None, description="An installed package with assemble(output_path) that writes the GGUF (cached)."
    )

    @model_validator(mode="after")
    def _one_source(self) -> GGUFSource:
        chosen = [name for name in ("path", "package", "assemble") if getattr(self, name) is not None]
        if len(chosen) != 1:
            raise ValueError("give exactly one of path, package (with file) or assemble")
        if self.package is not None and not self.file:
            raise ValueError("package needs file (the GGUF file name inside the package)")
        if self.file is not None and self.package is None:
            raise ValueError("file is only meaningful with package")
        return self


@dataclass(frozen=True)
class TokenUsage:
    """Token counts of one call. `input_tokens` counts every input token, cached ones included."""

    input_tokens: int = 0
    output_tokens: int = 0
    cached_input_tokens: int = 0
    cache_write_tokens: int = 0

    @property
    def uncached_input_tokens(self) -> int:
        """Input tokens billed at the full input price."""
        return max(self.input_tokens - self.cached_input_tokens - self.cache_write_tokens, 0)

    @property
    def total_tokens(self) -> int:
        """Input plus output tokens."""
        return self.input_tokens + self.output_tokens

    @classmethod
    def from_metadata(cls, usage: Mapping[str, Any] | None) -> TokenUsage:
        """From LangChain's `usage_metadata` (input_token_details.cache_read / cache_creation)."""
        if not usage:
            return cls()
        details = usage.get("input_token_details") or {}
        return cls(
            input_tokens=int(usage.get("input_tokens") or 0),
            output_tokens=int(usage.get("output_tokens") or 0),
            cached_input_tokens=int(details.get("cache_read") or 0),
            cache_write_tokens=int(details.get("cache_creation") or 0),
        )


class SpecRuleError(ValueError):
    """Provider rules a spec breaks, each with the path of the field at fault."""

    def __init__(self, violations: list[tuple[tuple[str, ...], str]]) -> None:
        self.violations = violations
        super().__init__("; ".join(f"{'.'.join(loc)}: {msg}" for loc, msg in violations))


class ModelSpec(_Strict):
    """One model in the registry: its identity, price, limits, capabilities and request parameters."""

    id: str = Field(pattern=ID_PATTERN, description="Registry id, e.g. 'gpt-6.2-sol' or 'smollm2-135m'.")
    provider: Provider
    model: str = Field(min_length=1, description="The provider's model name (or Bedrock model/profile id).")
    family: str = Field(pattern=r"^[a-z0-9][a-z0-9.-]*$", description="Model family, used by prompt adjustments.")
    description: str = ""
    parameters: Parameters = Field(default_factory=Parameters)
    prices: Prices | None = Field(None, description="USD per million tokens; required for hosted providers.")
    context_window: int | None = Field(None, ge=1)
    max_output_tokens: int | None = Field(None, ge=1)
    capabilities: Capabilities = Field(default_factory=Capabilities)
    api_key_env: str | None = Field(
        None, pattern=ENV_VAR_PATTERN, description="Name of the environment variable holding the API key."
    )
    region: str | None = Field(None, pattern=r"^[a-z]{2}(-[a-z]+)+-\d+$", description="AWS region (bedrock).")
    gguf: GGUFSource | None = Field(None, description="Weights source (llamacpp).")
    n_ctx: int | None = Field(None, ge=128, description="llama.cpp context size in tokens.")
    n_threads: int | None = Field(None, ge=1, description="llama.cpp threads (default: every CPU).")
    completion_cue: str | None = Field(
        None, description="For base models: text the completion-style prompt ends with, e.g. '```python\\n'."
    )

    @model_validator(mode="after")
    def _provider_rules(self) -> ModelSpec:
        violations = _violations(self)
        if violations:
            raise SpecRuleError(violations)
        return self

    @property
    def key_env(self) -> str | None:
        """The environment variable that holds this model's API key, if it needs one."""
        return self.api_key_env or DEFAULT_KEY_ENV.get(self.provider)

    @property
    def price(self) -> Prices:
        """Prices, zero when none are given (local models)."""
        return self.prices or Prices()

    @property
    def is_reasoning(self) -> bool:
        """Whether the model reasons before answering (from capabilities or its OpenAI name)."""
        openai_named = self.provider is Provider.openai and bool(_OPENAI_REASONING_NAME.match(self.model))
        return self.capabilities.reasoning or openai_named

    @property
    def is_local(self) -> bool:
        """Runs on this machine (llama.cpp, Ollama, replay, or an OpenAI-compatible server on loopback)."""
        if self.provider in (Provider.llamacpp, Provider.ollama, Provider.replay):
            return True
        if self.provider is Provider.openai_compatible and self.parameters.base_url:
            return urlparse(self.parameters.base_url).hostname in _LOCAL_HOSTS
        return False

    def cost_usd(self, usage: TokenUsage | Mapping[str, Any] | None) -> float:
        """The cost in USD of one call's usage (a TokenUsage or LangChain `usage_metadata`)."""
        return self.price.cost_usd(usage)

    def summary(self) -> dict[str, Any]:
        """The fields `models list --json` shows."""
        return {
            "id": self.id,
            "provider": self.provider.value,
            "model": self.model,
            "family": self.family,
            "description": self.description,
            "prices": self.price.model_dump(mode="json"),
            "context_window": self.context_window,
            "max_output_tokens": self.max_output_tokens,
            "capabilities": self.capabilities.model_dump(mode="json"),
            "local": self.is_local,
        }


def _violations(spec: ModelSpec) -> list[tuple[tuple[str, ...], str]]:
    """Every provider rule the spec breaks, as (field path, message)."""
    out: list[tuple[tuple[str, ...], str]] = []
    p = spec.parameters
    provider = spec.provider

    def bad(loc: tuple[str, ...], msg: str) -> None:
        out.append((loc, msg))

    if provider in HOSTED_PROVIDERS and spec.prices is None:
        bad(("prices",), f"required for provider {provider.value} (USD per million tokens)")
    if spec.region is not None and provider is not Provider.bedrock:
        bad(("region",), "only bedrock models take a region")
    for name in ("gguf", "n_ctx", "n_threads"):
        if getattr(spec, name) is not None and provider is not Provider.llamacpp:
            bad((name,), "only llamacpp models take this field")
    if provider is Provider.llamacpp:
        if spec.gguf is None:
            bad(("gguf",), "llamacpp models need a weights source (path, package + file, or assemble)")
        if spec.api_key_env is not None:
            bad(("api_key_env",), "llamacpp models run in-process and need no API key")
        if p.base_url is not None:
            bad(("parameters", "base_url"), "llamacpp models run in-process and take no base_url")
        if spec.n_ctx is not None and spec.context_window is not None and spec.n_ctx > spec.context_window:
            bad(("n_ctx",), f"larger than the model's context_window ({spec.context_window})")
    if spec.completion_cue is not None and (provider is not Provider.llamacpp or spec.capabilities.chat):
        bad(("completion_cue",), "only llamacpp base models (capabilities.chat: false) take a completion cue")
    if provider is Provider.openai_compatible and not p.base_url:
        bad(("parameters", "base_url"), "required for openai_compatible (e.g. http://localhost:8000/v1)")
    if p.base_url is not None and urlparse(p.base_url).scheme not in ("http", "https"):
        bad(("parameters", "base_url"), "must be an http(s) URL")
    if p.max_tokens is not None and spec.max_output_tokens is not None and p.max_tokens > spec.max_output_tokens:
        bad(("parameters", "max_tokens"), f"above the model's max_output_tokens ({spec.max_output_tokens})")
    if p.seed is not None and provider in (Provider.anthropic, Provider.bedrock):
        bad(("parameters", "seed"), f"not supported by provider {provider.value}")
    if p.top_k is not None and provider in (Provider.openai, Provider.openai_compatible, Provider.bedrock):
        bad(("parameters", "top_k"), f"not supported by provider {provider.value}")
    if p.thinking_budget is not None and provider not in (Provider.anthropic, Provider.bedrock):
        bad(("parameters", "thinking_budget"), "only Anthropic models (direct or on Bedrock) take a budget")

    if provider in (Provider.openai, Provider.openai_compatible):
        _openai_rules(spec, bad)
    elif provider is Provider.anthropic or (provider is Provider.bedrock and spec.family == "claude"):
        _anthropic_rules(spec, bad)
    elif p.reasoning_effort is not None:
        bad(("parameters", "reasoning_effort"), f"not supported by provider {provider.value}")
    return out


def _openai_rules(spec: ModelSpec, bad: Any) -> None:
    p = spec.parameters
    if p.reasoning_effort is not None:
        if p.reasoning_effort not in OPENAI_EFFORTS:
            bad(("parameters", "reasoning_effort"), f"must be one of {', '.join(OPENAI_EFFORTS)}")
        elif not spec.is_reasoning:
            bad(("parameters", "reasoning_effort"), "only reasoning models take it (capabilities.reasoning)")
    if spec.is_reasoning and p.reasoning_effort != "none":
        for name in ("temperature", "top_p"):
            if getattr(p, name) is not None:
                message = f"reasoning model '{spec.model}' rejects {name} (unless reasoning_effort is none)"
                bad(("parameters", name), message)


def _anthropic_rules(spec: ModelSpec, bad: Any) -> None:
    p = spec.parameters
    adaptive_only = bool(_ANTHROPIC_ADAPTIVE_ONLY.search(spec.model))
    if p.reasoning_effort is not None and p.reasoning_effort not in ANTHROPIC_EFFORTS:
        bad(("parameters", "reasoning_effort"), f"must be one of {', '.join(ANTHROPIC_EFFORTS)}")
    if p.reasoning_effort is not None and spec.provider is Provider.bedrock:
        bad(("parameters", "reasoning_effort"), "use thinking_budget for Claude on Bedrock (Converse API)")
    if adaptive_only:
        for name in ("temperature", "top_p", "top_k"):
            if getattr(p, name) is not None:
                bad(("parameters", name), f"'{spec.model}' rejects sampling parameters (adaptive thinking)")
        if p.thinking_budget is not None:
            bad(("parameters", "thinking_budget"), f"'{spec.model}' thinks adaptively: use reasoning_effort")
    if p.thinking_budget is None or adaptive_only:
        return
    if not spec.capabilities.reasoning:
        bad(("parameters", "thinking_budget"), "extended thinking needs capabilities.reasoning: true")
    if p.thinking_budget < _MIN_THINKING_BUDGET:
        bad(("parameters", "thinking_budget"), f"must be at least {_MIN_THINKING_BUDGET} tokens")
    if p.max_tokens is None:
        bad(("parameters", "max_tokens"), "required with thinking_budget (the budget must be below it)")
    elif p.thinking_budget >= p.max_tokens:
        bad(("parameters", "thinking_budget"), f"must be below max_tokens ({p.max_tokens})")
    if p.temperature is not None and p.temperature != 1:
        bad(("parameters", "temperature"), "extended thinking requires temperature 1 (or leave it unset)")
    if p.top_k is not None:
        bad(("parameters", "top_k"), "not allowed with extended thinking")
    if p.top_p is not None and p.top_p < 0.95:
        bad(("parameters", "top_p"), "extended thinking allows top_p only between 0.95 and 1")
