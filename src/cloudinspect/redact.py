"""Redaction of credentials and secret values, for everything that leaves the process: traces, logs, the results
store and reports.

Two kinds of knowledge find secrets:

- shape: values that look like credentials wherever they are (AWS access key ids and session tokens, provider
  API keys, JWTs, PEM private keys, Bearer tokens, Authorization headers, passwords in URLs, secret-looking query
  parameters), and values written next to a secret-looking name (`AWS_SECRET_ACCESS_KEY=...`,
  `"password": "..."`, `api_key = '...'`, `--token ...`), which is how a 40-character AWS secret access key is
  told from a 40-character git hash;
- exact values registered at run time with `register_secret` (the API key a provider was built with, resolved
  AWS credentials) or taken from secret-looking environment variables with `register_env_secrets`: these are
  found anywhere, with no context needed.

In structured data (`redact_data`), a key that looks secret (`api_key`, `aws_secret_access_key`, `SecretString`,
`password`, `token`, `Authorization`...) has its value replaced whatever it is; only None and booleans, which
cannot carry a secret, are kept (`AllowUsersToChangePassword: true` stays readable).

False positives would corrupt what the traces and reports are for, so the rules keep:

- identifiers of resources: instance and AMI ids, ARNs (`arn:aws:secretsmanager:...:secret:prod/db` is not a
  `secret: value` pair), unique ids (`AIDA...`, `AROA...`), hashes (git, sha256, ETags), UUIDs;
- names that only mention secrets: `NextToken` and the other pagination tokens, `max_tokens` and token counts,
  `SecretId`, `secret_name`, `PasswordLastUsed`, `PasswordPolicy`, `secrets` (a list of names);
- code that handles secrets without containing any: `password = os.environ["DB_PASSWORD"]`,
  `api_key: str | None = None`, `NextToken=token`, `f"postgres://{user}:{password}@{host}"`;
- AWS's documented placeholders: an access key id or a 40-character secret key containing `EXAMPLE`
  (`AKIAIOSFODNN7EXAMPLE`, `wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY`, and this repository's
  `AKIADUMMYEXAMPLE0000`). AWS never issues keys with that marker (the chance that a random key id contains it is
  about 1e-9), documentation and tests use it precisely so that they never look real, and keeping it lets a
  trace show that the sandbox got the dummy key. The exemption is for AWS key shapes only: a registered secret,
  a provider key or a value under a secret-looking key is redacted even if it says EXAMPLE.

An access key id is replaced but keeps its last four characters, as the AWS console shows keys: an audit of
stale keys stays readable (`[REDACTED:aws-access-key-id:...WXYZ]`) and two keys stay distinguishable.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import re
import threading
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from pydantic import BaseModel, SecretBytes, SecretStr

__all__ = [
    "MIN_SECRET_LENGTH",
    "REDACTED",
    "clear_secrets",
    "is_secret_name",
    "marker",
    "redact_data",
    "redact_text",
    "register_env_secrets",
    "register_secret",
]

REDACTED = "[REDACTED]"
"""What the value of a secret-looking key becomes in structured data. Text findings say what they were:
`[REDACTED:<kind>]` (see `marker`)."""

MIN_SECRET_LENGTH = 8
"""Registered values shorter than this are ignored: they would match too much ordinary text."""


def marker(kind: str) -> str:
    """The replacement for a secret found in text, naming its kind (`[REDACTED:api-key]`)."""
    return f"[REDACTED:{kind}]"


# ---------------------------------------------------------------------------------------------------------------
# Secret-looking names
# ---------------------------------------------------------------------------------------------------------------

_WORD = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")
# A word "...token" is a credential unless what qualifies it makes it a pagination cursor, an idempotency token or
# a count of LLM tokens.
_TOKEN_QUALIFIERS_NOT_SECRET = frozenset(
    {
        "next",
        "continuation",
        "pagination",
        "page",
        "forward",
        "backward",
        "start",
        "starting",
        "client",
        "request",
        "idempotency",
        "sequence",
        "upload",
        "resume",
        "cursor",
        "sync",
        "marker",
        "max",
        "num",
        "per",
        "total",
        "input",
        "output",
        "prompt",
        "completion",
        "reasoning",
        "cached",
        "cache",
        "first",
        "last",
        "special",
        "stop",
        "eos",
        "bos",
        "pad",
        "unk",
    }
)
_SECRET_LAST_WORDS = frozenset(
    {
        "password",
        "passwd",
        "passphrase",
        "secret",
        "apikey",
        "authorization",
        "cookie",
        "cookies",
        "credential",
        "credentials",
        "plaintext",
    }
)
_SECRET_WORD_ENDINGS = ("password", "passwd", "secret", "apikey")
_KEY_QUALIFIERS = frozenset({"api", "secret", "private", "access", "signing", "customer", "session", "master"})
_SECRET_ANYWHERE = frozenset({"secret", "password", "passwd", "passphrase"})
# With a secret word earlier in the name, these last words name the secret's value (SecretString, PasswordData).
_VALUE_WORDS = frozenset({"key", "value", "string", "binary", "text", "data", "hash", "bytes", "material"})


def _words(name: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(name)]


@functools.lru_cache(maxsize=4096)
def is_secret_name(name: str) -> bool:
    """Whether a key, variable or parameter name says its value is a secret.

    `api_key`, `OPENAI_API_KEY`, `x-api-key`, `aws_secret_access_key`, `SecretAccessKey`, `SessionToken`,
    `GITHUB_TOKEN`, `client_secret`, `SecretString`, `PasswordData`, `DB_PASSWORD`, `Authorization`, `cookie`,
    `Credentials` are; names that only mention a secret (`NextToken`, `max_tokens`, `SecretId`, `secret_name`,
    `PasswordLastUsed`, `AuthorizationType`, `access_key_id`, `secrets`) are not.
    """
    words = _words(name)
    if not words:
        return False
    last = words[-1]
    previous = words[-2] if len(words) > 1 else ""
    if last.endswith("token"):
        qualifier = previous if last == "token" else last[: -len("token")]
        return qualifier not in _TOKEN_QUALIFIERS_NOT_SECRET
    if last in _SECRET_LAST_WORDS or last.endswith(_SECRET_WORD_ENDINGS):
        return True
    if last == "key" and previous in _KEY_QUALIFIERS:
        return True
    return last in _VALUE_WORDS and any(w in _SECRET_ANYWHERE for w in words[:-1])


# ---------------------------------------------------------------------------------------------------------------
# Text detectors
#
# Each detector is anchored on literal needles found with str.find (memchr-fast), then matched at that position:
# CPython's regex engine has no fast path for alternations or look-behinds, and scanning 1 MB with a dozen such
# patterns takes hundreds of milliseconds where this takes tens. Needles in lower case are searched in a
# lowered copy of the text of the same length, so positions carry over.
# ---------------------------------------------------------------------------------------------------------------

_Span = tuple[int, int, str]
_Handler = Callable[[str, str, int], Iterator[_Span]]

_ALNUM = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
_TOKEN_CHARS = _ALNUM | frozenset("_-")
_NAME_CHARS = _TOKEN_CHARS | frozenset(".")
_BASE64_BODY = _ALNUM | frozenset("/+")
_MAX_NAME = 64
_AFTER_NAME = frozenset("=: \t\"'\\")
_PLACEHOLDER = "EXAMPLE"

_AWS_KEY_ID = re.compile(r"A[KS]IA[A-Z0-9]{16}(?![A-Za-z0-9])")
_AWS_SECRET_SHAPE = re.compile(r"[A-Za-z0-9/+=]{40}")
# STS session tokens are base64 of a binary blob whose first bytes are fixed.
_SESSION_TOKEN_PREFIXES = ("IQoJb3JpZ2lu", "FwoGZXIvYXdz", "FQoGZXIvYXdz")
_SESSION_TOKEN = re.compile(r"[A-Za-z0-9/+]{12}[A-Za-z0-9/+=]{16,8192}")
_PROVIDER_KEY_PREFIXES = (
    "sk-",
    "sk_live_",
    "sk_test_",
    "rk_live_",
    "rk_test_",
    "ghp_",
    "gho_",
    "ghu_",
    "ghs_",
    "ghr_",
    "github_pat_",
    "xox",
    "AIza",
    "hf_",
    "lsv2_",
)
_PROVIDER_KEY = re.compile(
    r"sk-[A-Za-z0-9_-]{20,1024}"  # OpenAI (sk-, sk-proj-, sk-svcacct-), Anthropic (sk-ant-), DeepSeek...
    r"|[sr]k_(?:live|test)_[A-Za-z0-9]{16,1024}"  # Stripe secret and restricted keys
    r"|gh[pousr]_[A-Za-z0-9]{30,1024}|github_pat_[A-Za-z0-9_]{30,1024}"
    r"|xox[abposr]-[A-Za-z0-9-]{10,1024}"
    r"|AIza[0-9A-Za-z_-]{35}"
    r"|hf_[A-Za-z0-9]{30,1024}"
    r"|lsv2_(?:pt|sk)_[A-Za-z0-9_]{20,1024}"
)
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{8,8192}\.eyJ[A-Za-z0-9_-]{8,8192}\.[A-Za-z0-9_-]{8,8192}")
_PRIVATE_KEY = re.compile(r"-----BEGIN[A-Z ]*PRIVATE KEY-----(?:[\s\S]*?-----END[A-Z ]*PRIVATE KEY-----|[\s\S]*)")
_BEARER = re.compile(r"bearer\s{1,8}([a-z0-9._~+/-]{8,8192}={0,3})")
_AUTH_HEADER = re.compile(
    r"authorization\\?[\"']?\s*[:=]\s*\\?[\"']?"
    r"((?:bearer|basic|digest|token|aws4-hmac-sha256|aws|negotiate|oauth|apikey|sharedkey|key)\s[^\"'\\\r\n]{1,8192})"
)
_URL_USERINFO = re.compile(r"://([^\s/@:'\"]{1,256}):([^\s/@'\"]{1,1024})@")
_QUERY_STRING = re.compile(r"\?[^\s#\"'<>?]{1,16384}")
_QUERY_PARAM = re.compile(r"([^&;=?]+)=([^&;]+)")
_QUERY_SECRET_NAMES = frozenset({"key", "sig", "signature", "code", "x-amz-signature", "x-amz-credential"})
_NAME_NEEDLES = ("pass", "secret", "token", "key", "authorization", "cookie", "credential", "plaintext")
# After a name: an optional closing quote (maybe escaped), then `=`, `:=` or `:` (or spaces, after a --flag),
# then the value: in escaped quotes (JSON inside a string), in quotes, or bare (base64 padding at most). Values
# are bounded so that pathological text ("password=" a million times) stays linear.
_ASSIGNMENT = re.compile(
    r"(?:\\?[\"'])?(?P<sep>[ \t]*(?::=|=|:)[ \t]*|[ \t]+)"
    r"(?:\\(?P<equote>[\"'])(?P<escaped>[^\r\n]{0,4096}?)\\(?P=equote)"
    r"|(?P<quote>[\"'])(?P<quoted>(?:\\.|(?!(?P=quote))[^\\\r\n]){0,4096})(?P=quote)"
    r"|(?P<bare>[^\s\"'`,;(){}\[\]<>=]{1,4096}={0,3}))"
)
# Bare values that are code, not secrets: literals, type names.
_CODE_WORDS = frozenset(
    {
        "none",
        "null",
        "nil",
        "true",
        "false",
        "yes",
        "no",
        "str",
        "bytes",
        "int",
        "float",
        "bool",
        "dict",
        "list",
        "tuple",
        "any",
        "object",
        "secretstr",
        "secretbytes",
        "optional",
        "union",
        "mapping",
        "sequence",
        "string",
        "required",
        "redacted",
    }
)
_REFERENCE = re.compile(r"\$\{?\w+\}?|\{[\w.\[\]'\"]+\}|%\(\w+\)s|%s|<[^<>]*>|\*+|\.\.\.|x+|X+")
# Variables and constants as code names them, and plain numbers; a random token mixes cases and digits.
_VARIABLE = re.compile(
    r"[a-z][a-z0-9]*(?:_[a-z0-9]+)+|[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+|[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+"
    r"|[a-z]{1,7}|\d{1,7}|\d+\.\d+"
)
# Secrets that are phrases: only for these is a value with spaces a secret rather than prose.
_PHRASE_WORDS = frozenset({"password", "passwd", "passphrase"})


def _is_reference(value: str) -> bool:
    """Template references and placeholders (`${TOKEN}`, `{password}`, `%s`, `<your-key>`, `****`)."""
    return _REFERENCE.fullmatch(value) is not None


def _is_placeholder(value: str) -> bool:
    """AWS's documented placeholder keys and this repository's dummies (see the module docstring)."""
    return _PLACEHOLDER in value and (_AWS_KEY_ID.fullmatch(value) or _AWS_SECRET_SHAPE.fullmatch(value)) is not None


def _is_code(value: str, following: str) -> bool:
    """A bare value that reads as code: a call or subscript, a literal, a type, a variable or constant, a number
    (`os.environ.get(`, `None`, `str`, `api_key`, `OPENAI_API_KEY`, `config.password`, `token`, `pw`, `3.5`)."""
    if following in ("(", "[") or value.lower() in _CODE_WORDS or _VARIABLE.fullmatch(value):
        return True
    return value.isidentifier() and is_secret_name(value)


def _preceded_by(text: str, index: int, chars: frozenset[str]) -> bool:
    return index > 0 and text[index - 1] in chars


def _aws_key_id(text: str, lowered: str, index: int) -> Iterator[_Span]:
    if _preceded_by(text, index, _ALNUM):
        return
    m = _AWS_KEY_ID.match(text, index)
    if m and _PLACEHOLDER not in m.group():
        yield index, m.end(), marker(f"aws-access-key-id:...{m.group()[-4:]}")


def _session_token(text: str, lowered: str, index: int) -> Iterator[_Span]:
    if _preceded_by(text, index, _BASE64_BODY):
        return
    m = _SESSION_TOKEN.match(text, index)
    if m:
        yield index, m.end(), marker("aws-session-token")


def _provider_key(text: str, lowered: str, index: int) -> Iterator[_Span]:
    if _preceded_by(text, index, _TOKEN_CHARS):
        return
    m = _PROVIDER_KEY.match(text, index)
    # Real keys are random, so a digit somewhere: this keeps slugs such as "sk-learn-compatible-estimators".
    if m and any(c.isdigit() for c in m.group()):
        yield index, m.end(), marker("api-key")


def _jwt(text: str, lowered: str, index: int) -> Iterator[_Span]:
    if _preceded_by(text, index, _TOKEN_CHARS):
        return
    m = _JWT.match(text, index)
    if m:
        yield index, m.end(), marker("jwt")


def _private_key(text: str, lowered: str, index: int) -> Iterator[_Span]:
    m = _PRIVATE_KEY.match(text, index)
    if m:
        yield index, m.end(), marker("private-key")


def _bearer(text: str, lowered: str, index: int) -> Iterator[_Span]:
    if _preceded_by(lowered, index, _ALNUM):
        return
    m = _BEARER.match(lowered, index)
    if m:
        token = m.group(1)
        # Random tokens have digits; a long run of letters is not prose either ("bearer instrument" is).
        if len(token) >= 20 or any(c.isdigit() for c in token):
            yield m.start(1), m.end(1), marker("bearer")


def _auth_header(text: str, lowered: str, index: int) -> Iterator[_Span]:
    if _preceded_by(lowered, index, _TOKEN_CHARS - {"-"}):
        return
    m = _AUTH_HEADER.match(lowered, index)
    if m:
        value = m.group(1).rstrip()
        if "{" not in value and "$" not in value:
            yield m.start(1), m.start(1) + len(value), marker("authorization")


def _url_password(text: str, lowered: str, index: int) -> Iterator[_Span]:
    m = _URL_USERINFO.match(text, index)
    if m and not _is_reference(m.group(2)):
        yield m.start(2), m.end(2), marker("url-password")


def _query_params(text: str, lowered: str, index: int) -> Iterator[_Span]:
    query = _QUERY_STRING.match(text, index)
    if query is None:
        return
    for m in _QUERY_PARAM.finditer(text, index + 1, query.end()):
        name, value = m.group(1), m.group(2)
        if (name.lower() in _QUERY_SECRET_NAMES or is_secret_name(name)) and not _is_reference(value):
            yield m.start(2), m.end(2), marker("url-param")


def _assignment(text: str, lowered: str, index: int) -> Iterator[_Span]:
    """`NAME = value`, `"name": "value"`, `name: value`, `--name value` where NAME looks secret."""
    end = index
    size = len(text)
    while end < size and text[end] in _TOKEN_CHARS and end - index < _MAX_NAME:
        end += 1
    # Cheap rejection first (most needles are words in prose or code): what follows must be able to start an
    # assignment, or a space after a --flag.
    if end >= size or text[end] not in _AFTER_NAME:
        return
    start = index
    while start > 0 and text[start - 1] in _NAME_CHARS and index - start < _MAX_NAME:
        start -= 1
    # Part of a colon-separated identifier (an ARN's "secret:name"), not a name followed by its value.
    if start > 0 and text[start - 1] == ":":
        return
    name = text[start:end].rsplit(".", 1)[-1]
    flag = name.startswith("-")
    if text[end] in " \t" and not flag and text[end : end + 8].lstrip(" \t")[:1] not in ("=", ":"):
        return
    if not is_secret_name(name.lstrip("-")):
        return
    m = _ASSIGNMENT.match(text, end)
    if m is None:
        return
    separator = m.group("sep")
    if not separator.strip() and not flag:
        return
    group = "escaped" if m.group("equote") else "quoted" if m.group("quote") else "bare"
    value = m.group(group)
    if not value or _is_reference(value) or _is_placeholder(value):
        return
    if group == "bare":
        following = text[m.end()] if m.end() < size else ""
        if _is_code(value, following):
            return
        # YAML needs a space after the colon; without one it is an identifier such as "token:abc".
        if separator.strip() == ":" and not separator.endswith((" ", "\t")):
            return
    elif any(c.isspace() for c in value) and not _words(name)[-1].endswith(tuple(_PHRASE_WORDS)):
        return
    yield m.start(group), m.end(group), marker("secret")


_DETECTORS: tuple[tuple[tuple[str, ...], _Handler], ...] = (
    # (needles, handler): a needle in lower case is searched in the lowered text, case-insensitively.
    (("AKIA", "ASIA"), _aws_key_id),
    (_SESSION_TOKEN_PREFIXES, _session_token),
    (_PROVIDER_KEY_PREFIXES, _provider_key),
    (("eyJ",), _jwt),
    (("-----BEGIN",), _private_key),
    (("bearer",), _bearer),
    (("authorization",), _auth_header),
    (("://",), _url_password),
    (("?",), _query_params),
    (_NAME_NEEDLES, _assignment),
)


# For short strings (most values in structured data), one regex pass over the text finds the needles faster than
# a find per needle; over long text, the finds are faster.
_SHORT = 256
_ANY_NEEDLE = re.compile(
    "|".join(
        f"(?i:{re.escape(needle)})" if needle.islower() else re.escape(needle)
        for needles, _ in _DETECTORS
        for needle in needles
    )
)
_HANDLERS_OF: dict[str, list[_Handler]] = {}
for _needles, _handler in _DETECTORS:
    for _needle in _needles:
        _HANDLERS_OF.setdefault(_needle, []).append(_handler)


def _find_all(haystack: str, needle: str) -> Iterator[int]:
    index = haystack.find(needle)
    while index != -1:
        yield index
        index = haystack.find(needle, index + 1)


# ---------------------------------------------------------------------------------------------------------------
# Registered secrets
# ---------------------------------------------------------------------------------------------------------------


class _Registry:
    """Exact secret values known at run time. The tuple is replaced under the lock on every registration;
    readers take the current tuple without locking (an assignment is atomic), so redaction never waits."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.values: tuple[str, ...] = ()
        # Bumped after every change, so that results cached under an older generation are not reused.
        self.generation = 0

    def add(self, value: str) -> None:
        with self.lock:
            if value not in self.values:
                self.values = (*self.values, value)
                self.generation += 1

    def clear(self) -> None:
        with self.lock:
            self.values = ()
            self.generation += 1

    def spans(self, text: str) -> Iterator[_Span]:
        for value in self.values:
            for index in _find_all(text, value):
                yield index, index + len(value), marker("secret")


