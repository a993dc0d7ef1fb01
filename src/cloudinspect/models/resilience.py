"""Provider robustness: which failures are worth another try, retries with backoff, and one clear final error.

Hosted models fail in ordinary ways (rate limits, overloaded servers, dropped connections, slow replies) that
another try a little later usually cures, and in ways that no retry cures (a wrong key, an unknown model, a
prompt longer than the context window). `classify_provider_error` tells them apart for the exceptions of every
SDK a provider may raise through LangChain: openai and anthropic (whose HTTP layer is httpx2), botocore (Bedrock),
ollama (httpx), requests, and Python's own TimeoutError and ConnectionError. SDK modules are looked up in
`sys.modules` rather than imported: an exception of an SDK can only exist once that SDK is loaded, and classifying
a ConnectionError should not cost the import of every SDK.

`call_with_retries` retries transient failures with exponential backoff and jitter (tenacity), waiting what the
provider asks for when it sends Retry-After (capped at `max_wait_s`), and ends with a `ProviderError` whose
message says what failed, how often it was tried and what to do. Messages go through `cloudinspect.redact`, since
SDKs quote keys back ("Incorrect API key provided: sk-..."). Errors cloudinspect raises on purpose (such as the
replay provider's ReplayExhaustedError) are not provider failures and propagate unchanged.

Per-call timeouts belong to the provider's client, which can abandon a request cleanly: `client_overrides` gives
the `get_model` overrides that hand `call_timeout_s` to the client (OpenAI and Anthropic `timeout`, Bedrock's
botocore connect/read timeout) and switch the client's own retries off, so that the policy alone decides how
often and how long. The in-process llama.cpp model has no timeout: a wall-clock timeout cannot interrupt its C
call safely (the abandoned call would keep the model's lock), so its `max_tokens` is what bounds a call.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable, Mapping
from email.utils import parsedate_to_datetime
from typing import Any, Literal, TypeVar

from langchain_core.exceptions import (
    ContextOverflowError,
    ModelAPIError,
    ModelAuthenticationError,
    ModelConnectionError,
    ModelError,
    ModelPermissionDeniedError,
    ModelRateLimitError,
    ModelTimeoutError,
)
from pydantic import BaseModel, ConfigDict, Field
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt, wait_exponential_jitter

from cloudinspect.errors import CloudInspectError
from cloudinspect.models.spec import ModelSpec, Provider
from cloudinspect.redact import redact_text

T = TypeVar("T")

FailureKind = Literal[
    "rate_limit", "timeout", "server", "connection", "auth", "bad_request", "context_length", "unknown"
]

_HEADLINES: dict[str, str] = {
    "rate_limit": "rate limited",
    "timeout": "timed out",
    "server": "server error",
    "connection": "connection failed",
    "auth": "authentication failed",
    "bad_request": "request rejected",
    "context_length": "context window exceeded",
    "unknown": "failed",
}

_ADVICE: dict[str, str] = {
    "rate_limit": "wait a minute and retry, or raise the retry policy's attempts and max_wait_s",
    "timeout": "raise the timeout (the retry policy's call_timeout_s or the model's parameters.timeout) "
    "or lower max_tokens",
    "server": "the provider is having trouble: retry later",
    "connection": "check the network and the model's base_url, and that its server is running",
    "auth": "check the API key (the model's api_key_env variable or AWS credentials) and its permissions",
    "bad_request": "check the model name and its parameters in the model registry",
    "context_length": "the conversation is longer than the model's context window: shorten it or use a model "
    "with a larger context_window",
    "unknown": "see the error above",
}

_MAX_MESSAGE = 300

_CONTEXT_HINTS = (
    "context_length_exceeded",
    "context length",
    "context window",
    "maximum context",
    "exceeds the context",
    "prompt is too long",
    "input is too long",
    "input tokens exceed",
    "maximum prompt length",
    "too many input tokens",
)

# Bedrock (and other AWS) error codes, by what they mean for a retry.
_AWS_CODES: dict[str, tuple[FailureKind, bool]] = {
    **dict.fromkeys(
        (
            "ThrottlingException",
            "Throttling",
            "ThrottledException",
            "TooManyRequestsException",
            "RequestLimitExceeded",
            "RequestThrottled",
            "RequestThrottledException",
            "ProvisionedThroughputExceededException",
            "ServiceQuotaExceededException",
            "SlowDown",
        ),
        ("rate_limit", True),
    ),
    **dict.fromkeys(
        (
            "ServiceUnavailable",
            "ServiceUnavailableException",
            "InternalServerException",
            "InternalServerError",
            "InternalFailure",
            "InternalError",
            "ModelNotReadyException",
            "ModelErrorException",
        ),
        ("server", True),
    ),
    **dict.fromkeys(("ModelTimeoutException", "RequestTimeout", "RequestTimeoutException"), ("timeout", True)),
    **dict.fromkeys(
        (
            "AccessDeniedException",
            "AccessDenied",
            "UnrecognizedClientException",
            "InvalidSignatureException",
            "SignatureDoesNotMatch",
            "IncompleteSignature",
            "ExpiredTokenException",
            "ExpiredToken",
            "InvalidClientTokenId",
            "MissingAuthenticationTokenException",
            "AuthFailure",
        ),
        ("auth", False),
    ),
    **dict.fromkeys(
        ("ValidationException", "ResourceNotFoundException", "ModelStreamErrorException"), ("bad_request", False)
    ),
}


class RetryPolicy(BaseModel):
    """How often and how patiently a provider call is tried again after a transient failure."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    attempts: int = Field(4, ge=1, description="Tries in all, the first one included.")
    initial_wait_s: float = Field(1.0, ge=0, description="Wait before the second try; doubles for each next one.")
    max_wait_s: float = Field(30.0, ge=0, description="Cap on any one wait, Retry-After included.")
    jitter: float = Field(1.0, ge=0, description="Up to this many seconds added at random to each backoff wait.")
    call_timeout_s: float | None = Field(
        120.0, gt=0, description="Seconds before one call is abandoned by the provider's client; None: no limit."
    )
    respect_retry_after: bool = Field(True, description="Wait what the provider asks for (capped at max_wait_s).")


