"""Provider factories: a `ModelSpec` in, a LangChain chat model out.

Each factory is registered with `@provider(name)` and imports its LangChain package only when called, so
that cloudinspect runs with none of them installed. A missing package or API key is a
`MissingDependencyError` (exit code 3) that says what to install or which variable to set; key values are
passed to the client and never printed.
"""

from __future__ import annotations

import importlib
import math
import os
from collections.abc import Callable
from types import ModuleType
from typing import Any

from langchain_core.language_models import BaseChatModel

from cloudinspect.config import get_settings
from cloudinspect.errors import MissingDependencyError
from cloudinspect.models.llamacpp import LlamaCppChatModel, resolve_gguf
from cloudinspect.models.registry import get_spec, spec_with
from cloudinspect.models.spec import ModelSpec, Provider

Factory = Callable[[ModelSpec], BaseChatModel]

_FACTORIES: dict[Provider, Factory] = {}

# The optional-dependency extra that provides each provider's LangChain package.
EXTRAS: dict[Provider, tuple[str, str]] = {
    Provider.openai: ("langchain_openai", "openai"),
    Provider.openai_compatible: ("langchain_openai", "openai"),
    Provider.anthropic: ("langchain_anthropic", "anthropic"),
    Provider.bedrock: ("langchain_aws", "bedrock"),
    Provider.ollama: ("langchain_ollama", "ollama"),
    Provider.llamacpp: ("llama_cpp", "local"),
}

# llama-cpp-python needs a max_tokens; hosted providers apply their own defaults.
_LLAMACPP_DEFAULT_MAX_TOKENS = 256
_LLAMACPP_DEFAULT_N_CTX = 2048


def provider(name: Provider | str) -> Callable[[Factory], Factory]:
    """Register the decorated function as the factory of chat models for provider `name`."""

    def register(factory: Factory) -> Factory:
        _FACTORIES[Provider(name)] = factory
        return factory

    return register


def registered_providers() -> list[Provider]:
    """Providers that have a factory."""
    return sorted(_FACTORIES)


def get_model(id_or_spec: str | ModelSpec, **overrides: Any) -> BaseChatModel:
    """A LangChain chat model for a registry id or spec; `overrides` replace parameters (temperature=0.5,
    max_tokens=64) or fields (n_ctx=1024) and are validated like the registry's entries."""
    spec = get_spec(id_or_spec) if isinstance(id_or_spec, str) else id_or_spec
    if overrides:
        spec = spec_with(spec, **overrides)
    factory = _FACTORIES.get(spec.provider)
    if factory is None:  # every Provider has a factory below; a new enum member without one is a bug
        raise MissingDependencyError(f"no factory for provider '{spec.provider.value}'")
    return factory(spec)


def _require(spec: ModelSpec) -> ModuleType:
    module, extra = EXTRAS[spec.provider]
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingDependencyError(
            f"model '{spec.id}' (provider {spec.provider.value}) needs the Python package '{module}': "
            f"pip install 'cloudinspect[{extra}]'"
        ) from exc


def _api_key(spec: ModelSpec) -> str | None:
    """The API key from the spec's environment variable; an error naming the variable when unset."""
    name = spec.key_env
    if name is None:
        return None
    value = os.environ.get(name, "").strip()
    if not value:
        raise MissingDependencyError(
            f"model '{spec.id}' needs an API key in the environment variable {name}; set it and retry"
        )
    from cloudinspect.redact import register_secret

    register_secret(value)  # hidden from every output even when it has no recognisable shape
    return value


def _drop_none(**kwargs: Any) -> dict[str, Any]:
    return {k: v for k, v in kwargs.items() if v is not None}


def _common(spec: ModelSpec) -> dict[str, Any]:
    # Metadata travels with every run (callbacks, LangSmith traces), so costs can be attributed by id.
    return {"metadata": {"cloudinspect_model_id": spec.id, "cloudinspect_family": spec.family}}


@provider(Provider.openai)
def _openai(spec: ModelSpec) -> BaseChatModel:
    return _chat_openai(spec, _api_key(spec))


@provider(Provider.openai_compatible)
def _openai_compatible(spec: ModelSpec) -> BaseChatModel:
    # Local servers (vLLM, LM Studio, llama-server) usually want no key, but the client insists on one.
    # ChatOpenAI sends the output cap as max_completion_tokens only, which some servers ignore (llama-cpp-python's
    # generates until end of text or context): send the older max_tokens as well.
    p = spec.parameters
    extra_body = {"max_tokens": p.max_tokens} if p.max_tokens is not None else None
    return _chat_openai(spec, _api_key(spec) or "not-needed", extra_body=extra_body)