_registry = _Registry()


def register_secret(value: str) -> None:
    """Redact this exact value wherever it appears from now on (thread-safe).

    For secrets known at run time: the API key a provider was built with, resolved AWS credentials, a token read
    from a file. Surrounding whitespace is ignored; values shorter than `MIN_SECRET_LENGTH` are ignored too (they
    would match too much ordinary text), as is an empty value.
    """
    candidate = value.strip()
    if len(candidate) >= MIN_SECRET_LENGTH:
        _registry.add(candidate)


def register_env_secrets(environ: Mapping[str, str] | None = None) -> int:
    """Register the values of environment variables whose names look secret (`*_API_KEY`, `*_SECRET*`, `*_TOKEN`,
    `*PASSWORD*`, per `is_secret_name`). Returns how many values were registered or already known.

    A value made only of lower-case letters (`postgres`) is skipped: as an exact match it would redact ordinary
    words everywhere; next to its name (`DB_PASSWORD=postgres`) it is still redacted.
    """
    env = os.environ if environ is None else environ
    count = 0
    for name, value in env.items():
        candidate = value.strip()
        if not is_secret_name(name) or len(candidate) < MIN_SECRET_LENGTH:
            continue
        if candidate.isalpha() and candidate.islower():
            continue
        register_secret(candidate)
        count += 1
    return count


