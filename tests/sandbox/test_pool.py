"""The warm pool (sandbox "warm"): the same results as the cold path, the same isolation, one child per run,
and nothing left behind when a pool closes."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from cloudinspect.catalog import load_catalog
from cloudinspect.catalog.render import resolve_variables
from cloudinspect.cloud import Emulator
from cloudinspect.sandbox import Endpoint, ExecResult, Limits, ProcessSandbox, SandboxError, close_pools, execute
from cloudinspect.sandbox.pool import WarmPool, get_pool, warm_pool
from cloudinspect.sandbox.process import _uid_processes
from tests.sandbox.conftest import needs_sandbox

pytestmark = needs_sandbox

CATALOG = load_catalog([])
COMPARED = ["ec2-open-security-groups", "iam-access-keys-audit", "s3-bucket-security-baseline"]


@pytest.fixture(scope="module")
def baseline(emulator: Callable[[str], Emulator]) -> Emulator:
    return emulator("baseline")


@pytest.fixture(scope="module")
def pool(baseline: Emulator) -> Iterator[WarmPool]:
    with warm_pool(Endpoint(baseline.endpoint_url), size=2) as shared:
        assert shared.wait_ready(1, timeout=60)
        yield shared


def run(
    pool: WarmPool, baseline: Emulator, code: str, variables: dict[str, Any] | None = None, **kw: Any
) -> ExecResult:
    env = {**baseline.env(), "CLOUDINSPECT_VARS": json.dumps(variables or {})}
    return pool.run(code, env, **kw)


def _ops(result: ExecResult) -> list[tuple[str, str, bool]]:
    return sorted((c.service, c.operation, c.allowed) for c in result.api_calls)


@pytest.mark.parametrize("prompt_id", COMPARED)
def test_warm_results_match_the_cold_path(pool: WarmPool, baseline: Emulator, prompt_id: str) -> None:
    prompt = CATALOG[prompt_id]
    variables = resolve_variables(prompt, None)
    env = {**baseline.env(), "CLOUDINSPECT_VARS": json.dumps(variables)}
    cold = ProcessSandbox().run(prompt.reference_code(), env, endpoint=Endpoint(baseline.endpoint_url))
    warm = pool.run(prompt.reference_code(), env)
    assert warm.status == cold.status == "ok", warm.stderr[-1500:]
    assert warm.output_json == cold.output_json
    assert _ops(warm) == _ops(cold)
    assert warm.exit_code == cold.exit_code == 0
    assert warm.backend.endswith("+warm")
    assert warm.isolation == cold.isolation == "full"


def test_nothing_leaks_from_one_run_to_the_next(pool: WarmPool, baseline: Emulator) -> None:
    first = run(
        pool,
        baseline,
        """
import json, os, pathlib
os.environ["CANARY_ENV"] = "canary-4711"
home = pathlib.Path(os.environ["HOME"]) / "canary.txt"
home.write_text("canary-4711")
try:
    pathlib.Path("/tmp/canary.txt").write_text("canary-4711")  # the sandbox's /tmp is not writable: no matter
except OSError:
    pass
import sys
sys.modules["json"].canary = "canary-4711"
print(json.dumps({"uid": os.getuid(), "home": str(home), "vars": os.environ["CLOUDINSPECT_VARS"]}))
""",
        {"run": "A", "secret": "var-canary-A"},
    )
    assert first.status == "ok", first.stderr
    second = run(
        pool,
        baseline,
        f"""
