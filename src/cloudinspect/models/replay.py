"""The replay provider: a chat model that returns recorded assistant replies from a file, in order.

`get_model("replay:PATH")` needs no registry entry. The file (YAML or JSON) holds either a list of replies,
used in order whatever the prompt, or a mapping from prompt id to a list of replies, so that one file can
drive a whole benchmark:

```yaml
s3-bucket-security-baseline:
  - "```python\\nimport boto3 ...\\n```"          # a reply is a string ...
lambda-error-rate:
  - content: "```python\\nimport boto3\\ndef ma"  # ... or a mapping, to replay truncation and usage
    finish_reason: length
    usage: {input_tokens: 812, output_tokens: 256}
  - "in():\\n    ...\\n```"
```

The prompt id travels in the run's metadata, under `PROMPT_ID_METADATA_KEY`:
`model.invoke(messages, config={"metadata": {"cloudinspect_prompt_id": "lambda-error-rate"}})`; every
provider ignores metadata, so callers such as `generate_code` pass it whatever the model is. Each model object
keeps one cursor per prompt id (one in all for the list form), safe to share between threads; a second
`get_model` starts again from the first reply. Running out of replies is a `ReplayExhaustedError`.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.messages.ai import InputTokenDetails, UsageMetadata
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, TypeAdapter, ValidationError

from cloudinspect.errors import CloudInspectError, InputError, Problem
from cloudinspect.models.spec import Capabilities, ModelSpec, Prices, Provider
from cloudinspect.yamlfiles import Loc, parse_yaml, problems_from_validation

REPLAY_PREFIX = "replay:"
PROMPT_ID_METADATA_KEY = "cloudinspect_prompt_id"


class ReplayExhaustedError(CloudInspectError):
    """A replay file has no more recorded replies for the conversation asking for one."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ReplayUsage(_Strict):
    """Recorded token counts of one reply."""

    input_tokens: int = Field(0, ge=0)
    output_tokens: int = Field(0, ge=0)
    cached_input_tokens: int = Field(0, ge=0, description="Input tokens read from the prompt cache.")


class ReplayReply(_Strict):
    """One recorded assistant reply."""

    content: str
    finish_reason: str = Field("stop", min_length=1, description="'length' replays a reply cut by the token limit.")
    usage: ReplayUsage = Field(default_factory=ReplayUsage)


_LIST = TypeAdapter(list[ReplayReply])
_MAPPING = TypeAdapter(dict[str, list[ReplayReply]])


def _normalise(data: Any) -> Any:
    """Strings stand for {content: string}; everything else is left for validation to judge."""
    if isinstance(data, list):
        return [{"content": item} if isinstance(item, str) else item for item in data]
    if isinstance(data, dict):
        return {key: _normalise(value) if isinstance(value, list) else value for key, value in data.items()}
    return data


def load_replay_file(path: Path | str) -> tuple[list[ReplayReply] | None, dict[str, list[ReplayReply]] | None]:
    """Read a replay file: (replies, None) for the list form, (None, replies by prompt id) for the mapping
    form. Raises InputError naming the file, the field and the line of whatever is wrong."""
    path = Path(path).expanduser()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot read replay file: {exc.strerror}", path) from exc
    data, lines = parse_yaml(text, path)
    if isinstance(data, list):
        return _validated(_LIST, data, path, lines), None
    if isinstance(data, dict):
        bad_keys = [key for key in data if not isinstance(key, str)]
        if bad_keys:
            problems = [Problem("a prompt id must be a string", str(key), lines.get((str(key),))) for key in bad_keys]
            raise InputError("invalid replay file", path, problems)
        return None, _validated(_MAPPING, data, path, lines)
    raise InputError(
        "invalid replay file",
        path,
        [Problem("expected a list of replies, or a mapping from prompt id to a list of replies", line=1)],
    )


def _parsed(path: Path | str) -> tuple[list[ReplayReply] | None, dict[str, list[ReplayReply]] | None]:
    """`load_replay_file`, memoised by the file's identity (path, size, modification time): replies are frozen,
    and a model only reads them."""
    resolved = Path(path).expanduser()
    try:
        stat = resolved.stat()
    except OSError:
        return load_replay_file(path)  # reports the error, naming the file
    return _parsed_by_identity(str(resolved.resolve()), stat.st_size, stat.st_mtime_ns)


@lru_cache(maxsize=32)
def _parsed_by_identity(
    path: str, size: int, mtime_ns: int
) -> tuple[list[ReplayReply] | None, dict[str, list[ReplayReply]] | None]:
    return load_replay_file(path)


def _validated(adapter: TypeAdapter[Any], data: Any, path: Path, lines: dict[Loc, int]) -> Any:
    try:
        return adapter.validate_python(_normalise(data))
    except ValidationError as exc:
        problems = problems_from_validation(exc, lines)
        summary = "invalid replay file (a reply is a string or {content, finish_reason, usage})"
        raise InputError(summary, path, problems) from exc


