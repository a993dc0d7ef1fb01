"""`cloudinspect emulator`: a long-lived, seeded moto server for interactive use (up, status, down, reset)."""

from __future__ import annotations

import contextlib
import fcntl
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import BaseModel, ConfigDict, ValidationError

from cloudinspect.cli._output import console, print_json
from cloudinspect.errors import CloudInspectError

NAME = "emulator"
app = typer.Typer(
    help="Run the emulated AWS account: a moto server on loopback seeded from a scenario.",
    no_args_is_help=True,
)

STATE_FILE = "emulator.json"
LOG_FILE = "emulator.log"


class EmulatorState(BaseModel):
    """What `up` writes to the state directory about the running emulator."""

    model_config = ConfigDict(extra="ignore")

    pid: int
    port: int
    endpoint: str
    scenario: str | None
    region: str = "us-east-1"
    started_at: datetime
    seeded_at: datetime | None = None
    log: str


def _state_dir() -> Path:
    from cloudinspect.config import get_settings

    path = get_settings().state_dir
    path.mkdir(parents=True, exist_ok=True)
    return path


@contextlib.contextmanager
def _locked() -> Iterator[None]:
    # One `up`/`down`/`reset` at a time: a second `up` racing the first would start two servers.
    with open(_state_dir() / "emulator.lock", "w", encoding="utf-8") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _read_state() -> tuple[EmulatorState | None, str | None]:
    """The running emulator's state; a state file whose process is gone is removed (second value says so)."""
    from cloudinspect.cloud.emulator import is_emulator_process

    path = _state_dir() / STATE_FILE
    if not path.is_file():
        return None, None
    try:
        state = EmulatorState.model_validate_json(path.read_text(encoding="utf-8"))
    except (ValidationError, OSError, ValueError):
        path.unlink(missing_ok=True)
        return None, f"removed an unreadable state file {path}"
    if not is_emulator_process(state.pid):
        path.unlink(missing_ok=True)
        return None, f"removed a stale state file (pid {state.pid} is gone)"
    return state, None


def _write_state(state: EmulatorState) -> None:
    path = _state_dir() / STATE_FILE
    tmp = path.with_suffix(".tmp")
    tmp.write_text(state.model_dump_json(indent=2), encoding="utf-8")
    tmp.replace(path)


def _describe(state: EmulatorState) -> dict[str, Any]:
    return {"running": True, **json.loads(state.model_dump_json())}


def _print_started(state: EmulatorState, verb: str) -> None:
    console.print(f"{verb}: scenario [bold]{state.scenario}[/] at [bold]{state.endpoint}[/] (pid {state.pid})")
    console.print(f"  export AWS_ENDPOINT_URL={state.endpoint} AWS_DEFAULT_REGION={state.region} ", end="")
    console.print("AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing")
    console.print(f"  log: {state.log}")


@app.command()
def up(
    scenario: Annotated[str, typer.Option("--scenario", "-s", help="Scenario to seed.")] = "baseline",
    port: Annotated[int, typer.Option("--port", "-p", help="Port on 127.0.0.1 (0: a free one).", min=0, max=65535)] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="Print the state as JSON.")] = False,
) -> None:
    """Start a detached emulator seeded with SCENARIO (reuses one already running with the same scenario)."""
    from cloudinspect.cloud.emulator import start_server
    from cloudinspect.cloud.loader import get_scenario
    from cloudinspect.cloud.seed import seed_scenario

    with _locked():
        state, note = _read_state()
        if note:
            console.print(f"[dim]{note}[/]")
        if state is not None:
            if state.scenario == scenario and port in (0, state.port):
                if as_json:
                    print_json({**_describe(state), "reused": True})
                else:
                    _print_started(state, "already running")
                return
            wanted = f"scenario '{scenario}'" + (f" on port {port}" if port else "")
            raise CloudInspectError(
                f"an emulator is already running with scenario '{state.scenario}' at {state.endpoint} "
                f"(pid {state.pid}); cannot start {wanted}. Run `cloudinspect emulator down` first, or "
                f"`cloudinspect emulator reset --scenario {scenario}` to reseed the running one."
            )
        chosen = get_scenario(scenario)
        log = _state_dir() / LOG_FILE
        started = datetime.now(UTC)
        server = start_server(port=port, log_path=log, detached=True)
        try:
            report = seed_scenario(server.endpoint_url, chosen)
        except BaseException:
            server.stop(timeout=5)
            raise
        state = EmulatorState(
            pid=server.pid,
            port=server.port,
            endpoint=server.endpoint_url,
            scenario=chosen.name,
            region=chosen.region,
            started_at=started,
            seeded_at=datetime.now(UTC),
            log=str(log),
        )
        _write_state(state)
    if as_json:
        print_json({**_describe(state), "reused": False, "seed_seconds": round(report.total_s, 2)})
    else:
        _print_started(state, f"started in {report.total_s:.1f} s")


