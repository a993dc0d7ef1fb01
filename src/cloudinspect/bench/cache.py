"""A response cache for model calls, so that rerunning a benchmark with unchanged inputs costs nothing.

Built on LangChain's own mechanism: every chat model has a `cache` field, and `BaseChatModel._generate_with_cache`
asks it with two strings before calling the provider: the prompt (`dumps` of the messages, ids removed) and the
`llm_string` (the model's serialised constructor arguments, or for classes that LangChain cannot serialise their
`_identifying_params`, plus `stop` and the call's keyword arguments such as bound tools). A hit returns the
stored generations instead of calling the model; a miss calls it and stores what it returned.

`ResponseCache` keeps those generations in SQLite (WAL, so that several threads and processes share a file), keyed
by sha256(namespace, llm_string, prompt):

- The namespace separates what must not be shared: the benchmark gives repeat r its own namespace, so that repeat
  r does not get repeat r-1's answers back (sampling would make them differ).
- `with_cache` completes the llm_string of models that LangChain cannot serialise (the llama.cpp model, the replay
  model, ChatOllama): their `_identifying_params` leave out sampling parameters (temperature, max_tokens...) and
  for ChatOllama even the model name, so the key also holds their plain fields (see `model_parameters`).
- Values are `langchain_core.load.dumps` of the generations and are revived with an allowlist of generation and AI
  message classes only, so a tampered file cannot instantiate anything else. Content, tool calls,
  `response_metadata` (finish reasons) and `usage_metadata` survive the round trip.
- The llm_string is stored beside the key for debugging, after `redact_text`; API keys are not in it anyway
  (LangChain serialises secret fields as references to their environment variable, and `model_parameters` leaves
  out secret-looking fields).

A hit is marked: the returned message's `response_metadata[CACHE_HIT_KEY]` is True. Its `usage_metadata` still
holds the tokens of the original call (LangChain adds `total_cost: 0`); whoever computes cost decides what a hit
costs (the generation code should treat it as free: nothing was billed).

The table is `response_cache_v1` (a schema change gets a new table name), so the cache can live in its own file or
in a file another store owns without touching that store's schema version.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
import warnings
from collections.abc import Mapping, Sequence
from enum import Enum
from pathlib import Path
from typing import Any

from langchain_core.caches import RETURN_VAL_TYPE, BaseCache
from langchain_core.language_models import BaseChatModel
from langchain_core.load import Serializable, dumps, loads
from langchain_core.messages import AIMessage, AIMessageChunk
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, Generation, GenerationChunk
from pydantic import BaseModel, ConfigDict, Field, SecretBytes, SecretStr

from cloudinspect.errors import CloudInspectError, InputError
from cloudinspect.generation._generate import CACHE_HIT_KEY
from cloudinspect.redact import is_secret_name, redact_text

_ALLOWED: list[type[Serializable]] = [
    ChatGeneration,
    ChatGenerationChunk,
    Generation,
    GenerationChunk,
    AIMessage,
    AIMessageChunk,
]
# Fields of every chat model that do not change what it answers.
_NOT_PARAMETERS = frozenset(
    {"cache", "callbacks", "callback_manager", "custom_get_token_ids", "disable_streaming", "metadata", "name"}
    | {"rate_limiter", "tags", "verbose"}
)
# A longer parameter (a replay model's recorded replies) goes into the key as its digest, so that the stored
# llm_string stays readable.
_LONGEST_PARAMETER = 200
_SKIP = object()

# `loads` is a beta API; the warning says nothing to a user of the cache.
warnings.filterwarnings("ignore", message="The function `loads` is in beta")


class CacheError(CloudInspectError):
    """The cache file cannot be used (not a SQLite database, unwritable, locked for too long)."""


class CacheStats(BaseModel):
    """Lookups answered from the cache (hits) and passed on to the model (misses) by a cache and its views."""

    model_config = ConfigDict(frozen=True)

    hits: int = Field(ge=0)
    misses: int = Field(ge=0)

    @property
    def lookups(self) -> int:
        """Every lookup, hit or miss."""
        return self.hits + self.misses


class _Backend:
    """One SQLite connection shared by a cache and its views; the lock serialises its use between threads."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lock = threading.Lock()
        self.hits = 0
        self.misses = 0
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # Autocommit: each statement is its own transaction, so a crash never leaves a half-written entry.
            self.connection = sqlite3.connect(path, timeout=30.0, isolation_level=None, check_same_thread=False)
            self.connection.execute("PRAGMA journal_mode=WAL")
            self.connection.execute("PRAGMA synchronous=NORMAL")
            self.connection.execute(
                "CREATE TABLE IF NOT EXISTS response_cache_v1 ("
                " key TEXT PRIMARY KEY, namespace TEXT NOT NULL, llm_string TEXT NOT NULL,"
                " value TEXT NOT NULL, created_at REAL NOT NULL)"
            )
            self.connection.execute(
                "CREATE INDEX IF NOT EXISTS response_cache_v1_namespace\n ON response_cache_v1 (namespace)"
            )
        except (OSError, sqlite3.Error) as exc:
            raise CacheError(f"cannot open the response cache {path}: {exc}") from exc

    def execute(self, sql: str, parameters: Sequence[Any] = ()) -> list[Any]:
        with self.lock:
            try:
                return self.connection.execute(sql, parameters).fetchall()
            except sqlite3.Error as exc:
                raise CacheError(f"response cache {self.path}: {exc}") from exc