def replay_spec(path: str) -> ModelSpec:
    """The spec of `replay:PATH`: provider replay, family replay, free."""
    if not path.strip():
        raise InputError(
            "a replay model needs a file: replay:PATH", problems=[Problem("e.g. replay:tests/fixtures/replay/x.yaml")]
        )
    return ModelSpec(
        id="replay",
        provider=Provider.replay,
        model=path,
        family="replay",
        description=f"Recorded replies from {path}",
        prices=Prices(),
        capabilities=Capabilities(chat=True),
    )


class ReplayChatModel(BaseChatModel):
    """A chat model that returns recorded replies in order (see the module docstring for the file format)."""

    path: str = Field(description="The replay file, for messages and response metadata.")
    replies: list[ReplayReply] | None = Field(None, description="List form: replies whatever the prompt.")
    by_prompt: dict[str, list[ReplayReply]] | None = Field(None, description="Mapping form: replies per prompt id.")

    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)
    _cursors: dict[str | None, int] = PrivateAttr(default_factory=dict)

    @classmethod
    def from_file(cls, path: Path | str, **kwargs: Any) -> ReplayChatModel:
        """A replay model over the replies of a file (validated now, so errors surface before any call). The
        parsed file is shared by the models made from it while it is unchanged (a benchmark makes one per cell)."""
        replies, by_prompt = _parsed(path)
        return cls(path=str(path), replies=replies, by_prompt=by_prompt, **kwargs)

    @property
    def _llm_type(self) -> str:
        return "replay"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"path": self.path}

    def next_reply(self, prompt_id: str | None = None) -> ReplayReply:
        """The next recorded reply for `prompt_id` (ignored by the list form); advances its cursor."""
        if self.by_prompt is not None:
            if prompt_id is None:
                raise ReplayExhaustedError(
                    f"replay file {self.path} maps prompt ids to replies, but no prompt id was given "
                    f"(pass it in the run metadata key '{PROMPT_ID_METADATA_KEY}')"
                )
            if prompt_id not in self.by_prompt:
                known = ", ".join(sorted(self.by_prompt)) or "none"
                raise ReplayExhaustedError(
                    f"replay file {self.path} has no replies for prompt '{prompt_id}' (it has: {known})"
                )
            queue, key = self.by_prompt[prompt_id], prompt_id
        else:
            queue, key = self.replies or [], None
        with self._lock:
            index = self._cursors.get(key, 0)
            if index >= len(queue):
                whose = f" for prompt '{prompt_id}'" if key is not None else ""
                asked = f" (asked by prompt '{prompt_id}')" if key is None and prompt_id else ""
                raise ReplayExhaustedError(
                    f"replay file {self.path} is exhausted{whose}{asked}: all {len(queue)} recorded "
                    "replies were used; record more replies or start a new model"
                )
            self._cursors[key] = index + 1
        return queue[index]

    def remaining(self, prompt_id: str | None = None) -> int:
        """How many replies are left for `prompt_id` (the list form ignores it)."""
        if self.by_prompt is not None:
            queue, key = self.by_prompt.get(prompt_id or "", []), prompt_id
        else:
            queue, key = self.replies or [], None
        with self._lock:
            return max(len(queue) - self._cursors.get(key, 0), 0)

    def advance(self, prompt_id: str | None, count: int) -> None:
        """Skip `count` replies of `prompt_id` (the list form ignores it): a resumed conversation continues where
        the interrupted one stood instead of replaying its first replies again."""
        key = prompt_id if self.by_prompt is not None else None
        with self._lock:
            self._cursors[key] = self._cursors.get(key, 0) + max(count, 0)

    def reset(self) -> None:
        """Start again from the first reply of every prompt."""
        with self._lock:
            self._cursors.clear()

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        metadata: Mapping[str, Any] = run_manager.metadata if run_manager is not None else {}
        prompt_id = metadata.get(PROMPT_ID_METADATA_KEY)
        reply = self.next_reply(str(prompt_id) if prompt_id is not None else None)
        usage = reply.usage
        usage_metadata = UsageMetadata(
            input_tokens=usage.input_tokens,
            output_tokens=usage.output_tokens,
            total_tokens=usage.input_tokens + usage.output_tokens,
        )
        if usage.cached_input_tokens:
            usage_metadata["input_token_details"] = InputTokenDetails(cache_read=usage.cached_input_tokens)
        message = AIMessage(
            content=reply.content,
            usage_metadata=usage_metadata,
            response_metadata={
                "finish_reason": reply.finish_reason,
                "model_name": f"{REPLAY_PREFIX}{self.path}",
                "model_provider": "replay",
            },
        )
        generation = ChatGeneration(message=message, generation_info={"finish_reason": reply.finish_reason})
        return ChatResult(generations=[generation])