import json, os, pathlib
print(json.dumps({{
    "uid": os.getuid(),
    "env": os.environ.get("CANARY_ENV"),
    "home_file": pathlib.Path({first.output_json["home"]!r}).exists(),
    "tmp_file": pathlib.Path("/tmp/canary.txt").exists(),
    "module": getattr(json, "canary", None),
    "vars": os.environ["CLOUDINSPECT_VARS"],
    "env_keys": sorted(os.environ),
}}))
""",
        {"run": "B"},
    )
    assert second.status == "ok", second.stderr
    out = second.output_json
    assert out["env"] is None
    assert not out["home_file"]
    assert not out["tmp_file"]
    assert out["module"] is None
    assert json.loads(out["vars"]) == {"run": "B"}
    assert "var-canary-A" not in second.stdout
    assert "CLOUDINSPECT_SANDBOX" not in out["env_keys"]
    assert out["uid"] != first.output_json["uid"]
    if os.geteuid() == 0:
        assert out["uid"] >= 2_000_000
        pool.settle()
        assert not Path(first.output_json["home"]).parent.exists()  # the run's work dir is gone


def test_waiting_children_hold_no_credentials_or_variables(pool: WarmPool, baseline: Emulator) -> None:
    assert pool.wait_ready(timeout=60)
    secret = baseline.env()["AWS_SECRET_ACCESS_KEY"]
    seen = 0
    for pid in pool.pids():
        for proc in [pid, *_descendants(pid)]:
            with open(f"/proc/{proc}/environ", "rb") as handle:
                environ = handle.read().decode(errors="replace")
            seen += 1
            assert secret not in environ
            assert "CLOUDINSPECT_VARS" not in environ
            assert "AWS_ACCESS_KEY_ID" not in environ
    assert seen >= 2


def _descendants(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            if ppid == pid:
                found += [int(entry.name), *_descendants(int(entry.name))]
    return found


def test_network_is_blocked_but_the_bridge(pool: WarmPool, baseline: Emulator) -> None:
    port = urlsplit(baseline.endpoint_url).port
    result = run(
        pool,
        baseline,
        f"""
import json, socket
try:
    socket.create_connection(("127.0.0.1", {port}), timeout=2).close()
    direct = "connected"
except OSError as exc:
    direct = type(exc).__name__
import boto3
vpcs = len(boto3.client("ec2").describe_vpcs()["Vpcs"])
print(json.dumps({{"direct": direct, "vpcs": vpcs}}))
""",
    )
    assert result.status == "ok", result.stderr
    assert result.output_json["direct"] != "connected"
    assert result.output_json["vpcs"] > 0
    assert any(c.source == "guard" and c.operation == "DescribeVpcs" for c in result.api_calls)


def test_writes_are_refused_by_the_bridge(pool: WarmPool, baseline: Emulator) -> None:
    result = run(
        pool,
        baseline,
        """
import os, urllib.request
body = b"Action=CreateVpc&Version=2016-11-15&CidrBlock=10.98.0.0/16"
req = urllib.request.Request(os.environ["AWS_ENDPOINT_URL"], data=body, headers={
    "Content-Type": "application/x-www-form-urlencoded",
    "Authorization": "AWS4-HMAC-SHA256 Credential=testing/20240101/us-east-1/ec2/aws4_request, "
                     "SignedHeaders=host, Signature=0"})
try:
    urllib.request.urlopen(req)
    print("sent")
except Exception as exc:
    print(type(exc).__name__)