class ProviderFailure(BaseModel):
    """What a provider's exception means: its kind, whether another try may succeed, and one clean line."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: FailureKind
    transient: bool
    retry_after_s: float | None = Field(None, description="Seconds the provider asked to wait (Retry-After).")
    status_code: int | None = None
    provider: str | None = Field(None, description="The SDK that raised: openai, anthropic, aws, ollama, ...")
    error_type: str = Field(description="The exception's class name.")
    message: str = Field(description="One line without secrets: what failed and the provider's own words.")

    @property
    def headline(self) -> str:
        """The kind in words, with the HTTP status when there is one: 'rate limited (429)'."""
        text = _HEADLINES[self.kind]
        return f"{text} ({self.status_code})" if self.status_code else text

    @property
    def advice(self) -> str:
        """What the user can do about it."""
        if self.kind == "rate_limit" and not self.transient:
            return "the account's quota is used up: check its plan and billing"
        return _ADVICE[self.kind]


class ProviderError(CloudInspectError):
    """A provider call failed for good: at once when the failure is not transient, else after every try.

    The message starts with "model 'ID' failed: " when `model` is given, so that it reads like every other
    generation error, then says what failed and what to do."""

    def __init__(
        self, failure: ProviderFailure, tries: int, *, model: str | None = None, provider: str | None = None
    ) -> None:
        self.failure = failure
        self.tries = tries
        who = f"provider '{provider or failure.provider or 'unknown'}'"
        text = f"{failure.message}; {failure.advice}"
        if failure.transient:
            text = f"{who} unavailable after {tries} {'try' if tries == 1 else 'tries'}: {text}"
        elif model is None:
            text = f"{who} failed: {text}"
        super().__init__(f"model '{model}' failed: {text}" if model is not None else text)


def _one_line(text: str) -> str:
    line = " ".join(redact_text(text).split())
    return line if len(line) <= _MAX_MESSAGE else line[: _MAX_MESSAGE - 1] + "…"


def classify_provider_error(exc: BaseException) -> ProviderFailure:
    """What `exc`, raised by a provider call, means for a retry. Unknown exceptions are not transient; an
    unknown exception raised `from` a known one (a wrapper) is classified by that cause."""
    failure = _classify(exc)
    cause = exc.__cause__
    seen = {id(exc)}
    while failure is None and cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        failure = _classify(cause)
        cause = cause.__cause__
    if failure is None:
        return _failure(exc, "unknown", False, detail=str(exc))
    if isinstance(exc, ContextOverflowError) and failure.kind != "context_length":
        # LangChain recognised an overflow (by the provider's wording) that the status alone does not tell.
        detail = _body_message(getattr(exc, "body", None)) or str(exc)
        return _failure(exc, "context_length", False, detail=detail, provider=failure.provider)
    return failure


def _classify(exc: BaseException) -> ProviderFailure | None:
    for classifier in (_openai_family, _botocore, _ollama, _httpx, _requests, _langchain, _builtin):
        failure = classifier(exc)
        if failure is not None:
            return failure
    return None


def _failure(
    exc: BaseException,
    kind: FailureKind,
    transient: bool,
    *,
    detail: str,
    provider: str | None = None,
    status: int | None = None,
    retry_after: float | None = None,
) -> ProviderFailure:
    headline = _HEADLINES[kind] + (f" ({status})" if status else "")
    name = type(exc).__name__
    root = _root_cause(exc) if kind in ("connection", "timeout", "unknown") else None
    detail = detail.strip() or name
    if root is not None and str(root) and str(root) not in detail:
        # SDKs often say only "Connection error." and keep the reason (refused, DNS, TLS) below.
        detail += f" ({type(root).__name__}: {root})"
    return ProviderFailure(
        kind=kind,
        transient=transient,
        retry_after_s=retry_after,
        status_code=status,
        provider=provider,
        error_type=name,
        message=_one_line(f"{headline}: {detail if detail.startswith(name) else f'{name}: {detail}'}"),
    )


def _root_cause(exc: BaseException) -> BaseException | None:
    root, seen = exc, {id(exc)}
    while (nxt := root.__cause__ or root.__context__) is not None and id(nxt) not in seen:
        seen.add(id(nxt))
        root = nxt
    return None if root is exc else root


def _is_context_overflow(text: str) -> bool:
    lowered = text.lower()
    return any(hint in lowered for hint in _CONTEXT_HINTS)


def _by_status(status: int, detail: str, code: str | None) -> tuple[FailureKind, bool]:
    """The kind of an HTTP error status; 408, 409, 429 and 5xx are worth another try (as the SDKs judge)."""
    code = (code or "").lower()
    if status == 429:
        quota = code == "insufficient_quota" or "exceeded your current quota" in detail.lower()
        return "rate_limit", not quota
    if status == 408:
        return "timeout", True
    if status == 409 or status >= 500:
        return "server", True
    if status in (401, 402, 403):
        return "auth", False
    if status in (400, 413, 422) and (code == "context_length_exceeded" or _is_context_overflow(detail)):
        return "context_length", False
    if 400 <= status < 500:
        return "bad_request", False
    return "unknown", False


def _retry_after(headers: Any) -> float | None:
    """Seconds from Retry-After-Ms or Retry-After (seconds or an HTTP date), when the provider sent one."""
    if headers is None:
        return None
    try:
        millis = headers.get("retry-after-ms")
        if millis is not None and math.isfinite(float(millis)):
            return max(float(millis) / 1000, 0.0)
        value = headers.get("retry-after")
    except (AttributeError, TypeError, ValueError):
        return None
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = parsedate_to_datetime(str(value)).timestamp() - time.time()
        except (TypeError, ValueError):
            return None
    return max(seconds, 0.0) if math.isfinite(seconds) else None


def _body_message(body: object) -> str | None:
    if not isinstance(body, Mapping):
        return None
    error = body.get("error")
    if isinstance(error, Mapping) and error.get("message"):
        return str(error["message"])
    if body.get("message"):
        return str(body["message"])
    return None


def _openai_family(exc: BaseException) -> ProviderFailure | None:
    """openai and anthropic share one exception design (generated by the same SDK tooling)."""
    for name in ("openai", "anthropic"):
        sdk = sys.modules.get(name)
        if sdk is None or not isinstance(exc, sdk.APIError):
            continue
        if isinstance(exc, sdk.APITimeoutError):
            return _failure(exc, "timeout", True, detail=str(exc), provider=name)
        if isinstance(exc, sdk.APIConnectionError):
            return _failure(exc, "connection", True, detail=str(exc), provider=name)
        if isinstance(exc, sdk.APIStatusError):
            status = int(exc.status_code)
            detail = getattr(exc, "api_message", None) or _body_message(exc.body) or str(exc)
            code = getattr(exc, "code", None) or getattr(exc, "error_code", None) or getattr(exc, "type", None)
            kind, transient = _by_status(status, detail, code if isinstance(code, str) else None)
            return _failure(
                exc,
                kind,
                transient,
                detail=detail,
                provider=name,
                status=status,
                retry_after=_retry_after(exc.response.headers) if transient else None,
            )
        return _failure(exc, "unknown", False, detail=str(exc), provider=name)
    return None


def _botocore(exc: BaseException) -> ProviderFailure | None:
    errors = sys.modules.get("botocore.exceptions")
    if errors is None:
        return None
    if isinstance(exc, errors.ClientError):
        response = exc.response if isinstance(exc.response, Mapping) else {}
        error = response.get("Error") or {}
        meta = response.get("ResponseMetadata") or {}
        code = str(error.get("Code") or "")
        detail = f"{code}: {error.get('Message') or ''}".strip(": ")
        status = meta.get("HTTPStatusCode")
        status = int(status) if isinstance(status, int) else None
        if code in _AWS_CODES:
            kind, transient = _AWS_CODES[code]
            if kind == "bad_request" and _is_context_overflow(detail):
                kind = "context_length"
        elif status is not None:
            kind, transient = _by_status(status, detail, None)
        else:
            kind, transient = "unknown", False
        retry_after = _retry_after(meta.get("HTTPHeaders")) if transient else None
        return _failure(exc, kind, transient, detail=detail, provider="aws", status=status, retry_after=retry_after)
    if not isinstance(exc, errors.BotoCoreError):
        return None
    if isinstance(exc, errors.ReadTimeoutError | errors.ConnectTimeoutError):
        return _failure(exc, "timeout", True, detail=str(exc), provider="aws")
    if isinstance(exc, errors.SSLError):
        return _failure(exc, "connection", False, detail=str(exc), provider="aws")
    if isinstance(exc, errors.ConnectionError | errors.ConnectionClosedError | errors.HTTPClientError):
        return _failure(exc, "connection", True, detail=str(exc), provider="aws")
    credentials = (
        errors.NoCredentialsError,
        errors.PartialCredentialsError,
        errors.CredentialRetrievalError,
        errors.NoAuthTokenError,
        errors.TokenRetrievalError,
    )
    if isinstance(exc, credentials):
        return _failure(exc, "auth", False, detail=str(exc), provider="aws")
    if isinstance(exc, errors.ParamValidationError):
        return _failure(exc, "bad_request", False, detail=str(exc), provider="aws")
    return _failure(exc, "unknown", False, detail=str(exc), provider="aws")


def _ollama(exc: BaseException) -> ProviderFailure | None:
    sdk = sys.modules.get("ollama")
    if sdk is None or not isinstance(exc, sdk.ResponseError):
        return None
    status = int(exc.status_code) if isinstance(exc.status_code, int) and exc.status_code > 0 else None
    detail = str(exc.error)
    kind, transient = _by_status(status, detail, None) if status else ("unknown", False)
    return _failure(exc, kind, transient, detail=detail, provider="ollama", status=status)


def _httpx(exc: BaseException) -> ProviderFailure | None:
    """httpx (ollama) and httpx2 (openai, anthropic): the same exception tree in two packages."""
    for name in ("httpx", "httpx2"):
        lib = sys.modules.get(name)
        if lib is None or not isinstance(exc, lib.HTTPError | lib.InvalidURL):
            continue
        if isinstance(exc, lib.TimeoutException):
            return _failure(exc, "timeout", True, detail=str(exc), provider=name)
        if isinstance(exc, lib.NetworkError | lib.RemoteProtocolError | lib.ProxyError):
            return _failure(exc, "connection", True, detail=str(exc), provider=name)
        if isinstance(exc, lib.HTTPStatusError):
            status = int(exc.response.status_code)
            kind, transient = _by_status(status, str(exc), None)
            retry_after = _retry_after(exc.response.headers) if transient else None
            return _failure(
                exc, kind, transient, detail=str(exc), provider=name, status=status, retry_after=retry_after
            )
        return _failure(
            exc, "bad_request" if isinstance(exc, lib.InvalidURL) else "unknown", False, detail=str(exc), provider=name
        )
    return None


def _requests(exc: BaseException) -> ProviderFailure | None:
    errors = sys.modules.get("requests.exceptions")
    if errors is None or not isinstance(exc, errors.RequestException):
        return None
    if isinstance(exc, errors.Timeout):
        return _failure(exc, "timeout", True, detail=str(exc), provider="requests")
    if isinstance(exc, errors.SSLError):
        return _failure(exc, "connection", False, detail=str(exc), provider="requests")
    if isinstance(exc, errors.ConnectionError | errors.ChunkedEncodingError):
        return _failure(exc, "connection", True, detail=str(exc), provider="requests")
    response = getattr(exc, "response", None)
    if isinstance(exc, errors.HTTPError) and response is not None:
        status = int(response.status_code)
        kind, transient = _by_status(status, str(exc), None)
        retry_after = _retry_after(response.headers) if transient else None
        return _failure(
            exc, kind, transient, detail=str(exc), provider="requests", status=status, retry_after=retry_after
        )
    return _failure(exc, "unknown", False, detail=str(exc), provider="requests")


def _langchain(exc: BaseException) -> ProviderFailure | None:
    """LangChain's provider-neutral model errors, for integrations whose SDK is not covered above."""
    if not isinstance(exc, ModelError):
        return None
    kinds: tuple[tuple[type[ModelError], FailureKind], ...] = (
        (ContextOverflowError, "context_length"),
        (ModelRateLimitError, "rate_limit"),
        (ModelTimeoutError, "timeout"),
        (ModelConnectionError, "connection"),
        (ModelAPIError, "server"),
        (ModelAuthenticationError, "auth"),
        (ModelPermissionDeniedError, "auth"),
    )
    kind: FailureKind = next((k for cls, k in kinds if isinstance(exc, cls)), "bad_request")
    return _failure(exc, kind, bool(exc.is_retryable), detail=str(exc))