def _chat_openai(spec: ModelSpec, key: str | None, *, extra_body: dict[str, Any] | None = None) -> BaseChatModel:
    """ChatOpenAI for OpenAI itself and for any server that speaks its API (base_url)."""
    module = _require(spec)
    p = spec.parameters
    kwargs = _drop_none(
        model=spec.model,
        api_key=key,
        base_url=p.base_url,
        max_tokens=p.max_tokens,
        temperature=p.temperature,
        top_p=p.top_p,
        seed=p.seed,
        stop=p.stop,
        reasoning_effort=p.reasoning_effort,
        timeout=p.timeout,
        max_retries=p.max_retries,
        extra_body=extra_body,
    )
    return module.ChatOpenAI(**kwargs, **_common(spec))  # type: ignore[no-any-return]


@provider(Provider.anthropic)
def _anthropic(spec: ModelSpec) -> BaseChatModel:
    module = _require(spec)
    p = spec.parameters
    key = _api_key(spec)
    thinking = {"type": "enabled", "budget_tokens": p.thinking_budget} if p.thinking_budget else None
    kwargs = _drop_none(
        model=spec.model,
        api_key=key,
        base_url=p.base_url,
        max_tokens=p.max_tokens,
        temperature=p.temperature,
        top_p=p.top_p,
        top_k=p.top_k,
        stop=p.stop,
        thinking=thinking,
        reasoning_effort=p.reasoning_effort,
        timeout=p.timeout,
        max_retries=p.max_retries,
    )
    return module.ChatAnthropic(**kwargs, **_common(spec))  # type: ignore[no-any-return]


def _aws_region(spec: ModelSpec) -> str:
    region = spec.region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    if not region:
        raise MissingDependencyError(
            f"model '{spec.id}' needs an AWS region: set region in the registry or the AWS_REGION variable"
        )
    return region


def _check_aws_credentials(spec: ModelSpec, region: str) -> None:
    """Fail early, without a request, when boto3 finds no credentials (env, profile, SSO, role...)."""
    if os.environ.get("AWS_BEARER_TOKEN_BEDROCK"):
        return
    import boto3

    if boto3.Session(region_name=region).get_credentials() is None:
        raise MissingDependencyError(
            f"model '{spec.id}' needs AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
            "AWS_PROFILE, or a Bedrock API key in AWS_BEARER_TOKEN_BEDROCK"
        )


@provider(Provider.bedrock)
def _bedrock(spec: ModelSpec) -> BaseChatModel:
    module = _require(spec)
    p = spec.parameters
    region = _aws_region(spec)
    key = _api_key(spec)  # only when the spec names a variable, e.g. AWS_BEARER_TOKEN_BEDROCK
    if key is None:
        _check_aws_credentials(spec, region)
    extra = {"thinking": {"type": "enabled", "budget_tokens": p.thinking_budget}} if p.thinking_budget else None
    kwargs = _drop_none(
        model=spec.model,
        region_name=region,
        api_key=key,
        base_url=p.base_url,
        max_tokens=p.max_tokens,
        temperature=p.temperature,
        top_p=p.top_p,
        stop=p.stop,
        additional_model_request_fields=extra,
        timeout=math.ceil(p.timeout) if p.timeout is not None else None,
        max_retries=p.max_retries,
    )
    return module.ChatBedrockConverse(**kwargs, **_common(spec))  # type: ignore[no-any-return]


@provider(Provider.ollama)
def _ollama(spec: ModelSpec) -> BaseChatModel:
    module = _require(spec)
    p = spec.parameters
    kwargs = _drop_none(
        model=spec.model,
        base_url=p.base_url,
        num_predict=p.max_tokens,
        temperature=p.temperature,
        top_p=p.top_p,
        top_k=p.top_k,
        seed=p.seed,
        stop=p.stop,
        client_kwargs={"timeout": p.timeout} if p.timeout is not None else None,
    )
    return module.ChatOllama(**kwargs, **_common(spec))  # type: ignore[no-any-return]


@provider(Provider.llamacpp)
def _llamacpp(spec: ModelSpec) -> BaseChatModel:
    _require(spec)
    if spec.gguf is None:  # ModelSpec's rules require it; keeps the type checker honest
        raise MissingDependencyError(f"model '{spec.id}' has no weights source")
    p = spec.parameters
    path = resolve_gguf(spec.gguf, get_settings().cache_dir)
    kwargs = _drop_none(
        model_path=str(path),
        model_name=spec.model,
        n_ctx=spec.n_ctx or _LLAMACPP_DEFAULT_N_CTX,
        n_threads=spec.n_threads,
        chat=spec.capabilities.chat,
        completion_cue=spec.completion_cue,
        temperature=p.temperature,
        top_p=p.top_p,
        top_k=p.top_k,
        max_tokens=p.max_tokens or _LLAMACPP_DEFAULT_MAX_TOKENS,
        stop=p.stop,
        seed=p.seed,
    )
    return LlamaCppChatModel(**kwargs, **_common(spec))


@provider(Provider.replay)
def _replay(spec: ModelSpec) -> BaseChatModel:
    from cloudinspect.models.replay import ReplayChatModel

    return ReplayChatModel.from_file(spec.model, **_common(spec))