""",
    )
    assert result.stdout.strip() != "sent"
    assert result.status == "blocked"
    assert any(c.source == "bridge" and c.operation == "CreateVpc" for c in result.blocked_calls)
    cidrs = {v["CidrBlock"] for v in baseline.client("ec2").describe_vpcs()["Vpcs"]}
    assert "10.98.0.0/16" not in cidrs


def test_timeout_and_output_cap_apply_per_run(pool: WarmPool, baseline: Emulator) -> None:
    slow = run(
        pool, baseline, "import os\nprint(os.getuid(), flush=True)\nwhile True: pass\n", limits=Limits(timeout_s=1)
    )
    assert slow.status == "timeout"
    assert slow.duration_ms < 5000
    uid = int(slow.stdout.split()[0])
    if os.geteuid() == 0:
        assert not _uid_processes(uid)
    loud = run(pool, baseline, "print('x' * 100_000)\n", limits=Limits(stdout_bytes=1000))
    assert loud.status == "killed"
    assert loud.stdout_truncated
    assert len(loud.stdout) <= 1000


def test_closing_a_pool_leaves_no_process(baseline: Emulator) -> None:
    with warm_pool(Endpoint(baseline.endpoint_url), size=2) as private:
        assert private.wait_ready(timeout=60)
        pids = private.pids()
        trees = [p for pid in pids for p in [pid, *_descendants(pid)]]
        uids = [c.uid for c in private._ready]
        works = [c.work for c in private._ready]
        assert all(w.is_dir() for w in works)
        assert len(set(uids)) == len(uids) == 2
    time.sleep(0.1)
    for pid in trees:
        assert not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text().split(")")[1][:3]
    if os.geteuid() == 0:
        assert not any(_uid_processes(uid) for uid in uids)
    assert not any(w.exists() for w in works)
    with pytest.raises(SandboxError, match="closed"):
        private.run("print('{}')\n", baseline.env())


def test_the_warm_sandbox_through_execute(baseline: Emulator) -> None:
    target = f"endpoint:{baseline.endpoint_url}"
    try:
        first = execute("import os, json\nprint(json.dumps(os.getuid()))\n", target, sandbox="warm")
        second = execute("import os, json\nprint(json.dumps(os.getuid()))\n", target, sandbox="warm")
        assert first.status == second.status == "ok"
        assert first.output_json != second.output_json
        assert first.backend.endswith("+warm")
        shared = get_pool(Endpoint(baseline.endpoint_url))
        assert shared is get_pool(Endpoint(baseline.endpoint_url))
    finally:
        close_pools(baseline.endpoint_url)


def test_a_pool_that_cannot_start_children_says_so(baseline: Emulator) -> None:
    with (
        warm_pool(Endpoint(baseline.endpoint_url), size=1, limits=Limits(memory_mb=16)) as starved,
        pytest.raises(SandboxError, match="cannot start children"),
    ):
        starved.run("print('{}')\n", baseline.env())


def test_concurrent_runs_each_get_their_own_child(pool: WarmPool, baseline: Emulator) -> None:
    code = "import json, os\nprint(json.dumps({'uid': os.getuid(), 'vars': os.environ['CLOUDINSPECT_VARS']}))\n"
    with ThreadPoolExecutor(max_workers=4) as workers:
        results = list(workers.map(lambda i: run(pool, baseline, code, {"i": i}), range(5)))
    assert [r.status for r in results] == ["ok"] * 5, [r.stderr[-300:] for r in results]
    assert [json.loads(r.output_json["vars"]) for r in results] == [{"i": i} for i in range(5)]
    assert len({r.output_json["uid"] for r in results}) == 5


def test_an_emulator_target_closes_its_pool() -> None:
    from cloudinspect.sandbox import pool as pool_module

    before = set(pool_module._POOLS)
    result = execute("print('{}')\n", "emulator:startup", sandbox="warm")
    assert result.status == "ok", result.stderr
    assert set(pool_module._POOLS) == before


def test_pool_sizes_apply_per_endpoint_while_open_and_are_restored() -> None:
    from cloudinspect.sandbox.pool import pool_sizes, size_for

    default = size_for("http://127.0.0.1:1")
    with pool_sizes({"http://127.0.0.1:1": 4, "http://127.0.0.1:2": 1}):
        assert size_for("http://127.0.0.1:1") == 4
        assert size_for("http://127.0.0.1:2") == 1
        assert size_for("http://127.0.0.1:3") == default
        with pool_sizes({"http://127.0.0.1:1": 3}):
            assert size_for("http://127.0.0.1:1") == 3
        assert size_for("http://127.0.0.1:1") == 4
    assert size_for("http://127.0.0.1:1") == default
    assert size_for(None) == default


def test_pool_sizes_can_set_what_children_preload() -> None:
    from cloudinspect.sandbox.pool import DEFAULT_PRELOAD, pool_sizes, preload_for

    with pool_sizes({"http://127.0.0.1:1": 2}, preload=()):
        assert preload_for("http://127.0.0.1:1") == ()
        assert preload_for("http://127.0.0.1:2") == DEFAULT_PRELOAD
        with pool_sizes({"http://127.0.0.1:1": 3}):  # a size alone keeps the preload
            assert preload_for("http://127.0.0.1:1") == ()
    assert preload_for("http://127.0.0.1:1") == DEFAULT_PRELOAD


def test_pool_sizes_refuse_an_empty_pool() -> None:
    from cloudinspect.sandbox.pool import pool_sizes

    with pytest.raises(SandboxError, match="at least one child"), pool_sizes({"http://127.0.0.1:1": 0}):
        pass
