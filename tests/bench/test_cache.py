"""The response cache: real chat models (replay, llama.cpp in-process, ChatOpenAI against llama.cpp's server)
answer a repeated request from SQLite without reaching the model, per namespace and parameters, across threads
and processes, without storing API keys."""

from __future__ import annotations

import json
import pickle
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from langchain_anthropic import ChatAnthropic
from langchain_aws import ChatBedrockConverse
from langchain_core.caches import InMemoryCache
from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.globals import set_llm_cache
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_ollama import ChatOllama
from langchain_openai import ChatOpenAI
from pydantic import PrivateAttr

from cloudinspect.bench.cache import CACHE_HIT_KEY, CacheStats, ResponseCache, model_parameters, with_cache
from cloudinspect.models import get_model
from cloudinspect.models.llamacpp import LlamaCppChatModel
from cloudinspect.models.replay import ReplayChatModel, ReplayReply, ReplayUsage
from tests._llama_server import KEY_ENV, ServedModel

# The cache silences this itself, but pytest shows every DeprecationWarning (LangChain's beta warnings are some).
pytestmark = pytest.mark.filterwarnings("ignore:The function `loads` is in beta")

ASK = [HumanMessage("Write a script that prints the names of all S3 buckets.")]


def replay(*contents: str) -> ReplayChatModel:
    """A replay model whose replies are `contents`, in order, each with usage and a finish reason."""
    replies = [
        ReplayReply(content=c, finish_reason="length", usage=ReplayUsage(input_tokens=10 + i, output_tokens=5 + i))
        for i, c in enumerate(contents)
    ]
    return ReplayChatModel(path="memory", replies=replies)


def ask(model: BaseChatModel, text: str = "q") -> AIMessage:
    message = model.invoke(text)
    assert isinstance(message, AIMessage)
    return message


class CountingLlama(LlamaCppChatModel):
    """The llama.cpp chat model, counting the calls that reach llama.cpp (copies share the count)."""

    _calls: list[int] = PrivateAttr(default_factory=list)

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        self._calls.append(1)
        return super()._generate(messages, stop, run_manager, **kwargs)

    @property
    def calls(self) -> int:
        return len(self._calls)


@pytest.fixture(scope="module")
def smollm2() -> CountingLlama:
    """SmolLM2 from its PyPI package, 8 output tokens, deterministic."""
    built = get_model("smollm2-135m")
    assert isinstance(built, LlamaCppChatModel)
    return CountingLlama(
        model_path=built.model_path, model_name=built.model_name, n_ctx=1024, max_tokens=8, temperature=0.0, seed=7
    )


# --- llama.cpp in-process ------------------------------------------------------------------------------


@pytest.mark.llm
def test_a_cached_llamacpp_reply_is_identical_and_does_not_reach_the_model(
    smollm2: CountingLlama, tmp_path: Path
) -> None:
    cache = ResponseCache(tmp_path / "cache.sqlite")
    model = with_cache(smollm2, cache)
    before = smollm2.calls

    first = ask(model, "Say hello.")
    second = ask(model, "Say hello.")

    assert smollm2.calls == before + 1
    assert cache.stats() == CacheStats(hits=1, misses=1)
    assert CACHE_HIT_KEY not in first.response_metadata
    assert second.response_metadata[CACHE_HIT_KEY] is True
    assert second.content == first.content
    assert second.response_metadata["finish_reason"] == first.response_metadata["finish_reason"] == "length"
    assert first.usage_metadata is not None
    assert second.usage_metadata is not None
    for field in ("input_tokens", "output_tokens", "total_tokens"):
        assert second.usage_metadata[field] == first.usage_metadata[field]
    assert first.usage_metadata["output_tokens"] == 8


@pytest.mark.llm
@pytest.mark.parametrize("change", [{"temperature": 0.9}, {"max_tokens": 4}, {"top_k": 5}])
def test_other_parameters_of_the_llamacpp_model_miss(
    smollm2: CountingLlama, tmp_path: Path, change: dict[str, Any]
) -> None:
    cache = ResponseCache(tmp_path / "cache.sqlite")
    ask(with_cache(smollm2, cache), "Say hi.")
    before = smollm2.calls

    ask(with_cache(smollm2.model_copy(update=change), cache), "Say hi.")

    assert smollm2.calls == before + 1
    assert cache.stats() == CacheStats(hits=0, misses=2)