def _builtin(exc: BaseException) -> ProviderFailure | None:
    if isinstance(exc, TimeoutError):
        return _failure(exc, "timeout", True, detail=str(exc))
    if isinstance(exc, ConnectionError):
        return _failure(exc, "connection", True, detail=str(exc))
    return None


def call_with_retries(
    fn: Callable[[], T],
    policy: RetryPolicy,
    *,
    on_retry: Callable[[ProviderFailure, int, float], None] | None = None,
) -> T:
    """`fn()`, tried again after transient provider failures as `policy` says.

    `on_retry(failure, attempt, wait_s)` is told of each failed try that will be retried (attempt counts from 1)
    before the wait. Raises ProviderError when a failure is not transient (at once) or when the tries run out;
    CloudInspectError and BaseExceptions that are not Exceptions (KeyboardInterrupt) propagate unchanged.
    """
    backoff = wait_exponential_jitter(multiplier=policy.initial_wait_s, max=policy.max_wait_s, jitter=policy.jitter)
    last: dict[int, ProviderFailure] = {}
    tries = 0

    def failure_of(exc: BaseException) -> ProviderFailure:
        if id(exc) not in last:
            last.clear()
            last[id(exc)] = classify_provider_error(exc)
        return last[id(exc)]

    def worth_retrying(exc: BaseException) -> bool:
        ours = isinstance(exc, CloudInspectError) or not isinstance(exc, Exception)
        return not ours and failure_of(exc).transient

    def wait(state: RetryCallState) -> float:
        failure = _failure_in(state, failure_of)
        if policy.respect_retry_after and failure is not None and failure.retry_after_s is not None:
            return min(failure.retry_after_s, policy.max_wait_s)
        return backoff(state)

    def before_sleep(state: RetryCallState) -> None:
        failure = _failure_in(state, failure_of)
        if on_retry is not None and failure is not None and state.next_action is not None:
            on_retry(failure, state.attempt_number, state.next_action.sleep)

    def attempt() -> T:
        nonlocal tries
        tries += 1
        return fn()

    retrying = Retrying(
        stop=stop_after_attempt(policy.attempts),
        wait=wait,
        retry=retry_if_exception(worth_retrying),
        before_sleep=before_sleep,
        reraise=True,
    )
    try:
        return retrying(attempt)
    except CloudInspectError:
        raise
    except Exception as exc:
        raise ProviderError(failure_of(exc), tries) from exc


