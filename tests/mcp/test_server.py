"""The MCP server through a real MCP client: in process over the SDK's in-memory transport, and once as
`python -m cloudinspect mcp` over stdio (which proves nothing but the protocol reaches stdout)."""

from __future__ import annotations

import json
import sys
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import anyio
import pytest
from mcp.client.stdio import stdio_client
from mcp.types import CallToolResult, TextContent

from cloudinspect.catalog import load_catalog
from cloudinspect.catalog.reference import run_reference
from cloudinspect.cloud import get_scenario
from cloudinspect.config import get_settings
from cloudinspect.mcp import build_server
from cloudinspect.store import ResultStore
from mcp import Client, StdioServerParameters
from tests._cli import run as run_cli

FIXTURES = Path(__file__).parent.parent / "fixtures"
CANONICAL = FIXTURES / "bench" / "canonical.yaml"
PROMPT = "ec2-instances-by-state-and-type"
_T = TypeVar("_T")


@pytest.fixture(scope="module", autouse=True)
def isolated_settings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Results and checkpoints in a temporary state directory; no user catalogue, scenario or model files."""
    state = tmp_path_factory.mktemp("state")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CLOUDINSPECT_STATE_DIR", str(state))
        for name in ("MODEL_FILES", "CATALOG_DIRS", "SCENARIO_DIRS"):
            mp.setenv(f"CLOUDINSPECT_{name}", "[]")
        get_settings.cache_clear()
        yield state
    get_settings.cache_clear()


def with_client(body: Callable[[Client], Awaitable[_T]]) -> _T:
    """`body(client)` with a client connected in process to a freshly built server, over the SDK's in-memory
    transport: JSON-RPC messages on memory streams after the initialize handshake, as a desktop client speaks."""

    async def main() -> _T:
        async with Client(build_server(), mode="legacy") as client:
            return await body(client)

    return anyio.run(main)


def call(name: str, arguments: dict[str, Any], **kwargs: Any) -> CallToolResult:
    return with_client(lambda client: client.call_tool(name, arguments, **kwargs))


def error_text(result: CallToolResult) -> str:
    assert result.is_error, result.structured_content
    assert len(result.content) == 1
    assert isinstance(result.content[0], TextContent)
    return result.content[0].text


def test_tools_are_listed_with_their_parameters_and_marked_read_only() -> None:
    tools = {tool.name: tool for tool in with_client(lambda client: client.list_tools()).tools}
    assert set(tools) == {"list_prompts", "list_scenarios", "run_prompt", "troubleshoot"}
    run = tools["run_prompt"]
    assert run.input_schema["required"] == ["prompt_id", "model"]
    assert set(run.input_schema["properties"]) == {"prompt_id", "model", "target", "variables", "max_attempts"}
    assert run.input_schema["properties"]["target"]["default"] == "emulator:baseline"
    assert set(tools["troubleshoot"].input_schema["properties"]) == {
        "problem",
        "model",
        "planner_model",
        "target",
        "max_rounds",
    }
    for tool in tools.values():
        assert tool.annotations is not None
        assert tool.annotations.read_only_hint is True
        assert tool.annotations.destructive_hint is False


def test_list_prompts_filters_by_service_tag_and_category() -> None:
    catalog = load_catalog()
    everything = call("list_prompts", {}).structured_content
    assert everything is not None
    assert everything["count"] == len(catalog)
    assert [p["id"] for p in everything["prompts"]] == sorted(catalog)

    lam = call("list_prompts", {"service": "lambda"}).structured_content
    assert lam is not None
    assert 0 < lam["count"] < len(catalog)
    assert all("lambda" in p["services"] for p in lam["prompts"])
    assert {p.id for p in catalog.values() if "lambda" in p.services} == {p["id"] for p in lam["prompts"]}

    security = call("list_prompts", {"category": "security"}).structured_content
    assert security is not None
    assert security["count"] > 0
    assert {p["category"] for p in security["prompts"]} == {"security"}

    tag = catalog[PROMPT].tags[0]
    tagged = call("list_prompts", {"tag": tag, "service": "ec2"}).structured_content
    assert tagged is not None
    assert PROMPT in {p["id"] for p in tagged["prompts"]}
    assert all(tag in p["tags"] and "ec2" in p["services"] for p in tagged["prompts"])

    # Every variable with its type and default, as a caller needs to fill it in.
    entry = next(p for p in everything["prompts"] if p["id"] == PROMPT)
    assert entry["title"] == catalog[PROMPT].title
    assert entry["variables"] == [
        {
            "name": "include_terminated",
            "type": "boolean",
            "description": catalog[PROMPT].variables["include_terminated"].description,
            "required": False,
            "default": False,
        }
    ]


def test_list_prompts_rejects_an_unknown_category_naming_the_valid_ones() -> None:
    text = error_text(call("list_prompts", {"category": "networking"}))
    assert "unknown category 'networking'" in text
    assert "security" in text
    assert "Traceback" not in text


def test_list_scenarios_shows_each_scenario_and_its_fault() -> None:
    result = call("list_scenarios", {}).structured_content
    assert result is not None
    by_name = {s["name"]: s for s in result["scenarios"]}
    assert "baseline" in by_name
    assert by_name["baseline"]["description"]
    assert by_name["baseline"]["total_resources"] > 0
    assert all("fault" in s for s in result["scenarios"])


def test_prompt_yaml_is_a_resource() -> None:
    async def read(client: Client) -> Any:
        return await client.read_resource(f"catalog://prompts/{PROMPT}")

    contents = with_client(read).contents
    assert len(contents) == 1
    source = load_catalog()[PROMPT].source
    assert source is not None
    assert getattr(contents[0], "text", None) == source.read_text(encoding="utf-8")


def test_run_prompt_with_the_canonical_replay_returns_the_reference_output(
    isolated_settings: Path, emulator: Any
) -> None:
    progress: list[tuple[float, float | None, str | None]] = []

    async def on_progress(value: float, total: float | None, message: str | None) -> None:
        progress.append((value, total, message))

    # The session's baseline emulator, as an endpoint: an `emulator:baseline` target would seed one more (~30 s).
    emu = emulator("baseline")
    target = f"endpoint:{emu.endpoint_url}"
    result = call(
        "run_prompt",
        {
            "prompt_id": PROMPT,
            "model": f"replay:{CANONICAL}",
            "target": target,
            "variables": {"include_terminated": False},
        },
        progress_callback=on_progress,
    )
    assert not result.is_error, result.content
    record = result.structured_content
    assert record is not None
    assert record["status"] == "passed", record["reason"]
    assert record["target"] == target
    reference = run_reference(load_catalog()[PROMPT], emu.env(), {}).output
    assert record["output"] == reference
    assert "describe_instances" in record["final_code"]
    assert [(a["n"], a["passed"], a["error_class"]) for a in record["attempts"]] == [(1, True, "none")]
    assert record["cost_usd"] == 0
    # The text content is the same record, for clients that only read text.
    assert isinstance(result.content[0], TextContent)
    assert json.loads(result.content[0].text) == record
    # The loop's stages arrived as progress notifications, and the run is in the (isolated) results store.
    messages = [m for _, _, m in progress if m]
    assert any(m.startswith("attempt 1: generate") for m in messages), messages
    assert all(total == 3 for _, total, _ in progress)
    with ResultStore(isolated_settings / "results.sqlite") as store:
        assert store.get_run(record["run_id"]).status == "passed"


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ({"prompt_id": "ec2-instances-by-state", "model": f"replay:{CANONICAL}"}, "unknown prompt"),
        ({"prompt_id": PROMPT, "model": "gpt-99-turbo"}, "unknown model 'gpt-99-turbo'"),
        (
            {"prompt_id": PROMPT, "model": f"replay:{CANONICAL}", "variables": {"include_terminated": "maybe"}},
            "include_terminated",
        ),
        ({"prompt_id": PROMPT, "model": f"replay:{CANONICAL}", "variables": {"region": "x"}}, "unknown variable"),
        ({"prompt_id": PROMPT, "model": f"replay:{CANONICAL}", "target": "mars:base"}, "bad target 'mars:base'"),
        ({"prompt_id": PROMPT, "model": f"replay:{CANONICAL}", "max_attempts": 0}, "max_attempts"),
    ],
    ids=["prompt", "model", "variable-value", "variable-name", "target", "attempts"],
)
def test_run_prompt_reports_bad_input_as_a_tool_error(arguments: dict[str, Any], expected: str) -> None:
    text = error_text(call("run_prompt", arguments))
    assert expected in text
    assert "Traceback" not in text


def test_unknown_prompt_error_suggests_the_close_ids() -> None:
    text = error_text(call("run_prompt", {"prompt_id": "ec2-instances-by-state", "model": f"replay:{CANONICAL}"}))
    assert "unknown prompt 'ec2-instances-by-state'" in text
    assert f"'{PROMPT}'" in text


def test_troubleshoot_returns_the_evidence_bundle_and_the_diagnosis(emulator: Any) -> None:
    scenario = "fault-lambda-timeout"
    fault = get_scenario(scenario).fault
    assert fault is not None
    expected = set(fault.expected_findings)
    progress: list[str] = []

    async def on_progress(value: float, total: float | None, message: str | None) -> None:
        progress.append(message or "")

    # The session's emulator of the fault scenario, as an endpoint (an `emulator:` target would seed another).
    target = f"endpoint:{emulator(scenario).endpoint_url}"
    result = call(
        "troubleshoot",
        {
            "problem": "our order processor Lambda keeps timing out since yesterday",
            "model": f"replay:{FIXTURES / 'troubleshoot' / f'{scenario}.yaml'}",
            "target": target,
        },
        progress_callback=on_progress,
    )
    assert not result.is_error, result.content
    outcome = result.structured_content
    assert outcome is not None
    assert outcome["target"] == target
    items = outcome["evidence"]["items"]
    assert [item["id"] for item in items] == [f"E{n}" for n in range(1, len(items) + 1)]
    assert all(item["provenance"]["prompt_id"] for item in items)
    top = outcome["diagnosis"]["hypotheses"][0]
    assert expected & set(top["labels"]), (expected, top)
    citable = {item["id"] for item in items} | {f"{i['id']}.{n}" for i in items for n in range(1, len(i["facts"]) + 1)}
    assert top["evidence"]
    assert set(top["evidence"]) <= citable
    # The workflow's steps arrived as progress notifications.
    assert any("plan" in line for line in progress), progress


def test_troubleshoot_reports_an_empty_problem_as_a_tool_error() -> None:
    text = error_text(call("troubleshoot", {"problem": "  ", "model": f"replay:{CANONICAL}"}))
    assert "the problem is empty" in text
    assert "Traceback" not in text


def test_stdio_round_trip_keeps_stdout_for_the_protocol(tmp_path: Path) -> None:
    """`python -m cloudinspect mcp` as a subprocess: initialize, list the tools, call one. Any stray byte on its
    stdout would break the JSON-RPC stream."""
    params = StdioServerParameters(command=sys.executable, args=["-m", "cloudinspect", "mcp"], env={"NO_COLOR": "1"})

    async def main() -> tuple[list[str], CallToolResult]:
        with (tmp_path / "stderr.txt").open("w") as errlog:
            async with Client(stdio_client(params, errlog=errlog), read_timeout_seconds=60) as client:
                names = [tool.name for tool in (await client.list_tools()).tools]
                result = await client.call_tool("list_prompts", {"service": "ec2", "category": "security"})
                return names, result

    names, result = anyio.run(main)
    assert sorted(names) == ["list_prompts", "list_scenarios", "run_prompt", "troubleshoot"]
    assert not result.is_error, result.content
    assert result.structured_content is not None
    assert result.structured_content["count"] > 0
    assert all(p["category"] == "security" for p in result.structured_content["prompts"])


def test_http_transport_refuses_a_non_loopback_host(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(["mcp", "--transport", "streamable-http", "--host", "192.0.2.10"], capsys)
    assert code == 2
    assert out == ""
    assert "refusing to listen on '192.0.2.10'" in err
    assert "--allow-remote" in err
