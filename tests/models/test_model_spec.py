"""ModelSpec: per-provider rules, token usage and cost."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from cloudinspect.models import ModelSpec, Prices, TokenUsage
from cloudinspect.models.spec import SpecRuleError


def spec(**fields: Any) -> ModelSpec:
    base: dict[str, Any] = {
        "id": "m",
        "provider": "openai",
        "model": "gpt-4.1",
        "family": "gpt-4.1",
        "prices": {},
    }
    base.update(fields)
    return ModelSpec.model_validate(base)


def violations(**fields: Any) -> dict[str, str]:
    with pytest.raises(ValidationError) as info:
        spec(**fields)
    out: dict[str, str] = {}
    for err in info.value.errors():
        rule = (err.get("ctx") or {}).get("error")
        if isinstance(rule, SpecRuleError):
            out.update({".".join(loc): msg for loc, msg in rule.violations})
        else:
            out[".".join(str(p) for p in err["loc"])] = err["msg"]
    return out


def test_minimal_openai_spec_is_valid() -> None:
    s = spec(parameters={"temperature": 0.3, "seed": 1})
    assert s.key_env == "OPENAI_API_KEY"
    assert not s.is_reasoning
    assert not s.is_local


def test_unknown_field_is_rejected() -> None:
    assert "temprature" in " ".join(violations(parameters={"temprature": 0.1}))


def test_temperature_on_reasoning_model_is_rejected() -> None:
    found = violations(model="gpt-6.2-sol", family="gpt-6", parameters={"temperature": 0.2, "top_p": 0.9})
    assert "reasoning model" in found["parameters.temperature"]
    assert "parameters.top_p" in found


def test_reasoning_is_inferred_from_openai_model_names() -> None:
    assert spec(model="o4-mini").is_reasoning
    assert spec(model="gpt-5-mini").is_reasoning
    # with reasoning switched off, sampling parameters are allowed again
    assert spec(model="gpt-6-luna", parameters={"reasoning_effort": "none", "temperature": 0.5}).is_reasoning


def test_reasoning_effort_needs_a_reasoning_model_and_a_known_value() -> None:
    assert "reasoning models" in violations(parameters={"reasoning_effort": "high"})["parameters.reasoning_effort"]
    found = violations(model="gpt-6.2-sol", parameters={"reasoning_effort": "extreme"})
    assert "must be one of" in found["parameters.reasoning_effort"]


def test_openai_compatible_needs_base_url() -> None:
    found = violations(provider="openai_compatible", prices=None)
    assert "required for openai_compatible" in found["parameters.base_url"]
    ok = spec(provider="openai_compatible", parameters={"base_url": "http://127.0.0.1:1234/v1"})
    assert ok.is_local
    assert ok.key_env is None


def test_hosted_providers_need_prices() -> None:
    assert "prices" in violations(prices=None)


def test_anthropic_extended_thinking_rules() -> None:
    base = {"provider": "anthropic", "model": "claude-haiku-4-5", "family": "claude"}
    reasoning = {"reasoning": True}
    found = violations(**base, capabilities=reasoning, parameters={"thinking_budget": 4096, "max_tokens": 2048})
    assert "below max_tokens" in found["parameters.thinking_budget"]
    found = violations(
        **base,
        capabilities=reasoning,
        parameters={"thinking_budget": 2048, "max_tokens": 8192, "temperature": 0.2},
    )
    assert "temperature 1" in found["parameters.temperature"]
    assert "parameters.max_tokens" in violations(**base, capabilities=reasoning, parameters={"thinking_budget": 2048})
    ok = spec(
        **base,
        capabilities=reasoning,
        parameters={"thinking_budget": 2048, "max_tokens": 8192, "temperature": 1},
    )
    assert ok.parameters.thinking_budget == 2048


def test_adaptive_claude_models_reject_sampling_and_budgets() -> None:
    base = {
        "provider": "anthropic",
        "model": "claude-sonnet-5-5",
        "family": "claude",
        "capabilities": {"reasoning": True},
    }
    found = violations(**base, parameters={"temperature": 0.5, "thinking_budget": 2048, "max_tokens": 8000})
    assert "sampling" in found["parameters.temperature"]
    assert "reasoning_effort" in found["parameters.thinking_budget"]
    assert "anthropic" in violations(**base, parameters={"seed": 3})["parameters.seed"]


def test_llamacpp_needs_weights_and_takes_no_key() -> None:
    base = {"provider": "llamacpp", "model": "x", "family": "smollm2", "prices": None}
    assert "gguf" in violations(**base)
    found = violations(**base, gguf={"path": "/x.gguf"}, api_key_env="SOME_KEY")
    assert "no API key" in found["api_key_env"]
    assert "exactly one" in " ".join(violations(**base, gguf={"path": "/x.gguf", "assemble": "pkg"}).values())
    assert "completion_cue" in violations(**base, gguf={"path": "/x.gguf"}, completion_cue="```")


def test_fields_of_other_providers_are_rejected() -> None:
    found = violations(region="us-east-1", n_ctx=1024)
    assert "bedrock" in found["region"]
    assert "llamacpp" in found["n_ctx"]


def test_api_key_env_must_be_a_variable_name_not_a_key() -> None:
    assert "api_key_env" in violations(api_key_env="sk-proj-abc123")


def test_max_tokens_within_max_output_tokens() -> None:
    assert (
        "max_output_tokens"
        in violations(max_output_tokens=100, parameters={"max_tokens": 200})["parameters.max_tokens"]
    )


def test_cost_counts_cached_and_written_input_at_their_prices() -> None:
    prices = Prices(input=2.0, cached_input=0.1, cache_write=2.5, output=10.0)
    usage = TokenUsage(
        input_tokens=1_000_000, output_tokens=100_000, cached_input_tokens=400_000, cache_write_tokens=100_000
    )
    # 500k uncached * 2 + 400k * 0.1 + 100k * 2.5 + 100k * 10, per million
    assert prices.cost_usd(usage) == pytest.approx(1.0 + 0.04 + 0.25 + 1.0)


def test_cost_from_langchain_usage_metadata() -> None:
    s = spec(prices={"input": 1.0, "cached_input": 0.5, "output": 4.0})
    metadata = {
        "input_tokens": 2000,
        "output_tokens": 500,
        "total_tokens": 2500,
        "input_token_details": {"cache_read": 1000},
    }
    assert s.cost_usd(metadata) == pytest.approx((1000 * 1.0 + 1000 * 0.5 + 500 * 4.0) / 1e6)
    assert s.cost_usd(None) == 0.0


def test_local_models_cost_nothing() -> None:
    s = spec(provider="ollama", model="llama3.2:3b", family="llama", prices=None)
    assert s.is_local
    assert s.cost_usd(TokenUsage(input_tokens=10**6, output_tokens=10**6)) == 0.0