class ResponseCache(BaseCache):
    """A LangChain cache of model responses in a SQLite file, shared safely by threads and processes.

    Give it to a model with `with_cache` (which also completes the key of models LangChain cannot serialise).
    `namespace` separates entries that must not answer each other, such as the repeats of a benchmark cell.
    """

    def __init__(self, path: Path, *, namespace: str = "") -> None:
        self._backend = _Backend(Path(path).expanduser())
        self._namespace = namespace
        self._parameters = ""

    @property
    def path(self) -> Path:
        """The SQLite file."""
        return self._backend.path

    @property
    def namespace(self) -> str:
        """The namespace this cache reads and writes."""
        return self._namespace

    def with_namespace(self, namespace: str) -> ResponseCache:
        """The same file in another namespace, sharing this cache's connection and statistics."""
        return self._view(namespace, self._parameters)

    def for_model(self, model: BaseChatModel) -> ResponseCache:
        """This cache with the key completed by `model`'s parameters where LangChain's llm_string lacks them (see
        `model_parameters`; nothing to add for models LangChain serialises). Same file, namespace and statistics;
        `with_cache` uses it."""
        return self._view(self._namespace, model_parameters(model))

    def _view(self, namespace: str, parameters: str) -> ResponseCache:
        view = ResponseCache.__new__(ResponseCache)
        view._backend, view._namespace, view._parameters = self._backend, namespace, parameters
        return view

    def _key(self, prompt: str, llm_string: str) -> tuple[str, str]:
        full = f"{self._parameters}---{llm_string}" if self._parameters else llm_string
        digest = hashlib.sha256()
        for part in (self._namespace, full, prompt):
            data = part.encode("utf-8")
            # Length-prefixed, so that no two different triples hash the same bytes.
            digest.update(len(data).to_bytes(8, "big"))
            digest.update(data)
        return digest.hexdigest(), full

    def lookup(self, prompt: str, llm_string: str) -> list[Generation] | None:
        """The generations stored for this prompt and model, each AI message marked with `CACHE_HIT_KEY`; None on
        a miss (and for an entry this version cannot read, which the next update replaces)."""
        key, _ = self._key(prompt, llm_string)
        rows = self._backend.execute("SELECT value FROM response_cache_v1 WHERE key = ?", (key,))
        generations = _revived(rows[0][0]) if rows else None
        with self._backend.lock:
            if generations is None:
                self._backend.misses += 1
            else:
                self._backend.hits += 1
        return generations

    def update(self, prompt: str, llm_string: str, return_val: RETURN_VAL_TYPE) -> None:
        """Store the generations the model returned for this prompt (replacing an older entry)."""
        key, full = self._key(prompt, llm_string)
        value = dumps(list(return_val))
        self._backend.execute(
            "INSERT OR REPLACE INTO response_cache_v1 (key, namespace, llm_string, value, created_at)"
            " VALUES (?, ?, ?, ?, ?)",
            (key, self._namespace, redact_text(full), value, time.time()),
        )

    def clear(self, **kwargs: Any) -> None:
        """Forget the entries of this namespace; `clear(all_namespaces=True)` forgets every entry of the file."""
        unknown = set(kwargs) - {"all_namespaces"}
        if unknown:
            raise InputError(f"ResponseCache.clear() takes only all_namespaces, got: {', '.join(sorted(unknown))}")
        if kwargs.get("all_namespaces"):
            self._backend.execute("DELETE FROM response_cache_v1")
        else:
            self._backend.execute("DELETE FROM response_cache_v1 WHERE namespace = ?", (self._namespace,))

    def stats(self) -> CacheStats:
        """Hits and misses of this cache and every view of it (namespaces, models) since it was opened."""
        with self._backend.lock:
            return CacheStats(hits=self._backend.hits, misses=self._backend.misses)

    def entries(self) -> int:
        """How many responses this namespace holds."""
        rows = self._backend.execute("SELECT COUNT(*) FROM response_cache_v1 WHERE namespace = ?", (self._namespace,))
        return int(rows[0][0])

    def close(self) -> None:
        """Close the connection (of every view too); the cache must not be used afterwards."""
        with self._backend.lock:
            self._backend.connection.close()

    def __reduce__(self) -> tuple[Any, ...]:
        # A process that receives a cache (Ray, multiprocessing) opens the file again; statistics start at zero.
        return (_reopened, (self.path, self._namespace, self._parameters))

    def __repr__(self) -> str:
        return f"ResponseCache({str(self.path)!r}, namespace={self._namespace!r})"