def clear_secrets() -> None:
    """Forget every registered secret (for tests, and for a long-lived process that changes credentials)."""
    _registry.clear()


# ---------------------------------------------------------------------------------------------------------------
# Public entry points
# ---------------------------------------------------------------------------------------------------------------


def redact_text(text: str) -> str:
    """`text` with every secret found in it replaced by a `[REDACTED:<kind>]` marker; the rest untouched."""
    if not text:
        return text
    spans = list(_registry.spans(text))
    if len(text) < _SHORT:
        hits = list(_ANY_NEEDLE.finditer(text))
        if not hits and not spans:
            return text
    # U+0130 is the one character whose lower case is two characters long: it would shift positions.
    lowered = text.replace("\u0130", "i").lower()
    if len(text) < _SHORT:
        for hit in hits:
            needle = hit.group()
            for handler in _HANDLERS_OF.get(needle) or _HANDLERS_OF[needle.lower()]:
                spans.extend(handler(text, lowered, hit.start()))
        return _replace(text, spans)
    for needles, handler in _DETECTORS:
        for needle in needles:
            haystack = lowered if needle.islower() else text
            # A needle inside what this needle already redacted (a PEM block, a query string) is skipped, which
            # also keeps repetitive text linear.
            covered = 0
            for index in _find_all(haystack, needle):
                if index < covered:
                    continue
                for span in handler(text, lowered, index):
                    spans.append(span)
                    covered = max(covered, span[1])
    return _replace(text, spans)