def _failure_in(
    state: RetryCallState, failure_of: Callable[[BaseException], ProviderFailure]
) -> ProviderFailure | None:
    outcome = state.outcome
    exc = outcome.exception() if outcome is not None and outcome.failed else None
    return failure_of(exc) if exc is not None else None


# Providers whose LangChain client takes a per-request timeout and a retry count from providers.py.
_CLIENT_TIMEOUTS = frozenset(
    {Provider.openai, Provider.openai_compatible, Provider.anthropic, Provider.bedrock, Provider.ollama}
)
_CLIENT_RETRIES = _CLIENT_TIMEOUTS - {Provider.ollama}  # ChatOllama has no retries of its own


def client_overrides(spec: ModelSpec, policy: RetryPolicy) -> dict[str, Any]:
    """`get_model` overrides that let `policy` govern `spec`'s client: its per-call timeout, and no retries of
    the client's own on top of the policy's (which would multiply the tries and hide them). Parameters the
    spec sets itself are kept; in-process, replay and Ollama models get none (see the module docstring)."""
    if spec.provider not in _CLIENT_TIMEOUTS:
        return {}
    overrides: dict[str, Any] = {}
    if spec.parameters.timeout is None and policy.call_timeout_s is not None:
        overrides["timeout"] = policy.call_timeout_s
    if spec.parameters.max_retries is None and spec.provider in _CLIENT_RETRIES:
        overrides["max_retries"] = 0
    return overrides