def _reopened(path: Path, namespace: str, parameters: str) -> ResponseCache:
    return ResponseCache(path, namespace=namespace)._view(namespace, parameters)


def _revived(value: str) -> list[Generation] | None:
    try:
        revived = loads(value, allowed_objects=_ALLOWED)
    except (ValueError, TypeError, KeyError, NotImplementedError):
        return None
    if not isinstance(revived, list) or not all(isinstance(g, Generation) for g in revived):
        return None
    for generation in revived:
        if isinstance(generation, ChatGeneration) and isinstance(generation.message, AIMessage):
            generation.message.response_metadata[CACHE_HIT_KEY] = True
    return revived


def with_cache(model: BaseChatModel, cache: ResponseCache | None) -> BaseChatModel:
    """A copy of `model` that answers from `cache` when it can, and stores what it had to ask the provider.

    `cache=None` disables caching: the copy uses no cache at all, not even a global one set with
    `set_llm_cache`. The copy shares the original's clients and private state (a replay model's cursors).
    Call this last: the key of a model LangChain cannot serialise is completed with the parameters it has now
    (`ResponseCache.for_model`), so change its fields before, not after (per-call arguments and `bind` are
    always part of the key). With a replay model a hit does not advance the replay cursor.
    """
    return model.model_copy(update={"cache": False if cache is None else cache.for_model(model)})


def model_parameters(model: BaseChatModel) -> str:
    """What completes LangChain's llm_string for `model`: "" for a class LangChain serialises (its llm_string
    holds every constructor argument), else JSON of the class and its plain fields (strings, numbers, booleans,
    lists and mappings of them, pydantic models), leaving out secret-looking fields and keys, clients and
    callbacks. A value longer than 200 characters in JSON appears as its sha256."""
    if model.is_lc_serializable():
        return ""
    parameters: dict[str, Any] = {}
    for name in type(model).model_fields:
        if name in _NOT_PARAMETERS or is_secret_name(name):
            continue
        value = _plain(getattr(model, name, None))
        if value is _SKIP:
            continue
        text = json.dumps(value, sort_keys=True)
        parameters[name] = value if len(text) <= _LONGEST_PARAMETER else f"sha256:{_sha256(text)}"
    cls = type(model)
    return json.dumps({"class": f"{cls.__module__}.{cls.__qualname__}", "parameters": parameters}, sort_keys=True)


def _plain(value: Any) -> Any:
    """`value` as JSON data, or _SKIP for what does not describe behaviour (clients, secrets, functions)."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, SecretStr | SecretBytes):
        return _SKIP
    if isinstance(value, Enum):
        return _plain(value.value)
    if isinstance(value, BaseModel):
        return _plain(value.model_dump(mode="json"))
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, Mapping):
        items = {str(k): _plain(v) for k, v in value.items() if not is_secret_name(str(k))}
        return {k: v for k, v in items.items() if v is not _SKIP}
    if isinstance(value, list | tuple):
        elements = [_plain(v) for v in value]
        return _SKIP if any(e is _SKIP for e in elements) else elements
    return _SKIP


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
