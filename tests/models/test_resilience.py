"""Provider robustness: classification of the installed SDKs' real exceptions, retries, Retry-After, final errors."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import anthropic
import httpx
import httpx2
import ollama
import openai
import pytest
import requests
from botocore.exceptions import (
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    ReadTimeoutError,
)
from langchain_openai import ChatOpenAI
from langchain_openai.chat_models.base import OpenAIContextOverflowError
from pydantic import ValidationError

from cloudinspect.errors import CloudInspectError, InputError
from cloudinspect.models import get_spec, spec_with
from cloudinspect.models.resilience import (
    ProviderError,
    ProviderFailure,
    RetryPolicy,
    call_with_retries,
    classify_provider_error,
    client_overrides,
)
from cloudinspect.redact import clear_secrets, register_secret

PLANTED_KEY = "sk-proj-PLANTED0123456789abcdefXYZ"
FAST = RetryPolicy(attempts=4, initial_wait_s=0.001, max_wait_s=0.01, jitter=0)
OPENAI_URL = "https://api.openai.com/v1/chat/completions"


def _response(status: int, headers: dict[str, str] | None = None, url: str = OPENAI_URL) -> httpx2.Response:
    return httpx2.Response(status, headers=headers or {}, request=httpx2.Request("POST", url))


def _openai_status(
    cls: type[openai.APIStatusError],
    status: int,
    message: str,
    code: str | None = None,
    headers: dict[str, str] | None = None,
) -> openai.APIStatusError:
    # The SDK passes the body's inner "error" object and a message built from it.
    body = {"message": message, "type": "error", "code": code}
    return cls(f"Error code: {status} - {body}", response=_response(status, headers), body=body)


def _anthropic_status(
    cls: type[anthropic.APIStatusError], status: int, kind: str, message: str, headers: dict[str, str] | None = None
) -> anthropic.APIStatusError:
    body = {"type": "error", "error": {"type": kind, "message": message}}
    url = "https://api.anthropic.com/v1/messages"
    return cls(f"Error code: {status} - {body}", response=_response(status, headers, url), body=body)


def _client_error(code: str, message: str, status: int, headers: dict[str, str] | None = None) -> ClientError:
    response: Any = {
        "Error": {"Code": code, "Message": message},
        "ResponseMetadata": {"HTTPStatusCode": status, "HTTPHeaders": headers or {}},
    }
    return ClientError(response, "Converse")


def _chained(outer: Callable[[], BaseException], inner: BaseException) -> BaseException:
    """`outer()` raised while handling `inner`, as SDKs wrap their transport errors."""
    try:
        try:
            raise inner
        except BaseException as cause:
            raise outer() from cause
    except BaseException as exc:
        return exc


# --- classification ----------------------------------------------------------------------------------------


def _openai_request() -> httpx2.Request:
    return httpx2.Request("POST", OPENAI_URL)


Expected = tuple[str, bool, int | None]  # kind, transient, status code
P = pytest.param
CASES = [
    P(lambda: _openai_status(openai.RateLimitError, 429, "Rate limit reached"), ("rate_limit", True, 429), id="oa-429"),
    P(
        lambda: _openai_status(openai.RateLimitError, 429, "You exceeded your current quota", "insufficient_quota"),
        ("rate_limit", False, 429),
        id="oa-quota",
    ),
    P(lambda: openai.APITimeoutError(_openai_request()), ("timeout", True, None), id="oa-timeout"),
    P(lambda: openai.APIConnectionError(request=_openai_request()), ("connection", True, None), id="oa-connection"),
    P(
        lambda: _openai_status(openai.InternalServerError, 500, "The server had an error"),
        ("server", True, 500),
        id="oa-500",
    ),
    P(lambda: _openai_status(openai.APIStatusError, 503, "unavailable"), ("server", True, 503), id="oa-status-503"),
    P(lambda: _openai_status(openai.APIStatusError, 429, "slow down"), ("rate_limit", True, 429), id="oa-status-429"),
    P(lambda: _openai_status(openai.AuthenticationError, 401, "Incorrect API key"), ("auth", False, 401), id="oa-401"),
    P(lambda: _openai_status(openai.PermissionDeniedError, 403, "Country"), ("auth", False, 403), id="oa-403"),
    P(lambda: _openai_status(openai.NotFoundError, 404, "no gpt-9"), ("bad_request", False, 404), id="oa-404"),
    P(lambda: _openai_status(openai.BadRequestError, 400, "Unsupported"), ("bad_request", False, 400), id="oa-400"),
    P(
        lambda: _openai_status(openai.BadRequestError, 400, "too long for us", "context_length_exceeded"),
        ("context_length", False, 400),
        id="oa-context",
    ),
    P(
        lambda: OpenAIContextOverflowError(
            "Input tokens exceed the configured limit", response=_response(400), body={}
        ),
        ("context_length", False, 400),
        id="langchain-overflow",
    ),
    P(
        lambda: _anthropic_status(anthropic.RateLimitError, 429, "rate_limit_error", "Too many"),
        ("rate_limit", True, 429),
        id="an-429",
    ),
    P(
        lambda: _anthropic_status(anthropic.OverloadedError, 529, "overloaded_error", "Overloaded"),
        ("server", True, 529),
        id="an-529",
    ),
    P(
        lambda: _anthropic_status(anthropic.InternalServerError, 500, "api_error", "Oops"),
        ("server", True, 500),
        id="an-500",
    ),
    P(lambda: anthropic.APITimeoutError(_openai_request()), ("timeout", True, None), id="an-timeout"),
    P(lambda: anthropic.APIConnectionError(request=_openai_request()), ("connection", True, None), id="an-connection"),
    P(
        lambda: _anthropic_status(anthropic.AuthenticationError, 401, "authentication_error", "invalid x-api-key"),
        ("auth", False, 401),
        id="an-401",
    ),
    P(
        lambda: _anthropic_status(anthropic.BadRequestError, 400, "invalid_request_error", "prompt is too long: 9 > 8"),
        ("context_length", False, 400),
        id="an-context",
    ),
    P(
        lambda: _anthropic_status(anthropic.BadRequestError, 400, "invalid_request_error", "max_tokens: must be > 0"),
        ("bad_request", False, 400),
        id="an-400",
    ),
    P(
        lambda: _client_error("ThrottlingException", "Too many tokens", 429),
        ("rate_limit", True, 429),
        id="aws-throttle",
    ),
    P(lambda: _client_error("ServiceUnavailableException", "Try again", 503), ("server", True, 503), id="aws-503"),
    P(lambda: _client_error("ModelTimeoutException", "timed out", 408), ("timeout", True, 408), id="aws-model-timeout"),
    P(lambda: _client_error("AccessDeniedException", "not authorized", 403), ("auth", False, 403), id="aws-denied"),
    P(
        lambda: _client_error("ValidationException", "Input is too long for requested model.", 400),
        ("context_length", False, 400),
        id="aws-context",
    ),
    P(
        lambda: _client_error("ValidationException", "bad temperature", 400),
        ("bad_request", False, 400),
        id="aws-validation",
    ),
    P(lambda: _client_error("SomethingNew", "odd", 502), ("server", True, 502), id="aws-new-code-502"),
    P(lambda: EndpointConnectionError(endpoint_url="https://b.test"), ("connection", True, None), id="aws-endpoint"),
    P(lambda: ReadTimeoutError(endpoint_url="https://b.test"), ("timeout", True, None), id="aws-read-timeout"),
    P(lambda: ConnectTimeoutError(endpoint_url="https://b.test"), ("timeout", True, None), id="aws-connect-timeout"),
    P(NoCredentialsError, ("auth", False, None), id="aws-no-credentials"),
    P(lambda: httpx.ReadTimeout("timed out"), ("timeout", True, None), id="httpx-timeout"),
    P(lambda: httpx.ConnectError("[Errno 111] Connection refused"), ("connection", True, None), id="httpx-connect"),
    P(lambda: httpx2.ConnectTimeout("timed out"), ("timeout", True, None), id="httpx2-timeout"),
    P(
        lambda: httpx.HTTPStatusError(
            "502", request=httpx.Request("GET", "http://h.test"), response=httpx.Response(502)
        ),
        ("server", True, 502),
        id="httpx-status",
    ),
    P(lambda: ollama.ResponseError("model 'x' not found", 404), ("bad_request", False, 404), id="ollama-404"),
    P(lambda: ollama.ResponseError("busy", 503), ("server", True, 503), id="ollama-503"),
    P(lambda: ollama.ResponseError("too many", 429), ("rate_limit", True, 429), id="ollama-429"),
    P(lambda: ollama.ResponseError("odd"), ("unknown", False, None), id="ollama-no-status"),
    P(lambda: requests.exceptions.ReadTimeout("read"), ("timeout", True, None), id="requests-timeout"),
    P(lambda: requests.exceptions.ConnectTimeout("conn"), ("timeout", True, None), id="requests-connect-timeout"),
    P(lambda: requests.exceptions.ConnectionError("refused"), ("connection", True, None), id="requests-connection"),
    P(lambda: TimeoutError("timed out"), ("timeout", True, None), id="python-timeout"),
    P(lambda: ConnectionRefusedError(111, "refused"), ("connection", True, None), id="python-refused"),
    P(lambda: ValueError("something else"), ("unknown", False, None), id="unknown"),
    P(
        lambda: _chained(lambda: ValueError("wrapped"), _client_error("ThrottlingException", "slow down", 429)),
        ("rate_limit", True, 429),
        id="wrapped-throttling",
    ),
]


@pytest.mark.parametrize(("make", "expected"), CASES)
def test_real_sdk_exceptions_are_classified(make: Callable[[], BaseException], expected: Expected) -> None:
    failure = classify_provider_error(make())
    assert (failure.kind, failure.transient, failure.status_code) == expected
    assert "\n" not in failure.message


def test_requests_http_error_reads_the_status_of_its_response() -> None:
    response = requests.Response()
    response.status_code = 502
    failure = classify_provider_error(requests.exceptions.HTTPError("502 Bad Gateway", response=response))
    assert (failure.kind, failure.transient, failure.status_code) == ("server", True, 502)


def test_the_message_names_the_failure_and_keeps_the_providers_words() -> None:
    exc = _anthropic_status(anthropic.OverloadedError, 529, "overloaded_error", "Overloaded")
    failure = classify_provider_error(exc)
    assert failure.message == "server error (529): OverloadedError: Overloaded"
    assert failure.provider == "anthropic"
    assert failure.headline == "server error (529)"


def test_a_connection_error_names_its_root_cause() -> None:
    request = httpx2.Request("POST", OPENAI_URL)
    exc = _chained(lambda: openai.APIConnectionError(request=request), httpx2.ConnectError("[Errno 111] refused"))
    message = classify_provider_error(exc).message
    assert message == "connection failed: APIConnectionError: Connection error. (ConnectError: [Errno 111] refused)"


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"retry-after": "2"}, 2.0),
        ({"retry-after": "0.5"}, 0.5),
        ({"retry-after-ms": "250", "retry-after": "9"}, 0.25),
        ({"retry-after": "soon"}, None),
        ({"retry-after": "nan"}, None),
        ({}, None),
    ],
)
def test_retry_after_is_read_from_the_response_headers(headers: dict[str, str], expected: float | None) -> None:
    exc = _openai_status(openai.RateLimitError, 429, "Rate limit reached", headers=headers)
    assert classify_provider_error(exc).retry_after_s == expected


def test_retry_after_as_an_http_date() -> None:
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    exc = _anthropic_status(anthropic.RateLimitError, 429, "rate_limit_error", "slow", headers={"retry-after": when})
    wait = classify_provider_error(exc).retry_after_s
    assert wait is not None
    assert 20 < wait <= 30


def test_a_non_transient_failure_carries_no_retry_after() -> None:
    exc = _openai_status(openai.AuthenticationError, 401, "bad key", headers={"retry-after": "5"})
    assert classify_provider_error(exc).retry_after_s is None


# --- secrets -----------------------------------------------------------------------------------------------


@pytest.fixture
def registered_secrets() -> Iterator[None]:
    yield
    clear_secrets()


def test_a_planted_key_never_reaches_the_failure_message() -> None:
    exc = _openai_status(openai.AuthenticationError, 401, f"Incorrect API key provided: {PLANTED_KEY}.")
    assert PLANTED_KEY in str(exc)
    failure = classify_provider_error(exc)
    assert PLANTED_KEY not in failure.message
    assert failure.message.startswith("authentication failed (401): AuthenticationError: Incorrect API key provided: ")


def test_secrets_in_headers_and_urls_are_redacted() -> None:
    exc = ConnectionError(
        f"refused: GET https://h.test/v1/models?key=s3cr3tvalue9 with {{'x-api-key': '{PLANTED_KEY}'}}"
    )
    message = classify_provider_error(exc).message
    assert "s3cr3tvalue9" not in message
    assert PLANTED_KEY not in message
    assert message.startswith("connection failed: ConnectionError: refused: GET https://h.test/v1/models?key=")


def test_a_registered_secret_is_redacted_whatever_its_shape(registered_secrets: None) -> None:
    bedrock_key = "ABSKQmVkcm9ja0FQSUtleS1wbGFudGVk0123456789"
    register_secret(bedrock_key)
    failure = classify_provider_error(_client_error("UnrecognizedClientException", f"bad token {bedrock_key}", 403))
    assert failure.kind == "auth"
    assert bedrock_key not in failure.message


def test_the_message_is_one_bounded_line() -> None:
    failure = classify_provider_error(ValueError("first line\nsecond line " + "x" * 1000))
    assert failure.message.startswith("failed: ValueError: first line second line xxx")
    assert len(failure.message) == 300


# --- call_with_retries -------------------------------------------------------------------------------------


class Script:
    """A callable that raises the given exceptions in order, then returns "answer"."""

    def __init__(self, *errors: BaseException) -> None:
        self.errors = list(errors)
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "answer"


Retry = tuple[ProviderFailure, int, float]


@pytest.fixture
def retries() -> list[Retry]:
    """Where `on_retry` records what it is told."""
    return []


def _rate_limited(headers: dict[str, str] | None = None) -> openai.APIStatusError:
    return _openai_status(openai.RateLimitError, 429, "Rate limit reached", headers=headers)


def test_transient_failures_are_retried_until_an_answer(retries: list[Retry]) -> None:
    fn = Script(_rate_limited(), TimeoutError("slow"))
    assert call_with_retries(fn, FAST, on_retry=lambda *a: retries.append(a)) == "answer"
    assert fn.calls == 3
    assert [(f.kind, attempt) for f, attempt, _ in retries] == [("rate_limit", 1), ("timeout", 2)]


def test_backoff_grows_exponentially_up_to_max_wait(retries: list[Retry]) -> None:
    policy = RetryPolicy(attempts=5, initial_wait_s=0.001, max_wait_s=0.005, jitter=0)
    fn = Script(*(ConnectionResetError("reset") for _ in range(4)))
    assert call_with_retries(fn, policy, on_retry=lambda *a: retries.append(a)) == "answer"
    assert [wait for _, _, wait in retries] == pytest.approx([0.001, 0.002, 0.004, 0.005])


def test_jitter_adds_at_most_its_amount(retries: list[Retry]) -> None:
    policy = RetryPolicy(attempts=3, initial_wait_s=0.001, max_wait_s=1, jitter=0.002)
    call_with_retries(Script(TimeoutError(), TimeoutError()), policy, on_retry=lambda *a: retries.append(a))
    waits = [wait for _, _, wait in retries]
    assert 0.001 <= waits[0] <= 0.003
    assert 0.002 <= waits[1] <= 0.004


def test_retry_after_is_waited_exactly(retries: list[Retry]) -> None:
    policy = RetryPolicy(attempts=2, initial_wait_s=0.5, max_wait_s=30, jitter=0)
    fn = Script(_rate_limited({"retry-after-ms": "3"}))
    call_with_retries(fn, policy, on_retry=lambda *a: retries.append(a))
    assert [wait for _, _, wait in retries] == [0.003]  # not the 0.5 s backoff


def test_retry_after_is_capped_at_max_wait(retries: list[Retry]) -> None:
    fn = Script(_rate_limited({"retry-after": "2"}))
    call_with_retries(fn, FAST, on_retry=lambda *a: retries.append(a))
    ((failure, _, wait),) = retries
    assert failure.retry_after_s == 2.0
    assert wait == FAST.max_wait_s


def test_retry_after_can_be_ignored(retries: list[Retry]) -> None:
    policy = FAST.model_copy(update={"respect_retry_after": False})
    call_with_retries(Script(_rate_limited({"retry-after-ms": "7"})), policy, on_retry=lambda *a: retries.append(a))
    assert [wait for _, _, wait in retries] == [0.001]


def test_a_provider_that_stays_down_raises_after_every_try(retries: list[Retry]) -> None:
    fn = Script(*(_rate_limited() for _ in range(10)))
    with pytest.raises(ProviderError) as info:
        call_with_retries(fn, FAST, on_retry=lambda *a: retries.append(a))
    assert fn.calls == 4
    assert len(retries) == 3
    error = info.value
    assert (error.tries, error.failure.kind, error.failure.transient) == (4, "rate_limit", True)
    assert str(error).startswith("provider 'openai' unavailable after 4 tries: rate limited (429): ")
    assert "wait a minute and retry" in str(error)
    assert isinstance(error.__cause__, openai.RateLimitError)
    assert error.exit_code == 1


@pytest.mark.parametrize(
    ("error", "advice"),
    [
        (
            _openai_status(openai.AuthenticationError, 401, f"Incorrect API key provided: {PLANTED_KEY}"),
            "check the API key",
        ),
        (
            _openai_status(openai.RateLimitError, 429, "You exceeded your current quota", "insufficient_quota"),
            "quota is used up",
        ),
        (
            _openai_status(openai.BadRequestError, 400, "maximum context length", "context_length_exceeded"),
            "context window",
        ),
        (ValueError("a bug"), "see the error above"),
    ],
    ids=["auth", "quota", "context", "unknown"],
)
def test_a_non_transient_failure_raises_at_once_and_says_what_to_do(error: BaseException, advice: str) -> None:
    fn = Script(error)
    with pytest.raises(ProviderError) as info:
        call_with_retries(fn, FAST, on_retry=lambda *a: pytest.fail("retried"))
    assert fn.calls == 1
    assert info.value.tries == 1
    assert info.value.failure.transient is False
    assert " failed: " in str(info.value)
    assert advice in str(info.value)
    assert PLANTED_KEY not in str(info.value)


def test_a_timeout_advises_raising_the_timeout() -> None:
    with pytest.raises(ProviderError, match=r"unavailable after 2 tries: timed out: .*raise the timeout"):
        call_with_retries(Script(TimeoutError(), TimeoutError()), FAST.model_copy(update={"attempts": 2}))


def test_one_attempt_means_no_retry() -> None:
    fn = Script(TimeoutError("slow"))
    with pytest.raises(ProviderError, match="unavailable after 1 try:"):
        call_with_retries(fn, FAST.model_copy(update={"attempts": 1}))
    assert fn.calls == 1


def test_cloudinspect_errors_propagate_unchanged() -> None:
    fn = Script(InputError("bad input"))
    with pytest.raises(InputError, match="bad input"):
        call_with_retries(fn, FAST)
    assert fn.calls == 1


def test_interrupts_propagate_unchanged() -> None:
    fn = Script(KeyboardInterrupt())
    with pytest.raises(KeyboardInterrupt):
        call_with_retries(fn, FAST)
    assert fn.calls == 1


def test_provider_error_is_a_cloudinspect_error() -> None:
    assert issubclass(ProviderError, CloudInspectError)


# --- the policy and the client overrides -------------------------------------------------------------------


def test_policy_defaults_and_validation() -> None:
    policy = RetryPolicy()
    assert (policy.attempts, policy.initial_wait_s, policy.max_wait_s, policy.call_timeout_s) == (4, 1.0, 30, 120)
    with pytest.raises(ValidationError):
        RetryPolicy(attempts=0)
    with pytest.raises(ValidationError):
        RetryPolicy(call_timeout_s=0)
    with pytest.raises(ValidationError):
        RetryPolicy(wait=3)  # type: ignore[call-arg]
    with pytest.raises(ValidationError):
        policy.attempts = 2  # type: ignore[misc]


def test_client_overrides_hand_the_timeout_to_the_client_and_switch_its_retries_off() -> None:
    spec = get_spec("claude-sonnet-5.5")
    overrides = client_overrides(spec, RetryPolicy(call_timeout_s=45))
    assert overrides == {"timeout": 45, "max_retries": 0}
    assert spec_with(spec, **overrides).parameters.timeout == 45


def test_client_overrides_keep_what_the_spec_sets_and_skip_in_process_models() -> None:
    spec = spec_with(get_spec("claude-sonnet-5.5"), timeout=10, max_retries=1)
    assert client_overrides(spec, RetryPolicy()) == {}
    assert client_overrides(get_spec("claude-sonnet-5.5"), RetryPolicy(call_timeout_s=None)) == {"max_retries": 0}
    assert client_overrides(get_spec("smollm2-135m"), RetryPolicy()) == {}


# --- a real client ---------------------------------------------------------------------------------------------


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_real_openai_client_with_no_server_fails_as_a_transient_connection_error(retries: list[Retry]) -> None:
    url = f"http://127.0.0.1:{_closed_port()}/v1"
    llm = ChatOpenAI(model="nothing", base_url=url, api_key=PLANTED_KEY, max_retries=0, timeout=5)
    policy = RetryPolicy(attempts=3, initial_wait_s=0.001, max_wait_s=0.01, jitter=0)
    with pytest.raises(ProviderError) as info:
        call_with_retries(lambda: llm.invoke("hello"), policy, on_retry=lambda *a: retries.append(a))
    error = info.value
    assert (error.failure.kind, error.failure.transient, error.tries) == ("connection", True, 3)
    assert len(retries) == 2
    assert "Connection refused" in str(error) or "ConnectError" in str(error)
    assert PLANTED_KEY not in str(error)