@app.command()
def status(as_json: Annotated[bool, typer.Option("--json", help="Print the state as JSON.")] = False) -> None:
    """Show the running emulator (exit code 1 when none runs)."""
    from cloudinspect.cloud.emulator import request

    state, note = _read_state()
    if state is None:
        if as_json:
            print_json({"running": False})
        else:
            console.print(note or "no emulator running")
        raise typer.Exit(1)
    try:
        healthy = request(state.endpoint, "/moto-api/", timeout=3) == 200
    except OSError:
        healthy = False
    uptime = (datetime.now(UTC) - state.started_at).total_seconds()
    if as_json:
        print_json({**_describe(state), "healthy": healthy, "uptime_seconds": round(uptime, 1)})
        return
    console.print(f"running: scenario [bold]{state.scenario}[/] at [bold]{state.endpoint}[/] (pid {state.pid})")
    console.print(f"  up {uptime:.0f} s, {'answering' if healthy else '[red]not answering[/]'}; log: {state.log}")


@app.command()
def down(
    timeout: Annotated[float, typer.Option(help="Seconds to wait after SIGTERM before SIGKILL.")] = 10.0,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Stop the running emulator (its whole process group) and remove its state file."""
    from cloudinspect.cloud.emulator import is_emulator_process, stop_process_group

    with _locked():
        state, note = _read_state()
        if state is None:
            if as_json:
                print_json({"stopped": False, "running": False})
            else:
                console.print(note or "no emulator running")
            return
        start = time.perf_counter()
        stop_process_group(state.pid, timeout=timeout)
        if is_emulator_process(state.pid):
            raise CloudInspectError(f"the emulator (pid {state.pid}) did not stop")
        (_state_dir() / STATE_FILE).unlink(missing_ok=True)
    if as_json:
        print_json({"stopped": True, "pid": state.pid, "seconds": round(time.perf_counter() - start, 2)})
    else:
        console.print(f"stopped the emulator (pid {state.pid}, scenario {state.scenario})")


@app.command()
def reset(
    scenario: Annotated[
        str | None, typer.Option("--scenario", "-s", help="Seed this scenario instead of the current one.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the state as JSON.")] = False,
) -> None:
    """Empty the running emulator (moto's reset API) and seed its scenario, or another one, again."""
    from cloudinspect.cloud.emulator import reset_server
    from cloudinspect.cloud.loader import get_scenario
    from cloudinspect.cloud.seed import seed_scenario

    with _locked():
        state, _ = _read_state()
        if state is None:
            raise CloudInspectError("no emulator running; start one with `cloudinspect emulator up --scenario NAME`")
        name = scenario or state.scenario
        chosen = get_scenario(name) if name else None
        reset_server(state.endpoint)
        report = seed_scenario(state.endpoint, chosen) if chosen is not None else None
        state = state.model_copy(
            update={
                "scenario": chosen.name if chosen else None,
                "region": chosen.region if chosen else state.region,
                "seeded_at": datetime.now(UTC),
            }
        )
        _write_state(state)
    if as_json:
        print_json({**_describe(state), "seed_seconds": round(report.total_s, 2) if report else None})
    else:
        _print_started(state, f"reset and reseeded in {report.total_s:.1f} s" if report else "reset (empty)")
