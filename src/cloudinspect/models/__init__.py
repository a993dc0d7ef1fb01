"""The model registry: model specs, built-in and user registry files, and LangChain chat models for them."""

from cloudinspect.models.providers import get_model, provider, registered_providers
from cloudinspect.models.registry import (
    ModelRegistry,
    builtin_models_file,
    get_spec,
    load_models_file,
    load_registry,
    select_models,
    spec_with,
)
from cloudinspect.models.resilience import (
    ProviderError,
    ProviderFailure,
    RetryPolicy,
    call_with_retries,
    classify_provider_error,
    client_overrides,
)
from cloudinspect.models.spec import (
    Capabilities,
    GGUFSource,
    ModelSpec,
    Parameters,
    Prices,
    Provider,
    TokenUsage,
)

__all__ = [
    "Capabilities",
    "GGUFSource",
    "ModelRegistry",
    "ModelSpec",
    "Parameters",
    "Prices",
    "Provider",
    "ProviderError",
    "ProviderFailure",
    "RetryPolicy",
    "TokenUsage",
    "builtin_models_file",
    "call_with_retries",
    "classify_provider_error",
    "client_overrides",
    "get_model",
    "get_spec",
    "load_models_file",
    "load_registry",
    "provider",
    "registered_providers",
    "select_models",
    "spec_with",
]