@pytest.mark.llm
def test_call_arguments_are_part_of_the_key(smollm2: CountingLlama, tmp_path: Path) -> None:
    model = with_cache(smollm2, ResponseCache(tmp_path / "cache.sqlite"))
    before = smollm2.calls
    model.invoke("Say hi.")
    model.invoke("Say hi.", max_tokens=4)
    model.invoke("Say hi.", stop=["\n"])
    assert smollm2.calls == before + 3


# --- ChatOpenAI against llama.cpp's OpenAI-compatible server --------------------------------------------


@pytest.mark.llm
def test_an_openai_compatible_reply_is_cached_without_the_api_key(
    openai_server: ServedModel, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(KEY_ENV, openai_server.api_key)
    spec = openai_server.spec(tmp_path, max_tokens=8)
    path = tmp_path / "cache.sqlite"
    cache = ResponseCache(path)
    model = with_cache(get_model(spec), cache)
    assert isinstance(model, ChatOpenAI)

    first, second = ask(model, "Say hello."), ask(model, "Say hello.")

    assert cache.stats() == CacheStats(hits=1, misses=1)
    assert second.content == first.content
    assert second.response_metadata["finish_reason"] == first.response_metadata["finish_reason"]
    assert second.usage_metadata is not None
    assert first.usage_metadata is not None
    assert second.usage_metadata["output_tokens"] == first.usage_metadata["output_tokens"] > 0
    assert second.response_metadata[CACHE_HIT_KEY] is True
    cache.close()
    assert openai_server.api_key.encode() not in _file_bytes(path)


# --- keys -----------------------------------------------------------------------------------------------


def test_another_namespace_misses(tmp_path: Path) -> None:
    model = replay("first", "second", "third")
    cache = ResponseCache(tmp_path / "cache.sqlite", namespace="repeat-0")

    assert ask(with_cache(model, cache)).content == "first"
    assert ask(with_cache(model, cache)).content == "first"  # a hit: the replay cursor did not move
    assert model.remaining() == 2
    assert ask(with_cache(model, cache.with_namespace("repeat-1"))).content == "second"
    assert ask(with_cache(model, ResponseCache(tmp_path / "cache.sqlite", namespace="repeat-2"))).content == "third"
    assert cache.stats() == CacheStats(hits=1, misses=2)  # the views share statistics, another cache object not


def test_other_messages_miss(tmp_path: Path) -> None:
    model = with_cache(replay("first", "second"), ResponseCache(tmp_path / "cache.sqlite"))
    assert ask(model, "q1").content == "first"
    assert ask(model, "q2").content == "second"


def test_ollama_models_differ_by_name_although_langchain_leaves_it_out_of_their_key() -> None:
    # ChatOllama's own llm_string is only its type and stop: without model_parameters, llama3 would answer for
    # qwen3.
    llama, qwen = ChatOllama(model="llama3"), ChatOllama(model="qwen3")
    assert llama._get_llm_string() == qwen._get_llm_string()
    assert model_parameters(llama) != model_parameters(qwen)
    assert model_parameters(ChatOpenAI(model="gpt-4o", api_key="sk-test-0123456789abcdefghij")) == ""


def test_a_long_parameter_is_keyed_by_its_digest() -> None:
    parameters = json.loads(model_parameters(replay("x" * 500)))["parameters"]
    assert parameters["replies"].startswith("sha256:")
    assert parameters["path"] == "memory"
    assert json.loads(model_parameters(replay("y" * 500)))["parameters"]["replies"] != parameters["replies"]


# --- storage ----------------------------------------------------------------------------------------------


def test_a_reply_survives_a_process_restart(tmp_path: Path) -> None:
    replies = tmp_path / "replies.yaml"
    replies.write_text('- "written by another process"\n- "never used"\n', encoding="utf-8")
    path = tmp_path / "cache.sqlite"
    script = (
        "import sys; from pathlib import Path\n"
        "from cloudinspect.bench.cache import ResponseCache, with_cache\n"
        "from cloudinspect.models.replay import ReplayChatModel\n"
        "model = with_cache(ReplayChatModel.from_file(sys.argv[1]), ResponseCache(Path(sys.argv[2])))\n"
        "print(model.invoke('q').content)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(replies), str(path)], capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "written by another process"

    model = ReplayChatModel.from_file(replies)
    cache = ResponseCache(path)
    message = ask(with_cache(model, cache))

    assert message.content == "written by another process"
    assert message.response_metadata[CACHE_HIT_KEY] is True
    assert model.remaining() == 2
    assert cache.stats() == CacheStats(hits=1, misses=0)


def test_threads_share_a_cache_and_processes_share_its_file(tmp_path: Path) -> None:
    threads, per_thread = 8, 10
    model = replay(*(f"reply {i}" for i in range(threads * per_thread)))
    path = tmp_path / "cache.sqlite"
    cache = ResponseCache(path)
    cached = with_cache(model, cache)
    answers: dict[str, str] = {}
    errors: list[BaseException] = []

    def run(prompts: list[str], record: bool, target: BaseChatModel) -> None:
        try:
            for prompt in prompts:
                content = str(ask(target, prompt).content)
                if record:
                    answers[prompt] = content
                else:
                    assert content == answers[prompt]
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    def in_threads(record: bool, targets: list[BaseChatModel]) -> None:
        prompts = [[f"q{t}-{i}" for i in range(per_thread)] for t in range(threads)]
        if not record:  # every thread asks every prompt again, in its own order
            every = [p for group in prompts for p in group]
            prompts = [every[t * 7 :] + every[: t * 7] for t in range(threads)]
            prompts = [p if t % 2 else p[::-1] for t, p in enumerate(prompts)]
        workers = [
            threading.Thread(target=run, args=(p, record, targets[t % len(targets)])) for t, p in enumerate(prompts)
        ]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        assert not errors, errors

    in_threads(True, [cached])
    assert len(set(answers.values())) == threads * per_thread
    assert model.remaining() == 0
    assert cache.entries() == threads * per_thread
    # Half the threads through a second connection to the same file, as another process would open it.
    in_threads(False, [cached, with_cache(model, ResponseCache(path))])
    assert cache.stats() == CacheStats(hits=threads * threads * per_thread // 2, misses=threads * per_thread)


def test_tool_calls_usage_details_and_metadata_survive_the_round_trip(tmp_path: Path) -> None:
    message = AIMessage(
        content="",
        tool_calls=[{"name": "GeneratedCode", "args": {"code": "print(1)"}, "id": "call-1"}],
        usage_metadata={
            "input_tokens": 120,
            "output_tokens": 30,
            "total_tokens": 150,
            "input_token_details": {"cache_read": 100, "cache_creation": 20},
        },
        response_metadata={"stop_reason": "max_tokens", "model_name": "m"},
    )
    cache = ResponseCache(tmp_path / "cache.sqlite")
    cache.update("prompt", "llm", [ChatGeneration(message=message, generation_info={"stop_reason": "max_tokens"})])

    found = cache.lookup("prompt", "llm")

    assert isinstance(found, list)
    assert len(found) == 1
    generation = found[0]
    assert isinstance(generation, ChatGeneration)
    assert isinstance(generation.message, AIMessage)
    assert generation.message.tool_calls == message.tool_calls
    assert generation.message.usage_metadata == message.usage_metadata
    assert generation.message.response_metadata == {**message.response_metadata, CACHE_HIT_KEY: True}
    assert generation.generation_info == {"stop_reason": "max_tokens"}


def test_an_unreadable_or_foreign_entry_is_a_miss(tmp_path: Path) -> None:
    path = tmp_path / "cache.sqlite"
    cache = ResponseCache(path)
    cache.update("p1", "llm", [ChatGeneration(message=AIMessage("a"))])
    cache.update("p2", "llm", [ChatGeneration(message=AIMessage("b"))])
    # A class outside the allowlist (a prompt template would be revived and run) and text that is not JSON.
    foreign = '[{"lc": 1, "type": "constructor", "id": ["langchain", "prompts", "prompt", "PromptTemplate"],'
    foreign += ' "kwargs": {"template": "{x}", "input_variables": ["x"]}}]'
    with sqlite3.connect(path) as db:
        keys = [k for (k,) in db.execute("SELECT key FROM response_cache_v1 ORDER BY value")]
        db.execute("UPDATE response_cache_v1 SET value = ? WHERE key = ?", (foreign, keys[0]))
        db.execute("UPDATE response_cache_v1 SET value = ? WHERE key = ?", ("{not json", keys[1]))
    db.close()

    assert cache.lookup("p1", "llm") is None
    assert cache.lookup("p2", "llm") is None
    assert cache.stats() == CacheStats(hits=0, misses=2)


def test_clear_forgets_a_namespace_or_everything(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path / "cache.sqlite", namespace="a")
    other = cache.with_namespace("b")
    for view in (cache, other):
        view.update("p", "llm", [ChatGeneration(message=AIMessage("x"))])

    cache.clear()
    assert (cache.entries(), other.entries()) == (0, 1)
    assert other.lookup("p", "llm") is not None
    cache.clear(all_namespaces=True)
    assert other.entries() == 0


def test_a_pickled_cache_opens_the_same_file(tmp_path: Path) -> None:
    model = replay("first", "second")
    cache = ResponseCache(tmp_path / "cache.sqlite", namespace="n").for_model(model)
    cache.update("p", "llm", [ChatGeneration(message=AIMessage("x"))])

    copy = pickle.loads(pickle.dumps(cache))  # noqa: S301 - bytes this test just made

    assert copy.path == cache.path
    assert copy.namespace == "n"
    found = copy.lookup("p", "llm")
    assert found is not None
    assert found[0].text == "x"


# --- disabled -------------------------------------------------------------------------------------------


def test_no_cache_means_no_caching_not_even_a_global_one(tmp_path: Path) -> None:
    model = replay("first", "second")
    set_llm_cache(InMemoryCache())
    try:
        uncached = with_cache(model, None)
        assert ask(uncached).content == "first"
        assert ask(uncached).content == "second"
    finally:
        set_llm_cache(None)
    assert uncached.cache is False


# --- secrets ----------------------------------------------------------------------------------------------


def test_no_api_key_reaches_the_file(tmp_path: Path) -> None:
    openai_key = "sk-proj-EXAMPLE-placeholder-not-a-key"
    anthropic_key = "sk-ant-api03-EXAMPLE-placeholder-not-a-key"
    aws_private = "wJalrTest0123456789/K7MDENG/bPxRfiCYTESTKEY"
    bearer = "Bearer 0123456789abcdefTESTTOKEN"
    models: list[BaseChatModel] = [
        ChatOpenAI(model="gpt-4o", api_key=openai_key, temperature=0.1),
        ChatAnthropic(model="claude-x", api_key=anthropic_key),
        ChatBedrockConverse(
            model_id="anthropic.claude-x",
            region_name="us-east-1",
            aws_access_key_id="AKIAIOSFODNN7EXAMPLE",
            aws_secret_access_key=aws_private,
        ),
        ChatOllama(model="llama3", client_kwargs={"headers": {"Authorization": bearer}}),
    ]
    path = tmp_path / "cache.sqlite"
    cache = ResponseCache(path)
    for model in models:
        view = cache.for_model(model)
        view.update("p", model._get_llm_string(stop=None), [ChatGeneration(message=AIMessage("x"))])
    cache.close()

    stored = _file_bytes(path)
    for secret in (openai_key, anthropic_key, aws_private, "AKIAIOSFODNN7EXAMPLE", bearer.split()[1]):
        assert secret.encode() not in stored
    # The llm_strings were stored, only without keys.
    assert b"gpt-4o" in stored
    assert b"llama3" in stored


def _file_bytes(path: Path) -> bytes:
    """The database and its write-ahead log, wherever a row may be."""
    return b"".join(p.read_bytes() for p in (path, path.with_name(path.name + "-wal")) if p.exists())


def test_a_cached_reply_costs_nothing_in_the_artifact(tmp_path: Path) -> None:
    import yaml

    from cloudinspect.catalog import load_catalog
    from cloudinspect.generation import generate_code
    from cloudinspect.models.replay import ReplayChatModel, replay_spec
    from cloudinspect.models.spec import Prices

    prompt = load_catalog()["lambda-functions-inventory"]
    reply = {
        "content": f"```python\n{prompt.reference_code()}```",
        "usage": {"input_tokens": 900, "output_tokens": 300},
    }
    path = tmp_path / "replay.yaml"
    path.write_text(yaml.safe_dump([reply, reply]), encoding="utf-8")
    spec = replay_spec(str(path)).model_copy(update={"prices": Prices(input=1.0, output=2.0)})
    cache = ResponseCache(tmp_path / "cache.sqlite")
    model = with_cache(ReplayChatModel.from_file(path), cache)
    first = generate_code(prompt, None, spec, chat_model=model)
    second = generate_code(prompt, None, spec, chat_model=model)
    assert first.code == second.code
    assert (first.usage.input_tokens, first.usage.output_tokens) == (900, 300)
    assert first.cost_usd > 0
    assert not first.replies[0].cached
    assert second.replies[0].cached
    assert (second.usage.input_tokens, second.usage.output_tokens, second.cost_usd) == (0, 0, 0.0)