_GENERIC = marker("secret")


def _replace(text: str, spans: list[_Span]) -> str:
    """`text` with each span replaced; overlapping spans are merged."""
    if not spans:
        return text
    # At the same place, the most specific kind wins over the generic "secret" of a name = value pair.
    spans.sort(key=lambda s: (s[0], -s[1], s[2] == _GENERIC))
    parts: list[str] = []
    position = 0
    for start, end, replacement in spans:
        if start < position:
            # Overlaps a span already replaced (a key id inside an Authorization header): extend that one.
            position = max(position, end)
            continue
        parts.append(text[position:start])
        parts.append(replacement)
        position = end
    parts.append(text[position:])
    return "".join(parts)


def redact_data(obj: Any) -> Any:
    """A redacted copy of `obj`: strings through `redact_text`, containers recursively (dicts and other mappings
    become dicts, lists stay lists, tuples tuples, sets sets), pydantic models and dataclass instances as dicts,
    `SecretStr`/`SecretBytes` replaced. The value of a secret-looking key (`is_secret_name`) is replaced by
    `REDACTED` whatever it is, except None and booleans. Other objects (numbers, dates, bytes, UUIDs) are
    returned as they are; `obj` itself is never modified.
    """
    return _redact(obj, set())


def _redact(obj: Any, active: set[int]) -> Any:
    if isinstance(obj, str):
        return redact_text(obj)
    if obj is None or isinstance(obj, bool | int | float):
        return obj
    if isinstance(obj, SecretStr | SecretBytes):
        return REDACTED
    if isinstance(obj, BaseModel):
        return _redact(obj.model_dump(), active)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return _redact({f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}, active)
    if not isinstance(obj, Mapping | list | tuple | set | frozenset):
        return obj
    if id(obj) in active:
        # A container that contains itself: cut the cycle rather than recurse forever.
        return REDACTED
    active.add(id(obj))
    try:
        if isinstance(obj, Mapping):
            return {
                (_redact_key(k, _registry.generation) if isinstance(k, str) else k): _redact_value(k, v, active)
                for k, v in obj.items()
            }
        if isinstance(obj, list):
            return [_redact(v, active) for v in obj]
        if isinstance(obj, tuple):
            return tuple(_redact(v, active) for v in obj)
        return type(obj)(_redact(v, active) for v in obj)
    finally:
        active.discard(id(obj))


@functools.lru_cache(maxsize=4096)
def _redact_key(key: str, generation: int) -> str:
    """Keys repeat across the records of structured data: cached per generation of the registered secrets."""
    return redact_text(key)


def _redact_value(key: Any, value: Any, active: set[int]) -> Any:
    if isinstance(key, str) and value is not None and not isinstance(value, bool) and is_secret_name(key):
        return REDACTED
    return _redact(value, active)
